/// @file
/// Connection set-up and upkeep: control messages, CONNECTION_VALIDATION (both forms),
/// CONNECTION_VALIDATED, ECHO, AUTHNZ, ACL_CHANGE (protocol.md §1.4, §4.3-4.5, §4.22).
#pragma once

#include <pvwire/data/value.hpp>
#include <pvwire/wire/basic_types.hpp>
#include <pvwire/wire/command.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pvwire::wire {

/// A header-only control message; `data` is the header's size field.
struct Control {
    ControlCommand code = ControlCommand::SetByteOrder;  ///< the command byte
    std::uint32_t data = 0;                              ///< the header's size field
};

/// Server -> client, right after set-byte-order: the auth methods on offer, least preferred first.
struct ValidationRequest {
    std::uint32_t buffer_size = 0x10000;  ///< the server's receive buffer size
    std::uint16_t registry_size = 0x7FFF; ///< the server's introspection registry size
    std::vector<std::string> auth_methods{"anonymous", "ca"};  ///< the methods on offer
};

/// Client -> server: the chosen auth method and its data ({user, host} for "ca").
struct ValidationResponse {
    std::uint32_t buffer_size = 0x10000;  ///< the client's receive buffer size
    std::uint16_t registry_size = 0x7FFF; ///< the client's introspection registry size
    std::uint16_t qos = 0;                ///< connection quality of service (0)
    std::string auth_method = "anonymous";  ///< the method chosen
    Value auth_data;  ///< null = the null type (what "anonymous" sends)
};

/// CONNECTION_VALIDATED: server -> client, the outcome of the handshake.
struct ConnectionValidated {
    Status status;  ///< an error status refuses the connection
};

/// Either direction; the reply carries the request's payload back.
struct Echo {
    std::vector<std::byte> payload;  ///< any bytes
};

/// AUTHNZ: further authentication exchange after validation.
struct AuthNZ {
    Value data;  ///< the exchange's data (FieldDesc + value)
};

/// No implementation defines a body; kept as raw bytes.
struct AclChange {
    std::vector<std::byte> body;  ///< the body as received
};

}  // namespace pvwire::wire
