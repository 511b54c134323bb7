// pvData types from a JSON Schema subset: see json_schema.hpp and docs/pv-file.md.
// nlohmann::ordered_json keeps "properties" in file order (its plain json sorts keys, which
// would reorder structure members).
#include <pvwire/data/json_schema.hpp>

#include <pvwire/data/nt.hpp>
#include <pvwire/data/value.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>
#include <utility>
#include <vector>

namespace pvwire {

namespace {

using json = nlohmann::ordered_json;
using Limits = TypeTextLimits;

[[noreturn]] void fail(const std::string& path, std::string_view why) {
    throw SchemaError(fmt::format("schema: {}: {}", path.empty() ? "(top)" : path, why));
}

// A JSON value for a message: scalars as written (cut short), containers by kind only, since
// dumping them would recurse as deep as they nest.
std::string brief(const json& j) {
    if (j.is_array()) return "an array";
    if (j.is_object()) return "an object";
    std::string text = j.dump();
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    return text;
}

std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

// Keywords that describe without constraining: ignored wherever they appear.
bool is_annotation(const std::string& key) {
    static const std::set<std::string> names = {"title",   "description", "$comment", "default", "examples",
                                                "$schema", "$id",         "readOnly", "writeOnly", "deprecated"};
    return names.count(key) != 0;
}

// Refuses every keyword outside `allowed` (and the annotations), naming the first one.
void allow_only(const json& s, const std::string& path, std::initializer_list<std::string_view> allowed,
                std::string_view what) {
    for (auto it = s.begin(); it != s.end(); ++it) {
        if (is_annotation(it.key())) continue;
        bool ok = false;
        for (auto a : allowed) ok = ok || a == it.key();
        if (!ok) fail(path, fmt::format("\"{}\" is not supported for {}", it.key(), what));
    }
}

// The "format" names, in the order the error messages list them.
using Formats = std::vector<std::pair<std::string_view, TypeCode>>;

const Formats& integer_formats() {
    static const Formats f = {{"int8", TypeCode::Int8},   {"int16", TypeCode::Int16},   {"int32", TypeCode::Int32},
                              {"int64", TypeCode::Int64}, {"uint8", TypeCode::UInt8},   {"uint16", TypeCode::UInt16},
                              {"uint32", TypeCode::UInt32}, {"uint64", TypeCode::UInt64}};
    return f;
}

const Formats& number_formats() {
    static const Formats f = {{"float32", TypeCode::Float32}, {"float64", TypeCode::Float64},
                              {"float", TypeCode::Float32},   {"double", TypeCode::Float64}};
    return f;
}

std::string string_of(const json& s, const std::string& path, const char* key) {
    const json& v = s[key];
    if (!v.is_string()) fail(path, fmt::format("\"{}\" must be a string, not {}", key, brief(v)));
    return v.get<std::string>();
}

// A non-negative integer keyword no larger than max_bound.
std::uint32_t bound_of(const json& s, const std::string& path, const char* key) {
    const json& v = s[key];
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > Limits::max_bound)
        fail(path, fmt::format("\"{}\" must be an integer 0..{}, not {}", key, Limits::max_bound, brief(v)));
    return std::uint32_t(v.get<std::uint64_t>());
}

TypeCode format_code(const json& s, const std::string& path, const Formats& formats, TypeCode fallback,
                     std::string_view kind) {
    if (!s.contains("format")) return fallback;
    const std::string f = string_of(s, path, "format");
    std::string names;
    for (const auto& [name, code] : formats) {
        if (name == f) return code;
        names += fmt::format("{}{}", names.empty() ? "" : ", ", name);
    }
    fail(path, fmt::format("\"format\" \"{}\" is not {} format ({})", f, kind, names));
}

class SchemaReader {
public:
    TypePtr read(const json& s, const std::string& path, std::size_t depth) {
        if (depth > Limits::max_depth) fail(path, fmt::format("nested more than {} levels deep", Limits::max_depth));
        if (s.is_boolean() && s.get<bool>()) return TypeDesc::any();  // `true` accepts anything, like {}
        if (!s.is_object()) fail(path, fmt::format("a schema must be an object, not {}", brief(s)));
        if (s.contains("x-pvdata-type")) return forced(s, path);
        if (s.contains("oneOf")) return one_of(s, path, depth);
        if (s.contains("enum")) return enumeration(s, path);
        if (!s.contains("type")) {
            allow_only(s, path, {}, "a schema without \"type\" (that is any)");
            return TypeDesc::any();
        }
        if (!s["type"].is_string())
            fail(path, fmt::format("\"type\" must be one type name, not {} (a list of types has no pvData form)",
                                   brief(s["type"])));
        const std::string type = s["type"].get<std::string>();
        if (type == "object") return object(s, path, depth);
        if (type == "array") return array(s, path, depth);
        if (type == "integer") {
            allow_only(s, path, {"type", "format"}, "an integer");
            return TypeDesc::scalar(format_code(s, path, integer_formats(), TypeCode::Int32, "an integer"));
        }
        if (type == "number") {
            allow_only(s, path, {"type", "format"}, "a number");
            return TypeDesc::scalar(format_code(s, path, number_formats(), TypeCode::Float64, "a number"));
        }
        if (type == "string") return string(s, path);
        if (type == "boolean") {
            allow_only(s, path, {"type"}, "a boolean");
            return TypeDesc::scalar(TypeCode::Bool);
        }
        fail(path, fmt::format("\"type\" \"{}\" is not one of object, array, integer, number, string, boolean", type));
    }

    // An enum reached through structures only: its field's dotted path ("" for the top) and choices.
    struct EnumField {
        std::string path;
        std::vector<std::string> choices;
    };
    const std::vector<EnumField>& enums() const { return enums_; }

private:
    std::string field_path() const {
        std::string p;
        for (const auto& name : field_path_) p = join(p, name);
        return p;
    }

    void count_field(const std::string& path) {
        if (++fields_ > Limits::max_fields) fail(path, fmt::format("more than {} fields", Limits::max_fields));
    }

    TypePtr forced(const json& s, const std::string& path) {
        allow_only(s, path, {"x-pvdata-type"}, "\"x-pvdata-type\" (it gives the whole type)");
        try {
            return parse_type_text(string_of(s, path, "x-pvdata-type"));
        } catch (const SchemaError& e) {
            fail(path, fmt::format("\"x-pvdata-type\": {}", e.what()));
        }
    }

    std::string id_of(const json& s, const std::string& path) {
        return s.contains("x-pvdata-id") ? string_of(s, path, "x-pvdata-id") : std::string();
    }

    TypePtr object(const json& s, const std::string& path, std::size_t depth) {
        allow_only(s, path, {"type", "properties", "x-pvdata-id", "required", "additionalProperties"}, "an object");
        if (s.contains("additionalProperties") && s["additionalProperties"] != false)
            fail(path, "\"additionalProperties\" can only be false (a structure has exactly its members)");
        if (s.contains("required") && !s["required"].is_array()) fail(path, "\"required\" must be an array");
        std::vector<Member> members;
        if (s.contains("properties")) {
            const json& props = s["properties"];
            if (!props.is_object()) fail(join(path, "properties"), "must be an object of member schemas");
            for (auto it = props.begin(); it != props.end(); ++it) {
                const std::string at = join(join(path, "properties"), it.key());
                if (!is_field_name(it.key())) fail(at, fmt::format("\"{}\" is not a field name (letters, digits, _)", it.key()));
                count_field(at);
                field_path_.push_back(it.key());
                members.push_back({it.key(), read(it.value(), at, depth + 1)});
                field_path_.pop_back();
            }
        }
        std::string id = id_of(s, path);
        return build(path, [&] { return TypeDesc::structure(std::move(id), std::move(members)); });
    }

    TypePtr one_of(const json& s, const std::string& path, std::size_t depth) {
        allow_only(s, path, {"oneOf", "x-pvdata-id"}, "a oneOf (a union)");
        const json& alternatives = s["oneOf"];
        if (!alternatives.is_array() || alternatives.empty())
            fail(join(path, "oneOf"), "must be a non-empty array of schemas");
        std::vector<Member> members;
        for (std::size_t i = 0; i < alternatives.size(); ++i) {
            const std::string at = fmt::format("{}[{}]", join(path, "oneOf"), i);
            const json& alt = alternatives[i];
            if (!alt.is_object() || !alt.contains("title") || !alt["title"].is_string())
                fail(at, "each alternative needs a \"title\": the name of its union member");
            if (!is_field_name(alt["title"].get<std::string>()))
                fail(at, fmt::format("\"title\" \"{}\" is not a field name (letters, digits, _)", alt["title"].get<std::string>()));
            count_field(at);
            ++no_field_;  // a union member has no field until selected
            members.push_back({alt["title"].get<std::string>(), read(alt, at, depth + 1)});
            --no_field_;
        }
        std::string id = id_of(s, path);
        return build(path, [&] { return TypeDesc::union_of(std::move(id), std::move(members)); });
    }

    TypePtr enumeration(const json& s, const std::string& path) {
        allow_only(s, path, {"enum", "type"}, "an enum");
        if (s.contains("type") && s["type"] != "string") fail(path, "an \"enum\" must be of strings (\"type\": \"string\")");
        const json& choices = s["enum"];
        if (!choices.is_array() || choices.empty()) fail(join(path, "enum"), "must be a non-empty array of strings");
        for (std::size_t i = 0; i < choices.size(); ++i)
            if (!choices[i].is_string())
                fail(fmt::format("{}[{}]", join(path, "enum"), i),
                     fmt::format("{} is not a string (a pvData enumeration has string choices)", brief(choices[i])));
        if (!no_field_) enums_.push_back({field_path(), choices.get<std::vector<std::string>>()});
        return nt::enum_t();
    }

    TypePtr string(const json& s, const std::string& path) {
        allow_only(s, path, {"type", "maxLength"}, "a string");
        if (!s.contains("maxLength")) return TypeDesc::scalar(TypeCode::String);
        const std::uint32_t n = bound_of(s, path, "maxLength");
        if (n == 0) fail(path, "\"maxLength\" must be at least 1");
        return TypeDesc::bounded_string(n);
    }

    TypePtr array(const json& s, const std::string& path, std::size_t depth) {
        allow_only(s, path, {"type", "items", "maxItems", "minItems"}, "an array");
        if (!s.contains("items")) fail(path, "an array needs \"items\": the schema of its elements");
        ++no_field_;  // array elements have no field in a new value
        const TypePtr item = read(s["items"], join(path, "items"), depth + 1);
        --no_field_;
        const TypeCode c = item->code();
        const bool sized = s.contains("maxItems") || s.contains("minItems");
        if (type_code::is_array(c)) fail(join(path, "items"), "pvData has no arrays of arrays (use an array of structures)");
        if (c == TypeCode::BoundedString) fail(join(path, "items"), "pvData has no arrays of bounded strings (drop \"maxLength\")");
        if (type_code::is_compound(c)) {
            if (sized) fail(path, "\"maxItems\"/\"minItems\" only for arrays of scalars (pvData bounds no others)");
            if (c == TypeCode::Any) return TypeDesc::any_array();
            return c == TypeCode::Struct ? TypeDesc::struct_array(item) : TypeDesc::union_array(item);
        }
        if (!sized) return TypeDesc::array(c);
        return sized_array(s, path, c);
    }

    // maxItems: a bounded array; minItems equal to it: a fixed one; nothing else is pvData.
    TypePtr sized_array(const json& s, const std::string& path, TypeCode element) {
        if (!s.contains("maxItems")) fail(path, "\"minItems\" alone has no pvData form (give \"maxItems\" too)");
        const std::uint32_t max = bound_of(s, path, "maxItems");
        if (max == 0) fail(path, "\"maxItems\" must be at least 1");
        if (!s.contains("minItems") || bound_of(s, path, "minItems") == 0) return TypeDesc::bounded_array(element, max);
        if (bound_of(s, path, "minItems") != max)
            fail(path, "\"minItems\" must be 0 or equal to \"maxItems\" (bounded or fixed array)");
        return TypeDesc::fixed_array(element, max);
    }

    template <class Build> TypePtr build(const std::string& path, Build&& make) {
        try {
            return make();
        } catch (const std::invalid_argument& e) {
            std::string_view why = e.what();  // a member name the builders refuse
            if (why.starts_with("pvwire: ")) why.remove_prefix(8);
            fail(path, why);
        }
    }

    std::size_t fields_ = 0;
    std::vector<std::string> field_path_;  // member names from the top structure to here
    int no_field_ = 0;                     // > 0 inside array items and union alternatives
    std::vector<EnumField> enums_;
};

json parse_schema_text(std::string_view json_text) {
    if (json_text.size() > Limits::max_text)
        throw SchemaError(fmt::format("schema: {} bytes, more than the {} allowed", json_text.size(), Limits::max_text));
    try {
        return json::parse(json_text);
    } catch (const json::exception& e) {
        // e.what(): "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
        std::string what = e.what();
        const auto cut = what.find("] ");
        throw SchemaError("schema: not valid JSON: " + (cut == std::string::npos ? what : what.substr(cut + 2)));
    }
}

}  // namespace

TypePtr type_from_json_schema(std::string_view json_text) {
    return SchemaReader().read(parse_schema_text(json_text), {}, 0);
}

Value value_from_json_schema(std::string_view json_text) {
    SchemaReader reader;
    Value v(reader.read(parse_schema_text(json_text), {}, 0));
    for (const auto& e : reader.enums()) {
        Value field = e.path.empty() ? v : v[e.path];
        field["choices"].set(e.choices);
    }
    v.unmark();
    return v;
}

}  // namespace pvwire
