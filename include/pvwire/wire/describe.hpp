/// @file
/// Human-readable views of decoded messages, for `pvwire decode` and logs: a one-line summary
/// with key=value fields, and a detailed multi-line dump of everything in the message.
#pragma once

#include <pvwire/wire/message.hpp>

#include <string>
#include <utility>
#include <vector>

namespace pvwire::wire {

/// The message's scalar fields as key/value text: sid, ioid, cid, seq, port, found, guid,
/// flags, sub, status, ... (names follow the golden vectors' descriptions).
std::vector<std::pair<std::string, std::string>> describe_fields(const Message& msg);

/// "GET response ioid=268443648 sub=0x08 status=OK"
std::string summary(const Message& msg);

/// Everything: the summary, then types and values indented below it.
std::string dump(const Message& msg);

/// The name of the message kind: "GET response", "SEARCH", "set byte order (control)".
std::string kind_name(const Message& msg);

}  // namespace pvwire::wire

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/wire/impl/describe.ipp>
#endif
