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
    ControlCommand code = ControlCommand::SetByteOrder;
    std::uint32_t data = 0;
};

/// Server -> client, right after set-byte-order: the auth methods on offer, least preferred first.
struct ValidationRequest {
    std::uint32_t buffer_size = 0x10000;
    std::uint16_t registry_size = 0x7FFF;
    std::vector<std::string> auth_methods{"anonymous", "ca"};
};

/// Client -> server: the chosen auth method and its data ({user, host} for "ca").
struct ValidationResponse {
    std::uint32_t buffer_size = 0x10000;
    std::uint16_t registry_size = 0x7FFF;
    std::uint16_t qos = 0;
    std::string auth_method = "anonymous";
    Value auth_data;  ///< null = the null type (what "anonymous" sends)
};

struct ConnectionValidated {
    Status status;
};

/// Either direction; the reply carries the request's payload back.
struct Echo {
    std::vector<std::byte> payload;
};

struct AuthNZ {
    Value data;
};

/// No implementation defines a body; kept as raw bytes.
struct AclChange {
    std::vector<std::byte> body;
};

}  // namespace pvwire::wire
