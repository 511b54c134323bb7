// Normative Type builders: ids, field names, order and codes as PVXS builds them.
#include <pvwire/data/nt.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

using namespace pvwire;

namespace Catch {
template <> struct StringMaker<pvwire::BitSet> {
    static std::string convert(const pvwire::BitSet& b) { return b.to_string(); }
};
}  // namespace Catch

namespace {

using Layout = std::vector<std::pair<std::string, TypeCode>>;

// The (name, code) list of a structure's or union's direct members.
Layout layout(const TypeDesc& t) {
    Layout out;
    for (std::size_t i = 0; i < t.member_count(); ++i)
        out.emplace_back(t.member_name(i), t.member_type(i)->code());
    return out;
}
Layout layout(const TypePtr& t) { return layout(*t); }

const Layout alarm_layout{
    {"severity", TypeCode::Int32}, {"status", TypeCode::Int32}, {"message", TypeCode::String}};
const Layout time_layout{{"secondsPastEpoch", TypeCode::Int64},
                         {"nanoseconds", TypeCode::Int32},
                         {"userTag", TypeCode::Int32}};

}  // namespace

TEST_CASE("alarm_t, time_t and enum_t have their ids and fields in PVXS order") {
    CHECK(nt::alarm_t()->id() == "alarm_t");
    CHECK(layout(nt::alarm_t()) == alarm_layout);
    CHECK(nt::time_t()->id() == "time_t");
    CHECK(layout(nt::time_t()) == time_layout);
    CHECK(nt::enum_t()->id() == "enum_t");
    CHECK(layout(nt::enum_t()) == Layout{{"index", TypeCode::Int32}, {"choices", TypeCode::StringA}});
}

TEST_CASE("the standard sub-structures are built once and shared") {
    CHECK(nt::alarm_t() == nt::alarm_t());
    CHECK(nt::time_t() == nt::time_t());
    CHECK(nt::enum_t() == nt::enum_t());
}

TEST_CASE("display of a numeric value has limits of the value's type and no id") {
    auto d = nt::display_t(TypeCode::Int16);
    CHECK(d->id().empty());
    CHECK(layout(d) == Layout{{"limitLow", TypeCode::Int16},
                              {"limitHigh", TypeCode::Int16},
                              {"description", TypeCode::String},
                              {"units", TypeCode::String}});
    SECTION("an array value code gives limits of the element type") {
        CHECK(nt::display_t(TypeCode::Float32A)->member_type(0)->code() == TypeCode::Float32);
    }
}

TEST_CASE("display with form adds precision and an enum_t form after units") {
    auto d = nt::display_t(TypeCode::Float64, true);
    CHECK(layout(d) == Layout{{"limitLow", TypeCode::Float64},
                              {"limitHigh", TypeCode::Float64},
                              {"description", TypeCode::String},
                              {"units", TypeCode::String},
                              {"precision", TypeCode::Int32},
                              {"form", TypeCode::Struct}});
    CHECK(*d->member_type(5) == *nt::enum_t());
}

TEST_CASE("display of a string or bool value has only description and units, as in PVXS") {
    for (auto code : {TypeCode::String, TypeCode::Bool}) {
        CHECK(layout(nt::display_t(code, true)) ==
              Layout{{"description", TypeCode::String}, {"units", TypeCode::String}});
    }
}

TEST_CASE("control has limitLow, limitHigh and minStep of the value's type") {
    CHECK(nt::control_t(TypeCode::UInt32)->id().empty());
    CHECK(layout(nt::control_t(TypeCode::UInt32)) == Layout{{"limitLow", TypeCode::UInt32},
                                                            {"limitHigh", TypeCode::UInt32},
                                                            {"minStep", TypeCode::UInt32}});
    SECTION("a non-numeric value code falls back to double limits") {
        CHECK(nt::control_t(TypeCode::String)->member_type(0)->code() == TypeCode::Float64);
    }
}

TEST_CASE("valueAlarm has active, four limits, four severities and a double hysteresis") {
    auto va = nt::value_alarm_t(TypeCode::Int32);
    CHECK(va->id().empty());
    CHECK(layout(va) == Layout{{"active", TypeCode::Bool},
                               {"lowAlarmLimit", TypeCode::Int32},
                               {"lowWarningLimit", TypeCode::Int32},
                               {"highWarningLimit", TypeCode::Int32},
                               {"highAlarmLimit", TypeCode::Int32},
                               {"lowAlarmSeverity", TypeCode::Int32},
                               {"lowWarningSeverity", TypeCode::Int32},
                               {"highWarningSeverity", TypeCode::Int32},
                               {"highAlarmSeverity", TypeCode::Int32},
                               {"hysteresis", TypeCode::Float64}});
}

TEST_CASE("a plain NTScalar is value, alarm_t alarm, time_t timeStamp") {
    auto t = nt::NTScalar{TypeCode::Float64}.type();
    CHECK(t->id() == "epics:nt/NTScalar:1.0");
    CHECK(layout(t) == Layout{{"value", TypeCode::Float64},
                              {"alarm", TypeCode::Struct},
                              {"timeStamp", TypeCode::Struct}});
    CHECK(t->member_type(1)->id() == "alarm_t");
    CHECK(layout(t->member_type(1)) == alarm_layout);
    CHECK(t->member_type(2)->id() == "time_t");
    CHECK(layout(t->member_type(2)) == time_layout);
}

TEST_CASE("NTScalar double field offsets follow protocol.md section 3.5") {
    auto t = nt::NTScalar{TypeCode::Float64}.type();
    CHECK(t->offset_count() == 10);
    CHECK(t->offset_of("") == 0u);
    CHECK(t->offset_of("value") == 1u);
    CHECK(t->offset_of("alarm") == 2u);
    CHECK(t->offset_of("alarm.severity") == 3u);
    CHECK(t->offset_of("alarm.status") == 4u);
    CHECK(t->offset_of("alarm.message") == 5u);
    CHECK(t->offset_of("timeStamp") == 6u);
    CHECK(t->offset_of("timeStamp.secondsPastEpoch") == 7u);
    CHECK(t->offset_of("timeStamp.nanoseconds") == 8u);
    CHECK(t->offset_of("timeStamp.userTag") == 9u);

    auto v = nt::NTScalar{TypeCode::Float64}.create();
    CHECK(v["alarm.message"].offset() == 5u);
    CHECK(v["timeStamp.userTag"].offset() == 9u);
}

TEST_CASE("NTScalar with every option appends display, control and valueAlarm in that order") {
    nt::NTScalar b{TypeCode::Int32};
    b.display = b.control = b.value_alarm = b.form = true;
    auto t = b.type();
    CHECK(layout(t) == Layout{{"value", TypeCode::Int32},
                              {"alarm", TypeCode::Struct},
                              {"timeStamp", TypeCode::Struct},
                              {"display", TypeCode::Struct},
                              {"control", TypeCode::Struct},
                              {"valueAlarm", TypeCode::Struct}});
    CHECK(*t->member_type(3) == *nt::display_t(TypeCode::Int32, true));
    CHECK(*t->member_type(4) == *nt::control_t(TypeCode::Int32));
    CHECK(*t->member_type(5) == *nt::value_alarm_t(TypeCode::Int32));
}

TEST_CASE("NTScalar of a string gets a limitless display and no control or valueAlarm") {
    nt::NTScalar b{TypeCode::String, true, true, true, true};
    auto t = b.type();
    CHECK(layout(t) == Layout{{"value", TypeCode::String},
                              {"alarm", TypeCode::Struct},
                              {"timeStamp", TypeCode::Struct},
                              {"display", TypeCode::Struct}});
    CHECK(layout(t->member_type(3)) ==
          Layout{{"description", TypeCode::String}, {"units", TypeCode::String}});
}

TEST_CASE("NTScalar rejects array, compound and bounded value codes") {
    CHECK_THROWS_AS(nt::NTScalar{TypeCode::Float64A}.type(), std::invalid_argument);
    CHECK_THROWS_AS(nt::NTScalar{TypeCode::Struct}.type(), std::invalid_argument);
    CHECK_THROWS_AS(nt::NTScalar{TypeCode::Any}.type(), std::invalid_argument);
    CHECK_THROWS_AS(nt::NTScalar{TypeCode::BoundedString}.type(), std::invalid_argument);
}

TEST_CASE("NTScalar create gives a zeroed value without marks") {
    auto v = nt::NTScalar{TypeCode::UInt32}.create();
    CHECK(v.type().id() == "epics:nt/NTScalar:1.0");
    CHECK(v["value"].as<std::uint32_t>() == 0u);
    CHECK(v.marks().empty());
}

TEST_CASE("NTScalarArray has an array value and the NTScalarArray id") {
    auto a = nt::NTScalarArray{TypeCode::Float64}.type();
    CHECK(a->id() == "epics:nt/NTScalarArray:1.0");
    CHECK(layout(a) == Layout{{"value", TypeCode::Float64A},
                              {"alarm", TypeCode::Struct},
                              {"timeStamp", TypeCode::Struct}});
    SECTION("the array code is accepted as well as the element code") {
        CHECK(*nt::NTScalarArray{TypeCode::Float64A}.type() == *a);
    }
    SECTION("display limits have the element type") {
        nt::NTScalarArray b{TypeCode::Int8A};
        b.display = true;
        auto t = b.type();
        CHECK(t->member_type(3)->member_type(0)->code() == TypeCode::Int8);
    }
}

TEST_CASE("NTEnum is enum_t value, alarm, timeStamp and PVXS's display description") {
    auto t = nt::NTEnum{}.type();
    CHECK(t->id() == "epics:nt/NTEnum:1.0");
    CHECK(layout(t) == Layout{{"value", TypeCode::Struct},
                              {"alarm", TypeCode::Struct},
                              {"timeStamp", TypeCode::Struct},
                              {"display", TypeCode::Struct}});
    CHECK(t->member_type(0)->id() == "enum_t");
    CHECK(layout(t->member_type(3)) == Layout{{"description", TypeCode::String}});
}

TEST_CASE("NTEnum as<std::string>() gives the chosen label") {
    auto v = nt::NTEnum{}.create({"Off", "On", "Fault"}, 1);
    CHECK(v.as<std::string>() == "On");
    CHECK(v.as<int>() == 1);
    v.set(std::string("Fault"));
    CHECK(v["value.index"].as<int>() == 2);
    CHECK(v.as<std::string>() == "Fault");
    CHECK(v["value.choices"].is_marked());
    CHECK(v["value.index"].is_marked());
}

TEST_CASE("NTTable has labels, a value structure of column arrays, descriptor, alarm, timeStamp") {
    nt::NTTable tb;
    tb.add_column(TypeCode::Int32, "id", "Ident")
        .add_column(TypeCode::String, "name")
        .add_column(TypeCode::Float64, "x", "X position");
    auto t = tb.type();
    CHECK(t->id() == "epics:nt/NTTable:1.0");
    CHECK(layout(t) == Layout{{"labels", TypeCode::StringA},
                              {"value", TypeCode::Struct},
                              {"descriptor", TypeCode::String},
                              {"alarm", TypeCode::Struct},
                              {"timeStamp", TypeCode::Struct}});
    CHECK(t->member_type(1)->id().empty());
    CHECK(layout(t->member_type(1)) == Layout{{"id", TypeCode::Int32A},
                                              {"name", TypeCode::StringA},
                                              {"x", TypeCode::Float64A}});
}

TEST_CASE("NTTable create fills labels with the column labels, the name when no label") {
    nt::NTTable tb;
    tb.add_column(TypeCode::Int32, "id", "Ident").add_column(TypeCode::String, "name");
    auto v = tb.create();
    CHECK(v["labels"].as<std::vector<std::string>>() == std::vector<std::string>{"Ident", "name"});
    CHECK(v["labels"].is_marked());
    CHECK(v["value.id"].array_size() == 0);
}

TEST_CASE("NTTable refuses repeated, empty or non-scalar columns") {
    nt::NTTable tb;
    tb.add_column(TypeCode::Int32, "a");
    CHECK_THROWS_AS(tb.add_column(TypeCode::Int32, "a"), std::invalid_argument);
    CHECK_THROWS_AS(tb.add_column(TypeCode::Int32, ""), std::invalid_argument);
    CHECK_THROWS_AS(tb.add_column(TypeCode::Struct, "s"), std::invalid_argument);
    CHECK(tb.columns().size() == 1);
}

TEST_CASE("NTNDArray has the exact member list of protocol.md section 9.2") {
    auto t = nt::NTNDArray{}.type();
    CHECK(t->id() == "epics:nt/NTNDArray:1.0");
    CHECK(layout(t) == Layout{{"value", TypeCode::Union},
                              {"codec", TypeCode::Struct},
                              {"compressedSize", TypeCode::Int64},
                              {"uncompressedSize", TypeCode::Int64},
                              {"uniqueId", TypeCode::Int32},
                              {"dataTimeStamp", TypeCode::Struct},
                              {"alarm", TypeCode::Struct},
                              {"timeStamp", TypeCode::Struct},
                              {"dimension", TypeCode::StructA},
                              {"attribute", TypeCode::StructA}});
    CHECK(layout(t->member_type(0)) == Layout{{"booleanValue", TypeCode::BoolA},
                                              {"byteValue", TypeCode::Int8A},
                                              {"shortValue", TypeCode::Int16A},
                                              {"intValue", TypeCode::Int32A},
                                              {"longValue", TypeCode::Int64A},
                                              {"ubyteValue", TypeCode::UInt8A},
                                              {"ushortValue", TypeCode::UInt16A},
                                              {"uintValue", TypeCode::UInt32A},
                                              {"ulongValue", TypeCode::UInt64A},
                                              {"floatValue", TypeCode::Float32A},
                                              {"doubleValue", TypeCode::Float64A}});
    CHECK(t->member_type(1)->id() == "codec_t");
    CHECK(layout(t->member_type(1)) == Layout{{"name", TypeCode::String}, {"parameters", TypeCode::Any}});
    CHECK(t->member_type(5)->id() == "time_t");
    CHECK(t->member_type(6)->id() == "alarm_t");

    const auto& dim = t->member_type(8)->element();
    REQUIRE(dim);
    CHECK(dim->id() == "dimension_t");
    CHECK(layout(dim) == Layout{{"size", TypeCode::Int32},
                                {"offset", TypeCode::Int32},
                                {"fullSize", TypeCode::Int32},
                                {"binning", TypeCode::Int32},
                                {"reverse", TypeCode::Bool}});
    const auto& attr = t->member_type(9)->element();
    REQUIRE(attr);
    CHECK(attr->id() == "epics:nt/NTAttribute:1.0");
    CHECK(layout(attr) == Layout{{"name", TypeCode::String},
                                 {"value", TypeCode::Any},
                                 {"tags", TypeCode::StringA},
                                 {"descriptor", TypeCode::String},
                                 {"alarm", TypeCode::Struct},
                                 {"timeStamp", TypeCode::Struct},
                                 {"sourceType", TypeCode::Int32},
                                 {"source", TypeCode::String}});
}

TEST_CASE("an NTNDArray value can hold an image in its value union") {
    auto v = nt::NTNDArray{}.create();
    v["value"].select("ushortValue").set(std::vector<int>{1, 2, 3});
    CHECK(v["value"].selected_name() == "ushortValue");
    CHECK(v["value"].contained().as<std::vector<std::uint16_t>>() == std::vector<std::uint16_t>{1, 2, 3});
}

TEST_CASE("NTURI has scheme, authority, path and a query of the declared arguments") {
    nt::NTURI u;
    u.add_arg(TypeCode::String, "op").add_arg(TypeCode::Int32, "count").add_arg(TypeCode::Float64A, "xs");
    auto t = u.type();
    CHECK(t->id() == "epics:nt/NTURI:1.0");
    CHECK(layout(t) == Layout{{"scheme", TypeCode::String},
                              {"authority", TypeCode::String},
                              {"path", TypeCode::String},
                              {"query", TypeCode::Struct}});
    CHECK(layout(t->member_type(3)) == Layout{{"op", TypeCode::String},
                                              {"count", TypeCode::Int32},
                                              {"xs", TypeCode::Float64A}});
    CHECK_THROWS_AS(u.add_arg(TypeCode::Int32, "op"), std::invalid_argument);
}

TEST_CASE("NTURI call fills scheme, path and the named arguments with conversion") {
    nt::NTURI u;
    u.add_arg(TypeCode::String, "op").add_arg(TypeCode::Int32, "count").add_arg(TypeCode::Float64, "gain");
    auto v = u.call("server", {{"op", "channels"}, {"count", 5}, {"gain", "2.5"}});
    CHECK(v["scheme"].as<std::string>() == "pva");
    CHECK(v["path"].as<std::string>() == "server");
    CHECK(v["query.op"].as<std::string>() == "channels");
    CHECK(v["query.count"].as<int>() == 5);
    CHECK(v["query.gain"].as<double>() == 2.5);
    CHECK(v["query.count"].is_marked());
    SECTION("an undeclared argument is an error naming it") {
        CHECK_THROWS_WITH(u.call("pv", {{"bogus", 1}}), Catch::Contains("bogus"));
    }
    SECTION("an impossible conversion is an error") {
        CHECK_THROWS_AS(u.call("pv", {{"count", "many"}}), ValueError);
    }
}

TEST_CASE("set_alarm writes severity, status and message and marks them") {
    auto v = nt::NTScalar{TypeCode::Float64}.create();
    nt::set_alarm(v["alarm"], 2, 3, "HIHI");
    CHECK(v["alarm.severity"].as<int>() == 2);
    CHECK(v["alarm.status"].as<int>() == 3);
    CHECK(v["alarm.message"].as<std::string>() == "HIHI");
    CHECK(v.marks() == BitSet{3, 4, 5});
    CHECK_THROWS_AS(nt::set_alarm(v["timeStamp"], 1, 1, ""), ValueError);
}

TEST_CASE("set_time_now writes the current POSIX time and leaves userTag alone") {
    auto v = nt::NTScalar{TypeCode::Float64}.create();
    v["timeStamp.userTag"].set(7);
    v.unmark();
    const auto before = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    nt::set_time_now(v["timeStamp"]);
    const auto secs = v["timeStamp.secondsPastEpoch"].as<std::int64_t>();
    CHECK(secs >= before);
    CHECK(secs <= before + 2);
    const auto ns = v["timeStamp.nanoseconds"].as<std::int32_t>();
    CHECK(ns >= 0);
    CHECK(ns < 1000000000);
    CHECK(v["timeStamp.userTag"].as<int>() == 7);
    CHECK(v.marks() == BitSet{7, 8});
}

TEST_CASE("is_nt matches a normative type id by its name, ignoring the version") {
    auto mk = [](std::string id) { return TypeDesc::structure(std::move(id), {}); };
    CHECK(nt::is_nt(*nt::NTScalar{}.type(), "NTScalar"));
    CHECK(nt::is_nt(*mk("epics:nt/NTScalar:1.1"), "NTScalar"));
    CHECK(nt::is_nt(*mk("epics:nt/NTScalar:1.0"), "epics:nt/NTScalar"));
    CHECK(nt::is_nt(*mk("epics:nt/NTScalar:1.0"), "epics:nt/NTScalar:1.0"));
    CHECK_FALSE(nt::is_nt(*nt::NTScalarArray{}.type(), "NTScalar"));
    CHECK_FALSE(nt::is_nt(*nt::NTScalar{}.type(), "NTScalarArray"));
    CHECK_FALSE(nt::is_nt(*mk("epics:nt/NTScalar:1.0"), ""));
    CHECK_FALSE(nt::is_nt(*mk(""), "NTScalar"));
    CHECK_FALSE(nt::is_nt(*TypeDesc::scalar(TypeCode::Int32), "NTScalar"));
}
