// The PVWS JSON dialect (ORNL's PV Web Socket, docs/pvws.md): pure functions from pvData values
// to PVWS "update" messages and from client messages to requests. No I/O: the front-end
// (pvws_front_end.hpp) sends what these return.
#pragma once

#include <pvwire/data/value.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pvwire::server::detail::pvws {

// What one subscription last sent: the next update carries only what changed since.
struct SentState {
    bool metadata = false;         // units, precision, labels, limits went out (first update)
    std::string severity;          // last severity sent ("" = none yet)
    std::optional<bool> readonly;  // last "readonly" sent
};

// The "update" message for `value` (the whole PV value: NTScalar, NTScalarArray, NTEnum, or
// any other structure, sent as "text"), updating `sent`. The first update carries the
// metadata (vtype, units, description, precision, min/max, warn_/alarm_ limits, labels), later
// ones the value or text, the timestamp, and the severity and readonly when they changed.
std::string update_json(std::string_view pv, const Value& value, bool readonly, SentState& sent);
// The update for a PV that is not (or no longer) served: severity "UNDEFINED", no value, and
// "readonly" true; `sent` is reset, so that the next value carries the metadata again.
std::string disconnected_json(std::string_view pv, SentState& sent);
// {"type":"error","message":...}, as PVWS sends when a write fails.
std::string error_json(std::string_view message);
// {"type":"list","pvs":[...]}: the names this socket is subscribed to.
std::string list_json(const std::vector<std::string>& names);

// Standard base64 (RFC 4648, with padding), as java.util.Base64's encoder.
std::string base64(std::span<const std::byte> bytes);
// The alarm severity names PVWS sends: NONE, MINOR, MAJOR, INVALID, UNDEFINED.
std::string_view severity_name(int severity);

// A client message, parsed.
struct Request {
    enum class Kind { subscribe, clear, list, write, ping, echo } kind = Kind::list;
    std::vector<std::string> pvs;  // subscribe, clear
    std::string pv;                // write
    // write: a number (PVWS writes a JSON number as a double) or text
    std::optional<double> number;
    std::string text;
};
// Parses one message; on failure, nullopt and `error` says why.
std::optional<Request> parse_request(std::string_view message, std::string& error);

// The pvAccess name for a PVWS name: "pva://x" and "x" are "x"; nullopt (and `error` says why)
// for another scheme, "ca://" included, which pvwire does not speak.
std::optional<std::string> pva_name(std::string_view pvws_name, std::string& error);

}  // namespace pvwire::server::detail::pvws
