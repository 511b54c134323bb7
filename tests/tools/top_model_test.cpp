// pvwire top's pure parts: what an update shows, sparklines, rates, filter, sort and layout.
#include "top_model.hpp"

#include <pvwire/data/nt.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace pvwire;
using namespace pvwire::tool::top;

namespace {

Value scalar_double(double x, int precision, const std::string& units) {
    nt::NTScalar b;
    b.value = TypeCode::Float64;
    b.display = true;
    b.form = true;
    Value v = b.create();
    v["value"] = x;
    v["display.precision"] = precision;
    v["display.units"] = units;
    return v;
}

Row row(std::string name, double number, int severity = 0, double rate = 0) {
    Row r;
    r.name = std::move(name);
    r.connected = r.has_data = true;
    r.reading.number = number;
    r.reading.value = std::to_string(number);
    r.reading.severity = severity;
    r.rate = rate;
    return r;
}

}  // namespace

TEST_CASE("top shows a double with the PV's precision and its units") {
    const Value v = scalar_double(3.14159, 2, "mm");
    CHECK(format_value(v) == "3.14");
    const Reading r = read_update(v, std::chrono::system_clock::now());
    CHECK(r.units == "mm");
    REQUIRE(r.number);
    CHECK(*r.number == Approx(3.14159));
}

TEST_CASE("top shows a double without precision in its shortest form") {
    nt::NTScalar b;
    Value v = b.create();
    v["value"] = 0.1;
    CHECK(format_value(v) == "0.1");
}

TEST_CASE("top shows integers, booleans and strings as they are") {
    nt::NTScalar b;
    b.value = TypeCode::UInt32;
    Value v = b.create();
    v["value"] = 42;
    CHECK(format_value(v) == "42");
    b.value = TypeCode::Bool;
    Value t = b.create();
    t["value"] = true;
    CHECK(format_value(t) == "true");
    b.value = TypeCode::String;
    Value s = b.create();
    s["value"] = std::string("hello");
    CHECK(format_value(s) == "hello");
}

TEST_CASE("top never draws a string PV's control characters") {
    nt::NTScalar b;
    b.value = TypeCode::String;
    Value s = b.create();
    s["value"] = std::string("two\nlines\x1b[2J");
    CHECK(read_update(s, {}).value == "two?lines?[2J");
}

TEST_CASE("top shows an enumeration as its choice name and sparks its index") {
    const Value v = nt::NTEnum{}.create({"Off", "Standby", "On"}, 2);
    CHECK(format_value(v) == "On");
    const Reading r = read_update(v, std::chrono::system_clock::now());
    REQUIRE(r.number);
    CHECK(*r.number == 2);
}

TEST_CASE("top shows an enumeration index without a choice as the number") {
    Value v = nt::NTEnum{}.create({"Off"}, 0);
    v["value.index"] = 5;
    CHECK(format_value(v) == "5");
}

TEST_CASE("top shows arrays as their length and first elements") {
    nt::NTScalarArray b;
    Value v = b.create();
    v["value"].set(std::vector<double>{1.5, 2, 3, 4, 5, 6});
    CHECK(format_value(v, 3) == "[6] 1.5, 2, 3, ...");
    CHECK(format_value(v, 10) == "[6] 1.5, 2, 3, 4, 5, 6");
    v["value"].set(std::vector<double>{});
    CHECK(format_value(v) == "[0]");
    CHECK_FALSE(read_update(v, {}).number);
}

TEST_CASE("top reads the alarm severity and the server's time stamp") {
    nt::NTScalar b;
    Value v = b.create();
    v["alarm.severity"] = 2;
    v["timeStamp.secondsPastEpoch"] = 1000;
    v["timeStamp.nanoseconds"] = 5000000;
    const Reading r = read_update(v, std::chrono::system_clock::now());
    CHECK(r.severity == 2);
    CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(r.stamp.time_since_epoch()).count() == 1000005);
    CHECK(severity_name(2) == "MAJOR");
    CHECK(severity_name(0).empty());
    CHECK(severity_name(7) == "UNDEF(7)");
}

TEST_CASE("top shows a table as its rows and columns") {
    nt::NTTable t;
    t.add_column(TypeCode::Int32, "id", "ID");
    t.add_column(TypeCode::String, "tag", "Tag");
    Value v = t.create();
    v["value.id"].set(std::vector<std::int32_t>{1, 2, 3});
    CHECK(format_value(v) == "[3 rows] id, tag");
}

TEST_CASE("top shows other structures by their type id") {
    auto type = TypeDesc::structure("my:thing:1.0", {{"x", TypeDesc::scalar(TypeCode::Float64)}});
    CHECK(format_value(Value(type)) == "{my:thing:1.0}");
}

TEST_CASE("sparkline scales between the minimum and the maximum") {
    const std::vector<double> up{0, 1, 2, 3, 4, 5, 6, 7};
    CHECK(sparkline(up, 8, true) == "▁▂▃▄▅▆▇█");
    CHECK(sparkline(up, 4, true) == "▁▃▆█");  // the last four, rescaled among themselves
    CHECK(sparkline(up, 8, false).size() == 8);
    CHECK(sparkline(up, 8, false).front() == '_');
    CHECK(sparkline(up, 8, false).back() == '#');
}

TEST_CASE("sparkline of flat or empty data") {
    const std::vector<double> flat{3, 3, 3};
    CHECK(sparkline(flat, 10, true) == "▁▁▁");
    CHECK(sparkline({}, 10, true).empty());
    CHECK(sparkline(flat, 0, true).empty());
}

TEST_CASE("rate counts updates per second over the window") {
    RateMeter m(std::chrono::seconds(5));
    const auto t0 = Clock::time_point{} + std::chrono::hours(1);
    CHECK(m.rate(t0) == 0);
    for (int i = 0; i <= 20; ++i) m.add(t0 + std::chrono::milliseconds(100 * i));  // 10 Hz for 2 s
    CHECK(m.rate(t0 + std::chrono::seconds(2)) == Approx(10.0));
    for (int i = 1; i <= 60; ++i) m.add(t0 + std::chrono::seconds(2) + std::chrono::milliseconds(100 * i));
    CHECK(m.rate(t0 + std::chrono::seconds(8)) == Approx(10.0).epsilon(0.05));
    CHECK(m.rate(t0 + std::chrono::seconds(60)) == 0);  // nothing in the last 5 s
}

TEST_CASE("rate keeps bounded memory and still counts") {
    RateMeter m(std::chrono::seconds(5), 100);
    const auto t0 = Clock::time_point{} + std::chrono::hours(1);
    for (int i = 0; i < 5000; ++i) m.add(t0 + std::chrono::microseconds(1000 * i));  // 1 kHz
    CHECK(m.rate(t0 + std::chrono::microseconds(1000 * 4999)) == Approx(1000.0).epsilon(0.02));
}

TEST_CASE("globs match names") {
    CHECK(glob_match("demo:*", "demo:counter"));
    CHECK(glob_match("*counter", "demo:counter"));
    CHECK(glob_match("demo:?ode", "demo:mode"));
    CHECK(glob_match("*", ""));
    CHECK(glob_match("a*b*c", "aXXbYYc"));
    CHECK_FALSE(glob_match("demo:*", "other:counter"));
    CHECK_FALSE(glob_match("demo:?", "demo:ab"));
    CHECK(is_glob("demo:*"));
    CHECK_FALSE(is_glob("demo:counter"));
}

TEST_CASE("the filter is a case-insensitive substring, or a glob") {
    CHECK(filter_matches("", "anything"));
    CHECK(filter_matches("COUNT", "demo:counter"));
    CHECK_FALSE(filter_matches("xyz", "demo:counter"));
    CHECK(filter_matches("demo:*r", "demo:counter"));
    CHECK(filter_matches("demo:c", "other:demo:counter"));  // a substring anywhere
}

TEST_CASE("rows sort by a column, ties by name, and reverse") {
    std::vector<Row> rows{row("b", 3, 0, 1), row("a", 10, 2, 5), row("c", 3, 1, 0)};
    Row silent;
    silent.name = "0silent";
    rows.push_back(silent);
    auto names = [&](const std::vector<std::size_t>& order) {
        std::string out;
        for (auto i : order) out += rows[i].name + " ";
        return out;
    };
    CHECK(names(visible_rows(rows, "", Column::Name, false)) == "0silent a b c ");
    CHECK(names(visible_rows(rows, "", Column::Value, false)) == "b c a 0silent ");
    CHECK(names(visible_rows(rows, "", Column::Severity, false)) == "a c b 0silent ");
    CHECK(names(visible_rows(rows, "", Column::Rate, false)) == "a b c 0silent ");
    CHECK(names(visible_rows(rows, "", Column::Name, true)) == "c b a 0silent ");
    CHECK(names(visible_rows(rows, "b", Column::Name, false)) == "b ");
}

TEST_CASE("layout fills the width, dropping the sparkline and then the units when narrow") {
    auto total = [](const Layout& l) {
        int sum = 0, n = 0;
        for (int w : {l.name, l.value, l.severity, l.units, l.rate, l.spark, l.time})
            if (w) sum += w, ++n;
        return sum + n - 1;
    };
    const Layout wide = layout_for(120, 20);
    CHECK(wide.spark > 0);
    CHECK(wide.units > 0);
    CHECK(total(wide) == 120);
    const Layout mid = layout_for(70, 20);
    CHECK(mid.spark == 0);
    CHECK(mid.units > 0);
    CHECK(total(mid) == 70);
    const Layout narrow = layout_for(50, 20);
    CHECK(narrow.spark == 0);
    CHECK(narrow.units == 0);
    CHECK(total(narrow) == 50);
    for (int w = 3; w < 140; ++w) {
        const Layout l = layout_for(w, 30);
        CHECK(total(l) <= w);
        CHECK(l.name >= 1);
        CHECK(l.value >= 1);
    }
}

TEST_CASE("fit pads, aligns and cuts by cells") {
    CHECK(fit("abc", 5) == "abc  ");
    CHECK(fit("abc", 5, true) == "  abc");
    CHECK(fit("abcdef", 4) == "abc~");
    CHECK(fit("▁▂▃▄", 3) == "▁▂~");
    CHECK(cell_width("▁▂▃") == 3);
    CHECK(fit("x", 0).empty());
}

TEST_CASE("rate text") {
    CHECK(rate_text(0).empty());
    CHECK(rate_text(1) == "1.0");
    CHECK(rate_text(12345) == "12345");
}
