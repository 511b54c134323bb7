/// @file
/// A compact text notation for any pvData type, read by parse_type_text() and written by
/// format_type_text(): the form PVXS's tools print a structure in (`pvxinfo`, `pvxget -F
/// tree`), so that a type can be pasted from their output, with member bodies for unions and
/// structure arrays (which those tools leave out).
///
/// @code{.unparsed}
///   struct "epics:nt/NTScalar:1.0" {
///       double value
///       struct "alarm_t" {
///           int32_t severity
///           string message
///       } alarm
///       union { int32_t i  string s } choice
///       struct[] { double x  double y } points
///       any anything
///       uint8_t[<16] bounded    int16_t[4] fixed    string(8) short_text
///   }
/// @endcode
///
/// parse_type_text() also reads the indented pvData form that `pvwire info`, to_string()
/// and pvAccessCPP print (no braces, members indented below their structure:
/// `structure epics:nt/NTScalar:1.0` / `    double value`). Type names may be PVXS's
/// (int32_t, bool), pvData's (int, long, ubyte, boolean, structure, union[]) or the short
/// ones (int32, uint8, float64). Text after `=` up to the end of the line (a value, as
/// pvxinfo prints) is skipped. The rules and limits are in docs/pv-file.md, "Types by schema".
///
/// Threading: plain functions; no shared state. Part of the compiled library only (not of
/// PVWIRE_HEADER_ONLY).
#pragma once

#include <pvwire/data/type_desc.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pvwire {

/// A type description (compact text or JSON Schema) that cannot be turned into a pvData type.
/// what() says where: `type text: 3:17: ...` (line:column) or `schema: properties.alarm: ...`
/// (the path of the offending schema).
class SchemaError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// The bounds both type readers enforce, so that no input can exhaust the stack or memory.
struct TypeTextLimits {
    static constexpr std::size_t max_depth = 64;          ///< nesting of structures, unions, arrays of them
    static constexpr std::size_t max_fields = 100'000;    ///< fields in the whole type
    static constexpr std::size_t max_text = 1 << 20;      ///< bytes of input
    static constexpr std::uint32_t max_bound = 1 << 20;   ///< bounded/fixed array bound, string(N) bound
};

/// Whether `name` can name a field in either notation: a letter or '_', then letters, digits
/// and '_' (what pvData's field names are).
bool is_field_name(std::string_view name) noexcept;

/// Reads a type from its compact text (see the file's description); throws SchemaError naming
/// the line and column of the first problem.
TypePtr parse_type_text(std::string_view text);

/// The compact text of `type`, PVXS's notation with member bodies, four spaces per level, one
/// member per line, ending in '\n'. parse_type_text() of it gives back an equal type.
std::string format_type_text(const TypeDesc& type);

}  // namespace pvwire
