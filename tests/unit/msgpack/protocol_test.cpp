// msgpack_protocol::Codec (docs/msgpack-protocol.md) without a socket: every message kind
// encoded by one side and decoded by the other gives back the same wire::Message fields;
// frames are whole multiples of 8 bytes; bad headers and bodies are Errors whose diagnostics
// say what was wrong; requests for unknown operations are Ignored with what the server must
// answer; aligned arrays are viewed in the received frame and sent from the value's memory.
#include "support/msgpack_protocol_session.hpp"

#include <pvwire/data/nt.hpp>
#include <pvwire/msgpack/protocol.hpp>
#include <pvwire/protocol/pv_request.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

using namespace pvwire;
using msgpack_protocol::Codec;
using msgpack_protocol::Side;
using wire::Command;
namespace sub = wire::subcmd;
using test::msgpack_session::copy_frame;
using test::msgpack_session::FrameCopy;
using test::msgpack_session::message;

namespace {

using Bytes = std::vector<std::byte>;
constexpr std::size_t max_body = std::size_t(1) << 26;

bool points_into(const void* p, std::span<const std::byte> frame) {
    const auto* b = static_cast<const std::byte*>(p);
    return b >= frame.data() && b < frame.data() + frame.size();
}

// The frames of `out`, each checked to be whole and a multiple of 8 bytes long.
std::vector<Bytes> frames_of(const wire::OutBuffer& out) {
    const Bytes all = out.flatten();
    std::vector<Bytes> frames;
    std::span<const std::byte> rest(all);
    while (!rest.empty()) {
        wire::Diagnostic diag;
        const std::size_t n = msgpack_protocol::frame_length(rest, max_body, diag);
        INFO(diag.message());
        REQUIRE(n >= msgpack_protocol::header_size);
        REQUIRE(n <= rest.size());
        CHECK(n % 8 == 0);
        frames.emplace_back(rest.begin(), rest.begin() + std::ptrdiff_t(n));
        rest = rest.subspan(n);
    }
    return frames;
}

Bytes frame_of(const wire::OutBuffer& out) {
    auto frames = frames_of(out);
    REQUIRE(frames.size() == 1);
    return frames.front();
}

// A client and a server codec joined back to back.
struct Link {
    Codec client{Side::client};
    Codec server{Side::server};

    // `from` encodes `body`; `to` decodes each frame, which must be a Message.
    static std::vector<wire::Message> carry(Codec& from, Codec& to, wire::Body body) {
        wire::OutBuffer out;
        from.encode(message(std::move(body)), out);
        std::vector<wire::Message> got;
        for (const Bytes& f : frames_of(out)) {
            const FrameCopy copy = copy_frame(f);
            wire::Message m;
            wire::Diagnostic diag;
            const auto result = to.decode(copy.bytes, m, diag, copy.owner);
            INFO(diag.message());
            REQUIRE(result == Codec::Result::Message);
            got.push_back(std::move(m));
        }
        return got;
    }
    template <class T> static T only(std::vector<wire::Message> got) {
        REQUIRE(got.size() == 1);
        REQUIRE(std::holds_alternative<T>(got.front().body));
        return std::get<T>(std::move(got.front().body));
    }
    // Client to server, and server to client, of a message that arrives as the same kind.
    template <class T> T up(T body) { return only<T>(carry(client, server, std::move(body))); }
    template <class T> T down(T body) { return only<T>(carry(server, client, std::move(body))); }

    // INIT of an operation: the request reaches the server with its ids and pvRequest, the
    // reply reaches the client with the types; both codecs then know the operation.
    template <class Req, class Resp>
    void init(std::uint32_t ioid, const TypePtr& type, const TypePtr& type2 = nullptr) {
        Req req;
        req.sid = 7;
        req.ioid = ioid;
        req.subcmd = sub::init;
        req.pv_request = protocol::parse_pv_request("field(value)");
        const Req got = up(req);
        CHECK(got.sid == 7);
        CHECK(got.ioid == ioid);
        CHECK(got.is_init());
        CHECK(got.pv_request.equals(req.pv_request));

        Resp resp;
        resp.ioid = ioid;
        resp.subcmd = sub::init;
        if constexpr (std::is_same_v<Resp, wire::PutGetResponse>) {
            resp.put_type = type;
            resp.get_type = type2;
        } else if constexpr (requires { resp.type; }) {
            resp.type = type;
        }
        const Resp back = down(resp);
        CHECK(back.ioid == ioid);
        CHECK(back.is_init());
        CHECK(back.status.success());
        if constexpr (std::is_same_v<Resp, wire::PutGetResponse>) {
            CHECK(same_type(back.put_type, type));
            CHECK(same_type(back.get_type, type2));
        } else if constexpr (requires { back.type; }) {
            CHECK(same_type(back.type, type));
        }
    }
};

Value scalar_value(double v) {
    Value s = nt::NTScalar{TypeCode::Float64}.create();
    s["value"].set(v);
    s["alarm.message"].set(std::string("high"));
    return s;
}

Value double_array(std::size_t n) {
    Value v = nt::NTScalarArray{TypeCode::Float64}.create();
    std::vector<double> elements(n);
    for (std::size_t i = 0; i < n; ++i) elements[i] = double(i) * 0.25 - 3.0;
    v["value"].set(elements);
    return v;
}

// An execution reply without data.
template <class R> R reply(std::uint32_t ioid, std::uint8_t subcmd, wire::Status status = {}) {
    R r;
    r.ioid = ioid;
    r.subcmd = subcmd;
    r.status = std::move(status);
    return r;
}

std::size_t offset_of(const Value& top, std::string_view field) { return top[field].offset() - top.offset(); }

struct Decoded {
    Codec::Result result;
    wire::Message message;
    wire::Diagnostic diag;
};
Decoded decode(Codec& codec, std::span<const std::byte> frame) {
    Decoded d;
    d.result = codec.decode(frame, d.message, d.diag);
    return d;
}

// A frame around `body` as it is (no padding added), with the header's pad count `pad`.
Bytes raw_frame(const Bytes& body, std::uint8_t pad = 0) {
    Bytes f{std::byte('M'), std::byte('P'), std::byte(1), std::byte(pad)};
    for (int i = 0; i < 4; ++i) f.push_back(std::byte(body.size() >> (8 * i)));
    f.insert(f.end(), body.begin(), body.end());
    return f;
}
Bytes bytes(std::initializer_list<int> v) {
    Bytes b;
    for (int x : v) b.push_back(std::byte(x));
    return b;
}

}  // namespace

TEST_CASE("hello, ready and echo round-trip between client and server codecs", "[msgpack][protocol]") {
    Link link;
    wire::ValidationRequest offer;
    offer.auth_methods = {"anonymous", "ca"};
    CHECK(link.down(offer).auth_methods == offer.auth_methods);

    wire::ValidationResponse choice;
    choice.auth_method = "ca";
    auto user_host = TypeDesc::structure("", {{"user", TypeDesc::scalar(TypeCode::String)},
                                             {"host", TypeDesc::scalar(TypeCode::String)}});
    choice.auth_data = Value(user_host);
    choice.auth_data["user"].set(std::string("alice"));
    choice.auth_data["host"].set(std::string("ws1"));
    const auto chosen = link.up(choice);
    CHECK(chosen.auth_method == "ca");
    CHECK(chosen.auth_data.equals(choice.auth_data));

    CHECK(link.down(wire::ConnectionValidated{wire::Status::warning("slow")}).status ==
          wire::Status::warning("slow"));
    CHECK(link.down(wire::ConnectionValidated{}).status == wire::Status::ok());

    const wire::Echo echo{bytes({1, 2, 3, 0, 255})};
    CHECK(link.up(echo).payload == echo.payload);
    CHECK(link.down(echo).payload == echo.payload);
}

TEST_CASE("open, close and info round-trip, one open frame per channel", "[msgpack][protocol]") {
    Link link;
    wire::CreateChannelRequest open;
    open.channels = {{1, "pv:a"}, {2, "pv:b"}};
    const auto opened = Link::carry(link.client, link.server, open);
    REQUIRE(opened.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
        const auto& r = std::get<wire::CreateChannelRequest>(opened[i].body);
        REQUIRE(r.channels.size() == 1);
        CHECK(r.channels[0].cid == open.channels[i].cid);
        CHECK(r.channels[0].name == open.channels[i].name);
    }

    const auto ok = link.down(wire::CreateChannelResponse{1, 70, {}});
    CHECK((ok.cid == 1 && ok.sid == 70 && ok.status.success()));
    const auto refused = link.down(wire::CreateChannelResponse{2, 0xFFFFFFFF, wire::Status::error("no such PV")});
    CHECK(refused.sid == 0xFFFFFFFF);
    CHECK(refused.status == wire::Status::error("no such PV"));

    const auto closed_up = link.up(wire::DestroyChannel{70, 1});
    CHECK((closed_up.sid == 70 && closed_up.cid == 1));
    const auto closed_down = link.down(wire::DestroyChannel{70, 1});
    CHECK((closed_down.sid == 70 && closed_down.cid == 1));

    const auto info = link.up(wire::GetFieldRequest{70, 9, "alarm.severity"});
    CHECK((info.sid == 70 && info.ioid == 9 && info.sub_field == "alarm.severity"));
    const TypePtr t = scalar_value(0).type_ptr();
    const auto typed = link.down(wire::GetFieldResponse{9, {}, t});
    CHECK(typed.ioid == 9);
    CHECK(same_type(typed.type, t));
    const auto failed = link.down(wire::GetFieldResponse{9, wire::Status::error("no field"), t});
    CHECK(failed.status == wire::Status::error("no field"));
    CHECK_FALSE(failed.type);  // the data of a failed reply is nil
}

TEST_CASE("every operation's init round-trips with its pvRequest and types", "[msgpack][protocol]") {
    Link link;
    const TypePtr t = scalar_value(0).type_ptr();
    const TypePtr t2 = double_array(0).type_ptr();
    link.init<wire::GetRequest, wire::GetResponse>(1, t);
    link.init<wire::PutRequest, wire::PutResponse>(2, t);
    link.init<wire::PutGetRequest, wire::PutGetResponse>(3, t, t2);
    link.init<wire::ArrayRequest, wire::ArrayResponse>(4, TypeDesc::array(TypeCode::Float64));
    link.init<wire::ProcessRequest, wire::ProcessResponse>(5, nullptr);
    link.init<wire::RpcRequest, wire::RpcResponse>(6, nullptr);
    link.init<wire::MonitorRequest, wire::MonitorResponse>(8, t);
    CHECK(link.client.operations().size() == 7);
    CHECK(link.server.operations().size() == 7);

    SECTION("a monitor's window travels as its first nfree") {
        wire::MonitorRequest m;
        m.ioid = 9;
        m.subcmd = sub::init | sub::get_put;
        m.nfree = 4;
        const auto got = link.up(m);
        CHECK(got.has_nfree());
        CHECK(got.nfree == 4);
    }
    SECTION("a failed init reply carries no type and forgets the operation") {
        wire::GetResponse r;
        r.ioid = 1;
        r.status = wire::Status::error("denied");
        r.type = t;
        const auto got = link.down(r);
        CHECK(got.status == wire::Status::error("denied"));
        CHECK_FALSE(got.type);
        CHECK(link.client.operations().find(1) == nullptr);
    }
}

TEST_CASE("get, put, put-get and get-put round-trip with their partial values", "[msgpack][protocol]") {
    Link link;
    const Value v = scalar_value(2.5);
    const TypePtr t = v.type_ptr();
    const BitSet value_bit{offset_of(v, "value")};
    link.init<wire::GetRequest, wire::GetResponse>(1, t);
    link.init<wire::PutRequest, wire::PutResponse>(2, t);
    link.init<wire::PutGetRequest, wire::PutGetResponse>(3, t, t);

    SECTION("get") {
        wire::GetRequest req;
        req.ioid = 1;
        req.subcmd = sub::exec | sub::destroy;
        const auto got = link.up(req);
        CHECK((got.ioid == 1 && got.subcmd == (sub::exec | sub::destroy)));

        wire::GetResponse resp;
        resp.ioid = 1;
        resp.subcmd = sub::exec | sub::destroy;
        resp.data = v;
        resp.changed = BitSet{0};
        const auto back = link.down(resp);
        CHECK(back.subcmd == (sub::exec | sub::destroy));
        CHECK(back.changed == BitSet{0});
        CHECK(back.data.equals(v));
        CHECK(link.client.operations().find(1) == nullptr);  // last: the operation is gone
    }
    SECTION("put, and the put side's current value") {
        wire::PutRequest put;
        put.ioid = 2;
        put.subcmd = sub::exec;
        put.data = v;
        put.changed = value_bit;
        const auto got = link.up(put);
        CHECK(got.changed == value_bit);
        CHECK(got.data["value"].as<double>() == 2.5);
        CHECK(got.data["alarm.message"].as<std::string>().empty());  // not selected, not sent
        CHECK(link.down(reply<wire::PutResponse>(2, sub::exec, wire::Status::error("refused"))).status ==
              wire::Status::error("refused"));

        wire::PutRequest current;
        current.ioid = 2;
        current.subcmd = sub::get;
        CHECK(link.up(current).subcmd == sub::get);
        wire::PutResponse cur;
        cur.ioid = 2;
        cur.subcmd = sub::get;
        cur.data = v;
        cur.changed = value_bit;
        const auto back = link.down(cur);
        CHECK(back.subcmd == sub::get);
        CHECK(back.changed == value_bit);
        CHECK(back.data["value"].as<double>() == 2.5);
    }
    SECTION("put-get, get-put and the get side") {
        for (const std::uint8_t s : {sub::exec, sub::get, sub::get_put}) {
            wire::PutGetRequest req;
            req.ioid = 3;
            req.subcmd = s;
            if (s == sub::exec) {
                req.data = v;
                req.changed = value_bit;
            }
            const auto got = link.up(req);
            CHECK(got.subcmd == s);
            if (s == sub::exec) CHECK(got.data["value"].as<double>() == 2.5);

            wire::PutGetResponse resp;
            resp.ioid = 3;
            resp.subcmd = s;
            resp.data = v;
            resp.changed = BitSet{0};
            const auto back = link.down(resp);
            CHECK(back.subcmd == s);
            CHECK(back.data.equals(v));
        }
    }
}

TEST_CASE("array-get, array-put, length and set-length round-trip", "[msgpack][protocol]") {
    Link link;
    const TypePtr t = TypeDesc::array(TypeCode::Float64);
    link.init<wire::ArrayRequest, wire::ArrayResponse>(4, t);
    Value elements(t);
    elements.set(std::vector<double>{1.5, -2, 8});

    wire::ArrayRequest get;
    get.ioid = 4;
    get.subcmd = sub::get;
    get.offset = 3;
    get.count = 2;
    get.stride = 5;
    const auto g = link.up(get);
    CHECK((g.subcmd == sub::get && g.offset == 3 && g.count == 2 && g.stride == 5));
    wire::ArrayResponse got_elements;
    got_elements.ioid = 4;
    got_elements.subcmd = sub::get;
    got_elements.data = elements;
    CHECK(link.down(got_elements).data.equals(elements));

    wire::ArrayRequest put;
    put.ioid = 4;
    put.subcmd = sub::exec;
    put.offset = 1;
    put.stride = 2;
    put.data = elements;
    const auto p = link.up(put);
    CHECK((p.subcmd == sub::exec && p.offset == 1 && p.stride == 2));
    CHECK(p.data.equals(elements));
    CHECK(link.down(reply<wire::ArrayResponse>(4, sub::exec)).subcmd == sub::exec);

    wire::ArrayRequest length;
    length.ioid = 4;
    length.subcmd = sub::process;
    CHECK(link.up(length).subcmd == sub::process);
    wire::ArrayResponse len;
    len.ioid = 4;
    len.subcmd = sub::process;
    len.length = 123456;
    CHECK(link.down(len).length == 123456);

    wire::ArrayRequest set_length;
    set_length.ioid = 4;
    set_length.subcmd = sub::get_put | sub::destroy;
    set_length.length = 77;
    const auto sl = link.up(set_length);
    CHECK((sl.subcmd == (sub::get_put | sub::destroy) && sl.length == 77));
    CHECK(link.down(reply<wire::ArrayResponse>(4, sub::get_put | sub::destroy)).subcmd == (sub::get_put | sub::destroy));
}

TEST_CASE("process and rpc round-trip with the rpc argument and result", "[msgpack][protocol]") {
    Link link;
    link.init<wire::ProcessRequest, wire::ProcessResponse>(5, nullptr);
    link.init<wire::RpcRequest, wire::RpcResponse>(6, nullptr);

    wire::ProcessRequest process;
    process.ioid = 5;
    process.subcmd = sub::exec;
    CHECK(link.up(process).subcmd == sub::exec);
    CHECK(link.down(reply<wire::ProcessResponse>(5, sub::exec, wire::Status::warning("odd"))).status ==
          wire::Status::warning("odd"));

    wire::RpcRequest rpc;
    rpc.ioid = 6;
    rpc.subcmd = sub::exec;
    rpc.argument = scalar_value(4);
    CHECK(link.up(rpc).argument.equals(rpc.argument));
    wire::RpcResponse result;
    result.ioid = 6;
    result.subcmd = sub::exec;
    result.result = double_array(5);
    CHECK(link.down(result).result.equals(result.result));
    wire::RpcResponse no_result;
    no_result.ioid = 6;
    no_result.subcmd = sub::exec;
    CHECK_FALSE(link.down(no_result).result);
}

TEST_CASE("monitor start, stop, ack, update and finish round-trip", "[msgpack][protocol]") {
    Link link;
    const Value v = scalar_value(1.25);
    link.init<wire::MonitorRequest, wire::MonitorResponse>(8, v.type_ptr());

    wire::MonitorRequest ack_and_start;  // pvAccess's one message becomes [ack] and [start]
    ack_and_start.ioid = 8;
    ack_and_start.subcmd = sub::monitor_start | sub::get_put;
    ack_and_start.nfree = 3;
    const auto got = Link::carry(link.client, link.server, ack_and_start);
    REQUIRE(got.size() == 2);
    const auto& ack = std::get<wire::MonitorRequest>(got[0].body);
    CHECK((ack.has_nfree() && ack.nfree == 3));
    CHECK(std::get<wire::MonitorRequest>(got[1].body).subcmd == sub::monitor_start);

    wire::MonitorRequest stop;
    stop.ioid = 8;
    stop.subcmd = sub::monitor_stop;
    CHECK(link.up(stop).subcmd == sub::monitor_stop);

    wire::MonitorResponse update;
    update.ioid = 8;
    update.subcmd = 0;
    update.data = v;
    update.changed = BitSet{offset_of(v, "value"), offset_of(v, "alarm.message")};
    update.overrun = BitSet{offset_of(v, "value")};
    const auto u = link.down(update);
    CHECK(u.is_update());
    CHECK(u.has_data);
    CHECK(u.changed == update.changed);
    CHECK(u.overrun == update.overrun);
    CHECK(u.data["value"].as<double>() == 1.25);
    CHECK(u.data["alarm.message"].as<std::string>() == "high");

    wire::MonitorResponse finish;
    finish.ioid = 8;
    finish.subcmd = sub::destroy;
    finish.has_data = false;
    finish.status = wire::Status::error("PV gone");
    const auto f = link.down(finish);
    CHECK(f.is_finish());
    CHECK(f.status == finish.status);
    CHECK(link.client.operations().find(8) == nullptr);
}

TEST_CASE("destroy, cancel and message round-trip; destroy forgets the operation", "[msgpack][protocol]") {
    Link link;
    link.init<wire::GetRequest, wire::GetResponse>(1, scalar_value(0).type_ptr());
    CHECK(link.up(wire::CancelRequest{0, 1}).ioid == 1);
    const auto note = link.down(wire::RemoteMessage{1, 2, "disk full"});
    CHECK((note.ioid == 1 && note.type == 2 && note.text == "disk full"));
    CHECK(link.up(wire::DestroyRequest{0, 1}).ioid == 1);
    CHECK(link.client.operations().find(1) == nullptr);
    CHECK(link.server.operations().find(1) == nullptr);
}

TEST_CASE("the server's error message decodes as an Error carrying its text", "[msgpack][protocol]") {
    wire::OutBuffer out;
    Codec::encode_error("bad message from client: too long", out);
    const Bytes f = frame_of(out);
    Codec client(Side::client);
    const auto d = decode(client, f);
    CHECK(d.result == Codec::Result::Error);
    CHECK_THAT(d.diag.message(), Catch::Contains("the server ends the connection: bad message from client: too long"));
}

TEST_CASE("every frame is a multiple of 8 bytes and its pad count says how much is padding", "[msgpack][protocol]") {
    Codec client(Side::client);
    for (std::size_t n = 0; n < 24; ++n) {
        wire::OutBuffer out;
        client.encode(message(wire::Echo{Bytes(n, std::byte(0xAB))}), out);
        const Bytes f = out.flatten();
        INFO("echo payload of " << n << " bytes");
        CHECK(f.size() % 8 == 0);
        const std::size_t pad = std::size_t(f[3]);
        CHECK(pad <= 7);
        // [2, bin]: fixarray, kind, bin8 header (2 bytes), the payload
        CHECK(f.size() - msgpack_protocol::header_size - pad == 1 + 1 + 2 + n);
    }
}

TEST_CASE("frame_length needs 8 bytes, then names what is wrong with a header", "[msgpack][protocol]") {
    wire::Diagnostic diag;
    const Bytes good = raw_frame(bytes({0x91, 0x02, 0, 0, 0, 0, 0, 0}), 6);
    CHECK(msgpack_protocol::frame_length(std::span(good).first(7), max_body, diag) == 0);
    CHECK_FALSE(diag);
    CHECK(msgpack_protocol::frame_length(good, max_body, diag) == 16);
    CHECK_FALSE(diag);

    auto problem = [](Bytes f, std::size_t limit = max_body) {
        wire::Diagnostic d;
        CHECK(msgpack_protocol::frame_length(f, limit, d) == 0);
        REQUIRE(d);
        return d.message();
    };
    Bytes bad_magic = good;
    bad_magic[1] = std::byte('Q');
    CHECK_THAT(problem(bad_magic), Catch::Contains("starts with \"MP\""));
    Bytes bad_version = good;
    bad_version[2] = std::byte(2);
    CHECK_THAT(problem(bad_version), Catch::Contains("version 2, only 1 is spoken here"));
    Bytes bad_pad = good;
    bad_pad[3] = std::byte(8);
    CHECK_THAT(problem(bad_pad), Catch::Contains("pad count 8 for a body of 8 bytes"));
    CHECK_THAT(problem(raw_frame(bytes({0x90}), 3)), Catch::Contains("pad count 3 for a body of 1 bytes"));
    CHECK_THAT(problem(good, 4), Catch::Contains("message body of 8 bytes exceeds the limit of 4"));
}

TEST_CASE("truncated and garbage bodies are Errors whose diagnostics say what was wrong", "[msgpack][protocol]") {
    Codec server(Side::server);
    auto error_of = [&](const Bytes& f) {
        const auto d = decode(server, f);
        CHECK(d.result == Codec::Result::Error);
        return d.diag.message();
    };
    // [0, 1, "anonymous", []] with its last byte cut off
    const Bytes hello = bytes({0x94, 0x00, 0x01, 0xa9, 'a', 'n', 'o', 'n', 'y', 'm', 'o', 'u', 's', 0x90});
    CHECK(decode(server, raw_frame(hello)).result == Codec::Result::Message);
    CHECK_THAT(error_of(raw_frame(Bytes(hello.begin(), hello.end() - 1))), Catch::Contains("truncated"));

    Bytes cut = raw_frame(hello);
    cut.pop_back();
    CHECK_THAT(error_of(cut), Catch::Contains("the header announces 22 bytes, the frame has 21"));

    CHECK_THAT(error_of(raw_frame(bytes({0xc1}))), Catch::Contains("invalid msgpack byte"));
    CHECK_THAT(error_of(raw_frame(bytes({0x91, 0x02, 0x07}))), Catch::Contains("trailing bytes"));
    CHECK_THAT(error_of(raw_frame(bytes({0x07}))), Catch::Contains("a message is an array [kind 0..25, ...]"));
    CHECK_THAT(error_of(raw_frame(bytes({0x91, 0x1a}))), Catch::Contains("a message is an array [kind 0..25, ...]"));
    CHECK_THAT(error_of(raw_frame(bytes({0x92, 0x00, 0x01}))),
               Catch::Contains("hello message: 4 elements expected, got 2"));
    CHECK_THAT(error_of(raw_frame(bytes({0x93, 0x03, 0xa1, 'x', 0xa1, 'y'}))),
               Catch::Contains("open message: cid: expected a non-negative integer, got str"));
    CHECK_THAT(error_of(raw_frame(bytes({0x92, 0x01, 0xc0}))), Catch::Contains("a server's message, sent by a client"));
    // init of an operation nobody knows: [6, 1, 2, "stir", [], 0]
    CHECK_THAT(error_of(raw_frame(bytes({0x96, 0x06, 0x01, 0x02, 0xa4, 's', 't', 'i', 'r', 0x90, 0x00}))),
               Catch::Contains("unknown operation \"stir\""));

    const auto d = decode(server, raw_frame(bytes({0x92, 0x00, 0x01})));
    CHECK(d.diag.code == make_error_code(wire::errc::bad_value));
    CHECK(d.diag.offset == msgpack_protocol::header_size);
}

TEST_CASE("a request for an unknown operation is Ignored, unknown() naming what to answer", "[msgpack][protocol]") {
    Link link;
    const Value v = scalar_value(1);
    link.init<wire::PutRequest, wire::PutResponse>(2, v.type_ptr());
    // The client believes in operations the server does not have (ioid 40, 41, 42).
    link.client.operations().set(40, wire::OperationTypes{std::uint8_t(Command::Get), v.type_ptr()});
    link.client.operations().set(41, wire::OperationTypes{std::uint8_t(Command::Put), v.type_ptr()});
    link.client.operations().set(42, wire::OperationTypes{std::uint8_t(Command::Array), v.type_ptr()});

    auto ignored = [&](wire::Body body) {
        wire::OutBuffer out;
        link.client.encode(message(std::move(body)), out);
        const Bytes f = out.flatten();
        const auto d = decode(link.server, f);
        CHECK(d.result == Codec::Result::Ignored);
        CHECK_THAT(d.diag.message(), Catch::Contains("no such operation on this connection"));
        return link.server.unknown();
    };
    wire::GetRequest get;
    get.ioid = 40;
    get.subcmd = sub::exec | sub::destroy;
    const auto u1 = ignored(get);
    CHECK((u1.command == std::uint8_t(Command::Get) && u1.ioid == 40 && u1.subcmd == sub::destroy));

    wire::PutRequest put;
    put.ioid = 41;
    put.subcmd = sub::exec;
    put.data = v;
    put.changed = BitSet{0};
    const auto u2 = ignored(put);
    CHECK((u2.command == std::uint8_t(Command::Put) && u2.ioid == 41 && u2.subcmd == 0));

    wire::ArrayRequest length;  // an array kind on the put operation 2 is not for it either
    length.ioid = 2;
    length.subcmd = sub::process;
    const auto u3 = ignored(length);
    CHECK((u3.command == std::uint8_t(Command::Array) && u3.ioid == 2));

    SECTION("and a reply for an operation the client does not know is Ignored too") {
        wire::GetResponse stray;
        stray.ioid = 99;
        stray.subcmd = sub::exec;
        wire::OutBuffer out;
        link.server.encode(message(stray), out);
        const Bytes f = out.flatten();
        CHECK(decode(link.client, f).result == Codec::Result::Ignored);
    }
}

TEST_CASE("a double array in an aligned frame with an owner is viewed in place; misaligned, it is copied",
          "[msgpack][protocol]") {
    Link link;
    const Value v = double_array(100);
    link.init<wire::GetRequest, wire::GetResponse>(1, v.type_ptr());
    wire::GetResponse resp;
    resp.ioid = 1;
    resp.subcmd = sub::exec;
    resp.data = v;
    resp.changed = BitSet{0};
    wire::OutBuffer out;
    link.server.encode(message(resp), out);
    const Bytes f = frame_of(out);

    auto decode_copy = [&](const FrameCopy& copy) {
        wire::Message m;
        wire::Diagnostic diag;
        REQUIRE(link.client.decode(copy.bytes, m, diag, copy.owner) == Codec::Result::Message);
        return std::get<wire::GetResponse>(std::move(m.body)).data;
    };
    SECTION("aligned: the elements are those of the frame") {
        const FrameCopy copy = copy_frame(f);
        const Value got = decode_copy(copy);
        CHECK(got.equals(v));
        CHECK(points_into(got["value"].array().data(), copy.bytes));
    }
    SECTION("misaligned by 4 bytes: equal values, in memory of their own") {
        const FrameCopy copy = copy_frame(f, 4);
        const Value got = decode_copy(copy);
        CHECK(got.equals(v));
        CHECK_FALSE(points_into(got["value"].array().data(), copy.bytes));
    }
    SECTION("aligned but without an owner: copied, since nothing would keep the frame alive") {
        const FrameCopy copy = copy_frame(f);
        wire::Message m;
        wire::Diagnostic diag;
        REQUIRE(link.client.decode(copy.bytes, m, diag) == Codec::Result::Message);
        const Value got = std::get<wire::GetResponse>(m.body).data;
        CHECK(got.equals(v));
        CHECK_FALSE(points_into(got["value"].array().data(), copy.bytes));
    }
}

TEST_CASE("a 4 MiB array is sent from the value's memory, not copied into the frame", "[msgpack][protocol]") {
    Link link;
    const Value v = double_array(512 * 1024);
    const SharedArray elements = v["value"].array();
    link.init<wire::GetRequest, wire::GetResponse>(1, v.type_ptr());
    wire::GetResponse resp;
    resp.ioid = 1;
    resp.subcmd = sub::exec;
    resp.data = v;
    resp.changed = BitSet{offset_of(v, "value")};
    wire::OutBuffer out;
    link.server.encode(message(resp), out);

    CHECK(out.external_count() == 1);
    CHECK(out.external_bytes() == 4 * 1024 * 1024);
    CHECK(out.bytes().size() < 64);  // header, message head, ext header: no element copied
    bool referenced = false;
    out.for_each_piece([&](std::span<const std::byte> piece) {
        if (piece.data() == elements.data()) referenced = piece.size() == 4 * 1024 * 1024;
    });
    CHECK(referenced);

    // and the receiver views them in its frame
    const FrameCopy copy = copy_frame(frame_of(out));
    wire::Message m;
    wire::Diagnostic diag;
    REQUIRE(link.client.decode(copy.bytes, m, diag, copy.owner) == Codec::Result::Message);
    const Value got = std::get<wire::GetResponse>(m.body).data["value"];
    CHECK(got.array().span<double>()[12345] == elements.span<double>()[12345]);
    CHECK(got.array().size() == elements.size());
    CHECK(points_into(got.array().data(), copy.bytes));
}

// ---- the fuzzer's seeds (tests/fuzz/fuzz_msgpack_protocol.cpp) ---------------------------------

namespace {

namespace session = pvwire::test::msgpack_session;

// Decodes every frame of `stream` with `codec`; the results in order.
std::vector<Codec::Result> decode_stream(Codec& codec, std::span<const std::byte> stream) {
    std::vector<Codec::Result> results;
    for (const Bytes& f : frames_of([&] {
             wire::OutBuffer b;
             b.bytes().assign(stream.begin(), stream.end());
             return b;
         }())) {
        wire::Message m;
        wire::Diagnostic diag;
        results.push_back(codec.decode(f, m, diag));
        INFO(diag.message());
        CHECK((results.back() == Codec::Result::Message || std::holds_alternative<wire::Control>(m.body)));
    }
    return results;
}

void add_record(std::string& text, const std::string& description, std::uint8_t mode, std::span<const std::byte> in) {
    static const char digits[] = "0123456789abcdef";
    text += "[message]\ndescription: " + description + "\nhex:\n";
    std::vector<std::byte> input{std::byte(mode)};
    input.insert(input.end(), in.begin(), in.end());
    for (std::size_t i = 0; i < input.size(); ++i) {
        text += digits[unsigned(input[i]) >> 4];
        text += digits[unsigned(input[i]) & 15];
        text += (i % 32 == 31 || i + 1 == input.size()) ? '\n' : ' ';
    }
    text += '\n';
}

// The seed file: each session whole, in every mode, then each of its frames alone.
std::string seed_file() {
    std::string text =
        "# Seeds of tests/fuzz/fuzz_msgpack_protocol.cpp, in the record format of tests/vectors/README.md\n"
        "# (tests/fuzz/make_corpus.py makes one corpus file per record). Written by the test \"the fuzz seeds\n"
        "# of the msgpack protocol are the frames the codec writes today\" (tests/unit/msgpack/protocol_test.cpp):\n"
        "#   PVWIRE_WRITE_FUZZ_SEEDS=1 build/bin/pvwire_tests '[fuzz-seeds]'\n"
        "# First byte: the fuzzer's mode (bit 0: decoded by the client; bit 1: misaligned frames).\n\n";
    const Bytes requests = session::request_session();
    const Bytes replies = session::reply_session();
    for (std::uint8_t misaligned : {0, 2}) {
        add_record(text, "requests, decoded by the server", session::decoded_by_server | misaligned, requests);
        add_record(text, "replies, decoded by the client", session::decoded_by_client | misaligned, replies);
    }
    auto each_frame = [&](const Bytes& stream, std::uint8_t mode, const char* side) {
        wire::OutBuffer b;
        b.bytes() = stream;
        for (const Bytes& f : frames_of(b)) {
            const auto kind = msgpack_protocol::Kind(std::uint8_t(f[9]));  // [kind, ...]: fixarray, fixint
            add_record(text, std::string(msgpack_protocol::kind_name(kind)) + " alone, decoded by the " + side, mode, f);
        }
    };
    each_frame(requests, session::decoded_by_server, "server");
    each_frame(replies, session::decoded_by_client, "client");
    return text;
}

}  // namespace

TEST_CASE("the fuzz seed sessions decode frame by frame on codecs that know their operations",
          "[msgpack][protocol][fuzz-seeds]") {
    Codec server(Side::server);
    session::teach_server(server);
    const auto requests = decode_stream(server, session::request_session());
    CHECK(requests.size() == 22);
    CHECK(std::count(requests.begin(), requests.end(), Codec::Result::Message) == 22);

    Codec client(Side::client);
    session::teach_client(client);
    const auto replies = decode_stream(client, session::reply_session());
    REQUIRE(replies.size() == 19);
    CHECK(std::count(replies.begin(), replies.end(), Codec::Result::Message) == 18);
    CHECK(replies.back() == Codec::Result::Error);  // the error message ends the session
}

TEST_CASE("the fuzz seeds of the msgpack protocol are the frames the codec writes today",
          "[msgpack][protocol][fuzz-seeds]") {
    const std::string path = std::string(PVWIRE_SOURCE_DIR) + "/tests/fuzz/seeds/msgpack_protocol/sessions.txt";
    const std::string want = seed_file();
    if (std::getenv("PVWIRE_WRITE_FUZZ_SEEDS")) {
        std::ofstream(path, std::ios::binary) << want;
        WARN("wrote " << path);
    }
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    const std::string have((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO("the codec writes other frames now; rewrite the seeds with PVWIRE_WRITE_FUZZ_SEEDS=1 build/bin/pvwire_tests "
         "'[fuzz-seeds]' and review the diff");
    CHECK(have == want);
}
