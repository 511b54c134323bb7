#pragma once

// Reader for the golden pvAccess wire vectors in tests/vectors (format: tests/vectors/README.md,
// section "Record format").
//
//   # comment lines (a file's header comments, before the first record, belong to no record)
//   [message]
//   key: value
//   ...
//   # comment lines inside the record
//   hex:
//   ca 02 c0 00 ...          (16 space-separated byte pairs per line, up to a blank line)

#include <cstdint>
#include <filesystem>
#include <istream>
#include <map>
#include <string>
#include <vector>

namespace pvwire::test {

struct VectorRecord {
    std::map<std::string, std::string> fields; ///< the `key: value` lines
    std::vector<std::string> comments;         ///< `#` lines inside the record, without "# "
    std::vector<std::uint8_t> bytes;           ///< the message bytes from the `hex:` block
    std::string file;                          ///< file the record was read from
};

/// Parses one vector file. Throws std::runtime_error ("file:line: what") on malformed input:
/// bad hex, a hex byte count that differs from the number in the `length:` field, text that
/// is neither a comment, a `key: value` line nor hex, a duplicate key.
std::vector<VectorRecord> parse_vector_file(const std::filesystem::path& path);

/// Same as parse_vector_file, from a stream; `file` names the source in records and errors.
std::vector<VectorRecord> parse_vector_stream(std::istream& in, const std::string& file);

/// The vectors directory: environment variable PVWIRE_VECTORS_DIR if set and non-empty,
/// else the compile definition PVWIRE_VECTORS_DIR. Throws std::runtime_error if neither.
std::filesystem::path vectors_dir();

/// Sorted list of the `*.txt` files in vectors_dir()/subdir (not recursive). Throws
/// std::runtime_error if that directory does not exist.
std::vector<std::filesystem::path> vector_files(const std::string& subdir);

/// The leading decimal number of a field value such as "47 (8-byte header + 39 payload)".
/// Throws std::runtime_error if the value does not start with a digit.
std::size_t leading_number(const std::string& value);

} // namespace pvwire::test
