// Value: field access, conversions, arrays, unions, any, changed marks, whole-value operations.
#include <pvwire/data/value.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace pvwire;

namespace Catch {
template <> struct StringMaker<pvwire::BitSet> {
    static std::string convert(const pvwire::BitSet& b) { return b.to_string(); }
};
}  // namespace Catch

namespace {

TypePtr sc(TypeCode c) { return TypeDesc::scalar(c); }

TypePtr point_t() { return TypeDesc::structure("point_t", {{"q", sc(TypeCode::Float64)}}); }

TypePtr choice_t() {
    return TypeDesc::union_of("", {{"i", sc(TypeCode::Int32)},
                                   {"s", sc(TypeCode::String)},
                                   {"p", point_t()}});
}

// Offsets: 0 top, 1 i, 2 d, 3 s, 4 b, 5 ub, 6 f, 7 l, 8 ul, 9 arr, 10 inner, 11 inner.x,
// 12 inner.y, 13 u, 14 a.
TypePtr sample_t() {
    return TypeDesc::structure("sample_t", {
        {"i", sc(TypeCode::Int32)},
        {"d", sc(TypeCode::Float64)},
        {"s", sc(TypeCode::String)},
        {"b", sc(TypeCode::Bool)},
        {"ub", sc(TypeCode::UInt8)},
        {"f", sc(TypeCode::Float32)},
        {"l", sc(TypeCode::Int64)},
        {"ul", sc(TypeCode::UInt64)},
        {"arr", TypeDesc::array(TypeCode::Int16)},
        {"inner", TypeDesc::structure("", {{"x", sc(TypeCode::Int32)}, {"y", sc(TypeCode::String)}})},
        {"u", choice_t()},
        {"a", TypeDesc::any()},
    });
}

// An NT-like structure: { double value; structure alarm { int severity } }
TypePtr nt_like_t() {
    return TypeDesc::structure("", {
        {"value", sc(TypeCode::Float64)},
        {"alarm", TypeDesc::structure("", {{"severity", sc(TypeCode::Int32)}})},
    });
}

Value scalar(TypeCode c) { return Value(sc(c)); }

}  // namespace

// ---- construction and navigation -------------------------------------------------------------

TEST_CASE("a new value is zeroed, empty and has no marks") {
    Value v(sample_t());
    CHECK(v.valid());
    CHECK(v["i"].as<int>() == 0);
    CHECK(v["d"].as<double>() == 0.0);
    CHECK(v["s"].as<std::string>().empty());
    CHECK(v["b"].as<bool>() == false);
    CHECK(v["arr"].array_size() == 0);
    CHECK(v["u"].selected() == -1);
    CHECK_FALSE(v["a"].contained());
    CHECK(v.marks().empty());
}

TEST_CASE("a default-constructed Value is null and refuses reads and writes") {
    Value v;
    CHECK_FALSE(v.valid());
    CHECK_FALSE(v);
    CHECK_THROWS_AS(v.type(), ValueError);
    CHECK_THROWS_AS(v.as<int>(), ValueError);
    CHECK_THROWS_AS(v.set(1), ValueError);
    CHECK_FALSE(v.try_as<int>());
    CHECK_FALSE(v.try_set(1));
    CHECK_FALSE(v.field("x"));
    CHECK_FALSE(v.clone());
    CHECK(v.to_string() == "(null)\n");
}

TEST_CASE("a Value needs a type") { CHECK_THROWS_AS(Value(TypePtr()), ValueError); }

TEST_CASE("copying a Value shares the same storage") {
    Value a(sample_t());
    Value b = a;
    b["i"].set(7);
    CHECK(a["i"].as<int>() == 7);
    Value field = a["inner.x"];
    field.set(3);
    CHECK(b["inner.x"].as<int>() == 3);
}

TEST_CASE("fields are reached by member name and by dotted path") {
    Value v(sample_t());
    v["inner"]["x"].set(5);
    CHECK(v["inner.x"].as<int>() == 5);
    CHECK(v.field("inner.x").as<int>() == 5);
    CHECK(v["inner"].field("x").as<int>() == 5);
    CHECK(v["inner.x"].type().code() == TypeCode::Int32);
    CHECK(v[""].offset() == 0);
}

TEST_CASE("a missing field throws ValueError naming the path, field() gives a null Value") {
    Value v(sample_t());
    CHECK_THROWS_AS(v["nope"], ValueError);
    CHECK_THROWS_WITH(v["inner.nope"], Catch::Contains("inner.nope"));
    CHECK_THROWS_WITH(v["inner"]["nope"], Catch::Contains("'inner'"));
    CHECK_FALSE(v.field("nope"));
    CHECK_FALSE(v.field("i.x"));  // a scalar has no members
    CHECK_FALSE(v.field("inner.x.y"));
}

TEST_CASE("member(i) and member_name(i) follow the declaration order") {
    Value v(sample_t());
    CHECK(v.member_count() == 12);
    CHECK(v.member_name(0) == "i");
    CHECK(v.member_name(9) == "inner");
    CHECK(v.member(9)["x"].offset() == 11);
    CHECK_THROWS_AS(v.member(12), ValueError);
    CHECK_THROWS_AS(v["i"].member(0), ValueError);
}

TEST_CASE("offset() is the depth-first field number and root() is the top value") {
    Value v(sample_t());
    CHECK(v["i"].offset() == 1);
    CHECK(v["arr"].offset() == 9);
    CHECK(v["inner"].offset() == 10);
    CHECK(v["inner.y"].offset() == 12);
    CHECK(v["a"].offset() == 14);
    CHECK(v["inner.y"].root().offset() == 0);
    CHECK(v["inner.y"].root().type().id() == "sample_t");
}

TEST_CASE("type_ptr of a field keeps the whole type tree alive") {
    TypePtr inner;
    {
        Value v(sample_t());
        inner = v["inner"].type_ptr();
    }
    REQUIRE(inner);
    CHECK(inner->member_count() == 2);
    CHECK(inner->member_name(1) == "y");
}

// ---- scalar conversions ----------------------------------------------------------------------

TEST_CASE("integers read as doubles and integral doubles read as integers") {
    Value v(sample_t());
    v["i"].set(-42);
    CHECK(v["i"].as<double>() == -42.0);
    v["d"].set(12.0);
    CHECK(v["d"].as<int>() == 12);
    CHECK(v["d"].as<std::uint8_t>() == 12);
    v["i"].set(2.0);  // an integral double fits an int field
    CHECK(v["i"].as<int>() == 2);
}

TEST_CASE("a narrowing set that does not fit throws and names the field") {
    Value v(sample_t());
    CHECK_THROWS_AS(v["ub"].set(300), ValueError);
    CHECK_THROWS_WITH(v["ub"].set(300), Catch::Contains("'ub'") && Catch::Contains("300"));
    CHECK_THROWS_WITH(v["i"].set(std::int64_t(1) << 40), Catch::Contains("'i'"));
    CHECK_THROWS_WITH(v["ub"].set(-1), Catch::Contains("'ub'"));
    CHECK_THROWS_WITH(v["l"].set(std::numeric_limits<std::uint64_t>::max()), Catch::Contains("'l'"));
    CHECK_THROWS_WITH(v["i"].set(1e12), Catch::Contains("'i'"));
    SECTION("the field keeps its value and no mark is set") {
        v["ub"].try_set(300);
        CHECK(v["ub"].as<int>() == 0);
        CHECK_FALSE(v["ub"].is_marked());
    }
}

TEST_CASE("a fractional or NaN double does not fit an integer field") {
    Value v(sample_t());
    CHECK_THROWS_WITH(v["i"].set(2.5), Catch::Contains("'i'"));
    CHECK_THROWS_AS(v["ul"].set(std::numeric_limits<double>::quiet_NaN()), ValueError);
}

TEST_CASE("a narrowing read that does not fit throws and names the field") {
    Value v(sample_t());
    v["l"].set(300);
    CHECK(v["l"].as<std::int16_t>() == 300);
    CHECK_THROWS_WITH(v["l"].as<std::int8_t>(), Catch::Contains("'l'"));
    v["l"].set(-1);
    CHECK_THROWS_WITH(v["l"].as<std::uint32_t>(), Catch::Contains("'l'"));
    v["ul"].set(std::numeric_limits<std::uint64_t>::max());
    CHECK(v["ul"].as<std::uint64_t>() == std::numeric_limits<std::uint64_t>::max());
    CHECK_THROWS_WITH(v["ul"].as<std::int64_t>(), Catch::Contains("'ul'"));
    v["d"].set(1e30);
    CHECK_THROWS_WITH(v["d"].as<std::int64_t>(), Catch::Contains("'d'"));
    v["d"].set(-1.0);
    CHECK_THROWS_WITH(v["d"].as<std::uint64_t>(), Catch::Contains("'d'"));
}

TEST_CASE("the full 64-bit ranges survive a round trip") {
    Value v(sample_t());
    v["l"].set(std::numeric_limits<std::int64_t>::min());
    CHECK(v["l"].as<std::int64_t>() == std::numeric_limits<std::int64_t>::min());
    v["ul"].set(std::numeric_limits<std::uint64_t>::max());
    CHECK(v["ul"].as<std::uint64_t>() == std::numeric_limits<std::uint64_t>::max());
}

TEST_CASE("numbers are written as text into string fields") {
    Value v(sample_t());
    v["s"].set(42);
    CHECK(v["s"].as<std::string>() == "42");
    v["s"].set(0.1);
    CHECK(v["s"].as<std::string>() == "0.1");
    v["s"].set(true);
    CHECK(v["s"].as<std::string>() == "true");
    v["s"].set(std::numeric_limits<std::uint64_t>::max());
    CHECK(v["s"].as<std::string>() == "18446744073709551615");
}

TEST_CASE("numeric fields read as their shortest text") {
    Value v(sample_t());
    v["i"].set(-7);
    CHECK(v["i"].as<std::string>() == "-7");
    v["d"].set(0.1);
    CHECK(v["d"].as<std::string>() == "0.1");
    v["f"].set(0.1);
    CHECK(v["f"].as<std::string>() == "0.1");
    v["b"].set(true);
    CHECK(v["b"].as<std::string>() == "true");
}

TEST_CASE("text is parsed into numeric fields") {
    Value v(sample_t());
    v["i"].set("123");
    CHECK(v["i"].as<int>() == 123);
    v["i"].set("+5");
    CHECK(v["i"].as<int>() == 5);
    v["d"].set(" 2.5 ");
    CHECK(v["d"].as<double>() == 2.5);
    v["ub"].set("0x1F");
    CHECK(v["ub"].as<int>() == 31);
    v["i"].set("1e3");
    CHECK(v["i"].as<int>() == 1000);
    CHECK_THROWS_WITH(v["i"].set("abc"), Catch::Contains("abc"));
    CHECK_THROWS_AS(v["ub"].set("256"), ValueError);
    CHECK_THROWS_AS(v["i"].set(""), ValueError);
}

TEST_CASE("string fields read as numbers when they hold one") {
    Value v(sample_t());
    v["s"].set("42");
    CHECK(v["s"].as<int>() == 42);
    CHECK(v["s"].as<double>() == 42.0);
    v["s"].set("2.5");
    CHECK(v["s"].as<double>() == 2.5);
    CHECK_THROWS_AS(v["s"].as<int>(), ValueError);  // not integral
    v["s"].set("300");
    CHECK_THROWS_AS(v["s"].as<std::uint8_t>(), ValueError);
    v["s"].set("hello");
    CHECK_THROWS_WITH(v["s"].as<double>(), Catch::Contains("hello") && Catch::Contains("'s'"));
}

TEST_CASE("64-bit integers keep every digit through text") {
    Value v(sample_t());
    v["l"].set("9007199254740993");  // 2^53 + 1: not representable as a double
    CHECK(v["l"].as<std::int64_t>() == 9007199254740993LL);
    v["s"].set("9007199254740993");
    CHECK(v["s"].as<std::int64_t>() == 9007199254740993LL);
    v["s"].set("9223372036854775807");
    CHECK(v["s"].as<std::int64_t>() == std::numeric_limits<std::int64_t>::max());
    v["s"].set("18446744073709551615");
    CHECK(v["s"].as<std::uint64_t>() == std::numeric_limits<std::uint64_t>::max());
    v["s"].set("9223372036854775808");
    CHECK_THROWS_AS(v["s"].as<std::int64_t>(), ValueError);
    v["s"].set("9.223372036854775808e18");
    CHECK_THROWS_AS(v["s"].as<std::int64_t>(), ValueError);
    v["s"].set("1.8446744073709551616e19");
    CHECK_THROWS_AS(v["s"].as<std::uint64_t>(), ValueError);
    v["s"].set("255");
    CHECK(v["s"].as<std::uint8_t>() == 255);
    v["s"].set("2.55e2");
    CHECK(v["s"].as<std::uint8_t>() == 255);
    v["s"].set("-128");
    CHECK(v["s"].as<std::int8_t>() == -128);
}

TEST_CASE("bool converts to and from numbers and the words true and false") {
    Value v(sample_t());
    v["b"].set(5);
    CHECK(v["b"].as<bool>());
    CHECK(v["b"].as<int>() == 1);
    v["b"].set(0.0);
    CHECK_FALSE(v["b"].as<bool>());
    v["b"].set("true");
    CHECK(v["b"].as<bool>());
    v["b"].set("false");
    CHECK_FALSE(v["b"].as<bool>());
    v["b"].set("1");
    CHECK(v["b"].as<bool>());
    v["i"].set(true);
    CHECK(v["i"].as<int>() == 1);
    v["d"].set(2.0);
    CHECK(v["d"].as<bool>());
    v["s"].set("false");
    CHECK_FALSE(v["s"].as<bool>());
    v["s"].set("maybe");
    CHECK_THROWS_AS(v["s"].as<bool>(), ValueError);
}

TEST_CASE("float fields store float precision") {
    Value v(sample_t());
    v["f"].set(0.1);
    CHECK(v["f"].as<double>() == double(0.1f));
    CHECK(v["f"].as<float>() == 0.1f);
}

TEST_CASE("try_as and try_set report failure without throwing") {
    Value v(sample_t());
    CHECK(v["i"].try_set(5));
    CHECK(v["i"].try_as<int>() == 5);
    CHECK_FALSE(v["ub"].try_set(-1));
    v["s"].set("x");
    CHECK_FALSE(v["s"].try_as<int>().has_value());
    CHECK_FALSE(v["inner"].try_as<int>().has_value());
}

TEST_CASE("operator= on a field sets it, assigning a Value re-points the handle") {
    Value v(sample_t());
    v["d"] = 4.5;
    CHECK(v["d"].as<double>() == 4.5);
    v["s"] = "text";
    CHECK(v["s"].as<std::string>() == "text");
    Value h = v["i"];
    h = v["d"];  // now refers to d; i untouched
    CHECK(h.offset() == 2);
    CHECK(v["i"].as<int>() == 0);
}

TEST_CASE("an NT-like structure reads and writes through its value field") {
    Value v(nt_like_t());
    v.set(2.5);
    CHECK(v["value"].as<double>() == 2.5);
    CHECK(v.as<double>() == 2.5);
    CHECK(v.as<std::string>() == "2.5");
    CHECK(v["value"].is_marked());
}

TEST_CASE("a structure without a value field does not convert to a number") {
    Value v(sample_t());
    CHECK_THROWS_AS(v.as<double>(), ValueError);
    CHECK_THROWS_AS(v["inner"].set(1.0), ValueError);
}

// ---- arrays ----------------------------------------------------------------------------------

TEST_CASE("an array field is set from a vector of another element type with conversion") {
    Value v(sample_t());
    v["arr"].set(std::vector<double>{1.0, -2.0, 300.0});
    CHECK(v["arr"].array().element_code() == TypeCode::Int16);
    CHECK(v["arr"].as<std::vector<std::int16_t>>() == std::vector<std::int16_t>{1, -2, 300});
    v["arr"].set(std::vector<std::string>{"7", "8"});
    CHECK(v["arr"].as<std::vector<int>>() == std::vector<int>{7, 8});
    CHECK(v["arr"].is_marked());
}

TEST_CASE("an array element that does not fit throws and leaves the array alone") {
    Value v(sample_t());
    v["arr"].set(std::vector<int>{1, 2});
    CHECK_THROWS_AS(v["arr"].set(std::vector<int>{1, 70000}), ValueError);
    CHECK_THROWS_AS(v["arr"].set(std::vector<double>{1.5}), ValueError);
    CHECK_THROWS_AS(v["arr"].set(std::vector<std::string>{"x"}), ValueError);
    CHECK(v["arr"].as<std::vector<int>>() == std::vector<int>{1, 2});
    CHECK_THROWS_WITH(v["arr"].set(std::vector<int>{70000}), Catch::Contains("'arr'"));
}

TEST_CASE("a double of 2^63 does not fit a long array element") {
    Value a(TypeDesc::array(TypeCode::Int64));
    CHECK_THROWS_AS(a.set(std::vector<double>{9223372036854775808.0}), ValueError);
    a.set(std::vector<double>{-9223372036854775808.0});
    CHECK(a.as<std::vector<std::int64_t>>()[0] == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("arrays read as vectors of another element type") {
    Value v(sample_t());
    v["arr"].set(std::vector<int>{-1, 0, 5});
    CHECK(v["arr"].as<std::vector<double>>() == std::vector<double>{-1.0, 0.0, 5.0});
    CHECK(v["arr"].as<std::vector<std::string>>() == std::vector<std::string>{"-1", "0", "5"});
    CHECK(v["arr"].as<std::vector<bool>>() == std::vector<bool>{true, false, true});
    CHECK_THROWS_AS(v["arr"].as<std::vector<std::uint8_t>>(), ValueError);  // -1
}

TEST_CASE("float array elements read as the same text as float scalars") {
    Value a(TypeDesc::array(TypeCode::Float32));
    a.set(std::vector<double>{0.1, 2.5});
    CHECK(a.as<std::vector<std::string>>() == std::vector<std::string>{"0.1", "2.5"});
}

TEST_CASE("set_array needs the exact element type") {
    Value v(sample_t());
    v["arr"].set_array(SharedArray::from(std::vector<std::int16_t>{4, 5}));
    CHECK(v["arr"].array_size() == 2);
    CHECK_THROWS_AS(v["arr"].set_array(SharedArray::from(std::vector<int>{1})), ValueError);
    SECTION("an empty array of any type is accepted and takes the field's type") {
        v["arr"].set_array(SharedArray::from(std::vector<double>{}));
        CHECK(v["arr"].array_size() == 0);
        CHECK(v["arr"].array().element_code() == TypeCode::Int16);
    }
}

TEST_CASE("array() and set_array() on a non-array field throw") {
    Value v(sample_t());
    CHECK_THROWS_AS(v["i"].array(), ValueError);
    CHECK_THROWS_AS(v["i"].set_array(SharedArray::from({1})), ValueError);
}

TEST_CASE("array payloads are shared on copy and kept by clone") {
    Value v(sample_t());
    v["arr"].set(std::vector<int>{1, 2, 3});
    const void* data = v["arr"].array().data();
    Value handle = v;
    CHECK(handle["arr"].array().data() == data);
    Value c = v.clone();
    CHECK(c["arr"].array().data() == data);
    SECTION("replacing the clone's array does not touch the original") {
        c["arr"].set(std::vector<int>{9});
        CHECK(v["arr"].as<std::vector<int>>() == std::vector<int>{1, 2, 3});
    }
}

TEST_CASE("string arrays hold text and convert to numbers") {
    Value a(TypeDesc::array(TypeCode::String));
    a.set(std::vector<std::string>{"1", "2.5"});
    CHECK(a.as<std::vector<double>>() == std::vector<double>{1.0, 2.5});
    CHECK_THROWS_AS(a.as<std::vector<int>>(), ValueError);
    a.set(std::vector<int>{3, 4});
    CHECK(a.as<std::vector<std::string>>() == std::vector<std::string>{"3", "4"});
}

TEST_CASE("a structure array holds Values of the element structure") {
    auto pts = TypeDesc::struct_array(point_t());
    Value a(pts);
    Value p1(point_t()), p2(point_t());
    p1["q"].set(1.5);
    p2["q"].set(2.5);
    a.set_array(SharedArray::from(std::vector<Value>{p1, p2}, TypeCode::Struct));
    auto elems = a.array().span<Value>();
    REQUIRE(elems.size() == 2);
    CHECK(elems[1]["q"].as<double>() == 2.5);
    CHECK(a.to_string().find("double q 2.5") != std::string::npos);
}

// ---- unions ----------------------------------------------------------------------------------

TEST_CASE("a union starts with nothing selected") {
    Value v(sample_t());
    CHECK(v["u"].selected() == -1);
    CHECK(v["u"].selected_name().empty());
    CHECK_FALSE(v["u"].contained());
    CHECK_THROWS_AS(v["u"].as<int>(), ValueError);
}

TEST_CASE("select by name or index gives a zeroed member and marks the union") {
    Value v(sample_t());
    Value u = v["u"];
    Value s = u.select("s");
    CHECK(u.selected() == 1);
    CHECK(u.selected_name() == "s");
    CHECK(s.as<std::string>().empty());
    CHECK(u.is_marked());
    Value p = u.select(std::size_t(2));
    CHECK(u.selected_name() == "p");
    CHECK(p["q"].as<double>() == 0.0);
    CHECK(u.contained().store() == p.store());
}

TEST_CASE("selecting the member already selected keeps its content") {
    Value v(sample_t());
    v["u"].select("i").set(9);
    CHECK(v["u"].select("i").as<int>() == 9);
    v["u"].select("s");
    CHECK(v["u"].select("i").as<int>() == 0);  // a different member came in between
}

TEST_CASE("selecting an unknown member throws naming it") {
    Value v(sample_t());
    CHECK_THROWS_WITH(v["u"].select("nope"), Catch::Contains("nope"));
    CHECK_THROWS_AS(v["u"].select(std::size_t(3)), ValueError);
    CHECK_THROWS_AS(v["i"].select("s"), ValueError);
    CHECK_THROWS_AS(v["i"].selected(), ValueError);
}

TEST_CASE("the contained value of a union is read through the union") {
    Value v(sample_t());
    v["u"].select("i").set(12);
    CHECK(v["u"].as<int>() == 12);
    CHECK(v["u"].as<std::string>() == "12");
    v["u"].select("p")["q"].set(0.5);
    CHECK(v["u.q"].as<double>() == 0.5);  // paths continue into the contained structure
    CHECK(v["u"].field("q").as<double>() == 0.5);
}

TEST_CASE("writing a scalar into a union does not pick a member for you") {
    Value v(sample_t());
    CHECK_THROWS_AS(v["u"].set(1), ValueError);
}

TEST_CASE("clear_selection empties the union and marks it") {
    Value v(sample_t());
    v["u"].select("i");
    v.unmark();
    v["u"].clear_selection();
    CHECK(v["u"].selected() == -1);
    CHECK_FALSE(v["u"].contained());
    CHECK(v["u"].is_marked());
    CHECK_THROWS_AS(v["i"].clear_selection(), ValueError);
}

TEST_CASE("set_contained picks the union member by the value's type") {
    Value v(sample_t());
    Value str = scalar(TypeCode::String);
    str.set("hi");
    v["u"].set_contained(str);
    CHECK(v["u"].selected_name() == "s");
    CHECK(v["u"].as<std::string>() == "hi");
    Value pt(point_t());
    pt["q"].set(3.0);
    v["u"].set_contained(pt);
    CHECK(v["u"].selected_name() == "p");
    CHECK(v["u.q"].as<double>() == 3.0);
    SECTION("a null value clears the selection") {
        v["u"].set_contained(Value());
        CHECK(v["u"].selected() == -1);
    }
    SECTION("a type no member has is refused") {
        CHECK_THROWS_AS(v["u"].set_contained(scalar(TypeCode::Float64)), ValueError);
        CHECK(v["u"].selected_name() == "p");
    }
}

TEST_CASE("set_contained copies a field of another value but shares a top-level one") {
    Value v(sample_t());
    Value other(sample_t());
    other["i"].set(4);
    v["u"].set_contained(other["i"]);
    other["i"].set(5);
    CHECK(v["u"].as<int>() == 4);

    Value top = scalar(TypeCode::Int32);
    v["u"].set_contained(top);
    top.set(6);
    CHECK(v["u"].as<int>() == 6);
}

// ---- any -------------------------------------------------------------------------------------

TEST_CASE("an any holds whatever value is put into it") {
    Value v(sample_t());
    Value pt(point_t());
    pt["q"].set(1.25);
    v["a"].set_contained(pt);
    CHECK(v["a"].contained().type().id() == "point_t");
    CHECK(v["a.q"].as<double>() == 1.25);
    CHECK(v["a"].selected() == -1);
    CHECK(v["a"].selected_name().empty());
    CHECK(v["a"].is_marked());
}

TEST_CASE("set on an any picks a natural type for the C++ value") {
    Value v(sample_t());
    v["a"].set(3);
    CHECK(v["a"].contained().code() == TypeCode::Int64);
    CHECK(v["a"].as<int>() == 3);
    v["a"].set(2.5);
    CHECK(v["a"].contained().code() == TypeCode::Float64);
    v["a"].set(true);
    CHECK(v["a"].contained().code() == TypeCode::Bool);
    v["a"].set(std::uint16_t(4));
    CHECK(v["a"].contained().code() == TypeCode::UInt64);
    v["a"].set("text");
    CHECK(v["a"].contained().code() == TypeCode::String);
    CHECK(v["a"].as<std::string>() == "text");
    v["a"].set(std::vector<float>{1.0f});
    CHECK(v["a"].contained().code() == TypeCode::Float32A);
}

TEST_CASE("clear_selection empties an any") {
    Value v(sample_t());
    v["a"].set(1);
    v["a"].clear_selection();
    CHECK_FALSE(v["a"].contained());
    CHECK_THROWS_AS(v["a"].as<int>(), ValueError);
}

// ---- changed marks ---------------------------------------------------------------------------

TEST_CASE("set marks exactly the field written") {
    Value v(sample_t());
    v["inner.y"].set("z");
    CHECK(v.marks() == BitSet{12});
    CHECK(v["inner.y"].is_marked());
    CHECK_FALSE(v["inner"].is_marked());
    CHECK_FALSE(v.is_marked());
}

TEST_CASE("marks map to field offsets") {
    Value v(sample_t());
    for (const char* path : {"i", "arr", "inner.x", "u", "a"}) {
        v[path].mark();
        CHECK(v.marks().test(*v.type().offset_of(path)));
    }
    CHECK(v.marks() == BitSet{1, 9, 11, 13, 14});
    CHECK(v["inner"].marks() == v.marks());  // a field sees the marks of its whole value
}

TEST_CASE("mark, unmark and mark_all work on this field or its subtree") {
    Value v(sample_t());
    v["inner"].mark_all();
    CHECK(v.marks() == BitSet{10, 11, 12});
    v["inner.x"].mark(false);
    CHECK(v.marks() == BitSet{10, 12});
    v["i"].mark();
    v["inner"].unmark();
    CHECK(v.marks() == BitSet{1});
    v.mark_all();
    CHECK(v.marks().count() == 15);
    v.unmark();
    CHECK(v.marks().empty());
    v["inner"].mark();
    CHECK(v.marks() == BitSet{10});  // mark() marks the structure node only
}

TEST_CASE("is_changed sees marks below a field and on structures above it") {
    Value v(sample_t());
    CHECK_FALSE(v.is_changed());
    v["inner.x"].mark();
    CHECK(v.is_changed());
    CHECK(v["inner"].is_changed());
    CHECK(v["inner.x"].is_changed());
    CHECK_FALSE(v["inner.y"].is_changed());
    CHECK_FALSE(v["i"].is_changed());
    v.unmark();
    v["inner"].mark();
    CHECK(v["inner.y"].is_changed());  // the whole sub-structure is sent
    CHECK_FALSE(v["i"].is_changed());
    v.unmark();
    v.mark();
    CHECK(v["i"].is_changed());
}

TEST_CASE("marks of a null Value are an error, mark() on it does nothing") {
    Value v;
    CHECK_THROWS_AS(v.marks(), ValueError);
    CHECK_FALSE(v.is_marked());
    CHECK_FALSE(v.is_changed());
    v.mark();
    v.unmark();
    v.mark_all();
}

// ---- clone -----------------------------------------------------------------------------------

TEST_CASE("a clone is independent of the original") {
    Value v(sample_t());
    v["i"].set(1);
    v["inner.y"].set("a");
    Value c = v.clone();
    CHECK(c.equals(v));
    c["i"].set(2);
    c["inner.y"].set("b");
    CHECK(v["i"].as<int>() == 1);
    CHECK(v["inner.y"].as<std::string>() == "a");
    CHECK(c.store() != v.store());
}

TEST_CASE("a clone copies the marks") {
    Value v(sample_t());
    v["i"].set(1);
    Value c = v.clone();
    CHECK(c.marks() == BitSet{1});
    c.unmark();
    CHECK(v.marks() == BitSet{1});
}

TEST_CASE("a clone of a field is a new top-level value numbered from 0") {
    Value v(sample_t());
    v["inner.y"].set("q");
    Value c = v["inner"].clone();
    CHECK(c.offset() == 0);
    CHECK(c.type().member_count() == 2);
    CHECK(c["y"].offset() == 2);
    CHECK(c["y"].as<std::string>() == "q");
    CHECK(c.marks() == BitSet{2});
}

TEST_CASE("a clone deep-copies union and any contents") {
    Value v(sample_t());
    v["u"].select("i").set(1);
    v["a"].set(2);
    Value c = v.clone();
    c["u"].contained().set(10);
    c["a"].contained().set(20);
    CHECK(v["u"].as<int>() == 1);
    CHECK(v["a"].as<int>() == 2);
}

// ---- assign ----------------------------------------------------------------------------------

TEST_CASE("assign between identical types copies everything and marks all") {
    Value a(sample_t()), b(sample_t());
    b["i"].set(3);
    b["arr"].set(std::vector<int>{1});
    b["u"].select("s").set("x");
    a.assign(b);
    CHECK(a.equals(b));
    CHECK(a.marks().count() == 15);
    b["u"].contained().set("y");  // union content was copied, not shared
    CHECK(a["u"].as<std::string>() == "x");
}

TEST_CASE("assign across different but name-compatible structures matches fields by name") {
    auto src_t = TypeDesc::structure("", {
        {"d", sc(TypeCode::String)},      // converted to double
        {"i", sc(TypeCode::Float64)},     // converted to int
        {"extra", sc(TypeCode::Int32)},   // absent from the target: skipped
        {"inner", TypeDesc::structure("", {{"y", sc(TypeCode::Int32)}})},
    });
    Value src(src_t);
    src["d"].set("2.5");
    src["i"].set(7.0);
    src["extra"].set(1);
    src["inner.y"].set(44);
    Value dst(sample_t());
    dst["s"].set("keep");
    dst.unmark();
    dst.assign(src);
    CHECK(dst["d"].as<double>() == 2.5);
    CHECK(dst["i"].as<int>() == 7);
    CHECK(dst["inner.y"].as<std::string>() == "44");
    CHECK(dst["s"].as<std::string>() == "keep");
    CHECK(dst.marks() == BitSet{1, 2, 12});
}

TEST_CASE("assign with an impossible conversion throws") {
    auto src_t = TypeDesc::structure("", {{"ub", sc(TypeCode::Int32)}});
    Value src(src_t);
    src["ub"].set(1000);
    Value dst(sample_t());
    CHECK_THROWS_AS(dst.assign(src), ValueError);
    CHECK_THROWS_AS(dst.assign(Value()), ValueError);
}

TEST_CASE("assign of a scalar into an NT-like structure writes its value field") {
    Value dst(nt_like_t());
    Value src = scalar(TypeCode::Int32);
    src.set(5);
    dst.assign(src);
    CHECK(dst["value"].as<double>() == 5.0);
}

TEST_CASE("assign between different unions selects the member of the same name") {
    auto other_u = TypeDesc::union_of("", {{"s", sc(TypeCode::String)}, {"x", sc(TypeCode::Int8)}});
    Value src(other_u);
    src.select("s").set("abc");
    Value dst(sample_t());
    dst["u"].assign(src);
    CHECK(dst["u"].selected_name() == "s");
    CHECK(dst["u"].as<std::string>() == "abc");
    src.select("x");
    CHECK_THROWS_AS(dst["u"].assign(src), ValueError);
}

TEST_CASE("assign of arrays converts the elements") {
    Value src(TypeDesc::array(TypeCode::Float64));
    src.set(std::vector<double>{1, 2});
    Value dst(sample_t());
    dst["arr"].assign(src);
    CHECK(dst["arr"].as<std::vector<int>>() == std::vector<int>{1, 2});
    src.set(std::vector<double>{0.5});
    CHECK_THROWS_WITH(dst["arr"].assign(src), Catch::Contains("'arr'"));
}

// ---- equals ----------------------------------------------------------------------------------

TEST_CASE("equals compares type and content, not marks") {
    Value a(sample_t()), b(sample_t());
    CHECK(a.equals(b));
    CHECK(a == b);
    a["i"].set(1);
    CHECK_FALSE(a == b);
    b["i"].set(1);
    b.mark_all();
    CHECK(a == b);
    a["arr"].set(std::vector<int>{1, 2});
    b["arr"].set(std::vector<double>{1, 2});  // separately built, same elements
    CHECK(a == b);
    a["u"].select("s");
    CHECK_FALSE(a == b);
    b["u"].select("s");
    CHECK(a == b);
    a["a"].set(1);
    b["a"].set(1.0);  // long vs double inside the any
    CHECK_FALSE(a == b);
}

TEST_CASE("values of different types are never equal") {
    Value a = scalar(TypeCode::Int32), b = scalar(TypeCode::Int64);
    CHECK_FALSE(a == b);
    CHECK_FALSE(a == Value());
    CHECK(Value() == Value());
}

TEST_CASE("fields of different values compare by content") {
    Value a(sample_t()), b(sample_t());
    a["inner.x"].set(1);
    b["inner.x"].set(1);
    b["i"].set(9);
    CHECK(a["inner"] == b["inner"]);
    CHECK_FALSE(a == b);
}

// ---- text form -------------------------------------------------------------------------------

TEST_CASE("to_string prints one indented line per field with its type and value") {
    Value v(nt_like_t());
    v["value"].set(3.25);
    v["alarm.severity"].set(2);
    CHECK(v.to_string() ==
          "structure\n"
          "    double value 3.25\n"
          "    structure alarm\n"
          "        int severity 2\n");
}

TEST_CASE("to_string shows ids, union selection, any contents, arrays and quoted strings") {
    Value v(sample_t());
    v["s"].set("say \"hi\"\n");
    v["arr"].set(std::vector<int>{1, -2});
    v["u"].select("s").set("x");
    v["a"].set(5);
    const std::string text = v.to_string();
    CHECK(text.rfind("structure sample_t\n", 0) == 0);
    CHECK(text.find("    string s \"say \\\"hi\\\"\\x0a\"\n") != std::string::npos);
    CHECK(text.find("    short[] arr [1, -2]\n") != std::string::npos);
    CHECK(text.find("    union u .s\n        string \"x\"\n") != std::string::npos);
    CHECK(text.find("    any a\n        long 5\n") != std::string::npos);
    CHECK(text.find("    boolean b false\n") != std::string::npos);
    Value empty(sample_t());
    CHECK(empty.to_string().find("    union u (none)\n") != std::string::npos);
}

TEST_CASE("fill_unchanged completes a partial update from the previous value") {
    Value prev(sample_t());
    prev["i"] = 1;
    prev["s"] = std::string("kept");
    prev["inner.x"] = 5;
    prev["inner.y"] = std::string("also kept");
    prev["arr"].set_array(SharedArray::from(std::vector<std::int16_t>{4, 5}));
    prev["u"].select("s") = std::string("in a union");

    SECTION("leaves and a structure bit") {
        Value next(sample_t());
        next["i"] = 2;
        next["inner.x"] = 6;
        next.unmark();
        const BitSet changed{1, 10};  // i, and inner with everything below it
        next.store()->fill_unchanged(*prev.store(), changed);
        CHECK(next["i"].as<int>() == 2);
        CHECK(next["s"].as<std::string>() == "kept");
        CHECK(next["inner.x"].as<int>() == 6);
        CHECK(next["inner.y"].as<std::string>().empty());  // sent (empty) as part of inner
        CHECK(next["arr"].as<std::vector<int>>() == std::vector<int>{4, 5});
        CHECK(next["u"].as<std::string>() == "in a union");
        CHECK(next.marks().empty());  // marks are the caller's
        // the union member is copied, not shared
        CHECK(next["u"].contained().store() != prev["u"].contained().store());
    }
    SECTION("bit 0: the whole value was sent, nothing is copied") {
        Value next(sample_t());
        next.store()->fill_unchanged(*prev.store(), BitSet{0});
        CHECK(next.equals(Value(sample_t())));
    }
}

// ---- the compact slot (issue 13, memory per PV) ----------------------------------------------

namespace {
const detail::Slot& slot_of(const Value& v) { return v.store()->slots[v.offset()]; }

TypePtr boxed_kinds_t() {
    return TypeDesc::structure("boxed", {{"text", TypeDesc::scalar(TypeCode::String)},
                                         {"list", TypeDesc::array(TypeCode::Int32)},
                                         {"choice", TypeDesc::union_of("", {{"i", TypeDesc::scalar(TypeCode::Int32)},
                                                                            {"s", TypeDesc::scalar(TypeCode::String)}})},
                                         {"n", TypeDesc::scalar(TypeCode::Float64)}});
}
}  // namespace

TEST_CASE("a slot is 16 bytes and a new value makes no box for its empty strings, arrays and unions") {
    STATIC_REQUIRE(sizeof(detail::Slot) == 16);
    const Value v(boxed_kinds_t());
    for (const char* f : {"text", "list", "choice"}) {
        INFO(f);
        CHECK_FALSE(slot_of(v[f]).has_box());
    }
    // reading the empty defaults makes none either (a const read never writes)
    CHECK(v["text"].as<std::string>().empty());
    CHECK(v["list"].array().empty());
    CHECK(v["list"].array().element_code() == TypeCode::Int32);
    CHECK(v["choice"].selected() == -1);
    CHECK_FALSE(v["choice"].contained());
    CHECK_FALSE(slot_of(v["text"]).has_box());
    CHECK_FALSE(slot_of(v["list"]).has_box());
    CHECK_FALSE(slot_of(v["choice"]).has_box());
    CHECK(v.equals(Value(boxed_kinds_t())));
}

TEST_CASE("writing an empty string makes no box; writing text does, and reset keeps it") {
    Value v(boxed_kinds_t());
    v["text"].set(std::string());
    CHECK_FALSE(slot_of(v["text"]).has_box());
    CHECK(v["text"].is_marked());
    v["text"] = "pump on";
    REQUIRE(slot_of(v["text"]).has_box());
    CHECK(v["text"].as<std::string>() == "pump on");
    v.store()->reset();
    CHECK(slot_of(v["text"]).has_box());  // kept for reuse, with its capacity
    CHECK(v["text"].as<std::string>().empty());
    CHECK(v.equals(Value(boxed_kinds_t())));
}

TEST_CASE("slot copies are deep, moves leave the empty default, and kinds are checked") {
    Value a(boxed_kinds_t());
    a["text"] = "one";
    a["list"].set_array(SharedArray::from<std::int32_t>({1, 2, 3}));
    a["choice"].select("s").set(std::string("two"));
    a["n"] = 2.5;

    Value b = a.clone();
    a["text"] = "changed";
    a["choice"].select("s").set(std::string("changed too"));
    CHECK(b["text"].as<std::string>() == "one");
    CHECK(b["choice"].contained().as<std::string>() == "two");
    CHECK(b["list"].as<std::vector<std::int32_t>>() == std::vector<std::int32_t>{1, 2, 3});
    CHECK(b["n"].as<double>() == 2.5);

    // assigning from a value whose slot has no box empties ours and keeps the box
    Value empty(boxed_kinds_t());
    b.assign(empty);
    CHECK(b.equals(empty));
    CHECK(slot_of(b["text"]).has_box());

    detail::Slot moved = std::move(a.store()->slots[a["text"].offset()]);
    CHECK(moved.get<std::string>() == "changed");
    CHECK(a["text"].as<std::string>().empty());
    CHECK(moved.get_if<SharedArray>() == nullptr);
    CHECK_THROWS_WITH(moved.get<detail::Number>(), Catch::Contains("a string") && Catch::Contains("a number"));
}

TEST_CASE("a value of a type with no members, and a scalar value, each have their one slot") {
    Value s(TypeDesc::structure("", {}));
    CHECK(s.type().offset_count() == 1);
    CHECK(s.equals(Value(TypeDesc::structure("", {}))));
    Value d(TypeDesc::scalar(TypeCode::String));
    CHECK(d.store()->slots[0].kind() == detail::Slot::Kind::String);
    d = "x";
    CHECK(d.as<std::string>() == "x");
}
