/// @file
/// What client operations complete with: an error code from the pvwire client category (or
/// none) and a Result carrying the value and the server's status text.
#pragma once

#include <pvwire/data/value.hpp>
#include <pvwire/wire/basic_types.hpp>

#include <string>
#include <system_error>

namespace pvwire::client {

/// The errors of client operations (category(): "pvwire.client").
enum class errc {
    timeout = 1,        ///< no answer within the operation's timeout
    disconnected,       ///< the connection went away while the operation ran
    remote_error,       ///< the server answered with an ERROR or FATAL status (see Result::message)
    bad_request,        ///< the pvRequest text does not parse
    bad_value,          ///< the value to put cannot be built from the given input
    cancelled,          ///< the operation was dropped before it finished
    not_found,          ///< GET_FIELD named a field the PV lacks, or a refused channel
    bad_address,        ///< the chosen server address does not parse, or no connector serves it
};

/// The error category of errc.
const std::error_category& category() noexcept;
/// An errc as a std::error_code.
inline std::error_code make_error_code(errc e) noexcept { return {int(e), category()}; }

/// What a client operation completes with, besides its error code.
struct Result {
    Value value;              ///< GET, PUT_GET, RPC, ARRAY get: the data (null when none)
    TypePtr type;             ///< GET_FIELD: the type; other operations: the data type
    wire::Status status;      ///< the server's status (a WARNING arrives with success)
    std::size_t length = 0;   ///< ARRAY get-length
};

/// One sentence for a failed operation, without the PV name: the server's own text for a
/// remote error ("value 20 is outside the limits [-10, 10]"), otherwise the error's text with
/// the status text in brackets ("timeout (not connected)").
std::string describe(std::error_code ec, const Result& r);

/// Thrown by the blocking conveniences. what() is the whole message, said once
/// ("demo:setpoint: value 20 is outside the limits [-10, 10]"): unlike std::system_error's,
/// it does not repeat the category's text after it.
class Error : public std::system_error {
public:
    /// The error `ec` with the whole message `what`.
    Error(std::error_code ec, std::string what) : std::system_error(ec), what_(std::move(what)) {}
    /// The whole message, as given to the constructor.
    const char* what() const noexcept override { return what_.c_str(); }

private:
    std::string what_;
};

}  // namespace pvwire::client

template <> struct std::is_error_code_enum<pvwire::client::errc> : std::true_type {};
