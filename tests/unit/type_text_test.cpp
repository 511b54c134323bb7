// The compact type notation: PVXS's braced form, the indented pvData form, round trips
// through format_type_text(), and every refusal with its line:column.
#include <pvwire/data/nt.hpp>
#include <pvwire/data/type_text.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace pvwire;

namespace {

// The message of the SchemaError that parsing `text` throws ("" when it parses).
std::string error_of(const std::string& text) {
    try {
        parse_type_text(text);
    } catch (const SchemaError& e) {
        return e.what();
    }
    return {};
}

}  // namespace

TEST_CASE("type text: what pvxinfo prints for an NTScalar, values included, reads back as NTScalar") {
    const TypePtr t = parse_type_text(R"(struct "epics:nt/NTScalar:1.0" {
    double value = 1.5
    struct "alarm_t" {
        int32_t severity = 0
        int32_t status = 0
        string message = ""
    } alarm
    struct "time_t" {
        int64_t secondsPastEpoch = 0
        int32_t nanoseconds = 0
        int32_t userTag = 0
    } timeStamp
}
)");
    CHECK(same_type(t, nt::NTScalar{TypeCode::Float64}.type()));
}

TEST_CASE("type text: nested structures, unions, any, structure and union arrays keep their order") {
    const TypePtr t = parse_type_text(R"(
        struct "top" {
            union "u_t" { int32_t i  string s } choice
            any anything
            struct[] "point_t" { double x  double y } points
            union[] { bool flag  double[] samples } mixed
            any[] anys
            struct { struct { int8_t deep } inner } outer
        })");
    REQUIRE(t->code() == TypeCode::Struct);
    CHECK(t->id() == "top");
    REQUIRE(t->member_count() == 6);
    CHECK(t->member_name(0) == "choice");
    CHECK(t->member_type(0)->code() == TypeCode::Union);
    CHECK(t->member_type(0)->id() == "u_t");
    CHECK(t->member_type(0)->member_name(1) == "s");
    CHECK(t->member_type(1)->code() == TypeCode::Any);
    CHECK(t->member_type(2)->code() == TypeCode::StructA);
    CHECK(t->member_type(2)->element()->id() == "point_t");
    CHECK(t->member_type(2)->element()->member_name(1) == "y");
    CHECK(t->member_type(3)->code() == TypeCode::UnionA);
    CHECK(t->member_type(3)->element()->member_type(1)->code() == TypeCode::Float64A);
    CHECK(t->member_type(4)->code() == TypeCode::AnyA);
    CHECK(t->offset_of("outer.inner.deep"));
}

TEST_CASE("type text: every scalar name of PVXS, pvData and the short form") {
    const std::pair<const char*, TypeCode> names[] = {
        {"bool", TypeCode::Bool},       {"boolean", TypeCode::Bool},    {"int8_t", TypeCode::Int8},
        {"byte", TypeCode::Int8},       {"int8", TypeCode::Int8},       {"int16_t", TypeCode::Int16},
        {"short", TypeCode::Int16},     {"int32_t", TypeCode::Int32},   {"int", TypeCode::Int32},
        {"int64_t", TypeCode::Int64},   {"long", TypeCode::Int64},      {"uint8_t", TypeCode::UInt8},
        {"ubyte", TypeCode::UInt8},     {"uint16_t", TypeCode::UInt16}, {"ushort", TypeCode::UInt16},
        {"uint32_t", TypeCode::UInt32}, {"uint", TypeCode::UInt32},     {"uint64_t", TypeCode::UInt64},
        {"ulong", TypeCode::UInt64},    {"float", TypeCode::Float32},   {"float32", TypeCode::Float32},
        {"double", TypeCode::Float64},  {"float64", TypeCode::Float64}, {"string", TypeCode::String},
        {"any", TypeCode::Any}};
    for (const auto& [name, code] : names) {
        INFO(name);
        CHECK(parse_type_text(name)->code() == code);
        CHECK(parse_type_text(std::string(name) + "[]")->code() == type_code::array_of(code));
    }
}

TEST_CASE("type text: bounded and fixed arrays and bounded strings") {
    const TypePtr t = parse_type_text("struct { uint8_t[<16] b  int16[4] f  string(8) s }");
    CHECK(*t->member_type(0) == *TypeDesc::bounded_array(TypeCode::UInt8, 16));
    CHECK(*t->member_type(1) == *TypeDesc::fixed_array(TypeCode::Int16, 4));
    CHECK(*t->member_type(2) == *TypeDesc::bounded_string(8));
}

TEST_CASE("type text: the indented form that pvwire info and to_string() print reads back") {
    const TypePtr nt = nt::NTScalar{TypeCode::Int32, true, true}.type();
    CHECK(same_type(parse_type_text(to_string(*nt)), nt));
    const TypePtr t = parse_type_text("structure my_t\n    union choice\n        int i\n        string s\n"
                                      "    structure[] point_t points\n        double x\n");
    CHECK(t->id() == "my_t");
    CHECK(t->member_type(0)->code() == TypeCode::Union);
    CHECK(t->member_type(1)->element()->id() == "point_t");
}

TEST_CASE("type text: pvAccessCPP's form, a structure named by its id alone") {
    const TypePtr t = parse_type_text("epics:nt/NTScalar:1.0\n    double value\n    alarm_t alarm\n        int severity\n");
    CHECK(t->id() == "epics:nt/NTScalar:1.0");
    CHECK(t->member_type(1)->id() == "alarm_t");
    CHECK(t->member_type(1)->member_name(0) == "severity");
}

TEST_CASE("type text: an empty any as pvxinfo prints it (null on the next line)") {
    const TypePtr t = parse_type_text("struct {\n    any value\n        null\n    double x\n}\n");
    REQUIRE(t->member_count() == 2);
    CHECK(t->member_type(0)->code() == TypeCode::Any);
}

TEST_CASE("type text: text -> type -> text round trips") {
    const char* text = R"(struct "top" {
    double value
    struct "alarm_t" {
        int32_t severity
    } alarm
    union "u\"q" {
        int32_t i
        string s
    } choice
    struct[] "point_t" {
        double x
        double y
    } points
    union[] {
        bool flag
    } mixed
    any anything
    any[] anys
    uint8_t[<16] bounded
    int16_t[4] fixed
    string(8) short_text
    struct {} empty
}
)";
    const TypePtr t = parse_type_text(text);
    CHECK(format_type_text(*t) == text);
    CHECK(same_type(parse_type_text(format_type_text(*t)), t));
    const TypePtr plain_ids = parse_type_text(std::string(text).replace(std::string(text).find("u\\\"q"), 4, "u_t"));
    for (const TypePtr& n : {nt::NTScalar{TypeCode::UInt64, true, true, true, true}.type(), nt::NTEnum{}.type(),
                             nt::NTScalarArray{TypeCode::String}.type(), plain_ids}) {
        CHECK(same_type(parse_type_text(format_type_text(*n)), n));
        CHECK(same_type(parse_type_text(to_string(*n)), n));  // the indented form (pvwire info) too
    }
}

TEST_CASE("type text: refusals name the line and column") {
    CHECK(error_of("") == "type text: 1:1: no type given");
    CHECK(error_of("struct {\n    doubel value\n}") ==
          "type text: 2:5: \"doubel\" is not a type (double, int32_t, string, struct, union, any, ...)");
    CHECK(error_of("struct {\n    double 3x\n}") == "type text: 2:12: \"3x\" is not a field name (letters, digits, _)");
    CHECK(error_of("struct {\n    double x\n") == "type text: 3:1: '}' missing for the struct at 1:1");
    CHECK(error_of("struct { double x  int32_t x }") ==
          "type text: 1:1: member name 'x' appears twice");
    CHECK(error_of("struct { double[<0] x }") == "type text: 1:10: \"double[<0]\": the bound must be a number 1..1048576");
    CHECK(error_of("struct { double[x] x }") == "type text: 1:10: \"double[x]\": the bound must be a number 1..1048576");
    CHECK(error_of("struct { double(4) x }") ==
          "type text: 1:10: \"double(4)\": the suffix \"(4)\" is not [], [<N], [N] or (N) for a string");
    CHECK(error_of("struct { struct[4] { } x }") ==
          "type text: 1:10: \"struct[4]\": arrays of structures, unions and any have no bound");
    CHECK(error_of("struct { union value }") == "type text: 1:16: expected '{' and the members of the union");
    CHECK(error_of("struct { \"oops\" }") == "type text: 1:10: expected a type (double, int32_t, string, struct, union, any, ...)");
    CHECK(error_of("struct \"unterminated {") == "type text: 1:8: unterminated quoted text");
    CHECK(error_of("struct { } extra") == "type text: 1:12: unexpected text after the type");
    CHECK(error_of("structure\n    structure a\n        int x\n      int y\n") ==
          "type text: 4:7: indented to column 7, its siblings to column 9");
    CHECK(error_of("structure\n    double x\n        int y\n") ==
          "type text: 3:9: only structures and unions have members, not double");
}

TEST_CASE("type text: nesting deeper than the limit is refused, not a crash") {
    std::string deep;
    for (int i = 0; i < 70; ++i) deep += "struct { ";
    deep += "double x ";
    for (int i = 0; i < 70; ++i) deep += "} m ";
    CHECK_THAT(error_of(deep), Catch::Matchers::Contains("nested more than 64 levels deep"));
    std::string indented = "structure\n";
    for (int i = 1; i < 70; ++i) indented += std::string(std::size_t(i) * 2, ' ') + "structure s\n";
    CHECK_THAT(error_of(indented), Catch::Matchers::Contains("nested more than 64 levels deep"));
    CHECK_THAT(error_of(std::string(TypeTextLimits::max_text + 1, ' ')), Catch::Matchers::Contains("more than the"));
}
