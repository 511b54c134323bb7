// pvData types from JSON Schema: the mapping rules, the extensions (oneOf, {}, x-pvdata-id,
// x-pvdata-type), member order as in the file, and every refusal with its path.
#include <pvwire/data/json_schema.hpp>
#include <pvwire/data/nt.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace pvwire;

namespace {

std::string error_of(const std::string& schema) {
    try {
        type_from_json_schema(schema);
    } catch (const SchemaError& e) {
        return e.what();
    }
    return {};
}

}  // namespace

TEST_CASE("json schema: an object maps to a structure whose members keep the file's order") {
    const TypePtr t = type_from_json_schema(R"({
        "type": "object", "x-pvdata-id": "epics:nt/NTScalar:1.0", "title": "a setpoint",
        "properties": {
            "value": {"type": "number"},
            "alarm": {"type": "object", "x-pvdata-id": "alarm_t", "properties": {
                "severity": {"type": "integer"}, "status": {"type": "integer"}, "message": {"type": "string"}}},
            "timeStamp": {"type": "object", "x-pvdata-id": "time_t", "properties": {
                "secondsPastEpoch": {"type": "integer", "format": "int64"},
                "nanoseconds": {"type": "integer"}, "userTag": {"type": "integer"}}}
        }, "required": ["value"], "additionalProperties": false})");
    CHECK(same_type(t, nt::NTScalar{TypeCode::Float64}.type()));
    // names that nlohmann's sorted json would reorder: z before a
    const TypePtr z = type_from_json_schema(R"({"type": "object", "properties": {"z": {"type": "boolean"}, "a": {}}})");
    CHECK(z->member_name(0) == "z");
    CHECK(z->member_name(1) == "a");
}

TEST_CASE("json schema: every integer and number format") {
    const std::pair<const char*, TypeCode> formats[] = {
        {R"({"type": "integer", "format": "int8"})", TypeCode::Int8},
        {R"({"type": "integer", "format": "int16"})", TypeCode::Int16},
        {R"({"type": "integer", "format": "int32"})", TypeCode::Int32},
        {R"({"type": "integer", "format": "int64"})", TypeCode::Int64},
        {R"({"type": "integer", "format": "uint8"})", TypeCode::UInt8},
        {R"({"type": "integer", "format": "uint16"})", TypeCode::UInt16},
        {R"({"type": "integer", "format": "uint32"})", TypeCode::UInt32},
        {R"({"type": "integer", "format": "uint64"})", TypeCode::UInt64},
        {R"({"type": "integer"})", TypeCode::Int32},
        {R"({"type": "number", "format": "float32"})", TypeCode::Float32},
        {R"({"type": "number", "format": "float64"})", TypeCode::Float64},
        {R"({"type": "number"})", TypeCode::Float64},
        {R"({"type": "string"})", TypeCode::String},
        {R"({"type": "boolean"})", TypeCode::Bool},
        {R"({})", TypeCode::Any},
        {R"(true)", TypeCode::Any},
        {R"({"description": "anything at all"})", TypeCode::Any},
    };
    for (const auto& [schema, code] : formats) {
        INFO(schema);
        CHECK(type_from_json_schema(schema)->code() == code);
    }
}

TEST_CASE("json schema: arrays of scalars, structures, unions and any; bounded and fixed") {
    const TypePtr t = type_from_json_schema(R"({"type": "object", "properties": {
        "samples": {"type": "array", "items": {"type": "number", "format": "float32"}},
        "points": {"type": "array", "items": {"type": "object", "x-pvdata-id": "point_t",
                   "properties": {"x": {"type": "number"}, "y": {"type": "number"}}}},
        "mixed": {"type": "array", "items": {"oneOf": [{"title": "i", "type": "integer"}, {"title": "s", "type": "string"}]}},
        "anys": {"type": "array", "items": {}},
        "bounded": {"type": "array", "items": {"type": "integer", "format": "uint8"}, "maxItems": 16},
        "fixed": {"type": "array", "items": {"type": "integer", "format": "int16"}, "minItems": 4, "maxItems": 4},
        "name": {"type": "string", "maxLength": 8}}})");
    CHECK(t->member_type(0)->code() == TypeCode::Float32A);
    CHECK(t->member_type(1)->code() == TypeCode::StructA);
    CHECK(t->member_type(1)->element()->id() == "point_t");
    CHECK(t->member_type(2)->code() == TypeCode::UnionA);
    CHECK(t->member_type(2)->element()->member_name(1) == "s");
    CHECK(t->member_type(3)->code() == TypeCode::AnyA);
    CHECK(*t->member_type(4) == *TypeDesc::bounded_array(TypeCode::UInt8, 16));
    CHECK(*t->member_type(5) == *TypeDesc::fixed_array(TypeCode::Int16, 4));
    CHECK(*t->member_type(6) == *TypeDesc::bounded_string(8));
}

TEST_CASE("json schema: oneOf is a union named by titles, enum is enum_t, x-pvdata-type forces a type") {
    const TypePtr t = type_from_json_schema(R"({"type": "object", "properties": {
        "choice": {"x-pvdata-id": "choice_t", "oneOf": [{"title": "number", "type": "number"},
                   {"title": "text", "type": "string"}, {"title": "nothing", "type": "object"}]},
        "mode": {"type": "string", "enum": ["Off", "On"]},
        "raw": {"x-pvdata-type": "uint16_t[]", "description": "forced"}}})");
    const TypePtr u = t->member_type(0);
    CHECK(u->code() == TypeCode::Union);
    CHECK(u->id() == "choice_t");
    CHECK(u->member_name(2) == "nothing");
    CHECK(u->member_type(2)->code() == TypeCode::Struct);
    CHECK(same_type(t->member_type(1), nt::enum_t()));
    CHECK(t->member_type(2)->code() == TypeCode::UInt16A);
}

TEST_CASE("json schema: refusals name the path of the offending schema") {
    CHECK(error_of(R"({"type": "object", "properties": {"alarm": {"type": "object", "properties": {
              "severity": {"type": "integer", "format": "int33"}}}}})") ==
          "schema: properties.alarm.properties.severity: \"format\" \"int33\" is not an integer format "
          "(int8, int16, int32, int64, uint8, uint16, uint32, uint64)");
    CHECK(error_of(R"({"type": "number", "format": "decimal"})") ==
          "schema: (top): \"format\" \"decimal\" is not a number format (float32, float64, float, double)");
    CHECK(error_of(R"({"type": "integer", "minimum": 0})") == "schema: (top): \"minimum\" is not supported for an integer");
    CHECK(error_of(R"({"type": "thing"})") ==
          "schema: (top): \"type\" \"thing\" is not one of object, array, integer, number, string, boolean");
    CHECK(error_of(R"({"type": ["string", "null"]})") ==
          "schema: (top): \"type\" must be one type name, not an array (a list of types has no pvData form)");
    CHECK(error_of(R"({"oneOf": [{"type": "number"}]})") ==
          "schema: oneOf[0]: each alternative needs a \"title\": the name of its union member");
    CHECK(error_of(R"({"oneOf": []})") == "schema: oneOf: must be a non-empty array of schemas");
    CHECK(error_of(R"({"enum": ["a", 2]})") == "schema: enum[1]: 2 is not a string (a pvData enumeration has string choices)");
    CHECK(error_of(R"({"type": "array"})") == "schema: (top): an array needs \"items\": the schema of its elements");
    CHECK(error_of(R"({"type": "array", "items": {"type": "array", "items": {}}})") ==
          "schema: items: pvData has no arrays of arrays (use an array of structures)");
    CHECK(error_of(R"({"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3})") ==
          "schema: (top): \"minItems\" must be 0 or equal to \"maxItems\" (bounded or fixed array)");
    CHECK(error_of(R"({"type": "array", "items": {"type": "object"}, "maxItems": 3})") ==
          "schema: (top): \"maxItems\"/\"minItems\" only for arrays of scalars (pvData bounds no others)");
    CHECK(error_of(R"({"type": "string", "maxLength": -1})") == "schema: (top): \"maxLength\" must be an integer 0..1048576, not -1");
    CHECK(error_of(R"({"type": "object", "properties": {"a b": {}}})") ==
          "schema: properties.a b: \"a b\" is not a field name (letters, digits, _)");
    CHECK(error_of(R"({"type": "object", "additionalProperties": true})") ==
          "schema: (top): \"additionalProperties\" can only be false (a structure has exactly its members)");
    CHECK(error_of(R"({"$ref": "#/definitions/x"})") ==
          "schema: (top): \"$ref\" is not supported for a schema without \"type\" (that is any)");
    CHECK(error_of(R"({"x-pvdata-type": "struct {", "description": "d"})") ==
          "schema: (top): \"x-pvdata-type\": type text: 1:9: '}' missing for the struct at 1:1");
    CHECK(error_of(R"({"type": "object", "x-pvdata-id": 3})") == "schema: (top): \"x-pvdata-id\" must be a string, not 3");
    CHECK(error_of(R"([1, 2])") == "schema: (top): a schema must be an object, not an array");
    CHECK_THAT(error_of(R"({"type": "object",)"), Catch::Matchers::StartsWith("schema: not valid JSON: parse error at line 1"));
}

TEST_CASE("json schema: nesting deeper than the limit is refused, not a crash") {
    std::string deep;
    for (int i = 0; i < 70; ++i) deep += R"({"type": "object", "properties": {"m": )";
    deep += "{}";
    for (int i = 0; i < 70; ++i) deep += "}}";
    CHECK_THAT(error_of(deep), Catch::Matchers::Contains("nested more than 64 levels deep"));
    CHECK_THAT(error_of(std::string(100000, '[') + std::string(100000, ']')),
               Catch::Matchers::Contains("a schema must be an object"));
}

TEST_CASE("json schema: the first value carries the enums' choices where structures reach them") {
    const Value v = value_from_json_schema(R"({"type": "object", "properties": {
        "mode": {"enum": ["Off", "On"]},
        "inner": {"type": "object", "properties": {"level": {"type": "string", "enum": ["Low", "High"]}}},
        "list": {"type": "array", "items": {"enum": ["A"]}},
        "pick": {"oneOf": [{"title": "e", "enum": ["X"]}]}}})");
    CHECK(v["mode.choices"].as<std::vector<std::string>>() == std::vector<std::string>{"Off", "On"});
    CHECK(v["mode.index"].as<int>() == 0);
    CHECK(v["inner.level.choices"].as<std::vector<std::string>>() == std::vector<std::string>{"Low", "High"});
    CHECK(v["list"].array_size() == 0);
    CHECK(v["pick"].selected() == -1);
    CHECK_FALSE(v.is_changed());
    CHECK(value_from_json_schema(R"({"enum": ["Top"]})")["choices"].as<std::vector<std::string>>() ==
          std::vector<std::string>{"Top"});
}
