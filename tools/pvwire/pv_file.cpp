// The PV file of `pvwire serve`: see pv_file.hpp and docs/pv-file.md.
#include "pv_file.hpp"

#include "client_common.hpp"

#include <pvwire/data/json_schema.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/data/type_text.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace pvwire::tool {

// Ordered: the members of a "schema" entry's structure follow the file.
using json = nlohmann::ordered_json;

namespace {

const std::map<std::string, TypeCode>& element_names() {
    static const std::map<std::string, TypeCode> m = {
        {"bool", TypeCode::Bool},       {"boolean", TypeCode::Bool},    {"int8", TypeCode::Int8},
        {"byte", TypeCode::Int8},       {"int16", TypeCode::Int16},     {"short", TypeCode::Int16},
        {"int32", TypeCode::Int32},     {"int", TypeCode::Int32},       {"int64", TypeCode::Int64},
        {"long", TypeCode::Int64},      {"uint8", TypeCode::UInt8},     {"ubyte", TypeCode::UInt8},
        {"uint16", TypeCode::UInt16},   {"ushort", TypeCode::UInt16},   {"uint32", TypeCode::UInt32},
        {"uint", TypeCode::UInt32},     {"uint64", TypeCode::UInt64},   {"ulong", TypeCode::UInt64},
        {"float", TypeCode::Float32},   {"float32", TypeCode::Float32}, {"double", TypeCode::Float64},
        {"float64", TypeCode::Float64}, {"string", TypeCode::String},
    };
    return m;
}

const char* element_list =
    "bool/boolean, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float/float32, double/float64, string";

std::string canonical_name(TypeCode c) {
    switch (c) {
    case TypeCode::Bool: return "bool";
    case TypeCode::Int8: return "int8";
    case TypeCode::Int16: return "int16";
    case TypeCode::Int32: return "int32";
    case TypeCode::Int64: return "int64";
    case TypeCode::UInt8: return "uint8";
    case TypeCode::UInt16: return "uint16";
    case TypeCode::UInt32: return "uint32";
    case TypeCode::UInt64: return "uint64";
    case TypeCode::Float32: return "float32";
    case TypeCode::Float64: return "double";
    case TypeCode::String: return "string";
    default: return "?";
    }
}

bool is_number_code(TypeCode c) { return type_code::is_integer(c) || type_code::is_float(c); }

std::string fmt(double d) {
    std::ostringstream s;
    s << d;
    return s.str();
}

// Builds errors that name where they are.
struct Where {
    std::string source;  // file name or --pv text
    std::string entry;   // `pvs[3] "demo:x"` (empty for --pv)

    [[noreturn]] void fail(const std::string& key, const std::string& why) const {
        std::string m = source + ": ";
        if (!entry.empty()) m += entry + ": ";
        if (!key.empty()) m += "\"" + key + "\": ";
        throw PvFileError(m + why);
    }
};

std::string kind_of(const json& j) {
    switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_float: return "a number";
    default: return "an integer";
    }
}

// The text Value::set() takes for a JSON scalar of element `code`, after checking its kind.
// Empty optional with *why set on mismatch.
std::optional<std::string> scalar_text(const json& j, TypeCode code, std::string* why) {
    if (code == TypeCode::String) {
        if (!j.is_string()) {
            *why = "expected a string, got " + kind_of(j);
            return std::nullopt;
        }
        return j.get<std::string>();
    }
    if (code == TypeCode::Bool) {
        if (!j.is_boolean()) {
            *why = "expected true or false, got " + kind_of(j);
            return std::nullopt;
        }
        return std::string(j.get<bool>() ? "true" : "false");
    }
    if (type_code::is_integer(code)) {
        if (!j.is_number_integer()) {
            *why = "expected an integer for " + canonical_name(code) + ", got " +
                   (j.is_number() ? j.dump() : kind_of(j));
            return std::nullopt;
        }
        return j.dump();
    }
    if (!j.is_number()) {
        *why = "expected a number, got " + kind_of(j);
        return std::nullopt;
    }
    return j.dump();
}

// Sets a scalar field from JSON (kind and range checked).
void set_scalar(Value f, const json& j, const Where& w, const std::string& key) {
    std::string why;
    auto text = scalar_text(j, f.code(), &why);
    if (!text) w.fail(key, why);
    try {
        f.set(*text);
    } catch (const std::exception& e) {
        w.fail(key, j.dump() + " does not fit " + canonical_name(f.code()) + " (" + e.what() + ")");
    }
}

// Sets a scalar array field from a JSON array (each element checked).
void set_array(Value f, const json& j, TypeCode element, const Where& w, const std::string& key) {
    if (!j.is_array()) w.fail(key, "expected an array of " + canonical_name(element) + ", got " + kind_of(j));
    std::vector<std::string> items;
    Value probe(TypeDesc::scalar(element));
    for (std::size_t i = 0; i < j.size(); ++i) {
        std::string why;
        auto text = scalar_text(j[i], element, &why);
        if (!text) w.fail(key, "element " + std::to_string(i) + ": " + why);
        if (!probe.try_set(*text))
            w.fail(key, "element " + std::to_string(i) + ": " + j[i].dump() + " does not fit " + canonical_name(element));
        items.push_back(*text);
    }
    try {
        f.set(items);
    } catch (const std::exception& e) {
        w.fail(key, e.what());
    }
}

// `allowed`: the keys of the entry's type; every entry also takes "asg" and "asl".
void check_keys(const json& e, std::set<std::string> allowed, const Where& w) {
    allowed.insert({"asg", "asl"});
    for (auto it = e.begin(); it != e.end(); ++it)
        if (!allowed.count(it.key())) {
            std::string list;
            for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
            w.fail(it.key(), "unknown key (this type takes: " + list + ")");
        }
}

std::string get_string(const json& e, const std::string& key, const Where& w) {
    const auto& v = e.at(key);
    if (!v.is_string()) w.fail(key, "expected a string, got " + kind_of(v));
    return v.get<std::string>();
}

double get_number(const json& j, const std::string& key, const Where& w) {
    if (!j.is_number()) w.fail(key, "expected a number, got " + kind_of(j));
    const double d = j.get<double>();
    if (!std::isfinite(d)) w.fail(key, "expected a finite number");
    return d;
}

TypeCode get_element(const json& e, const std::string& key, const Where& w) {
    if (!e.contains(key)) return TypeCode::Float64;
    const std::string n = get_string(e, key, w);
    auto c = element_code(n);
    if (!c) w.fail(key, "unknown element \"" + n + "\" (one of: " + element_list + ")");
    return *c;
}

void read_range(const json& e, const std::string& key, const Where& w, std::optional<double>& low,
                std::optional<double>& high) {
    const auto& r = e.at(key);
    if (!r.is_object()) w.fail(key, "expected an object {\"low\": number, \"high\": number}, got " + kind_of(r));
    for (auto it = r.begin(); it != r.end(); ++it) {
        if (it.key() == "low") low = get_number(it.value(), key + ".low", w);
        else if (it.key() == "high") high = get_number(it.value(), key + ".high", w);
        else w.fail(key + "." + it.key(), "unknown key (low, high)");
    }
    if (!low && !high) w.fail(key, "give \"low\", \"high\" or both");
    if (low && high && *low > *high) w.fail(key, "low " + fmt(*low) + " is above high " + fmt(*high));
}

// Every element of the PV's value within [low, high]? An error text or "".
std::string limit_violation(const PvSpec& s, const Value& value) {
    if (!s.low && !s.high) return {};
    std::vector<double> xs;
    if (type_code::is_array(value.code())) xs = value.as<std::vector<double>>();
    else xs.push_back(value.as<double>());
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const double x = xs[i];
        if ((s.low && x < *s.low) || (s.high && x > *s.high)) {
            std::string r = "[" + (s.low ? fmt(*s.low) : std::string("-inf")) + ", " +
                            (s.high ? fmt(*s.high) : std::string("inf")) + "]";
            return (xs.size() > 1 || type_code::is_array(value.code()) ? "element " + std::to_string(i) + " " : "") +
                   "value " + fmt(x) + " is outside the limits " + r;
        }
    }
    return {};
}

PvSpec parse_scalar(const json& e, const Where& w, bool array) {
    PvSpec s;
    s.kind = array ? "NTScalarArray" : "NTScalar";
    s.element = get_element(e, "element", w);
    std::set<std::string> keys{"name", "type", "element", "value", "readonly", "description", "units",
                               "precision", "display", "limits"};
    if (!array) keys.insert("tick");
    check_keys(e, keys, w);
    const bool numeric = is_number_code(s.element);
    for (const char* k : {"precision", "display", "limits", "tick"})
        if (e.contains(k) && !numeric)
            w.fail(k, "only for numeric elements, not " + canonical_name(s.element));
    std::optional<double> dlow, dhigh;
    if (e.contains("display")) read_range(e, "display", w, dlow, dhigh);
    if (e.contains("limits")) read_range(e, "limits", w, s.low, s.high);
    std::optional<std::int64_t> precision;
    if (e.contains("precision")) {
        const auto& p = e["precision"];
        if (!p.is_number_integer() || p.get<std::int64_t>() < 0 || p.get<std::int64_t>() > 17)
            w.fail("precision", "expected an integer 0..17");
        precision = p.get<std::int64_t>();
    }
    std::string units, description;
    if (e.contains("units")) units = get_string(e, "units", w);
    if (e.contains("description")) description = get_string(e, "description", w);
    const bool display = e.contains("units") || e.contains("description") || precision || dlow || dhigh;

    TypePtr type;
    if (array) type = nt::NTScalarArray{s.element, display, bool(s.low || s.high), false, bool(precision)}.type();
    else type = nt::NTScalar{s.element, display, bool(s.low || s.high), false, bool(precision)}.type();
    s.initial = Value(type);
    Value v = s.initial["value"];
    if (e.contains("value")) {
        if (array) set_array(v, e["value"], s.element, w, "value");
        else set_scalar(v, e["value"], w, "value");
    }
    if (display) {
        if (auto f = s.initial.field("display.units")) f.set(units);
        if (auto f = s.initial.field("display.description")) f.set(description);
        if (precision)
            if (auto f = s.initial.field("display.precision")) f.set(*precision);
        try {
            if (dlow) s.initial["display.limitLow"].set(*dlow);
            if (dhigh) s.initial["display.limitHigh"].set(*dhigh);
        } catch (const std::exception& ex) {
            w.fail("display", std::string("does not fit the element type: ") + ex.what());
        }
    }
    if (s.low || s.high) {
        try {
            if (s.low) s.initial["control.limitLow"].set(*s.low);
            if (s.high) s.initial["control.limitHigh"].set(*s.high);
        } catch (const std::exception& ex) {
            w.fail("limits", std::string("does not fit the element type: ") + ex.what());
        }
        if (auto bad = limit_violation(s, v); !bad.empty()) w.fail("value", bad);
    }
    if (e.contains("tick")) {
        const auto& t = e["tick"];
        if (!t.is_object()) w.fail("tick", "expected an object {\"period\": seconds, \"step\": number}, got " + kind_of(t));
        bool has_period = false;
        for (auto it = t.begin(); it != t.end(); ++it) {
            if (it.key() == "period") {
                s.tick_period = get_number(it.value(), "tick.period", w);
                has_period = true;
            } else if (it.key() == "step") {
                s.tick_step = get_number(it.value(), "tick.step", w);
            } else {
                w.fail("tick." + it.key(), "unknown key (period, step)");
            }
        }
        if (!has_period) w.fail("tick", "\"period\" is required");
        if (s.tick_period < 0.01) w.fail("tick.period", "must be at least 0.01 seconds");
        if (type_code::is_integer(s.element) && s.tick_step != std::floor(s.tick_step))
            w.fail("tick.step", "must be an integer for " + canonical_name(s.element));
        if (s.tick_step == 0) w.fail("tick.step", "must not be 0");
    }
    return s;
}

PvSpec parse_enum(const json& e, const Where& w) {
    PvSpec s;
    s.kind = "NTEnum";
    check_keys(e, {"name", "type", "value", "readonly", "description"}, w);
    std::vector<std::string> choices;
    std::int64_t index = 0;
    if (!e.contains("value")) w.fail("value", "required: {\"index\": N, \"choices\": [\"...\", ...]}");
    const auto& v = e["value"];
    if (!v.is_object()) w.fail("value", "expected {\"index\": N, \"choices\": [...]}, got " + kind_of(v));
    for (auto it = v.begin(); it != v.end(); ++it) {
        if (it.key() == "index") {
            if (!it.value().is_number_integer()) w.fail("value.index", "expected an integer, got " + kind_of(it.value()));
            index = it.value().get<std::int64_t>();
        } else if (it.key() == "choices") {
            if (!it.value().is_array()) w.fail("value.choices", "expected an array of strings, got " + kind_of(it.value()));
            for (std::size_t i = 0; i < it.value().size(); ++i) {
                if (!it.value()[i].is_string())
                    w.fail("value.choices", "element " + std::to_string(i) + ": expected a string, got " +
                                                kind_of(it.value()[i]));
                choices.push_back(it.value()[i].get<std::string>());
            }
        } else {
            w.fail("value." + it.key(), "unknown key (index, choices)");
        }
    }
    if (choices.empty()) w.fail("value.choices", "required, with at least one choice");
    if (index < 0 || std::size_t(index) >= choices.size())
        w.fail("value.index", "index " + std::to_string(index) + " is not a choice (0.." +
                                  std::to_string(choices.size() - 1) + ")");
    s.initial = nt::NTEnum{}.create(choices, std::int32_t(index));
    if (e.contains("description"))
        if (auto f = s.initial.field("display.description")) f.set(get_string(e, "description", w));
    return s;
}

PvSpec parse_table(const json& e, const Where& w) {
    PvSpec s;
    s.kind = "NTTable";
    check_keys(e, {"name", "type", "columns", "value", "readonly", "description"}, w);
    if (!e.contains("columns")) w.fail("columns", "required: [{\"name\": \"...\", \"element\": \"...\"}, ...]");
    const auto& cols = e["columns"];
    if (!cols.is_array() || cols.empty()) w.fail("columns", "expected a non-empty array of columns");
    nt::NTTable table;
    std::vector<std::pair<std::string, TypeCode>> columns;
    for (std::size_t i = 0; i < cols.size(); ++i) {
        const std::string key = "columns[" + std::to_string(i) + "]";
        const auto& c = cols[i];
        if (!c.is_object()) w.fail(key, "expected {\"name\": \"...\", \"element\": \"...\"}, got " + kind_of(c));
        for (auto it = c.begin(); it != c.end(); ++it)
            if (it.key() != "name" && it.key() != "element" && it.key() != "label")
                w.fail(key + "." + it.key(), "unknown key (name, element, label)");
        if (!c.contains("name") || !c["name"].is_string() || c["name"].get<std::string>().empty())
            w.fail(key + ".name", "required, a non-empty string");
        const std::string name = c["name"].get<std::string>();
        const TypeCode code = get_element(c, "element", Where{w.source, w.entry + " " + key});
        std::string label;
        if (c.contains("label")) {
            if (!c["label"].is_string()) w.fail(key + ".label", "expected a string, got " + kind_of(c["label"]));
            label = c["label"].get<std::string>();
        }
        for (const auto& [n, code2] : columns)
            if (n == name) w.fail(key + ".name", "column \"" + name + "\" is given twice");
        try {
            table.add_column(code, name, label);
        } catch (const std::exception& ex) {
            w.fail(key, ex.what());
        }
        columns.emplace_back(name, code);
    }
    s.initial = table.create();
    if (e.contains("value")) {
        const auto& v = e["value"];
        if (!v.is_object()) w.fail("value", "expected an object of columns {\"" + columns[0].first + "\": [...], ...}, got " + kind_of(v));
        std::optional<std::size_t> rows;
        std::string first;
        for (auto it = v.begin(); it != v.end(); ++it) {
            auto col = std::find_if(columns.begin(), columns.end(), [&](const auto& c) { return c.first == it.key(); });
            if (col == columns.end()) w.fail("value." + it.key(), "not a column of this table");
            set_array(s.initial["value"][it.key()], it.value(), col->second, w, "value." + it.key());
            if (!rows) {
                rows = it.value().size();
                first = it.key();
            } else if (*rows != it.value().size()) {
                w.fail("value", "columns must have the same length: \"" + it.key() + "\" has " +
                                    std::to_string(it.value().size()) + " elements, \"" + first + "\" " +
                                    std::to_string(*rows));
            }
        }
        if (rows && *rows > 0)
            for (const auto& c : columns)
                if (!v.contains(c.first))
                    w.fail("value", "column \"" + c.first + "\" is missing (the others have " + std::to_string(*rows) + " elements)");
    }
    if (e.contains("description")) s.initial["descriptor"].set(get_string(e, "description", w));
    return s;
}

// The message of a SchemaError without its "type text: " / "schema: " label (the key says it).
std::string schema_message(const SchemaError& e, std::string_view label) {
    std::string_view m = e.what();
    if (m.starts_with(label)) m.remove_prefix(label.size());
    return std::string(m);
}

// Whether `j` nests deeper than `limit`; stops looking there, so the check itself is bounded.
bool nests_deeper(const json& j, std::size_t limit) {
    if (!j.is_structured()) return false;
    if (limit == 0) return true;
    for (const auto& child : j)
        if (nests_deeper(child, limit - 1)) return true;
    return false;
}

// The server stamps a top-level "timeStamp" at start and on every put: it must take that.
void check_time_stamp(const Value& initial, const Where& w, const std::string& key) {
    Value ts = initial.field("timeStamp");
    if (!ts) return;
    try {
        nt::set_time_now(ts.clone());
    } catch (const std::exception&) {
        w.fail(key, "a member \"timeStamp\" must be a time_t structure (secondsPastEpoch, nanoseconds), "
                    "as the server stamps it; or name it otherwise");
    }
}

// An entry of any type: "pvtype" (the compact text) or "schema" (JSON Schema), and a "value"
// assigned as JSON (objects for structures, {"member": v} for unions, arrays for arrays).
PvSpec parse_typed(const json& e, const Where& w, const std::string& key) {
    PvSpec s;
    s.kind = key;
    check_keys(e, {"name", key, "value", "readonly"}, w);
    try {
        if (key == "pvtype") s.initial = Value(parse_type_text(get_string(e, key, w)));
        else if (nests_deeper(e[key], 3 * TypeTextLimits::max_depth))  // dump() would recurse that deep
            w.fail(key, "nested more than " + std::to_string(TypeTextLimits::max_depth) + " levels deep");
        else s.initial = value_from_json_schema(e[key].dump());  // the enums' choices filled in
    } catch (const SchemaError& ex) {
        w.fail(key, schema_message(ex, key == "pvtype" ? "type text: " : "schema: "));
    }
    if (s.initial.code() != TypeCode::Struct)
        w.fail(key, "a PV's type must be a structure, not " + s.initial.type().type_name());
    check_time_stamp(s.initial, w, key);
    if (e.contains("value")) {
        if (nests_deeper(e["value"], 3 * TypeTextLimits::max_depth))  // messages dump() what they refuse
            w.fail("value", "nested more than " + std::to_string(3 * TypeTextLimits::max_depth) + " levels deep");
        try {
            set_from_json(s.initial, e["value"], "");
        } catch (const std::exception& ex) {
            w.fail("value", ex.what());
        }
    }
    s.initial.unmark();
    return s;
}

// Which of "type", "pvtype" and "schema" the entry gives: exactly one.
std::string type_key(const json& e, const Where& w) {
    std::string found;
    for (const char* k : {"type", "pvtype", "schema"}) {
        if (!e.contains(k)) continue;
        if (!found.empty()) w.fail(k, "give only one of \"type\", \"pvtype\" and \"schema\" (\"" + found + "\" is given too)");
        found = k;
    }
    if (found.empty())
        w.fail("type", "required: NTScalar, NTScalarArray, NTEnum or NTTable (or \"pvtype\" or \"schema\" for any type)");
    return found;
}

// "asg" and "asl": the access security group and level the access rules (--acf) give the PV.
void read_access_group(const json& e, const Where& w, PvSpec& s) {
    if (e.contains("asg")) {
        s.asg = get_string(e, "asg", w);
        if (s.asg.empty()) w.fail("asg", "must not be empty");
    }
    if (e.contains("asl")) {
        const auto& l = e["asl"];
        if (!l.is_number_integer() || l.get<std::int64_t>() < 0 || l.get<std::int64_t>() > 255)
            w.fail("asl", "expected an integer 0..255");
        s.asl = static_cast<int>(l.get<std::int64_t>());
    }
}

PvSpec parse_entry(const json& e, const Where& w) {
    if (!e.is_object()) w.fail("", "expected an object {\"name\": ..., \"type\": ...}, got " + kind_of(e));
    if (!e.contains("name")) w.fail("name", "required");
    const std::string name = get_string(e, "name", w);
    if (name.empty()) w.fail("name", "must not be empty");
    for (char c : name)
        if (static_cast<unsigned char>(c) <= ' ') w.fail("name", "must not contain blanks or control characters");
    const std::string key = type_key(e, w);
    const std::string type = key == "type" ? get_string(e, "type", w) : std::string();
    PvSpec s;
    if (key != "type") s = parse_typed(e, w, key);
    else if (type == "NTScalar") s = parse_scalar(e, w, false);
    else if (type == "NTScalarArray") s = parse_scalar(e, w, true);
    else if (type == "NTEnum") s = parse_enum(e, w);
    else if (type == "NTTable") s = parse_table(e, w);
    else w.fail("type", "unknown type \"" + type + "\" (one of: NTScalar, NTScalarArray, NTEnum, NTTable)");
    s.name = name;
    if (e.contains("readonly")) {
        if (!e["readonly"].is_boolean()) w.fail("readonly", "expected true or false, got " + kind_of(e["readonly"]));
        s.read_only = e["readonly"].get<bool>();
    }
    read_access_group(e, w, s);
    return s;
}

}  // namespace

std::optional<TypeCode> element_code(const std::string& name) {
    auto it = element_names().find(name);
    if (it == element_names().end()) return std::nullopt;
    return it->second;
}

std::string PvSpec::summary() const {
    std::string s = kind;
    if (kind == "pvtype" || kind == "schema") {
        const TypeDesc& t = initial.type();
        s = t.type_name() + (t.id().empty() ? std::string() : " " + t.id()) + " (" + kind + ")";
    }
    if (kind == "NTScalar" || kind == "NTScalarArray") s += " " + canonical_name(element);
    if (read_only) s += ", read-only";
    if (!asg.empty() || asl != 0) s += ", ASG " + (asg.empty() ? std::string("DEFAULT") : asg) + " ASL " + std::to_string(asl);
    if (low || high)
        s += ", limits [" + (low ? fmt(*low) : std::string("-inf")) + ", " + (high ? fmt(*high) : std::string("inf")) + "]";
    if (tick_period > 0) s += ", ticks " + std::string(tick_step >= 0 ? "+" : "") + fmt(tick_step) + " every " + fmt(tick_period) + " s";
    return s;
}

std::vector<PvSpec> parse_pv_document(const json& doc, const std::string& source) {
    const Where top{source, {}};
    if (!doc.is_object()) top.fail("", "expected an object {\"pvs\": [...]}, got " + kind_of(doc));
    for (auto it = doc.begin(); it != doc.end(); ++it)
        if (it.key() != "pvs") top.fail(it.key(), "unknown key (the file holds {\"pvs\": [...]})");
    if (!doc.contains("pvs")) top.fail("pvs", "required: an array of PV entries");
    const auto& pvs = doc["pvs"];
    if (!pvs.is_array()) top.fail("pvs", "expected an array of PV entries, got " + kind_of(pvs));
    std::vector<PvSpec> out;
    std::map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < pvs.size(); ++i) {
        std::string label = "pvs[" + std::to_string(i) + "]";
        if (pvs[i].is_object() && pvs[i].contains("name") && pvs[i]["name"].is_string())
            label += " \"" + pvs[i]["name"].get<std::string>() + "\"";
        const Where w{source, label};
        PvSpec s = parse_entry(pvs[i], w);
        if (auto d = seen.find(s.name); d != seen.end())
            w.fail("name", "\"" + s.name + "\" is already the name of pvs[" + std::to_string(d->second) + "]");
        seen[s.name] = i;
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<PvSpec> load_pv_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw PvFileError(path + ": cannot open the file");
    std::stringstream buf;
    buf << in.rdbuf();
    json doc;
    try {
        doc = json::parse(buf.str(), nullptr, true, /*ignore_comments=*/true);
    } catch (const json::parse_error& e) {
        // e.what(): "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
        std::string what = e.what();
        const auto at = what.find("] ");
        throw PvFileError(path + ": not valid JSON: " + (at == std::string::npos ? what : what.substr(at + 2)));
    }
    return parse_pv_document(doc, path);
}

PvSpec parse_pv_option(const std::string& text) {
    const Where w{"--pv \"" + text + "\"", {}};
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) w.fail("", "expected NAME=TYPE[:VALUE], e.g. demo:x=double:3.5");
    const std::string name = text.substr(0, eq);
    const std::string rest = text.substr(eq + 1);
    const auto colon = rest.find(':');
    const std::string type = rest.substr(0, colon);
    const bool has_value = colon != std::string::npos;
    const std::string value = has_value ? rest.substr(colon + 1) : std::string();
    json e = json::object();
    e["name"] = name;
    auto split = [](const std::string& s) {
        std::vector<std::string> items;
        std::string cur;
        for (char c : s) {
            if (c == ',') {
                items.push_back(cur);
                cur.clear();
            } else {
                cur += c;
            }
        }
        items.push_back(cur);
        return items;
    };
    auto scalar_json = [&](TypeCode c, const std::string& t) -> json {
        if (c == TypeCode::String) return t;
        json j = json::parse(t, nullptr, false);
        if (j.is_discarded() || j.is_object() || j.is_array() || j.is_string() || j.is_null())
            w.fail("", "\"" + t + "\" is not a " + (c == TypeCode::Bool ? "boolean" : "number"));
        return j;
    };
    if (type == "enum") {
        e["type"] = "NTEnum";
        if (!has_value || value.empty()) w.fail("", "an enum needs its choices: NAME=enum:A,B,C");
        e["value"] = {{"index", 0}, {"choices", split(value)}};
    } else if (type.size() > 2 && type.substr(type.size() - 2) == "[]") {
        const std::string el = type.substr(0, type.size() - 2);
        auto c = element_code(el);
        if (!c) w.fail("", "unknown element \"" + el + "\" (one of: " + element_list + ")");
        e["type"] = "NTScalarArray";
        e["element"] = el;
        if (has_value && !value.empty()) {
            json arr = json::parse(value, nullptr, false);
            if (arr.is_discarded() || !arr.is_array()) {
                std::string v = value;
                if (!v.empty() && v.front() == '[' && v.back() == ']') v = v.substr(1, v.size() - 2);
                arr = json::array();
                for (const auto& item : split(v)) arr.push_back(scalar_json(*c, item));
            }
            e["value"] = arr;
        }
    } else {
        auto c = element_code(type);
        if (!c) w.fail("", "unknown type \"" + type + "\" (an element: " + element_list + "; an element with [] for an array; or enum)");
        e["type"] = "NTScalar";
        e["element"] = type;
        if (has_value && (!value.empty() || *c == TypeCode::String)) e["value"] = scalar_json(*c, value);
    }
    return parse_entry(e, w);
}

std::string check_put(const PvSpec& spec, const Value& current, const Value& put) {
    if (spec.kind == "NTScalar" || spec.kind == "NTScalarArray") {
        Value v = put.field("value");
        if (v && v.is_changed()) return limit_violation(spec, v);
    } else if (spec.kind == "NTEnum") {
        Value idx = put.field("value.index"), ch = put.field("value.choices");
        if (ch && ch.is_changed()) return "the choices of " + spec.name + " cannot be changed";
        if (idx && idx.is_changed()) {
            const auto n = current.field("value.choices").array().size();
            const auto i = idx.as<std::int64_t>();
            if (i < 0 || std::size_t(i) >= n)
                return "index " + std::to_string(i) + " is not a choice of " + spec.name + " (0.." + std::to_string(n - 1) + ")";
        }
    } else if (spec.kind == "NTTable") {
        std::optional<std::size_t> rows;
        Value v = put.field("value");
        if (v && v.is_changed()) {
            for (std::size_t i = 0; i < v.member_count(); ++i) {
                // the column as it will be: the put's when written, else the current one
                Value col = v.member(i).is_changed() ? v.member(i) : current.field("value").member(i);
                const auto n = col.array().size();
                if (rows && *rows != n) return "the columns of " + spec.name + " must keep the same number of rows";
                rows = n;
            }
        }
    }
    return {};
}

}  // namespace pvwire::tool
