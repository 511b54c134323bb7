// What client operations complete with: an error code from the pvwire client category (or
// none) and a Result carrying the value and the server's status text.
#pragma once

#include <pvwire/data/value.hpp>
#include <pvwire/wire/basic_types.hpp>

#include <string>
#include <system_error>

namespace pvwire::client {

enum class errc {
    timeout = 1,        // no answer within the operation's timeout
    disconnected,       // the connection went away while the operation ran
    remote_error,       // the server answered with an ERROR or FATAL status (see Result::message)
    bad_request,        // the pvRequest text does not parse
    bad_value,          // the value to put cannot be built from the given input
    cancelled,          // the operation was dropped before it finished
    not_found,          // GET_FIELD named a field the PV lacks, or a refused channel
    bad_address,        // the chosen server address does not parse, or no connector serves it
};

const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {int(e), category()}; }

struct Result {
    Value value;              // GET, PUT_GET, RPC, ARRAY get: the data (null when none)
    TypePtr type;             // GET_FIELD: the type; other operations: the data type
    wire::Status status;      // the server's status (a WARNING arrives with success)
    std::size_t length = 0;   // ARRAY get-length
};

// Thrown by the blocking conveniences; carries the server's status text.
class Error : public std::system_error {
public:
    Error(std::error_code ec, const std::string& what) : std::system_error(ec, what) {}
};

}  // namespace pvwire::client

template <> struct std::is_error_code_enum<pvwire::client::errc> : std::true_type {};
