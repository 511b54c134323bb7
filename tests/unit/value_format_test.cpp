// The text forms of a Value (data/value_format.hpp). Delta and Tree must lay values out as
// PVXS's tools do (pvxget -F delta / -F tree); the expected texts below follow PVXS's printer
// (src/datafmt.cpp, src/sharedarray.cpp: "%g" numbers, "{N}[...]" arrays, quoted strings,
// four spaces per level). Pvget is Value::to_string()'s form.
#include <catch2/catch.hpp>

#include <pvwire/data/type_desc.hpp>
#include <pvwire/data/value.hpp>
#include <pvwire/data/value_format.hpp>

using namespace pvwire;

namespace {

TypePtr sc(TypeCode c) { return TypeDesc::scalar(c); }
TypePtr point_t() { return TypeDesc::structure("point_t", {{"q", sc(TypeCode::Float64)}}); }

// struct "demo_t" { double value; int32_t[] arr; struct "alarm_t" { int32_t severity;
// string message } alarm; union { int32_t i; string s } u; struct "point_t"[] pts }
Value sample() {
    Value v(TypeDesc::structure(
        "demo_t", {{"value", sc(TypeCode::Float64)},
                   {"arr", TypeDesc::array(TypeCode::Int32)},
                   {"alarm", TypeDesc::structure("alarm_t", {{"severity", sc(TypeCode::Int32)},
                                                             {"message", sc(TypeCode::String)}})},
                   {"u", TypeDesc::union_of("", {{"i", sc(TypeCode::Int32)}, {"s", sc(TypeCode::String)}})},
                   {"pts", TypeDesc::struct_array(point_t())}}));
    v["value"] = 1795788028.5;
    v["arr"].set(std::vector<std::int32_t>{1, 2, 3});
    v.field("alarm.message").set(std::string("hi \"there\""));
    v.field("u").select("s").set(std::string("x"));
    Value p1(point_t()), p2(point_t());
    p1["q"] = 0.25;
    p2["q"] = 2.0;
    v["pts"].set_array(SharedArray::from(std::vector<Value>{p1, p2}, TypeCode::Struct));
    return v;
}

}  // namespace

TEST_CASE("delta prints the marked fields as pvxget does, the header only for a marked whole") {
    Value v = sample();
    v.unmark();
    v["value"].mark();
    v["alarm"].mark();
    CHECK(format_value(v, {ValueFormat::Delta, 0, 1}) ==
          "    value double = 1.79579e+09\n"
          "    alarm struct \"alarm_t\"\n"
          "    alarm.severity int32_t = 0\n"
          "    alarm.message string = \"hi \\\"there\\\"\"\n");
    v.mark_all();
    CHECK(format_value(v, {ValueFormat::Delta, 2, 0}) ==
          "struct \"demo_t\"\n"
          "value double = 1.79579e+09\n"
          "arr int32_t[] = {3}[1, 2, ...]\n"
          "alarm struct \"alarm_t\"\n"
          "alarm.severity int32_t = 0\n"
          "alarm.message string = \"hi \\\"there\\\"\"\n"
          "u union\n"
          "u->s string = \"x\"\n"
          "pts struct[]\n"
          "pts[0] struct \"point_t\"\n"
          "pts[0].q double = 0.25\n"
          "pts[1] struct \"point_t\"\n"
          "pts[1].q double = 2\n");
}

TEST_CASE("tree prints every field nested in braces as pvxget -F tree does") {
    CHECK(format_value(sample(), {ValueFormat::Tree, 1, 1}) ==
          "    struct \"demo_t\" {\n"
          "        double value = 1.79579e+09\n"
          "        int32_t[] arr = {3}[1, ...]\n"
          "        struct \"alarm_t\" {\n"
          "            int32_t severity = 0\n"
          "            string message = \"hi \\\"there\\\"\"\n"
          "        } alarm\n"
          "        union u.s string = \"x\"\n"
          "        struct[] pts = {2}[\n"
          "            struct \"point_t\" {\n"
          "                double q = 0.25\n"
          "            }\n"
          "            ...\n"
          "        ]\n"
          "    }\n");
}

TEST_CASE("pvget form is Value::to_string(), with arrays cut after the limit") {
    const Value v = sample();
    CHECK(format_value(v, {ValueFormat::Pvget, 0, 0}) == v.to_string());
    const std::string cut = format_value(v, {ValueFormat::Pvget, 2, 1});
    CHECK(cut.starts_with("    structure demo_t\n        double value 1795788028.5\n"));
    CHECK(cut.find("        int[] arr [1, 2, ...] (3 elements)\n") != std::string::npos);
    CHECK(cut.find("        union u .s\n            string \"x\"\n") != std::string::npos);
}

TEST_CASE("a null value prints null, or (null) in the pvget form") {
    CHECK(format_value(Value(), {ValueFormat::Delta, 0, 1}) == "    null\n");
    CHECK(format_value(Value(), {ValueFormat::Tree, 0, 0}) == "null\n");
    CHECK(Value().to_string() == "(null)\n");
}

TEST_CASE("PVXS's type names") {
    CHECK(std::string(pvxs_type_name(TypeCode::UInt32)) == "uint32_t");
    CHECK(std::string(pvxs_type_name(TypeCode::Float32A)) == "float[]");
    CHECK(std::string(pvxs_type_name(TypeCode::StructA)) == "struct[]");
    // bounded and fixed arrays, which PVXS lacks, print as the plain array of their element
    CHECK(std::string(pvxs_type_name(TypeDesc::bounded_array(TypeCode::UInt16, 8)->code())) == "uint16_t[]");
    CHECK(std::string(pvxs_type_name(TypeDesc::fixed_array(TypeCode::Float64, 3)->code())) == "double[]");
}
