// The PVWS JSON dialect's pure functions: updates with metadata once and then changes, arrays
// as little-endian base64 in PVWS's fields, NaN as PVWS spells it, enums as labels and index,
// and the client messages parsed (docs/pvws.md).
#include <catch2/catch.hpp>

#include "../../../src/server/pvws_json.hpp"

#include <pvwire/data/nt.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>

using namespace pvwire;
using namespace pvwire::server::detail::pvws;
using Json = nlohmann::json;

namespace {
std::vector<std::byte> unbase64(const std::string& s) {
    static const std::string digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::vector<std::byte> out;
    unsigned n = 0;
    int bits = 0;
    for (char c : s) {
        if (c == '=') break;
        n = n << 6 | unsigned(digits.find(c));
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(std::byte((n >> bits) & 0xFF));
        }
    }
    return out;
}
}  // namespace

TEST_CASE("pvws: base64 matches RFC 4648 with padding") {
    const auto b = [](std::string_view s) { return base64(std::as_bytes(std::span(s.data(), s.size()))); };
    CHECK(b("") == "");
    CHECK(b("f") == "Zg==");
    CHECK(b("fo") == "Zm8=");
    CHECK(b("foo") == "Zm9v");
    CHECK(b("foobar") == "Zm9vYmFy");
}

TEST_CASE("pvws: the first update of an NTScalar double carries the metadata, later ones only changes") {
    nt::NTScalar spec;
    spec.display = true;
    spec.value_alarm = true;
    spec.form = true;
    Value v = spec.create();
    v["value"] = 4.5;
    v["display.units"] = std::string("mm");
    v["display.precision"] = 3;
    v["display.limitLow"] = -10.0;
    v["display.limitHigh"] = 10.0;
    v["valueAlarm.highWarningLimit"] = 5.0;
    v["alarm.severity"] = 1;
    v["timeStamp.secondsPastEpoch"] = std::int64_t(1700000000);
    v["timeStamp.nanoseconds"] = 250;
    SentState sent;
    const auto first = Json::parse(update_json("pva://x", v, true, sent));
    CHECK(first["type"] == "update");
    CHECK(first["pv"] == "pva://x");
    CHECK(first["vtype"] == "VDouble");
    CHECK(first["units"] == "mm");
    CHECK(first["precision"] == 3);
    CHECK(first["min"] == -10.0);
    CHECK(first["max"] == 10.0);
    CHECK(first["warn_high"] == 5.0);
    CHECK(first["severity"] == "MINOR");
    CHECK(first["value"] == 4.5);
    CHECK(first["readonly"] == true);
    CHECK(first["seconds"] == 1700000000);
    CHECK(first["nanos"] == 250);

    v["value"] = 5.5;
    const auto second = Json::parse(update_json("pva://x", v, true, sent));
    CHECK(second["value"] == 5.5);
    CHECK_FALSE(second.contains("units"));
    CHECK_FALSE(second.contains("severity"));  // unchanged
    CHECK_FALSE(second.contains("readonly"));
    CHECK(second.contains("seconds"));

    v["alarm.severity"] = 2;
    const auto third = Json::parse(update_json("pva://x", v, false, sent));
    CHECK(third["severity"] == "MAJOR");
    CHECK(third["readonly"] == false);
}

TEST_CASE("pvws: a non-finite double is the string NaN, as PVWS sends it") {
    Value v = nt::NTScalar{}.create();
    SentState sent;
    v["value"] = std::nan("");
    CHECK(Json::parse(update_json("x", v, true, sent))["value"] == "NaN");
    v["value"] = INFINITY;
    CHECK(Json::parse(update_json("x", v, true, sent))["value"] == "NaN");
}

TEST_CASE("pvws: integers are numbers, strings are text") {
    Value i = nt::NTScalar{TypeCode::Int32}.create();
    i["value"] = -7;
    SentState s1;
    const auto ji = Json::parse(update_json("i", i, true, s1));
    CHECK(ji["value"] == -7);
    CHECK(ji["vtype"] == "VInt");
    Value s = nt::NTScalar{TypeCode::String}.create();
    s["value"] = std::string("hello");
    SentState s2;
    const auto js = Json::parse(update_json("s", s, true, s2));
    CHECK(js["text"] == "hello");
    CHECK_FALSE(js.contains("value"));
}

TEST_CASE("pvws: an NTEnum sends its labels once, then index and text") {
    Value e = nt::NTEnum{}.create({"Off", "On", "Fault"}, 1);
    SentState sent;
    const auto first = Json::parse(update_json("e", e, true, sent));
    CHECK(first["vtype"] == "VEnum");
    CHECK(first["labels"] == Json::array({"Off", "On", "Fault"}));
    CHECK(first["value"] == 1);
    CHECK(first["text"] == "On");
    e["value.index"] = 2;
    const auto next = Json::parse(update_json("e", e, true, sent));
    CHECK_FALSE(next.contains("labels"));
    CHECK(next["text"] == "Fault");
}

TEST_CASE("pvws: numeric arrays are little-endian base64 in PVWS's fields") {
    SentState sent;
    Value d = nt::NTScalarArray{TypeCode::Float64}.create();
    d["value"].set_array(SharedArray::from(std::vector<double>{1.5, -2.0, 1e300}));
    const auto jd = Json::parse(update_json("d", d, true, sent));
    const auto bytes = unbase64(jd["b64dbl"]);
    REQUIRE(bytes.size() == 24);
    const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data());
    CHECK(p[7] == 0x3F);  // 1.5 little-endian: 00 00 00 00 00 00 F8 3F
    CHECK(p[6] == 0xF8);
    double back[3];
    std::memcpy(back, bytes.data(), 24);  // this host is little-endian in CI
    CHECK(back[0] == 1.5);
    CHECK(back[1] == -2.0);
    CHECK(back[2] == 1e300);

    const auto field_for = [](TypeCode code) {
        Value a = nt::NTScalarArray{code}.create();
        type_code::visit_scalar_type(code, [&](auto tag) {
            using T = typename decltype(tag)::type;
            if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
                a["value"].set_array(SharedArray::from(std::vector<T>{T(1), T(2)}));
        });
        SentState s;
        auto j = Json::parse(update_json("a", a, true, s));
        for (const char* f : {"b64dbl", "b64flt", "b64srt", "b64byt", "b64int"})
            if (j.contains(f)) return std::pair(std::string(f), unbase64(j[f]).size());
        return std::pair(std::string(), std::size_t(0));
    };
    CHECK(field_for(TypeCode::Float32) == std::pair(std::string("b64flt"), std::size_t(8)));
    CHECK(field_for(TypeCode::Int16) == std::pair(std::string("b64srt"), std::size_t(4)));
    CHECK(field_for(TypeCode::UInt8) == std::pair(std::string("b64byt"), std::size_t(2)));
    CHECK(field_for(TypeCode::Int32) == std::pair(std::string("b64int"), std::size_t(8)));
    CHECK(field_for(TypeCode::Int64) == std::pair(std::string("b64int"), std::size_t(8)));
}

TEST_CASE("pvws: a PV that is not served is an UNDEFINED update, and the next value carries metadata again") {
    SentState sent;
    Value v = nt::NTScalar{}.create();
    update_json("x", v, true, sent);
    const auto down = Json::parse(disconnected_json("x", sent));
    CHECK(down["severity"] == "UNDEFINED");
    CHECK_FALSE(down.contains("value"));
    CHECK(Json::parse(update_json("x", v, true, sent)).contains("vtype"));
}

TEST_CASE("pvws: client messages are parsed, bad ones explained") {
    std::string error;
    auto sub = parse_request(R"({"type":"subscribe","pvs":["a","pva://b"]})", error);
    REQUIRE(sub);
    CHECK(sub->kind == Request::Kind::subscribe);
    CHECK(sub->pvs == std::vector<std::string>{"a", "pva://b"});
    auto mon = parse_request(R"({"type":"monitor","pvs":["a"]})", error);
    REQUIRE(mon);
    CHECK(mon->kind == Request::Kind::subscribe);
    auto w = parse_request(R"({"type":"write","pv":"a","value":3})", error);
    REQUIRE(w);
    CHECK(w->number == 3.0);
    auto wt = parse_request(R"({"type":"write","pv":"a","value":"On"})", error);
    REQUIRE(wt);
    CHECK(wt->text == "On");
    CHECK_FALSE(parse_request("{", error));
    CHECK(error == "not a JSON object");
    CHECK_FALSE(parse_request(R"({"type":"dance"})", error));
    CHECK(error.find("dance") != std::string::npos);
    CHECK_FALSE(parse_request(R"({"type":"subscribe"})", error));
    CHECK(error.find("pvs") != std::string::npos);
    CHECK_FALSE(parse_request(R"({"type":"write","pv":"a"})", error));
}

TEST_CASE("pvws: names with pva:// or none are served, ca:// gets a clear error") {
    std::string error;
    CHECK(pva_name("pva://demo:ai", error) == "demo:ai");
    CHECK(pva_name("demo:ai", error) == "demo:ai");
    CHECK_FALSE(pva_name("ca://demo:ai", error));
    CHECK(error.find("Channel Access") != std::string::npos);
    CHECK_FALSE(pva_name("sim://sine", error));
    CHECK(error.find("sim://") != std::string::npos);
}
