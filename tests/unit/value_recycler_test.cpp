// ValueRecycler and ValueStore::reset: recycled values are indistinguishable from new ones,
// and a value anybody else still holds is never rewritten.
#include <pvwire/data/value_recycler.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace pvwire;

namespace {

TypePtr plain_t() {
    return TypeDesc::structure("plain_t", {
        {"value", TypeDesc::scalar(TypeCode::Float64)},
        {"alarm", TypeDesc::structure("alarm_t", {{"severity", TypeDesc::scalar(TypeCode::Int32)},
                                                  {"message", TypeDesc::scalar(TypeCode::String)}})},
    });
}

void scribble(Value& v) {
    v["value"] = 2.5;
    v["alarm.severity"] = 2;
    v["alarm.message"] = std::string("a message too long for the short-string buffer");
}

}  // namespace

TEST_CASE("ValueStore::reset makes a value equal to a new one, marks cleared") {
    Value v(plain_t());
    scribble(v);
    REQUIRE(v.is_changed());
    v.store()->reset();
    CHECK(v.equals(Value(plain_t())));
    CHECK(v.marks().empty());

    Value a(TypeDesc::structure("", {{"arr", TypeDesc::array(TypeCode::Int16)},
                                     {"u", TypeDesc::union_of("", {{"i", TypeDesc::scalar(TypeCode::Int32)}})}}));
    a["arr"].set_array(SharedArray::from(std::vector<std::int16_t>{1, 2, 3}));
    a["u"].select("i") = 7;
    a.store()->reset();
    CHECK(a["arr"].array().empty());
    CHECK(a["arr"].array().element_code() == TypeCode::Int16);
    CHECK(a.equals(Value(a.type_ptr())));
}

TEST_CASE("ValueRecycler reuses a value only once nobody else holds it") {
    ValueRecycler r;
    const TypePtr t = plain_t();
    Value first = r.make(t);
    scribble(first);
    const detail::ValueStore* store = first.store();

    SECTION("held: a new value") {
        Value second = r.make(t);
        CHECK(second.store() != store);
        CHECK(first["value"].as<double>() == 2.5);  // untouched
        CHECK(r.kept() == 2);
    }
    SECTION("released: the same storage, reset") {
        first = Value();
        Value again = r.make(t);
        CHECK(again.store() == store);
        CHECK(again.equals(Value(t)));
        CHECK(again.marks().empty());
        CHECK(r.kept() == 1);
    }
    SECTION("a field handle counts as holding the value") {
        Value field = first["alarm.message"];
        first = Value();
        CHECK(r.make(t).store() != store);
        CHECK(field.as<std::string>() == "a message too long for the short-string buffer");
    }
    SECTION("a new type drops the values of the old one") {
        first = Value();
        Value other = r.make(TypeDesc::structure("", {{"x", TypeDesc::scalar(TypeCode::Int8)}}));
        CHECK(other.type().member_count() == 1);  // (the old storage may be freed and its address reused)
        CHECK(r.kept() == 1);
    }
}

TEST_CASE("ValueRecycler keeps at most its capacity, and never values with arrays") {
    ValueRecycler r(2);
    const TypePtr t = plain_t();
    Value a = r.make(t), b = r.make(t), c = r.make(t);
    CHECK(r.kept() == 2);
    CHECK(c.store() != a.store());
    CHECK(c.store() != b.store());

    ValueRecycler arrays;
    const TypePtr at = TypeDesc::structure("", {{"value", TypeDesc::array(TypeCode::UInt32)}});
    Value x = arrays.make(at);
    CHECK(arrays.kept() == 0);
    CHECK(x.equals(Value(at)));
}
