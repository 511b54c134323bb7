/// @file
/// Normative Types (protocol.md §9): builders for the standard EPICS structure layouts.
///
/// Every builder produces a TypeDesc whose field names, order and codes are those of PVXS
/// (src/nt.cpp), so values built here look the same on the wire as a PVXS server's. Peers may
/// use other layouts (pvDataCPP adds display.format, gives sub-structures ids, sends a byte
/// hysteresis): code that *reads* NT values should look fields up by name, never by position.
///
/// Builders are plain option structs: set the options, then call type() for the TypeDesc or
/// create() for a fresh zeroed Value of it. The standard sub-structures without options
/// (alarm_t, time_t, enum_t, NTNDArray) are built once and shared.
#pragma once

#include <pvwire/data/type_code.hpp>
#include <pvwire/data/type_desc.hpp>
#include <pvwire/data/value.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace pvwire::nt {

// ---- standard sub-structures -------------------------------------------------------------

/// structure "alarm_t" { int severity; int status; string message }
TypePtr alarm_t();
/// structure "time_t" { long secondsPastEpoch; int nanoseconds; int userTag }
/// (seconds since the POSIX epoch 1970-01-01 UTC)
TypePtr time_t();  ///< the pvData "time_t"; spelled pvwire::nt::time_t() (not \::time_t)
/// structure "enum_t" { int index; string[] choices }
TypePtr enum_t();

/// The PVXS display structure (no id) for a value of code `value` (scalar or array; the element
/// code is used). Integer/float values:
/// @code{.unparsed}
///   { V limitLow; V limitHigh; string description; string units }
///   plus, when `with_form`: { int precision; enum_t form }
/// @endcode
/// Other values (bool, string), as PVXS: { string description; string units } (no limits,
/// no form).
TypePtr display_t(TypeCode value, bool with_form = false);
/// The PVXS control structure (no id): { V limitLow; V limitHigh; V minStep }, V the element
/// code of `value`, or double when that is not an integer/float code.
TypePtr control_t(TypeCode value);
/// The PVXS valueAlarm structure (no id): { boolean active; V lowAlarmLimit; V lowWarningLimit;
/// V highWarningLimit; V highAlarmLimit; int lowAlarmSeverity; int lowWarningSeverity;
/// int highWarningSeverity; int highAlarmSeverity; double hysteresis }, V as for control_t.
TypePtr value_alarm_t(TypeCode value);

// ---- normative types -----------------------------------------------------------------------

/// structure "epics:nt/NTScalar:1.0" { V value; alarm_t alarm; time_t timeStamp; [display];
/// [control]; [valueAlarm] }. `value` must be a bool, integer, float or string code.
/// As in PVXS, control and valueAlarm are only added for integer/float values (the options are
/// ignored otherwise), and `form` only matters together with `display`.
/// Throws std::invalid_argument for any other value code.
struct NTScalar {
    TypeCode value = TypeCode::Float64;  ///< code of the `value` field
    bool display = false;                ///< add `display` (display_t)
    bool control = false;                ///< add `control` (control_t; integer/float values only)
    bool value_alarm = false;            ///< add `valueAlarm` (value_alarm_t; integer/float values only)
    bool form = false;                   ///< with `display`: add its precision and form

    /// The structure type these options describe.
    TypePtr type() const;
    /// A new value of type(), every field zero / empty.
    Value create() const;
};

/// structure "epics:nt/NTScalarArray:1.0": as NTScalar, with `value` an array of the element
/// code (`value` may be given as the element code or as the array code). The display, control
/// and valueAlarm limits have the element type.
struct NTScalarArray {
    TypeCode value = TypeCode::Float64;  ///< element (or array) code of the `value` field
    bool display = false;                ///< add `display` (display_t)
    bool control = false;                ///< add `control` (control_t; integer/float elements only)
    bool value_alarm = false;            ///< add `valueAlarm` (value_alarm_t; integer/float elements only)
    bool form = false;                   ///< with `display`: add its precision and form

    /// The structure type these options describe.
    TypePtr type() const;
    /// A new value of type(), every field zero / empty.
    Value create() const;
};

/// structure "epics:nt/NTEnum:1.0" { enum_t value; alarm_t alarm; time_t timeStamp;
/// structure display { string description } } (PVXS adds the display; pvDataCPP does not).
/// Reading the top value with as<std::string>() gives the selected choice, and set("name")
/// selects a choice by name (Value's enum handling).
struct NTEnum {
    /// The NTEnum structure type.
    TypePtr type() const;
    /// A new value with no choices.
    Value create() const;
    /// A new value with value.choices = `choices` and value.index = `index` (both marked).
    Value create(std::vector<std::string> choices, std::int32_t index = 0) const;
};

/// structure "epics:nt/NTTable:1.0" { string[] labels; structure value { one array per column,
/// in add_column order }; string descriptor; alarm_t alarm; time_t timeStamp }.
class NTTable {
public:
    /// One column of the table.
    struct Column {
        TypeCode code;      ///< element code (the column field is an array of it)
        std::string name;   ///< member name in `value`
        std::string label;  ///< text for `labels`
    };

    /// Appends a column of scalar element code `code` (bool, integer, float or string; an array
    /// code is taken as its element code). An empty label means the name is the label.
    /// Throws std::invalid_argument for other codes, an empty name or a repeated name.
    NTTable& add_column(TypeCode code, std::string name, std::string label = {});
    /// The columns added so far, in order.
    const std::vector<Column>& columns() const noexcept { return columns_; }

    /// The structure type of a table with these columns.
    TypePtr type() const;
    /// A new value whose `labels` holds the column labels in order (the field is marked).
    Value create() const;

private:
    std::vector<Column> columns_;
};

/// structure "epics:nt/NTNDArray:1.0" (areaDetector images), exactly as protocol.md §9.2:
/// @code{.unparsed}
///   union value { boolean[] booleanValue; byte[] byteValue; short[] shortValue; int[] intValue;
///                 long[] longValue; ubyte[] ubyteValue; ushort[] ushortValue; uint[] uintValue;
///                 ulong[] ulongValue; float[] floatValue; double[] doubleValue }
///   structure "codec_t" codec { string name; any parameters }
///   long compressedSize; long uncompressedSize; int uniqueId; time_t dataTimeStamp;
///   alarm_t alarm; time_t timeStamp;
///   structure "dimension_t"[] dimension { int size; int offset; int fullSize; int binning;
///                                         boolean reverse }
///   structure "epics:nt/NTAttribute:1.0"[] attribute { string name; any value; string[] tags;
///       string descriptor; alarm_t alarm; time_t timeStamp; int sourceType; string source }
/// @endcode
struct NTNDArray {
    /// The NTNDArray structure type.
    TypePtr type() const;
    /// A new value, every field zero / empty (no union member selected).
    Value create() const;
};

/// structure "epics:nt/NTURI:1.0" { string scheme; string authority; string path;
/// structure query { one field per add_arg, in order } }: the argument of an RPC.
class NTURI {
public:
    /// An argument value for call(): a C++ int/unsigned picks int64, floating picks double,
    /// text picks string. It is then converted to the declared argument type (Value::set).
    using Arg = std::variant<bool, std::int64_t, double, std::string>;

    /// Appends a query field `name` of type `code` (a bool/integer/float/string code or an
    /// array of one). Throws std::invalid_argument for other codes, an empty or repeated name.
    NTURI& add_arg(TypeCode code, std::string name);
    /// The query fields added so far, in order.
    const std::vector<Member>& args() const noexcept { return args_; }

    /// The structure type of an NTURI with these query fields.
    TypePtr type() const;
    /// A new value, all fields empty.
    Value create() const;
    /// A ready RPC argument: scheme "pva", authority "", path `path`, and each named query
    /// field set (with conversion) to its Arg; fields not given stay zero/empty. Every field
    /// written is marked. Throws ValueError naming the argument when a name is not a declared
    /// argument or the conversion is impossible.
    Value call(std::string_view path,
               std::initializer_list<std::pair<std::string_view, Arg>> args = {}) const;

private:
    std::vector<Member> args_;
};

// ---- helpers -------------------------------------------------------------------------------

/// Sets a time_t-like structure (secondsPastEpoch, nanoseconds; userTag untouched) to the
/// current system time, marking the fields written. Throws ValueError if a field is missing.
void set_time_now(Value ts);
/// Sets an alarm_t-like structure's severity, status and message, marking them.
/// Throws ValueError if a field is missing.
void set_alarm(Value alarm, int severity, int status, std::string msg);

/// Whether `type` is the normative type named `base`, matched by name and not version:
/// is_nt(t, "NTScalar") is true for ids "epics:nt/NTScalar:1.0", "epics:nt/NTScalar:1.1" (and
/// "NTScalar" without prefix or version), false for "epics:nt/NTScalarArray:1.0". `base` may
/// also be given with the "epics:nt/" prefix and/or a version, which are then ignored.
bool is_nt(const TypeDesc& type, std::string_view base) noexcept;

}  // namespace pvwire::nt

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/data/impl/nt.ipp>
#endif
