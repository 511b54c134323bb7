#pragma once

// Reader for the golden pvAccess wire vectors in tests/vectors (format: tests/vectors/README.md,
// section "Record format"). The parser itself is the library's (pvwire/wire/capture_text.hpp,
// shared with `pvwire decode`); this header keeps the names the tests use and adds the
// location of the vectors directory.

#include <pvwire/wire/capture_text.hpp>

#include <cstddef>
#include <filesystem>
#include <istream>
#include <string>
#include <vector>

namespace pvwire::test {

using VectorRecord = pvwire::wire::capture::Record;

/// Parses one vector file (see wire::capture::parse_file; throws std::runtime_error
/// "file:line: what" on malformed input).
inline std::vector<VectorRecord> parse_vector_file(const std::filesystem::path& path) {
    return pvwire::wire::capture::parse_file(path);
}

/// Same as parse_vector_file, from a stream; `file` names the source in records and errors.
inline std::vector<VectorRecord> parse_vector_stream(std::istream& in, const std::string& file) {
    return pvwire::wire::capture::parse_stream(in, file);
}

/// The leading decimal number of a field value such as "47 (8-byte header + 39 payload)".
/// Throws std::runtime_error if the value does not start with a digit.
inline std::size_t leading_number(const std::string& value) {
    return pvwire::wire::capture::leading_number(value);
}

/// The vectors directory: environment variable PVWIRE_VECTORS_DIR if set and non-empty,
/// else the compile definition PVWIRE_VECTORS_DIR. Throws std::runtime_error if neither.
std::filesystem::path vectors_dir();

/// Sorted list of the `*.txt` files in vectors_dir()/subdir (not recursive). Throws
/// std::runtime_error if that directory does not exist.
std::vector<std::filesystem::path> vector_files(const std::string& subdir);

} // namespace pvwire::test
