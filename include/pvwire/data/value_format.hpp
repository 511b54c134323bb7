/// @file
/// Text forms of a Value: the one printer behind Value::to_string() and the pvwire tools.
///
/// Delta and Tree lay values out exactly as PVXS's tools do (pvxget, pvxmonitor: `-F delta`,
/// the default, and `-F tree`), so that scripts written against them carry over. Pvget is the
/// form of pvAccessCPP's pvget and of Value::to_string(): the whole value, one field per line.
///
/// @code{.unparsed}
///   Delta   struct "epics:nt/NTScalar:1.0"        (only when the whole value is marked)
///           value double = 2.5                   (every marked field, dotted path first)
///           alarm.severity int32_t = 0
///   Tree    struct "epics:nt/NTScalar:1.0" {
///               double value = 2.5
///               struct "alarm_t" {
///                   int32_t severity = 0
///               ...
///               } alarm
///           }
///   Pvget   structure epics:nt/NTScalar:1.0
///               double value 2.5
/// @endcode
///
/// Threading: plain functions of the value; the value must not change meanwhile.
#pragma once

#include <pvwire/data/value.hpp>

#include <cstddef>
#include <string>

namespace pvwire {

/// The layouts format_value() can print (see the file's description).
enum class ValueFormat {
    Delta,  ///< PVXS's default: the marked fields, "path type = value"
    Tree,   ///< PVXS's -F tree: every field, nested in braces
    Pvget,  ///< pvget's form: every field, "type name value"
};

/// How format_value() prints.
struct FormatOptions {
    ValueFormat format = ValueFormat::Pvget;  ///< the layout
    std::size_t array_limit = 0;  ///< elements printed per array, 0: all. Delta/Tree: "{8}[1, 2, ...]";
                                  ///< Pvget: "[1, 2, ...] (8 elements)"
    int indent = 0;               ///< levels of four spaces before every line
};

/// The text of `v`, every line ending in '\n'; a null Value prints "null" (Pvget: "(null)").
std::string format_value(const Value& v, const FormatOptions& options);

/// The type names PVXS prints: "double", "int32_t", "uint8_t[]", "struct", "union[]", ...
const char* pvxs_type_name(TypeCode code) noexcept;

}  // namespace pvwire

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/data/impl/value_format.ipp>
#endif
