// pvRequest text parsing, text output, field masks and options (pvwire/protocol/pv_request.hpp).
#include <catch2/catch.hpp>

#include <pvwire/data/nt.hpp>
#include <pvwire/protocol/pv_request.hpp>
#include <pvwire/wire/value_codec.hpp>

#include <random>
#include <sstream>

using namespace pvwire;
using namespace pvwire::protocol;

namespace {

std::vector<std::uint8_t> from_hex(std::string_view hex) {
    std::vector<std::uint8_t> out;
    std::istringstream in{std::string(hex)};
    std::string b;
    while (in >> b) out.push_back(std::uint8_t(std::stoul(b, nullptr, 16)));
    return out;
}

std::string to_hex(std::span<const std::byte> bytes) {
    std::string s;
    char buf[4];
    for (auto b : bytes) {
        std::snprintf(buf, sizeof buf, "%02x ", unsigned(b));
        s += buf;
    }
    if (!s.empty()) s.pop_back();
    return s;
}

// FieldDesc + value, little-endian, optionally through a type registry (pvAccessCPP's cache).
std::string encode_hex(const Value& v, wire::TypeRegistry* reg = nullptr) {
    wire::OutBuffer out;
    wire::Writer w(out, wire::ByteOrder::Little);
    wire::encode_typed_value(w, v, reg);
    return to_hex(out.bytes());
}

Value decode_hex(std::string_view hex) {
    const auto bytes = from_hex(hex);
    wire::Reader r({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()}, wire::ByteOrder::Little);
    wire::TypeCache cache;
    Value v;
    REQUIRE(wire::decode_typed_value(r, v, &cache));
    REQUIRE(r.remaining() == 0);
    return v;
}

Value parse_ok(std::string_view text) {
    std::string err;
    Value v = parse_pv_request(text, &err);
    INFO("text: " << text << "  error: " << err);
    REQUIRE(v.valid());
    CHECK(err.empty());
    return v;
}

std::string parse_err(std::string_view text) {
    std::string err;
    Value v = parse_pv_request(text, &err);
    INFO("text: " << text);
    CHECK_FALSE(v.valid());
    CHECK_FALSE(err.empty());
    return err;
}

// Structure shape as text: "{field{value{}alarm{}}record{_options{queueSize=4}}}"
std::string shape(const Value& v) {
    if (v.code() != TypeCode::Struct) return v.as<std::string>();
    std::string s = "{";
    for (std::size_t i = 0; i < v.member_count(); ++i) {
        s += std::string(v.member_name(i));
        Value m = v.member(i);
        if (m.code() == TypeCode::Struct) s += shape(m);
        else {
            s += '=';
            s += m.as<std::string>();
            if (m.code() != TypeCode::String) s += '!';
        }
        if (m.code() != TypeCode::Struct && i + 1 < v.member_count()) s += ",";
    }
    return s + "}";
}

bool same_value(const Value& a, const Value& b) {
    return a.valid() && b.valid() && same_type(a.type_ptr(), b.type_ptr()) && a.equals(b);
}

const TypePtr& ntscalar() {
    static const TypePtr t = nt::NTScalar{}.type();
    return t;
}

// A request built by hand (for options of other types than string).
Value options_request(std::vector<Member> opts) {
    auto t = TypeDesc::structure(
        "", {{"field", TypeDesc::structure("", {})},
             {"record", TypeDesc::structure("", {{"_options", TypeDesc::structure("", std::move(opts))}})}});
    return Value(t);
}

}  // namespace

// ---- text parsing ------------------------------------------------------------------------

TEST_CASE("pvRequest text: the shapes PVXS and pvDataCPP build", "[pvrequest]") {
    CHECK(shape(parse_ok("")) == "{field{}}");
    CHECK(shape(parse_ok("   ")) == "{field{}}");
    CHECK(shape(parse_ok("field()")) == "{field{}}");
    CHECK(shape(parse_ok("field(value,alarm)")) == "{field{value{}alarm{}}}");
    CHECK(shape(parse_ok("value,alarm")) == "{field{value{}alarm{}}}");
    CHECK(shape(parse_ok("value alarm")) == "{field{value{}alarm{}}}");
    CHECK(shape(parse_ok(" field ( value , alarm ) ")) == "{field{value{}alarm{}}}");
    CHECK(shape(parse_ok("field(value,alarm.severity)")) == "{field{value{}alarm{severity{}}}}");
    CHECK(shape(parse_ok("field(timeStamp.userTag)")) == "{field{timeStamp{userTag{}}}}");
    // paths merge, first mention decides the order
    CHECK(shape(parse_ok("field(alarm.status,value,alarm.severity,value,alarm)")) ==
          "{field{alarm{status{}severity{}}value{}}}");
    CHECK(shape(parse_ok("field(value)field(alarm)")) == "{field{value{}alarm{}}}");
    // PVXS skips empty path components and extra commas
    CHECK(shape(parse_ok("field(.alarm..severity,,value,)")) == "{field{alarm{severity{}}value{}}}");
    // pvDataCPP braces
    CHECK(shape(parse_ok("field(alarm{severity,status},value)")) == "{field{alarm{severity{}status{}}value{}}}");
    CHECK(shape(parse_ok("field(a.b{c,d.e{f}})")) == "{field{a{b{c{}d{e{f{}}}}}}}");
    // record options: strings, sorted by name, last value wins; record only when non-empty
    CHECK(shape(parse_ok("record[queueSize=4,pipeline=true]")) ==
          "{field{}record{_options{pipeline=true,queueSize=4}}}");
    CHECK(shape(parse_ok("record[queueSize=4]record[queueSize=8,ackAny=50%]")) ==
          "{field{}record{_options{ackAny=50%,queueSize=8}}}");
    CHECK(shape(parse_ok("record[]field(value)")) == "{field{value{}}}");
    CHECK(shape(parse_ok("field(value)record[process=passive]")) ==
          "{field{value{}}record{_options{process=passive}}}");
    // per-field options
    CHECK(shape(parse_ok("field(value[opt=x])")) == "{field{value{_options{opt=x}}}}");
    CHECK(shape(parse_ok("field(alarm[b=2,a=1].severity,alarm.status)")) ==
          "{field{alarm{_options{a=1,b=2}severity{}status{}}}}");
    CHECK(shape(parse_ok("field(alarm.severity,alarm[x=y])")) == "{field{alarm{_options{x=y}severity{}}}}");
    // PUT_GET (pvDataCPP layout: getField before putField, no field unless asked for)
    CHECK(shape(parse_ok("putField(value)getField(value,alarm)")) ==
          "{getField{value{}alarm{}}putField{value{}}}");
    CHECK(shape(parse_ok("getField()putField()")) == "{getField{}putField{}}");
    CHECK(shape(parse_ok("record[a=b]putField(value)field(x)")) ==
          "{field{x{}}putField{value{}}record{_options{a=b}}}");
    // option values may hold more than name characters
    CHECK(shape(parse_ok("record[ackAny=50%,DBE=-1.5e3:x/y]")) ==
          "{field{}record{_options{DBE=-1.5e3:x/y,ackAny=50%}}}");
    // all option fields are strings
    Value v = parse_ok("record[queueSize=4,pipeline=true]");
    CHECK(v["record._options.queueSize"].code() == TypeCode::String);
    CHECK(v["record._options.pipeline"].code() == TypeCode::String);
    CHECK(v["record._options.pipeline"].as<std::string>() == "true");
}

TEST_CASE("pvRequest text: errors name the column", "[pvrequest]") {
    CHECK(parse_err("field(value))") == "unexpected ')' at column 13");
    CHECK(parse_err("field(value,alarm") ==
          "missing ')' to close 'field(' from column 1 at end of input (column 18)");
    CHECK(parse_err("field value") == "expected '(' after 'field' at column 7");
    CHECK(parse_err("field") == "expected '(' after 'field' at end of input (column 6)");
    CHECK(parse_err("record(x)") == "expected '[' after 'record' at column 7");
    CHECK(parse_err("record[queueSize]") == "expected '=' after option 'queueSize' at column 17");
    CHECK(parse_err("record[a=]") == "expected a value for option 'a' at column 10");
    CHECK(parse_err("record[a=1") == "missing ']' to close 'record[' from column 1 at end of input (column 11)");
    CHECK(parse_err("field(value[a=1)") == "unexpected ')' at column 16");
    CHECK(parse_err("value$") == "unexpected '$' at column 6");
    CHECK(parse_err(std::string_view("\x01", 1)) == "unexpected byte 0x01 at column 1");
    CHECK(parse_err("{a}") == "unexpected '{' at column 1");
    CHECK(parse_err("field(a{b)") == "unexpected ')' at column 10");
    CHECK(parse_err("field(a{b") == "missing '}' to close '{' from column 8 at end of input (column 10)");
    CHECK(parse_err("field(.{b})") == "expected a field name before '{' at column 8");
    CHECK(parse_err("getField(value") ==
          "missing ')' to close 'getField(' from column 1 at end of input (column 15)");
    CHECK(parse_err("field(value._options)") ==
          "'_options' is reserved for options and cannot be selected at column 13");
    CHECK(parse_err("field(a=b)") == "unexpected '=' at column 8");
    std::string nul("field(a\0b)", 10);
    CHECK(parse_err(nul) == "unexpected byte 0x00 at column 8");

    // nesting: top + field + 18 components = 20 levels is the limit
    std::string deep = "field(a";
    for (int i = 1; i < 18; ++i) deep += ".a";
    Value ok = parse_ok(deep + ")");
    CHECK(ok.type().depth() <= 20);
    {  // and the wire decoder (PVXS limits) accepts it
        wire::OutBuffer out;
        wire::Writer w(out, wire::ByteOrder::Little);
        wire::encode_typed_value(w, ok, nullptr);
        wire::Reader r(out.bytes(), wire::ByteOrder::Little);
        wire::TypeCache cache;
        Value back;
        CHECK(wire::decode_typed_value(r, back, &cache));
    }
    CHECK(parse_err(deep + ".a)") == "request nests deeper than 20 levels at column " + std::to_string(deep.size() + 2));
    CHECK_FALSE(parse_pv_request(deep + "[x=1])", nullptr).valid());
    CHECK(parse_err(std::string(5000, '{')).find("unexpected '{'") == 0);
    CHECK_FALSE(parse_pv_request("field(", nullptr).valid());  // no error string wanted: fine
}

// ---- byte compatibility with the captured requests ----------------------------------------

TEST_CASE("pvRequest bytes: identical to what PVXS clients sent", "[pvrequest]") {
    // get_ntscalar_double_pvrequest.session.txt #12: pvxget -r 'field(value,alarm)'
    const char* pvxs_value_alarm =
        "80 00 01 05 66 69 65 6c 64 80 00 02 05 76 61 6c 75 65 80 00 00 05 61 6c 61 72 6d 80 00 00";
    CHECK(encode_hex(parse_ok("field(value,alarm)")) == pvxs_value_alarm);
    CHECK(encode_hex(parse_ok("value,alarm")) == pvxs_value_alarm);
    CHECK(same_value(parse_ok("field(value,alarm)"), decode_hex(pvxs_value_alarm)));

    // monitor_pipeline.session.txt #12: pvxmonitor -r 'record[pipeline=true,queueSize=4]field()'
    // (the pvRequest part, without the trailing u32 nfree)
    const char* pvxs_pipeline =
        "80 00 02 05 66 69 65 6c 64 80 00 00 06 72 65 63 6f 72 64 80 00 01 08 5f 6f 70 74 69 6f 6e "
        "73 80 00 02 08 70 69 70 65 6c 69 6e 65 60 09 71 75 65 75 65 53 69 7a 65 60 04 74 72 75 65 "
        "01 34";
    CHECK(encode_hex(parse_ok("record[pipeline=true,queueSize=4]field()")) == pvxs_pipeline);
    CHECK(encode_hex(parse_ok("record[queueSize=4,pipeline=true]")) == pvxs_pipeline);
    CHECK(same_value(parse_ok("record[pipeline=true,queueSize=4]"), decode_hex(pvxs_pipeline)));

    // client_destroy_channel.session.txt: PVXS with no request at all
    const char* pvxs_empty = "80 00 01 05 66 69 65 6c 64 80 00 00";
    CHECK(encode_hex(parse_ok("")) == pvxs_empty);
    CHECK(encode_hex(parse_ok("field()")) == pvxs_empty);
}

TEST_CASE("pvRequest bytes: the same structures pvAccessCPP clients sent", "[pvrequest]") {
    struct Case {
        const char* text;
        const char* hex;  // as captured: through the introspection cache, key 1 already used
    };
    const Case cases[] = {
        // cpp_putget.session.txt #11 (pvAccessCPP PUT_GET)
        {"putField(value)getField(value,alarm)",
         "fd 02 00 80 00 02 08 67 65 74 46 69 65 6c 64 fd 03 00 80 00 02 05 76 61 6c 75 65 fd 04 00 "
         "80 00 00 05 61 6c 61 72 6d fe 04 00 08 70 75 74 46 69 65 6c 64 fd 05 00 80 00 01 05 76 61 "
         "6c 75 65 fe 04 00"},
        // cpp_type_cache.session.txt #15 (pvget / pvmonitor)
        {"field(value,alarm,timeStamp)",
         "fd 02 00 80 00 01 05 66 69 65 6c 64 fd 03 00 80 00 03 05 76 61 6c 75 65 fd 04 00 80 00 00 "
         "05 61 6c 61 72 6d fe 04 00 09 74 69 6d 65 53 74 61 6d 70 fe 04 00"},
        // cpp_array.session.txt (ARRAY INIT)
        {"field(value)",
         "fd 02 00 80 00 01 05 66 69 65 6c 64 fd 03 00 80 00 01 05 76 61 6c 75 65 fd 04 00 80 00 00"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        Value mine = parse_ok(c.text);
        CHECK(same_value(mine, decode_hex(c.hex)));
        // and through a registry in the same state, the very same bytes
        wire::TypeRegistry reg;
        reg.add(TypeDesc::scalar(TypeCode::Int32));  // key 1: the connection's earlier type
        CHECK(encode_hex(mine, &reg) == c.hex);
    }
}

// ---- text output -------------------------------------------------------------------------

TEST_CASE("pvRequest text output and round trip", "[pvrequest]") {
    CHECK(pv_request_text(Value()) == "");
    CHECK(pv_request_text(Value(TypeDesc::structure("", {}))) == "");
    CHECK(pv_request_text(parse_ok("")) == "field()");
    CHECK(pv_request_text(parse_ok("value,alarm.severity")) == "field(value,alarm.severity)");
    CHECK(pv_request_text(parse_ok("record[queueSize=4,pipeline=true]")) ==
          "field()record[pipeline=true,queueSize=4]");
    CHECK(pv_request_text(parse_ok("field(alarm[b=2,a=1].severity,alarm.status,value[x=1])")) ==
          "field(alarm[a=1,b=2].severity,alarm.status,value[x=1])");
    CHECK(pv_request_text(parse_ok("putField(value)getField(value,alarm)")) ==
          "getField(value,alarm)putField(value)");
    CHECK(pv_request_text(decode_hex("80 00 01 05 66 69 65 6c 64 80 00 00")) == "field()");

    // typed options (not from a text parser) print through as<std::string>
    Value typed = options_request({{"queueSize", TypeDesc::scalar(TypeCode::UInt32)},
                                   {"pipeline", TypeDesc::scalar(TypeCode::Bool)}});
    typed["record._options.queueSize"] = 8;
    typed["record._options.pipeline"] = true;
    CHECK(pv_request_text(typed) == "field()record[queueSize=8,pipeline=true]");

    // odd members are still shown
    Value odd(TypeDesc::structure("", {{"other", TypeDesc::structure("", {{"x", TypeDesc::structure("", {})}})},
                                       {"n", TypeDesc::scalar(TypeCode::Int32)}}));
    odd["n"] = 3;
    CHECK(pv_request_text(odd) == "other(x)n=3");

    for (const char* text : {"", "field(value,alarm)", "record[queueSize=4,pipeline=true]field()",
                             "field(alarm{severity,status},timeStamp.userTag)",
                             "field(alarm[a=1].severity,alarm[c=3,b=2].status,value[x=1])record[q=1]",
                             "putField(value)getField(value,alarm)record[process=true]",
                             "field(a.b.c,a.b,a.d[k=v].e)"}) {
        INFO(text);
        Value a = parse_ok(text);
        Value b = parse_ok(pv_request_text(a));
        CHECK(same_value(a, b));
    }
}

// ---- field masks -------------------------------------------------------------------------
// NTScalar double offsets: 0 top, 1 value, 2 alarm, 3 .severity, 4 .status, 5 .message,
// 6 timeStamp, 7 .secondsPastEpoch, 8 .nanoseconds, 9 .userTag

TEST_CASE("pvRequest masks on NTScalar (PVXS request2mask)", "[pvrequest]") {
    const TypeDesc& t = *ntscalar();
    REQUIRE(t.offset_count() == 10);
    auto mask = [&](std::string_view text, std::string_view sub = "field") {
        std::string err;
        auto m = request_mask(t, parse_ok(text), &err, sub);
        INFO(text << " -> " << err);
        REQUIRE(m);
        CHECK(err.empty());
        return *m;
    };
    const BitSet all{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

    CHECK(mask("") == all);
    CHECK(mask("field()") == all);
    CHECK(mask("record[queueSize=4]") == all);
    CHECK(mask("field(value)") == BitSet{0, 1});
    CHECK(mask("field(value,alarm)") == BitSet{0, 1, 2, 3, 4, 5});
    CHECK(mask("field(alarm)") == BitSet{0, 2, 3, 4, 5});
    CHECK(mask("field(alarm.status)") == BitSet{0, 2, 4});
    CHECK(mask("field(timeStamp,alarm.status)") == BitSet{0, 2, 4, 6, 7, 8, 9});  // the PVXS test
    CHECK(mask("field(timeStamp.userTag,value)") == BitSet{0, 1, 6, 9});
    CHECK(mask("field(value,nosuch)") == BitSet{0, 1});              // unknown fields ignored
    CHECK(mask("field(alarm.bogus)") == BitSet{0, 2});               // as PVXS: alarm matched
    CHECK(mask("field(value.foo)") == BitSet{0, 1});                 // no paths below a scalar
    CHECK(mask("field(alarm[opt=1])") == BitSet{0, 2, 3, 4, 5});     // _options is not a child
    CHECK(mask("field(value,alarm,timeStamp)") == all);

    auto fm = request_field_mask(t, parse_ok("field(value,alarm,timeStamp)"));
    REQUIRE(fm);
    CHECK(fm->all);
    fm = request_field_mask(t, parse_ok("field(value)"));
    REQUIRE(fm);
    CHECK_FALSE(fm->all);
    fm = request_field_mask(t, parse_ok(""));
    REQUIRE(fm);
    CHECK(fm->all);

    // nothing existing selected -> error
    std::string err;
    CHECK_FALSE(request_mask(t, parse_ok("field(nosuch,other.x)"), &err));
    CHECK(err == "pvRequest must select at least one field");
    err.clear();
    CHECK_FALSE(request_mask(t, parse_ok("field(nosuch)"), nullptr));

    // `field` of the wrong kind
    Value bad(TypeDesc::structure("", {{"field", TypeDesc::scalar(TypeCode::String)}}));
    err.clear();
    CHECK_FALSE(request_mask(t, bad, &err));
    CHECK(err.find("pvRequest must select at least one field") == 0);

    // absent / null / pvDataCPP-empty requests select everything
    CHECK(*request_mask(t, Value(), nullptr) == all);
    CHECK(*request_mask(t, Value(TypeDesc::structure("", {})), nullptr) == all);
    CHECK(*request_mask(t, Value(TypeDesc::scalar(TypeCode::Int32)), nullptr) == all);

    // PUT_GET halves
    Value pg = parse_ok("putField(value)getField(value,alarm)");
    CHECK(mask("putField(value)getField(value,alarm)", "putField") == BitSet{0, 1});
    CHECK(mask("putField(value)getField(value,alarm)", "getField") == BitSet{0, 1, 2, 3, 4, 5});
    CHECK(*request_mask(t, pg, nullptr) == all);  // no `field` member

    // a non-structure type has one offset
    auto scalar = TypeDesc::scalar(TypeCode::Float64);
    CHECK(*request_mask(*scalar, parse_ok("field(value)"), nullptr) == BitSet{0});
}

TEST_CASE("pvRequest masks on nested structures", "[pvrequest]") {
    // 0 top, 1 a, 2 a.b, 3 a.b.c, 4 a.b.d, 5 a.e, 6 u (union), 7 arr (struct array), 8 x
    auto leaf = TypeDesc::scalar(TypeCode::Int32);
    auto b = TypeDesc::structure("", {{"c", leaf}, {"d", leaf}});
    auto a = TypeDesc::structure("", {{"b", b}, {"e", leaf}});
    auto u = TypeDesc::union_of("", {{"m", leaf}});
    auto arr = TypeDesc::struct_array(TypeDesc::structure("", {{"y", leaf}}));
    auto t = TypeDesc::structure("", {{"a", a}, {"u", u}, {"arr", arr}, {"x", leaf}});
    REQUIRE(t->offset_count() == 9);
    auto mask = [&](std::string_view text) { return request_mask(*t, parse_ok(text), nullptr); };

    CHECK(*mask("a") == BitSet{0, 1, 2, 3, 4, 5});
    CHECK(*mask("a.b") == BitSet{0, 1, 2, 3, 4});
    CHECK(*mask("a.b.d,x") == BitSet{0, 1, 2, 4, 8});
    CHECK(*mask("a{b{c},e}") == BitSet{0, 1, 2, 3, 5});
    CHECK(*mask("u.m") == BitSet{0, 6});    // no descent into unions
    CHECK(*mask("arr.y") == BitSet{0, 7});  // nor into structure arrays
    CHECK_FALSE(mask("b.c"));               // b is not a top-level field
}

TEST_CASE("pvRequest apply_mask: the bits to send", "[pvrequest]") {
    const TypeDesc& t = *ntscalar();
    const BitSet all{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const BitSet value_alarm{0, 1, 2, 3, 4, 5};
    const BitSet alarm_status{0, 2, 4};
    const BitSet ts_status{0, 2, 4, 6, 7, 8, 9};

    // everything selected: changed, minus bits covered by a structure being sent
    CHECK(apply_mask({0}, all, t) == BitSet{0});
    CHECK(apply_mask({0, 1, 3}, all, t) == BitSet{0});
    CHECK(apply_mask({1, 3, 4}, all, t) == BitSet{1, 3, 4});
    CHECK(apply_mask({2, 3, 7}, all, t) == BitSet{2, 7});
    CHECK(apply_mask({}, all, t).empty());
    CHECK(apply_mask({42}, all, t).empty());  // beyond the type

    // field(value,alarm)
    CHECK(apply_mask({0}, value_alarm, t) == BitSet{1, 2});  // bit 0 expands to the selection
    CHECK(apply_mask({1}, value_alarm, t) == BitSet{1});
    CHECK(apply_mask({2}, value_alarm, t) == BitSet{2});
    CHECK(apply_mask({4, 7, 8}, value_alarm, t) == BitSet{4});
    CHECK(apply_mask({6}, value_alarm, t).empty());  // timeStamp only: nothing to send
    CHECK(apply_mask({7, 8}, value_alarm, t).empty());

    // field(alarm.status): a partly selected structure never goes whole
    CHECK(apply_mask({0}, alarm_status, t) == BitSet{4});
    CHECK(apply_mask({2}, alarm_status, t) == BitSet{4});
    CHECK(apply_mask({3, 4, 5}, alarm_status, t) == BitSet{4});
    CHECK(apply_mask({1, 3}, alarm_status, t).empty());

    // field(timeStamp,alarm.status)
    CHECK(apply_mask({0}, ts_status, t) == BitSet{4, 6});
    CHECK(apply_mask({1, 2, 8}, ts_status, t) == BitSet{4, 8});
    CHECK(apply_mask({6, 7}, ts_status, t) == BitSet{6});

    // field(alarm.bogus) -> mask {0, 2}: alarm has no selected field below it
    CHECK(apply_mask({0}, BitSet{0, 2}, t).empty());
    CHECK(apply_mask({2}, BitSet{0, 2}, t).empty());

    // a mask without the structure's own bit still lets its selected leaves through
    CHECK(apply_mask({2}, BitSet{4}, t) == BitSet{4});
    CHECK(apply_mask({0}, BitSet{}, t).empty());

    // end to end with the request functions
    auto m = request_mask(t, parse_ok("value,alarm"), nullptr);
    REQUIRE(m);
    Value v(ntscalar());
    v.mark_all();
    CHECK(apply_mask(v.marks(), *m, t) == BitSet{1, 2});
    v.unmark();
    v["timeStamp.nanoseconds"] = 5;
    v["value"] = 1.5;
    CHECK(apply_mask(v.marks(), *m, t) == BitSet{1});
}

// ---- options -----------------------------------------------------------------------------

TEST_CASE("pvRequest options from text (strings)", "[pvrequest]") {
    std::vector<std::string> w;
    auto o = request_options(parse_ok("record[queueSize=8,pipeline=true,ackAny=3,process=passive,block=true,"
                                      "DBE=5,atomic=false]"),
                             &w);
    CHECK(w.empty());
    CHECK(o.queue_size == 8u);
    CHECK(o.pipeline);
    CHECK(o.ack_any == 3u);
    CHECK_FALSE(o.ack_any_percent);
    CHECK(o.process == std::string("passive"));
    CHECK(o.block);
    // others in the request's (sorted) order
    REQUIRE(o.others.size() == 2);
    CHECK(o.others[0] == std::pair<std::string, std::string>("DBE", "5"));
    CHECK(o.others[1] == std::pair<std::string, std::string>("atomic", "false"));

    o = request_options(parse_ok(""), &w);
    CHECK(w.empty());
    CHECK_FALSE(o.queue_size);
    CHECK_FALSE(o.pipeline);
    CHECK_FALSE(o.ack_any);
    CHECK_FALSE(o.process);
    CHECK_FALSE(o.block);
    CHECK(o.others.empty());

    o = request_options(parse_ok("record[pipeline=1,queueSize=10,ackAny=50%]"), &w);
    CHECK(w.empty());
    CHECK(o.pipeline);
    CHECK(o.ack_any == 5u);
    CHECK(o.ack_any_percent == 50.0);
    o = request_options(parse_ok("record[ackAny=50%]"), &w);
    CHECK(o.ack_any == 2u);  // of the default queue size 4
    o = request_options(parse_ok("record[ackAny=1%,queueSize=4]"), &w);
    CHECK(o.ack_any == 1u);  // at least one
    o = request_options(parse_ok("record[queueSize=4.0,pipeline=false]"), &w);
    CHECK(w.empty());
    CHECK(o.queue_size == 4u);
    CHECK_FALSE(o.pipeline);
}

TEST_CASE("pvRequest options: bad values are ignored with warnings", "[pvrequest]") {
    std::vector<std::string> w;
    auto o = request_options(parse_ok("record[queueSize=1,pipeline=maybe,ackAny=x,block=2x]"), &w);
    CHECK_FALSE(o.queue_size);
    CHECK_FALSE(o.pipeline);
    CHECK_FALSE(o.ack_any);
    CHECK_FALSE(o.block);
    REQUIRE(w.size() == 4);
    // in the request's order, ackAny last (it is resolved against queueSize)
    CHECK(w[0] == "record._options.block=\"2x\" ignored: not a boolean");
    CHECK(w[1] == "record._options.pipeline=\"maybe\" ignored: not a boolean");
    CHECK(w[2] == "record._options.queueSize=\"1\" ignored: must be at least 2");
    CHECK(w[3] == "record._options.ackAny=\"x\" ignored: neither a count nor a percentage");

    w.clear();
    o = request_options(parse_ok("record[queueSize=-3,ackAny=0]"), &w);
    CHECK_FALSE(o.queue_size);
    CHECK_FALSE(o.ack_any);
    REQUIRE(w.size() == 2);
    CHECK(w[0] == "record._options.queueSize=\"-3\" ignored: not a number");
    CHECK(w[1] == "record._options.ackAny=\"0\" ignored: must be at least 1");

    w.clear();
    for (const char* bad : {"record[ackAny=0%]", "record[ackAny=150%]", "record[ackAny=abc%]", "record[ackAny=%]"}) {
        INFO(bad);
        o = request_options(parse_ok(bad), &w);
        CHECK_FALSE(o.ack_any);
    }
    CHECK(w.size() == 4);
    CHECK(request_options(parse_ok("record[queueSize=99999999999]"), nullptr).queue_size == std::nullopt);
}

TEST_CASE("pvRequest options of other types (integers, booleans)", "[pvrequest]") {
    std::vector<std::string> w;
    Value v = options_request({{"queueSize", TypeDesc::scalar(TypeCode::Int32)},
                               {"pipeline", TypeDesc::scalar(TypeCode::Bool)},
                               {"ackAny", TypeDesc::scalar(TypeCode::UInt64)},
                               {"block", TypeDesc::scalar(TypeCode::Int8)},
                               {"process", TypeDesc::scalar(TypeCode::Bool)},
                               {"DBE", TypeDesc::scalar(TypeCode::UInt32)},
                               {"weird", TypeDesc::structure("", {})}});
    v["record._options.queueSize"] = 6;
    v["record._options.pipeline"] = true;
    v["record._options.ackAny"] = 2;
    v["record._options.block"] = 1;
    v["record._options.process"] = true;
    v["record._options.DBE"] = 4;
    auto o = request_options(v, &w);
    CHECK(o.queue_size == 6u);
    CHECK(o.pipeline);
    CHECK(o.ack_any == 2u);
    CHECK(o.block);
    CHECK(o.process == std::string("true"));
    REQUIRE(o.others.size() == 1);
    CHECK(o.others[0] == std::pair<std::string, std::string>("DBE", "4"));
    REQUIRE(w.size() == 1);  // the structure-valued option
    CHECK(w[0].find("record._options.weird") == 0);

    // the PVXS pvalink form: Bool pipeline, UInt32 queueSize
    Value link = options_request({{"pipeline", TypeDesc::scalar(TypeCode::Bool)},
                                  {"atomic", TypeDesc::scalar(TypeCode::Bool)},
                                  {"queueSize", TypeDesc::scalar(TypeCode::UInt32)}});
    link["record._options.queueSize"] = 1;
    w.clear();
    o = request_options(link, &w);
    CHECK_FALSE(o.pipeline);
    CHECK_FALSE(o.queue_size);
    CHECK(w.size() == 1);
    REQUIRE(o.others.size() == 1);
    CHECK(o.others[0].second == "false");

    // malformed record / _options: defaults, no throw
    Value m1(TypeDesc::structure("", {{"record", TypeDesc::scalar(TypeCode::Int32)}}));
    Value m2(TypeDesc::structure("", {{"record", TypeDesc::structure("", {{"_options", TypeDesc::scalar(TypeCode::String)}})}}));
    CHECK_FALSE(request_options(m1, &w).queue_size);
    CHECK_FALSE(request_options(m2, &w).queue_size);
    CHECK_FALSE(request_options(Value(), &w).queue_size);
}

// ---- robustness --------------------------------------------------------------------------

TEST_CASE("pvRequest parser survives random text", "[pvrequest]") {
    std::mt19937 rng(20240611);
    const std::string alphabet = "fieldrecordgetFputvaluealarm.,()[]{}=% _\t09xX";
    const std::vector<std::string> words = {"field(", "record[", "getField(", "putField(", "value", "alarm",
                                            ".", ",", ")", "]", "}", "{", "[", "=", "x=1", " ", "severity"};
    std::size_t valid = 0, invalid = 0;
    const TypeDesc& t = *ntscalar();
    for (int i = 0; i < 20000; ++i) {
        std::string s;
        const int len = int(rng() % 40);
        const int mode = int(rng() % 3);
        for (int k = 0; k < len; ++k) {
            if (mode == 0) s += char(rng() % 256);
            else if (mode == 1) s += alphabet[rng() % alphabet.size()];
            else s += words[rng() % words.size()];
        }
        std::string err;
        Value v = parse_pv_request(s, &err);
        if (!v.valid()) {
            ++invalid;
            REQUIRE_FALSE(err.empty());
            REQUIRE(err.find("column ") != std::string::npos);
            continue;
        }
        ++valid;
        REQUIRE(err.empty());
        // whatever parses prints, re-parses to the same structure, and yields a mask or an error
        const std::string text = pv_request_text(v);
        std::string err2;
        Value again = parse_pv_request(text, &err2);
        INFO("input: " << s << "  text: " << text << "  error: " << err2);
        REQUIRE(same_value(v, again));
        std::string merr;
        auto m = request_mask(t, v, &merr);
        REQUIRE((m.has_value() || !merr.empty()));
        (void)request_options(v, nullptr);
        (void)encode_hex(v);
    }
    CHECK(valid > 1000);
    CHECK(invalid > 1000);
}
