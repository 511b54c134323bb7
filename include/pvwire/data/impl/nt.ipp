#include <pvwire/data/nt.hpp>
#include <pvwire/detail/header_only.hpp>

#include <chrono>
#include <stdexcept>

namespace pvwire::nt {

PVWIRE_IMPL_NAMESPACE(nt_impl) {

constexpr std::string_view nt_prefix = "epics:nt/";

PVWIRE_DECL bool is_limit_code(TypeCode c) noexcept {
    return type_code::is_integer(c) || type_code::is_float(c);
}

// The code an NTScalar(Array) accepts as its value element: bool, integer, float, string.
PVWIRE_DECL TypeCode checked_element(TypeCode code, const char* what) {
    const TypeCode e = type_code::element_of(code);
    if (code == TypeCode::Null || !type_code::is_scalar(e) || e == TypeCode::BoundedString ||
        (type_code::is_array(code) && type_code::array_kind(type_code::raw(code)) != ArrayKind::Variable))
        throw std::invalid_argument(std::string("pvwire: ") + what +
                                    " needs a bool, integer, float or string type code, not " +
                                    std::string(type_code::name(code)));
    return e;
}

PVWIRE_DECL TypePtr scalar_limit(TypeCode value) {
    const TypeCode e = type_code::element_of(value);
    return TypeDesc::scalar(is_limit_code(e) ? e : TypeCode::Float64);
}

PVWIRE_DECL TypePtr scalar_like(TypeCode element, bool array, const char* what,
                    bool display, bool control, bool value_alarm, bool form) {
    const TypeCode e = checked_element(element, what);
    std::vector<Member> m{
        {"value", array ? TypeDesc::array(e) : TypeDesc::scalar(e)},
        {"alarm", alarm_t()},
        {"timeStamp", time_t()},
    };
    const bool numeric = is_limit_code(e);
    if (display) m.push_back({"display", display_t(e, form)});
    if (control && numeric) m.push_back({"control", control_t(e)});
    if (value_alarm && numeric) m.push_back({"valueAlarm", value_alarm_t(e)});
    return TypeDesc::structure(array ? "epics:nt/NTScalarArray:1.0" : "epics:nt/NTScalar:1.0",
                               std::move(m));
}

PVWIRE_DECL void check_new_name(const std::string& name, const std::vector<std::string_view>& names,
                    const char* what) {
    if (name.empty()) throw std::invalid_argument(std::string("pvwire: ") + what + " needs a name");
    for (auto n : names)
        if (n == name)
            throw std::invalid_argument(std::string("pvwire: ") + what + " '" + name +
                                        "' given twice");
}

// "epics:nt/NTScalar:1.0" -> "NTScalar"
PVWIRE_DECL std::string_view name_part(std::string_view id) noexcept {
    if (id.substr(0, nt_prefix.size()) == nt_prefix) id.remove_prefix(nt_prefix.size());
    if (const auto colon = id.find(':'); colon != std::string_view::npos) id = id.substr(0, colon);
    return id;
}

}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(nt_impl)

// ---- sub-structures ------------------------------------------------------------------------

PVWIRE_DECL TypePtr alarm_t() {
    static const TypePtr t = TypeDesc::structure("alarm_t", {
        {"severity", TypeDesc::scalar(TypeCode::Int32)},
        {"status", TypeDesc::scalar(TypeCode::Int32)},
        {"message", TypeDesc::scalar(TypeCode::String)},
    });
    return t;
}

PVWIRE_DECL TypePtr time_t() {
    static const TypePtr t = TypeDesc::structure("time_t", {
        {"secondsPastEpoch", TypeDesc::scalar(TypeCode::Int64)},
        {"nanoseconds", TypeDesc::scalar(TypeCode::Int32)},
        {"userTag", TypeDesc::scalar(TypeCode::Int32)},
    });
    return t;
}

PVWIRE_DECL TypePtr enum_t() {
    static const TypePtr t = TypeDesc::structure("enum_t", {
        {"index", TypeDesc::scalar(TypeCode::Int32)},
        {"choices", TypeDesc::array(TypeCode::String)},
    });
    return t;
}

PVWIRE_DECL TypePtr display_t(TypeCode value, bool with_form) {
    const auto str = TypeDesc::scalar(TypeCode::String);
    if (!is_limit_code(type_code::element_of(value)))
        return TypeDesc::structure({}, {{"description", str}, {"units", str}});
    const auto lim = scalar_limit(value);
    std::vector<Member> m{{"limitLow", lim}, {"limitHigh", lim}, {"description", str}, {"units", str}};
    if (with_form) {
        m.push_back({"precision", TypeDesc::scalar(TypeCode::Int32)});
        m.push_back({"form", enum_t()});
    }
    return TypeDesc::structure({}, std::move(m));
}

PVWIRE_DECL TypePtr control_t(TypeCode value) {
    const auto lim = scalar_limit(value);
    return TypeDesc::structure({}, {{"limitLow", lim}, {"limitHigh", lim}, {"minStep", lim}});
}

PVWIRE_DECL TypePtr value_alarm_t(TypeCode value) {
    const auto lim = scalar_limit(value);
    const auto i32 = TypeDesc::scalar(TypeCode::Int32);
    return TypeDesc::structure({}, {
        {"active", TypeDesc::scalar(TypeCode::Bool)},
        {"lowAlarmLimit", lim},
        {"lowWarningLimit", lim},
        {"highWarningLimit", lim},
        {"highAlarmLimit", lim},
        {"lowAlarmSeverity", i32},
        {"lowWarningSeverity", i32},
        {"highWarningSeverity", i32},
        {"highAlarmSeverity", i32},
        {"hysteresis", TypeDesc::scalar(TypeCode::Float64)},
    });
}

// ---- NTScalar / NTScalarArray --------------------------------------------------------------

PVWIRE_DECL TypePtr NTScalar::type() const {
    if (type_code::is_array(value))
        throw std::invalid_argument("pvwire: NTScalar needs a scalar value code (use NTScalarArray)");
    return scalar_like(value, false, "NTScalar", display, control, value_alarm, form);
}
PVWIRE_DECL Value NTScalar::create() const { return Value(type()); }

PVWIRE_DECL TypePtr NTScalarArray::type() const {
    return scalar_like(value, true, "NTScalarArray", display, control, value_alarm, form);
}
PVWIRE_DECL Value NTScalarArray::create() const { return Value(type()); }

// ---- NTEnum --------------------------------------------------------------------------------

PVWIRE_DECL TypePtr NTEnum::type() const {
    static const TypePtr t = TypeDesc::structure("epics:nt/NTEnum:1.0", {
        {"value", enum_t()},
        {"alarm", alarm_t()},
        {"timeStamp", time_t()},
        {"display", TypeDesc::structure({}, {{"description", TypeDesc::scalar(TypeCode::String)}})},
    });
    return t;
}
PVWIRE_DECL Value NTEnum::create() const { return Value(type()); }
PVWIRE_DECL Value NTEnum::create(std::vector<std::string> choices, std::int32_t index) const {
    Value v = create();
    v["value.choices"].set_array(SharedArray::from(std::move(choices)));
    v["value.index"].set(index);
    return v;
}

// ---- NTTable -------------------------------------------------------------------------------

PVWIRE_DECL NTTable& NTTable::add_column(TypeCode code, std::string name, std::string label) {
    const TypeCode e = checked_element(code, "NTTable column");
    std::vector<std::string_view> names;
    for (const auto& c : columns_) names.push_back(c.name);
    check_new_name(name, names, "NTTable column");
    if (label.empty()) label = name;
    columns_.push_back(Column{e, std::move(name), std::move(label)});
    return *this;
}

PVWIRE_DECL TypePtr NTTable::type() const {
    std::vector<Member> cols;
    cols.reserve(columns_.size());
    for (const auto& c : columns_) cols.push_back({c.name, TypeDesc::array(c.code)});
    return TypeDesc::structure("epics:nt/NTTable:1.0", {
        {"labels", TypeDesc::array(TypeCode::String)},
        {"value", TypeDesc::structure({}, std::move(cols))},
        {"descriptor", TypeDesc::scalar(TypeCode::String)},
        {"alarm", alarm_t()},
        {"timeStamp", time_t()},
    });
}

PVWIRE_DECL Value NTTable::create() const {
    Value v(type());
    std::vector<std::string> labels;
    labels.reserve(columns_.size());
    for (const auto& c : columns_) labels.push_back(c.label);
    v["labels"].set_array(SharedArray::from(std::move(labels)));
    return v;
}

// ---- NTNDArray -----------------------------------------------------------------------------

PVWIRE_DECL TypePtr NTNDArray::type() const {
    static const TypePtr t = [] {
        const auto i32 = TypeDesc::scalar(TypeCode::Int32);
        const auto i64 = TypeDesc::scalar(TypeCode::Int64);
        const auto str = TypeDesc::scalar(TypeCode::String);
        auto value = TypeDesc::union_of({}, {
            {"booleanValue", TypeDesc::array(TypeCode::Bool)},
            {"byteValue", TypeDesc::array(TypeCode::Int8)},
            {"shortValue", TypeDesc::array(TypeCode::Int16)},
            {"intValue", TypeDesc::array(TypeCode::Int32)},
            {"longValue", TypeDesc::array(TypeCode::Int64)},
            {"ubyteValue", TypeDesc::array(TypeCode::UInt8)},
            {"ushortValue", TypeDesc::array(TypeCode::UInt16)},
            {"uintValue", TypeDesc::array(TypeCode::UInt32)},
            {"ulongValue", TypeDesc::array(TypeCode::UInt64)},
            {"floatValue", TypeDesc::array(TypeCode::Float32)},
            {"doubleValue", TypeDesc::array(TypeCode::Float64)},
        });
        auto codec = TypeDesc::structure("codec_t", {{"name", str}, {"parameters", TypeDesc::any()}});
        auto dimension = TypeDesc::structure("dimension_t", {
            {"size", i32},
            {"offset", i32},
            {"fullSize", i32},
            {"binning", i32},
            {"reverse", TypeDesc::scalar(TypeCode::Bool)},
        });
        auto attribute = TypeDesc::structure("epics:nt/NTAttribute:1.0", {
            {"name", str},
            {"value", TypeDesc::any()},
            {"tags", TypeDesc::array(TypeCode::String)},
            {"descriptor", str},
            {"alarm", alarm_t()},
            {"timeStamp", time_t()},
            {"sourceType", i32},
            {"source", str},
        });
        return TypeDesc::structure("epics:nt/NTNDArray:1.0", {
            {"value", std::move(value)},
            {"codec", std::move(codec)},
            {"compressedSize", i64},
            {"uncompressedSize", i64},
            {"uniqueId", i32},
            {"dataTimeStamp", time_t()},
            {"alarm", alarm_t()},
            {"timeStamp", time_t()},
            {"dimension", TypeDesc::struct_array(std::move(dimension))},
            {"attribute", TypeDesc::struct_array(std::move(attribute))},
        });
    }();
    return t;
}
PVWIRE_DECL Value NTNDArray::create() const { return Value(type()); }

// ---- NTURI ---------------------------------------------------------------------------------

PVWIRE_DECL NTURI& NTURI::add_arg(TypeCode code, std::string name) {
    const TypeCode e = checked_element(code, "NTURI argument");
    std::vector<std::string_view> names;
    for (const auto& a : args_) names.push_back(a.name);
    check_new_name(name, names, "NTURI argument");
    args_.push_back({std::move(name), type_code::is_array(code) ? TypeDesc::array(e) : TypeDesc::scalar(e)});
    return *this;
}

PVWIRE_DECL TypePtr NTURI::type() const {
    const auto str = TypeDesc::scalar(TypeCode::String);
    return TypeDesc::structure("epics:nt/NTURI:1.0", {
        {"scheme", str},
        {"authority", str},
        {"path", str},
        {"query", TypeDesc::structure({}, args_)},
    });
}

PVWIRE_DECL Value NTURI::create() const { return Value(type()); }

PVWIRE_DECL Value NTURI::call(std::string_view path,
                  std::initializer_list<std::pair<std::string_view, Arg>> args) const {
    Value v = create();
    v["scheme"].set(std::string_view("pva"));
    v["authority"].mark();
    v["path"].set(path);
    Value query = v["query"];
    query.mark();
    for (const auto& [name, arg] : args) {
        Value f = name.find('.') == std::string_view::npos ? query.field(name) : Value();
        if (!f)
            throw ValueError("pvwire: NTURI has no argument '" + std::string(name) + "'");
        std::visit([&](const auto& x) { f.set(x); }, arg);
    }
    return v;
}

// ---- helpers -------------------------------------------------------------------------------

PVWIRE_DECL void set_time_now(Value ts) {
    const auto since = std::chrono::system_clock::now().time_since_epoch();
    const auto secs = std::chrono::floor<std::chrono::seconds>(since);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(since - secs);
    Value s = ts["secondsPastEpoch"], n = ts["nanoseconds"];
    s.set(std::int64_t(secs.count()));
    n.set(std::int64_t(ns.count()));
}

PVWIRE_DECL void set_alarm(Value alarm, int severity, int status, std::string msg) {
    Value sev = alarm["severity"], sta = alarm["status"], m = alarm["message"];
    sev.set(severity);
    sta.set(status);
    m.set(msg);
}

PVWIRE_DECL bool is_nt(const TypeDesc& type, std::string_view base) noexcept {
    if (type.code() != TypeCode::Struct || type.id().empty()) return false;
    const auto want = name_part(base);
    return !want.empty() && name_part(type.id()) == want;
}

}  // namespace pvwire::nt
