// The msgpack codec (include/pvwire/msgpack/codec.hpp, schema in docs/msgpack.md).
#include "support/random_value.hpp"

#include <pvwire/msgpack/codec.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace pvwire;
namespace mp = pvwire::msgpack_codec;

namespace {

using Bytes = std::vector<std::byte>;

Bytes from_hex(std::string_view hex) {
    Bytes out;
    int hi = -1;
    for (char ch : hex) {
        int v;
        if (ch >= '0' && ch <= '9') v = ch - '0';
        else if (ch >= 'a' && ch <= 'f') v = ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F') v = ch - 'A' + 10;
        else continue;
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(std::byte(hi * 16 + v));
            hi = -1;
        }
    }
    return out;
}

std::string to_hex(const Bytes& b) {
    static const char d[] = "0123456789abcdef";
    std::string s;
    for (auto x : b) {
        if (!s.empty()) s += ' ';
        s += d[unsigned(x) >> 4];
        s += d[unsigned(x) & 15];
    }
    return s;
}

// encode -> decode -> equal, and the decoded value re-encodes to the same bytes.
Value round_trip(const Value& v) {
    const Bytes b = mp::encode_value(v);
    Value back;
    try {
        back = mp::decode_value(b);
    } catch (const mp::DecodeError& e) {
        FAIL("decode failed: " << e.what() << "\n" << to_hex(b) << "\n" << v.to_string());
    }
    INFO(v.to_string());
    INFO(back.to_string());
    REQUIRE(back.equals(v));
    REQUIRE(mp::encode_value(back) == b);
    return back;
}

void type_round_trip(const TypePtr& t) {
    const Bytes b = mp::encode_type(*t);
    TypePtr back;
    REQUIRE_NOTHROW(back = mp::decode_type(b));
    INFO(to_string(*t));
    REQUIRE(same_type(t, back));
    REQUIRE(mp::encode_type(*back) == b);
}

template <class F> std::string decode_error(F&& f) {
    try {
        f();
    } catch (const mp::DecodeError& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL("threw a non-DecodeError: " << e.what());
    }
    FAIL("did not throw");
    return {};
}

std::string value_error(const Bytes& b) {
    return decode_error([&] { (void)mp::decode_value(b); });
}

TypePtr all_scalars_type() {
    return TypeDesc::structure("scalars_t", {
        {"b", TypeDesc::scalar(TypeCode::Bool)},
        {"i8", TypeDesc::scalar(TypeCode::Int8)},
        {"i16", TypeDesc::scalar(TypeCode::Int16)},
        {"i32", TypeDesc::scalar(TypeCode::Int32)},
        {"i64", TypeDesc::scalar(TypeCode::Int64)},
        {"u8", TypeDesc::scalar(TypeCode::UInt8)},
        {"u16", TypeDesc::scalar(TypeCode::UInt16)},
        {"u32", TypeDesc::scalar(TypeCode::UInt32)},
        {"u64", TypeDesc::scalar(TypeCode::UInt64)},
        {"f32", TypeDesc::scalar(TypeCode::Float32)},
        {"f64", TypeDesc::scalar(TypeCode::Float64)},
        {"s", TypeDesc::scalar(TypeCode::String)},
        {"bs", TypeDesc::bounded_string(8)},
    });
}

TypePtr nested_structs(int depth) {
    TypePtr t = TypeDesc::structure("", {{"leaf", TypeDesc::scalar(TypeCode::Int32)}});
    for (int i = 1; i < depth; ++i) t = TypeDesc::structure("", {{"s", t}});
    return t;
}

Value any_chain(int n) {
    Value inner(TypeDesc::scalar(TypeCode::Int32));
    inner.set(7);
    for (int i = 0; i < n; ++i) {
        Value a(TypeDesc::any());
        a.set_contained(inner);
        inner = a;
    }
    return inner;
}

}  // namespace

TEST_CASE("msgpack: every scalar type round trips, at its limits", "[msgpack]") {
    Value v(all_scalars_type());
    SECTION("zero") { round_trip(v); }
    SECTION("minimum") {
        v["b"] = false;
        v["i8"] = std::int8_t(-128);
        v["i16"] = std::int16_t(-32768);
        v["i32"] = std::numeric_limits<std::int32_t>::min();
        v["i64"] = std::numeric_limits<std::int64_t>::min();
        v["f32"] = -std::numeric_limits<float>::max();
        v["f64"] = -std::numeric_limits<double>::infinity();
        v["s"] = std::string("", 0);
        Value back = round_trip(v);
        CHECK(back["i64"].as<std::int64_t>() == std::numeric_limits<std::int64_t>::min());
        CHECK(back["i8"].as<int>() == -128);
    }
    SECTION("maximum") {
        v["b"] = true;
        v["i8"] = std::int8_t(127);
        v["i16"] = std::int16_t(32767);
        v["i32"] = std::numeric_limits<std::int32_t>::max();
        v["i64"] = std::numeric_limits<std::int64_t>::max();
        v["u8"] = std::uint8_t(255);
        v["u16"] = std::uint16_t(65535);
        v["u32"] = std::numeric_limits<std::uint32_t>::max();
        v["u64"] = std::numeric_limits<std::uint64_t>::max();
        v["f32"] = std::numeric_limits<float>::denorm_min();
        v["f64"] = std::numeric_limits<double>::quiet_NaN();
        v["s"] = std::string("caf\xC3\xA9 \0 \xFF", 10);
        v["bs"] = "12345678";
        Value back = round_trip(v);
        CHECK(back["u64"].as<std::uint64_t>() == std::numeric_limits<std::uint64_t>::max());
        CHECK(back["b"].as<bool>());
        CHECK(std::isnan(back["f64"].as<double>()));
        CHECK(back["f32"].as<float>() == std::numeric_limits<float>::denorm_min());
        CHECK(back["s"].as<std::string>() == std::string("caf\xC3\xA9 \0 \xFF", 10));
        CHECK(back["bs"].as<std::string>() == "12345678");
    }
    SECTION("top-level scalars") {
        for (TypeCode c : {TypeCode::Bool, TypeCode::Int8, TypeCode::UInt64, TypeCode::Float32,
                           TypeCode::Float64, TypeCode::String}) {
            Value s(TypeDesc::scalar(c));
            s.set(1);
            round_trip(s);
        }
        Value bs(TypeDesc::bounded_string(3));
        bs = "abc";
        round_trip(bs);
    }
}

TEST_CASE("msgpack: scalars use the natural msgpack forms", "[msgpack]") {
    auto value_bytes = [](const Value& v) {
        Bytes b = mp::encode_value(v);
        const Bytes t = mp::encode_type(v.type());
        // [type, value]: 0x92, the type, then the value
        REQUIRE(b.size() > 1 + t.size());
        return Bytes(b.begin() + 1 + std::ptrdiff_t(t.size()), b.end());
    };
    Value i(TypeDesc::scalar(TypeCode::Int64));
    i = -1;
    CHECK(to_hex(value_bytes(i)) == "ff");
    i = 300;
    CHECK(to_hex(value_bytes(i)) == "cd 01 2c");
    Value f(TypeDesc::scalar(TypeCode::Float32));
    f = 1.5;
    CHECK(to_hex(value_bytes(f)) == "ca 3f c0 00 00");
    Value d(TypeDesc::scalar(TypeCode::Float64));
    d = 1.5;
    CHECK(to_hex(value_bytes(d)) == "cb 3f f8 00 00 00 00 00 00");
    d = -0.0;  // integral floats stay floats (msgpack-cxx's pack_double would write 0)
    CHECK(to_hex(value_bytes(d)) == "cb 80 00 00 00 00 00 00 00");
    f = 2.0;
    CHECK(to_hex(value_bytes(f)) == "ca 40 00 00 00");
    Value b(TypeDesc::scalar(TypeCode::Bool));
    b = true;
    CHECK(to_hex(value_bytes(b)) == "c3");
    Value s(TypeDesc::scalar(TypeCode::String));
    s = "hi";
    CHECK(to_hex(value_bytes(s)) == "a2 68 69");
    Value a(TypeDesc::array(TypeCode::UInt16));
    a.set_array(SharedArray::from(std::vector<std::uint16_t>{1, 0x0203}));
    CHECK(to_hex(value_bytes(a)) == "c4 04 01 00 03 02");  // bin, little-endian
    Value sa(TypeDesc::array(TypeCode::String));
    sa.set_array(SharedArray::from(std::vector<std::string>{"a", ""}));
    CHECK(to_hex(value_bytes(sa)) == "92 a1 61 a0");
    // simple types are one integer; the others a map
    CHECK(to_hex(mp::encode_type(*TypeDesc::scalar(TypeCode::Float64))) == "43");
    CHECK(to_hex(mp::encode_type(*TypeDesc::any())) == "cc 82");
    CHECK(to_hex(mp::encode_type(*TypeDesc::bounded_string(5))) == "82 a1 63 cc 83 a1 62 05");
}

TEST_CASE("msgpack: arrays of every element type and kind", "[msgpack]") {
    std::mt19937 rng(7);
    for (TypeCode e : {TypeCode::Bool, TypeCode::Int8, TypeCode::Int16, TypeCode::Int32, TypeCode::Int64,
                       TypeCode::UInt8, TypeCode::UInt16, TypeCode::UInt32, TypeCode::UInt64,
                       TypeCode::Float32, TypeCode::Float64, TypeCode::String}) {
        INFO(type_code::name(e));
        Value var(TypeDesc::array(e));
        round_trip(var);  // empty
        var.set_array(test::random_detail::random_scalar_array(rng, e, 5));
        round_trip(var);
        var.set_array(test::random_detail::random_scalar_array(rng, e, 1000));
        round_trip(var);

        Value bounded(TypeDesc::bounded_array(e, 4));
        round_trip(bounded);
        bounded.set_array(test::random_detail::random_scalar_array(rng, e, 4));
        round_trip(bounded);

        Value fixed(TypeDesc::fixed_array(e, 3));
        round_trip(fixed);  // never set: 0 elements, allowed
        fixed.set_array(test::random_detail::random_scalar_array(rng, e, 3));
        Value back = round_trip(fixed);
        CHECK(back.array_size() == 3);
    }
}

TEST_CASE("msgpack: structures, unions, any and their arrays", "[msgpack]") {
    const TypePtr alarm = TypeDesc::structure("alarm_t", {
        {"severity", TypeDesc::scalar(TypeCode::Int32)},
        {"message", TypeDesc::scalar(TypeCode::String)},
    });
    const TypePtr choice = TypeDesc::union_of("choice_t", {
        {"i", TypeDesc::scalar(TypeCode::Int32)},
        {"s", TypeDesc::scalar(TypeCode::String)},
        {"a", alarm},
    });
    const TypePtr empty_union = TypeDesc::union_of("", {});
    const TypePtr t = TypeDesc::structure("epics:nt/NTScalar:1.0", {
        {"value", TypeDesc::scalar(TypeCode::Float64)},
        {"alarm", alarm},
        {"u", choice},
        {"u_none", choice},
        {"u_empty", empty_union},
        {"any", TypeDesc::any()},
        {"any_none", TypeDesc::any()},
        {"any_struct", TypeDesc::any()},
        {"sa", TypeDesc::struct_array(alarm)},
        {"ua", TypeDesc::union_array(choice)},
        {"aa", TypeDesc::any_array()},
        {"empty", TypeDesc::structure("", {})},
        {"deep", TypeDesc::structure("", {{"in", TypeDesc::structure("in_t", {{"x", TypeDesc::array(TypeCode::Int8)}})}})},
    });
    type_round_trip(t);

    Value v(t);
    v["value"] = 3.25;
    v["alarm.severity"] = 2;
    v["alarm.message"] = "HIHI";
    v["u"].select("a")["message"] = "inside";
    Value any_inner(TypeDesc::array(TypeCode::Float64));
    any_inner.set(std::vector<double>{1.0, 2.0});
    v["any"].set_contained(any_inner);
    Value any_struct(alarm);
    any_struct["severity"] = 1;
    v["any_struct"].set_contained(any_struct);

    Value a1(alarm);
    a1["message"] = "first";
    v["sa"].set_array(SharedArray::from(std::vector<Value>{a1, Value(), Value(alarm)}, TypeCode::Struct));

    Value u1(choice);
    u1.select("s") = "x";
    Value u_unselected(choice);
    v["ua"].set_array(SharedArray::from(std::vector<Value>{Value(), u1, u_unselected}, TypeCode::Union));

    Value e1(TypeDesc::any());
    e1 = 42;  // any holding a long
    Value e_empty(TypeDesc::any());
    v["aa"].set_array(SharedArray::from(std::vector<Value>{e1, Value(), e_empty}, TypeCode::Any));
    v["deep.in.x"].set(std::vector<int>{-1, 2});

    Value back = round_trip(v);
    CHECK(back["u"].selected_name() == "a");
    CHECK(back["u.message"].as<std::string>() == "inside");
    CHECK(back["u_none"].selected() == -1);
    CHECK_FALSE(back["any_none"].contained());
    const auto sa = back["sa"].array().span<Value>();
    REQUIRE(sa.size() == 3);
    CHECK_FALSE(sa[1]);
    CHECK(sa[0]["message"].as<std::string>() == "first");
    const auto ua = back["ua"].array().span<Value>();
    REQUIRE(ua.size() == 3);
    CHECK_FALSE(ua[0]);
    CHECK(ua[2].valid());
    CHECK(ua[2].selected() == -1);
    const auto aa = back["aa"].array().span<Value>();
    REQUIRE(aa.size() == 3);
    CHECK(aa[0].contained().as<int>() == 42);
    CHECK_FALSE(aa[1]);
    CHECK(aa[2].valid());
    CHECK_FALSE(aa[2].contained());
    CHECK(back.marks().empty());

    SECTION("a member encodes on its own") {
        const Value sub = v["alarm"];
        Value alone = mp::decode_value(mp::encode_value(sub));
        CHECK(alone.equals(sub));
        CHECK(alone.offset() == 0);
    }
    SECTION("top-level union, any, and arrays of them") {
        round_trip(v["u"]);
        round_trip(v["any_struct"]);
        round_trip(v["ua"]);
        round_trip(v["aa"]);
        round_trip(Value(TypeDesc::any()));
        round_trip(Value(choice));
    }
}

TEST_CASE("msgpack: a null Value is []", "[msgpack]") {
    const Bytes b = mp::encode_value(Value());
    CHECK(to_hex(b) == "90");
    CHECK_FALSE(mp::decode_value(b).valid());
}

TEST_CASE("msgpack: the worked example of docs/msgpack.md", "[msgpack]") {
    const TypePtr t = TypeDesc::structure("demo_t", {
        {"value", TypeDesc::scalar(TypeCode::Float64)},
        {"raw", TypeDesc::array(TypeCode::Int16)},
        {"extra", TypeDesc::any()},
    });
    Value v(t);
    v["value"] = 2.5;
    v["raw"].set(std::vector<std::int16_t>{1, -2});
    Value seven(TypeDesc::scalar(TypeCode::UInt8));
    seven = 7;
    v["extra"].set_contained(seven);
    const char* expected =
        "92 83 a1 63 cc 80 a2 69 64 a6 64 65 6d 6f 5f 74 a1 6d 93 92 a5 76 61 6c 75 65 43 92 a3 72 "
        "61 77 29 92 a5 65 78 74 72 61 cc 82 93 cb 40 04 00 00 00 00 00 00 c4 04 01 00 fe ff 92 24 "
        "07";
    const Bytes b = mp::encode_value(v);
    CHECK(to_hex(b) == expected);
    CHECK(mp::decode_value(from_hex(expected)).equals(v));

    // partial: alarm-style update of "value" (offset 1) only
    v["value"] = -1.0;
    Bytes p;
    mp::encode_partial(v, BitSet{1}, p);
    CHECK(to_hex(p) == "92 91 01 cb bf f0 00 00 00 00 00 00");
}

TEST_CASE("msgpack: every type form round trips", "[msgpack]") {
    std::vector<TypePtr> types;
    for (TypeCode c : test::random_detail::kScalarCodes) {
        types.push_back(TypeDesc::scalar(c));
        types.push_back(TypeDesc::array(c));
        types.push_back(TypeDesc::bounded_array(c, 0));
        types.push_back(TypeDesc::bounded_array(c, 4000000000u));
        types.push_back(TypeDesc::fixed_array(c, 3));
    }
    types.push_back(TypeDesc::bounded_string(0));
    types.push_back(TypeDesc::bounded_string(0xFFFFFFFFu));
    types.push_back(TypeDesc::any());
    types.push_back(TypeDesc::any_array());
    types.push_back(TypeDesc::structure("", {}));
    types.push_back(TypeDesc::union_of("u_t", {}));
    types.push_back(TypeDesc::struct_array(TypeDesc::structure("s", {{"x", TypeDesc::any()}})));
    types.push_back(TypeDesc::union_array(TypeDesc::union_of("", {{"x", TypeDesc::any_array()}})));
    types.push_back(nested_structs(mp::max_depth));
    for (const auto& t : types) type_round_trip(t);

    // the map form of a simple code is accepted too
    CHECK(same_type(mp::decode_type(from_hex("81 a1 63 43")), TypeDesc::scalar(TypeCode::Float64)));
    // keys in any order
    CHECK(same_type(mp::decode_type(from_hex("82 a1 62 05 a1 63 cc 83")), TypeDesc::bounded_string(5)));
}

TEST_CASE("msgpack: random types and values round trip (property)", "[msgpack][property]") {
    std::size_t bytes_total = 0;
    for (std::uint32_t seed = 1; seed <= 500; ++seed) {
        INFO("seed " << seed);
        std::mt19937 rng(seed);
        const TypePtr t = seed % 5 == 0 ? test::random_type(rng, 3) : test::random_struct(rng, 1 + int(seed % 5));
        type_round_trip(t);
        const Value v = test::random_value(rng, t);
        bytes_total += mp::encode_value(v).size();
        round_trip(v);
    }
    CHECK(bytes_total > 0);
}

TEST_CASE("msgpack: the random generator is deterministic by seed", "[msgpack][property]") {
    for (std::uint32_t seed : {1u, 99u, 12345u}) {
        std::mt19937 a(seed), b(seed);
        const TypePtr ta = test::random_struct(a, 4), tb = test::random_struct(b, 4);
        REQUIRE(same_type(ta, tb));
        CHECK(test::random_value(a, ta).equals(test::random_value(b, tb)));
    }
}

TEST_CASE("msgpack: partial values (property)", "[msgpack][partial]") {
    for (std::uint32_t seed = 1; seed <= 300; ++seed) {
        INFO("seed " << seed);
        std::mt19937 rng(seed);
        const TypePtr t = test::random_struct(rng, 3);
        const Value v = test::random_value(rng, t);
        const std::uint32_t count = t->offset_count();
        BitSet changed;
        for (std::uint32_t b = 0; b < count; ++b)
            if (test::random_detail::chance(rng, seed % 3 == 0 ? 50 : 15)) changed.set(b);

        Bytes p;
        mp::encode_partial(v, changed, p);

        Value into(t);
        BitSet got;
        REQUIRE_NOTHROW(mp::decode_partial(p, into, got));
        CHECK(got == changed);

        Value expected(t);
        BitSet marked;
        for (std::size_t b = changed.next(0); b != BitSet::npos;) {
            Value(expected.store_ptr(), std::uint32_t(b)).assign(Value(v.store_ptr(), std::uint32_t(b)));
            marked.set(b);
            b = changed.next(b + t->flat()[b].type->offset_count());
        }
        INFO(to_hex(p));
        CHECK(into.equals(expected));
        CHECK(into.marks() == marked);

        Bytes again;
        mp::encode_partial(into, got, again);
        CHECK(again == p);
    }
}

TEST_CASE("msgpack: partial values of members and scalars", "[msgpack][partial]") {
    const TypePtr t = all_scalars_type();
    Value v(t);
    v["i32"] = 5;
    v["s"] = "x";
    Bytes p;
    mp::encode_partial(v, BitSet{0}, p);  // the whole structure
    Value into(t);
    BitSet got;
    mp::decode_partial(p, into, got);
    CHECK(into.equals(v));

    Value scalar(TypeDesc::scalar(TypeCode::Int16));
    scalar = -3;
    p.clear();
    mp::encode_partial(scalar, BitSet{0}, p);
    CHECK(to_hex(p) == "92 91 00 fd");
    Value s2(TypeDesc::scalar(TypeCode::Int16));
    mp::decode_partial(p, s2, got);
    CHECK(s2.as<int>() == -3);

    p.clear();
    mp::encode_partial(v, BitSet{}, p);  // nothing changed
    CHECK(to_hex(p) == "91 90");

    CHECK_THROWS_AS(mp::encode_partial(v, BitSet{t->offset_count()}, p), ValueError);
}

TEST_CASE("msgpack: hostile partial documents throw and leave the target alone", "[msgpack][partial][hostile]") {
    const TypePtr t = all_scalars_type();  // 14 offsets
    Value into(t);
    into["i32"] = 9;
    const Value before = into.clone();
    BitSet changed{3};
    const BitSet changed_before = changed;
    auto check = [&](const char* hex, const char* needle) {
        INFO(hex);
        const std::string msg = decode_error([&] { mp::decode_partial(from_hex(hex), into, changed); });
        CHECK_THAT(msg, Catch::Contains(needle));
        CHECK(into.equals(before));
        CHECK(into.marks() == before.marks());
        CHECK(changed == changed_before);
    };
    check("90", "expected [[offsets...], values...]");
    check("91 91 0e", "field offset 14 but the value has 14 fields");
    check("93 92 04 03 05 06", "strictly increasing");
    check("92 92 03 04 05", "2 fields are selected but 1 values were given");
    check("93 92 03 04 05 a1 78", "expected an integer for int, got str");  // i16 ok, i32 is str
    check("92 91 02 cd 01 00", "out of range for byte");
    check("91 a1 78", "expected an array of field offsets");
    Value null_value;
    CHECK_THROWS_AS(mp::decode_partial(from_hex("91 90"), null_value, changed), mp::DecodeError);
}

TEST_CASE("msgpack: truncated documents throw DecodeError", "[msgpack][hostile]") {
    std::mt19937 rng(3);
    for (int k = 0; k < 20; ++k) {
        const Value v = test::random_value(rng, test::random_struct(rng, 3));
        const Bytes b = mp::encode_value(v);
        for (std::size_t n = 0; n < b.size(); ++n) {
            INFO("prefix " << n << " of " << b.size());
            const Bytes prefix(b.begin(), b.begin() + std::ptrdiff_t(n));
            CHECK_THROWS_AS(mp::decode_value(prefix), mp::DecodeError);
        }
        Bytes longer = b;
        longer.push_back(std::byte(0xc0));
        CHECK_THAT(value_error(longer), Catch::Contains("1 trailing bytes"));
    }
    CHECK_THAT(value_error({}), Catch::Contains("empty input"));
    CHECK_THAT(value_error(from_hex("92 43")), Catch::Contains("truncated"));
}

TEST_CASE("msgpack: garbage and mutated documents never escape as anything but DecodeError", "[msgpack][hostile]") {
    std::mt19937 rng(11);
    std::size_t decoded = 0, rejected = 0;
    auto attempt = [&](const Bytes& b) {
        try {
            const Value v = mp::decode_value(b);
            ++decoded;
            // whatever decoded must encode and decode again to the same value
            REQUIRE(mp::decode_value(mp::encode_value(v)).equals(v));
        } catch (const mp::DecodeError&) {
            ++rejected;
        }
        try {
            (void)mp::decode_type(b);
        } catch (const mp::DecodeError&) {
        }
    };
    for (int k = 0; k < 2000; ++k) {
        Bytes g(test::random_detail::below(rng, 64));
        for (auto& x : g) x = std::byte(rng());
        if (!g.empty() && k % 2) g[0] = std::byte(0x92);  // looks like a document
        attempt(g);
    }
    for (int k = 0; k < 300; ++k) {
        const Value v = test::random_value(rng, test::random_struct(rng, 3));
        Bytes b = mp::encode_value(v);
        for (int m = 0; m < 8; ++m) {
            Bytes c = b;
            const auto flips = 1 + test::random_detail::below(rng, 3);
            for (std::uint32_t f = 0; f < flips; ++f)
                c[test::random_detail::below(rng, std::uint32_t(c.size()))] = std::byte(rng());
            attempt(c);
        }
    }
    CHECK(rejected > 0);
    CHECK(decoded > 0);
}

TEST_CASE("msgpack: deep nesting is refused", "[msgpack][hostile]") {
    SECTION("msgpack arrays nested 100000 deep") {
        Bytes b(100000, std::byte(0x91));
        b.push_back(std::byte(0xc0));
        CHECK_THAT(value_error(b), Catch::Contains("nested deeper"));
        CHECK_THROWS_AS(mp::decode_type(b), mp::DecodeError);
    }
    SECTION("maps nested deep") {
        Bytes b;
        for (int i = 0; i < 1000; ++i) {
            b.push_back(std::byte(0x81));
            b.push_back(std::byte(0xa1));
            b.push_back(std::byte('m'));
        }
        b.push_back(std::byte(0xc0));
        CHECK_THROWS_AS(mp::decode_type(b), mp::DecodeError);
    }
    SECTION("structure types: 20 levels decode, 21 do not") {
        round_trip(Value(nested_structs(20)));
        const std::string msg = value_error(mp::encode_value(Value(nested_structs(21))));
        CHECK_THAT(msg, Catch::Contains("nested deeper than 20"));
    }
    SECTION("any values: 20 nested decode, 21 do not") {
        round_trip(any_chain(20));
        CHECK_THAT(value_error(mp::encode_value(any_chain(21))), Catch::Contains("nested deeper than 20"));
    }
    SECTION("the deepest mix of arrays, unions and structures fits the msgpack depth limit") {
        TypePtr t = TypeDesc::scalar(TypeCode::Int8);
        for (int d = 0; d < 20;) {
            if (20 - d >= 2) {
                t = TypeDesc::union_array(TypeDesc::union_of("", {{"m", t}}));
                d += 2;
            }
            if (d < 20) {
                t = TypeDesc::structure("", {{"m", t}});
                d += 1;
            }
        }
        REQUIRE(t->depth() == 20);
        // fill the innermost path: every union array holds one element with its member selected
        std::function<void(Value)> fill = [&](Value v) {
            switch (v.code()) {
            case TypeCode::Struct: fill(v.member(0)); break;
            case TypeCode::UnionA: {
                Value e(v.type().element());
                fill(e.select(std::size_t(0)));
                v.set_array(SharedArray::from(std::vector<Value>{e}, TypeCode::Union));
                break;
            }
            default: v = 1;
            }
        };
        Value v(t);
        fill(v);
        round_trip(v);
    }
}

TEST_CASE("msgpack: huge claimed lengths are refused before allocating", "[msgpack][hostile]") {
    CHECK_THAT(value_error(from_hex("dd ff ff ff ff")), Catch::Contains("claims 4294967295 elements"));
    CHECK_THAT(value_error(from_hex("92 dd 00 10 00 00 c0")), Catch::Contains("claims"));
    CHECK_THAT(value_error(from_hex("df ff ff ff ff c0 c0")), Catch::Contains("claims"));
    CHECK_THAT(value_error(from_hex("92 43 db ff ff ff ff 41")), Catch::Contains("truncated"));
    CHECK_THAT(value_error(from_hex("92 4b c6 ff ff ff ff 00")), Catch::Contains("truncated"));
    CHECK_THAT(value_error(from_hex("92 4b c9 ff ff ff ff 01 00")), Catch::Contains("truncated"));
    // a fixed array of 4e9 doubles with an 8-byte bin
    CHECK_THAT(value_error(from_hex("92 82 a1 63 5b a1 62 ce ee 6b 28 00 c4 08 00 00 00 00 00 00 00 00")),
               Catch::Contains("must be 4000000000"));
    // many small claims adding up to more than the input
    Bytes b = from_hex("dc 00 10");
    for (int i = 0; i < 16; ++i) {
        b.push_back(std::byte(0xdc));
        b.push_back(std::byte(0x00));
        b.push_back(std::byte(0x40));
    }
    CHECK_THAT(value_error(b), Catch::Contains("claims"));
}

TEST_CASE("msgpack: malformed documents name what is wrong", "[msgpack][hostile]") {
    auto check = [](const char* hex, const char* needle) {
        INFO(hex);
        CHECK_THAT(value_error(from_hex(hex)), Catch::Contains(needle));
    };
    check("c1", "invalid msgpack byte 0xc1");
    check("c0", "expected [type, value] or []");
    check("93 43 00 00", "expected [type, value] or []");
    check("92 cc ab 00", "unknown type code 0xab");
    check("92 cc 80 00", "needs the map form");
    check("92 a1 63 00", "expected a type (integer code or map)");
    check("92 81 a1 78 00 00", "unknown key \"x\"");
    check("92 82 a1 63 43 a1 63 43 00", "duplicate key \"c\"");
    check("92 81 a1 62 05 00", "without its code");
    check("92 81 a1 63 cc 80 90", "without its member list");
    check("92 82 a1 63 43 a1 62 01 00", "key \"b\" is not allowed");
    check("92 82 a1 63 cc 88 a1 65 cc 82 00", "must be a structure, got any");
    check("92 82 a1 63 cc 80 a1 6d 91 91 a1 78 90", "a member must be [name, type]");
    check("92 82 a1 63 cc 80 a1 6d 91 92 a1 78 cc ab 91 00", "type.x: unknown type code 0xab");
    check("92 82 a1 63 cc 80 a1 6d 91 92 a1 78 22 91 a1 61", "value.x: expected an integer for int, got str");
    check("92 82 a1 63 cc 80 a1 6d 91 92 a1 78 22 90", "structure has 1 members but 0 values");
    check("92 20 cc 80", "integer 128 is out of range for byte");
    check("92 20 d1 ff 00", "integer -256 is out of range for byte");
    check("92 24 ff", "negative integer -1 for ubyte");
    check("92 00 01", "expected a boolean for boolean, got positive integer");
    check("92 43 a1 31", "expected a float for double, got str");
    check("92 82 a1 63 cc 83 a1 62 01 a2 61 62", "exceeds the bound of string(1)");
    check("92 29 c4 03 00 00 00", "not a whole number of 2-byte elements");
    check("92 08 c4 01 02", "[0]: boolean array byte 2 is not 0 or 1");
    check("92 29 92 01 02", "expected a bin of packed elements");
    check("92 82 a1 63 31 a1 62 01 c4 04 00 00 00 00", "2 elements exceed the bound");
    check("92 68 92 a1 61 01", "value[1]: expected a str");
    check("92 82 a1 63 cc 81 a1 6d 91 92 a1 61 22 92 01 00", "union selector 1 but the union has 1 members");
    check("92 82 a1 63 cc 81 a1 6d 91 92 a1 61 22 91 00", "expected [] or [selector, value]");
    check("92 cc 82 92 cc 80 00", "value(type): type code 0x80 (structure) needs the map form");
    check("92 cc 8a 91 c3", "expected [] or [type, value] for any");
    check("92 82 a1 63 cc 88 a1 65 81 a1 63 cc 80 91 c3", "without its member list");
    check("92 cc 82 c7 01 05 00", "got ext");
}

TEST_CASE("msgpack: values that break their own type do not encode", "[msgpack]") {
    Value bs(TypeDesc::bounded_string(2));
    bs = "abc";  // the data layer does not enforce the bound
    Bytes out{std::byte(1)};
    CHECK_THROWS_AS(mp::encode_value(bs, out), ValueError);
    CHECK(out.size() == 1);  // nothing appended
    // array lengths are enforced already when set
    Value fixed(TypeDesc::fixed_array(TypeCode::Int32, 3));
    CHECK_THROWS_AS(fixed.set(std::vector<int>{1, 2}), ValueError);
    Value bounded(TypeDesc::bounded_array(TypeCode::String, 1));
    CHECK_THROWS_AS(bounded.set(std::vector<std::string>{"a", "b"}), ValueError);
    // a structure array element of the wrong structure type
    const TypePtr a = TypeDesc::structure("a", {{"x", TypeDesc::scalar(TypeCode::Int32)}});
    const TypePtr b = TypeDesc::structure("b", {{"x", TypeDesc::scalar(TypeCode::Int32)}});
    Value sa(TypeDesc::struct_array(a));
    sa.set_array(SharedArray::from(std::vector<Value>{Value(b)}, TypeCode::Struct));
    CHECK_THROWS_AS(mp::encode_value(sa), ValueError);
}
