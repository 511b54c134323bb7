/// @file
/// The capture text format of the golden vectors (tests/vectors/README.md, "Record format"):
/// pvAccess messages with their metadata, as written by the capture tooling and read by the
/// tests and by `pvwire decode`.
///
/// @code{.unparsed}
///   # comment lines (a file's header comments, before the first record, belong to no record)
///   [message]
///   key: value
///   ...
///   # comment lines inside the record
///   hex:
///   ca 02 c0 00 ...          (space-separated byte pairs, up to a blank line)
/// @endcode
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <istream>
#include <map>
#include <string>
#include <vector>

namespace pvwire::wire::capture {

/// One message record of a capture file (tests/vectors).
struct Record {
    std::map<std::string, std::string> fields;  ///< the `key: value` lines
    std::vector<std::string> comments;          ///< `#` lines inside the record, without "# "
    std::vector<std::uint8_t> bytes;            ///< the message bytes from the `hex:` block
    std::string file;                           ///< name of the file the record was read from
};

/// Parses one capture file. Throws std::runtime_error ("file:line: what") on malformed input:
/// bad hex, a hex byte count that differs from the number in the `length:` field, text that
/// is neither a comment, a `key: value` line nor hex, a duplicate key.
std::vector<Record> parse_file(const std::filesystem::path& path);

/// Same as parse_file, from a stream; `name` names the source in records and errors.
std::vector<Record> parse_stream(std::istream& in, const std::string& name);

/// The leading decimal number of a field value such as "47 (8-byte header + 39 payload)".
/// Throws std::runtime_error if the value does not start with a digit.
std::size_t leading_number(const std::string& value);

}  // namespace pvwire::wire::capture

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/wire/impl/capture_text.ipp>
#endif
