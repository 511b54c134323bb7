// The msgpack protocol end to end: the real client and server over TCP and WebSockets, every
// operation; both protocols on one server at once, each seeing the other's writes; bad input
// on the msgpack port answered with an error and a close while other clients go on.
#include <catch2/catch.hpp>

#include "support/every_operation.hpp"

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/msgpack/protocol.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <msgpack.hpp>

#include <thread>

using namespace pvwire;
using pvwire::test::add_test_pvs;
using pvwire::test::check_every_operation;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

client::ClientOptions direct_only() {
    client::ClientOptions o;
    o.search = false;
    return o;
}

net::ServerConfig with_msgpack() {
    auto cfg = net::ServerConfig::isolated();
    cfg.msgpack_port = 0;
    cfg.http_port = 0;
    return cfg;
}

std::string msgpack_tcp(const server::Server& srv) {
    return "msgpack+tcp://127.0.0.1:" + std::to_string(srv.msgpack_port());
}

// Waits for a monitor update whose value is `want`.
bool sees(client::Subscription& sub, double want) {
    for (int i = 0; i < 100; ++i)
        for (auto& e : sub.wait(50ms))
            if (e.kind == client::MonitorEvent::Kind::Data && e.value["value"].as<double>() == want) return true;
    return false;
}

// A raw TCP peer of the msgpack port: writes bytes, reads until the server closes.
struct RawPeer {
    asio::io_context io;
    asio::ip::tcp::socket s{io};

    explicit RawPeer(std::uint16_t port) { s.connect({asio::ip::make_address("127.0.0.1"), port}); }
    void write(const std::vector<std::byte>& bytes) { asio::write(s, asio::buffer(bytes)); }
    // Everything the server sends until it closes (or 5 s pass).
    std::vector<std::byte> read_until_closed() {
        std::vector<std::byte> got;
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        s.non_blocking(true);
        while (std::chrono::steady_clock::now() < deadline) {
            std::byte buf[4096];
            boost::system::error_code ec;
            const auto n = s.read_some(asio::buffer(buf), ec);
            got.insert(got.end(), buf, buf + n);
            if (ec == asio::error::would_block) {
                std::this_thread::sleep_for(5ms);
                continue;
            }
            if (ec) return got;  // eof: closed
        }
        FAIL("the server did not close the connection");
        return got;
    }
};

// The frames in `bytes` decoded as a client would; the texts of their error messages.
std::vector<std::string> error_texts(const std::vector<std::byte>& bytes) {
    std::vector<std::string> texts;
    std::span<const std::byte> rest(bytes);
    while (rest.size() >= msgpack_protocol::header_size) {
        wire::Diagnostic diag;
        const auto len = msgpack_protocol::frame_length(rest, 1 << 20, diag);
        REQUIRE_FALSE(diag);
        REQUIRE(len <= rest.size());
        const std::size_t pad = std::size_t(rest[3]);
        auto body = rest.subspan(8, len - 8 - pad);
        auto oh = msgpack::unpack(reinterpret_cast<const char*>(body.data()), body.size());
        const auto& o = oh.get();
        REQUIRE(o.type == msgpack::type::ARRAY);
        if (o.via.array.ptr[0].as<int>() == int(msgpack_protocol::Kind::error))
            texts.push_back(o.via.array.ptr[1].as<std::string>());
        rest = rest.subspan(len);
    }
    return texts;
}

std::vector<std::byte> frame(const std::vector<std::byte>& body, std::uint8_t version = 1) {
    std::vector<std::byte> f{std::byte('M'), std::byte('P'), std::byte(version), std::byte(0)};
    for (int i = 0; i < 4; ++i) f.push_back(std::byte(body.size() >> (8 * i)));
    f.insert(f.end(), body.begin(), body.end());
    return f;
}

std::vector<std::byte> packed(const msgpack::sbuffer& b) {
    const auto* p = reinterpret_cast<const std::byte*>(b.data());
    return {p, p + b.size()};
}

}  // namespace

TEST_CASE("every operation over the msgpack protocol on TCP", "[e2e][msgpack]") {
    server::Server srv(with_msgpack());
    add_test_pvs(srv);
    srv.start();
    REQUIRE(srv.msgpack_port() != 0);
    client::Context ctx(net::ClientConfig::isolated(), direct_only());
    check_every_operation(ctx, msgpack_tcp(srv));
    CHECK(srv.stats().connections_accepted == 1);
}

TEST_CASE("every operation over the msgpack protocol on WebSockets", "[e2e][msgpack]") {
    auto cfg = with_msgpack();
    cfg.web_write = true;  // /msgpack on the HTTP port is a web connection (docs/pvws.md)
    server::Server srv(cfg);
    add_test_pvs(srv);
    srv.start();
    client::Context ctx(net::ClientConfig::isolated(), direct_only());
    check_every_operation(ctx, "msgpack+ws://127.0.0.1:" + std::to_string(srv.http_port()) + "/msgpack");
}

TEST_CASE("a web connection without web_write may read but not write", "[e2e][msgpack]") {
    server::Server srv(with_msgpack());
    add_test_pvs(srv);
    srv.start();
    client::Context ctx(net::ClientConfig::isolated(), direct_only());
    client::OpOptions where;
    where.server = "msgpack+ws://127.0.0.1:" + std::to_string(srv.http_port()) + "/msgpack";
    CHECK(ctx.get("t:dbl", where).value.valid());
    CHECK_THROWS_WITH(ctx.put("t:dbl", {{"", "1"}}, where), Catch::Contains("writing from the web is disabled"));
}

TEST_CASE("pvAccess and msgpack on one server: each protocol sees the other's puts", "[e2e][msgpack]") {
    server::Server srv(with_msgpack());
    add_test_pvs(srv);
    srv.start();
    client::Context pva(srv.client_config());
    client::Context mp(net::ClientConfig::isolated(), direct_only());
    client::OpOptions over_msgpack;
    over_msgpack.server = msgpack_tcp(srv);
    client::MonitorOptions monitor_msgpack;
    monitor_msgpack.server = over_msgpack.server;

    auto pva_sub = pva.monitor("t:dbl");
    auto mp_sub = mp.monitor("t:dbl", monitor_msgpack);
    REQUIRE(sees(*pva_sub, 1.5));
    REQUIRE(sees(*mp_sub, 1.5));

    mp.put("t:dbl", {{"", "11.5"}}, over_msgpack);  // a put over msgpack, seen by pvAccess
    CHECK(sees(*pva_sub, 11.5));
    pva.put("t:dbl", {{"", "-3.25"}});  // and the other way
    CHECK(sees(*mp_sub, -3.25));
    CHECK(mp.get("t:dbl", over_msgpack).value["value"].as<double>() == -3.25);
}

TEST_CASE("large arrays travel over msgpack and arrive intact", "[e2e][msgpack]") {
    server::Server srv(with_msgpack());
    Value v = nt::NTScalarArray{TypeCode::Float64}.create();
    std::vector<double> big(512 * 1024);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = double(i) * 0.5;
    v["value"].set(big);
    auto pv = server::SharedPV::create("t:big", v);
    srv.add_pv("t:big", pv);
    srv.start();
    client::Context ctx(net::ClientConfig::isolated(), direct_only());
    client::OpOptions o;
    o.server = msgpack_tcp(srv);
    auto got = ctx.get("t:big", o).value["value"].as<std::vector<double>>();
    CHECK(got == big);

    client::MonitorOptions mo;
    mo.server = o.server;
    auto sub = ctx.monitor("t:big", mo);
    std::size_t updates = 0;
    for (int i = 0; i < 100 && updates == 0; ++i)
        for (auto& e : sub->wait(50ms))
            if (e.kind == client::MonitorEvent::Kind::Data) {
                CHECK(e.value["value"].as<std::vector<double>>() == big);
                ++updates;
            }
    CHECK(updates == 1);
}

TEST_CASE("bad input on the msgpack port: an error reply, a close, and nobody else affected", "[e2e][msgpack]") {
    server::Server srv(with_msgpack());
    add_test_pvs(srv);
    srv.start();
    client::Context good(net::ClientConfig::isolated(), direct_only());
    client::OpOptions o;
    o.server = msgpack_tcp(srv);
    REQUIRE(good.get("t:dbl", o).value["value"].as<double>() == 1.5);

    SECTION("not a msgpack protocol frame") {
        RawPeer peer(srv.msgpack_port());
        peer.write({std::byte(0xCA), std::byte(2), std::byte(0), std::byte(1), std::byte(0), std::byte(0),
                    std::byte(0), std::byte(0)});
        const auto texts = error_texts(peer.read_until_closed());
        REQUIRE(texts.size() == 1);
        CHECK_THAT(texts[0], Catch::Contains("\"MP\""));
    }
    SECTION("a frame whose body is not msgpack") {
        RawPeer peer(srv.msgpack_port());
        peer.write(frame({std::byte(0xc1), std::byte(0), std::byte(0), std::byte(0)}));
        const auto texts = error_texts(peer.read_until_closed());
        REQUIRE(texts.size() == 1);
        CHECK_THAT(texts[0], Catch::Contains("invalid msgpack byte 0xc1"));
    }
    SECTION("a message before the hello") {
        RawPeer peer(srv.msgpack_port());
        msgpack::sbuffer b;
        msgpack::packer<msgpack::sbuffer> pk(b);
        pk.pack_array(3);
        pk.pack(3);
        pk.pack(1);
        pk.pack(std::string("t:dbl"));
        peer.write(frame(packed(b)));
        const auto texts = error_texts(peer.read_until_closed());
        REQUIRE(texts.size() == 1);
        CHECK_THAT(texts[0], Catch::Contains("before validation"));
    }
    SECTION("a hello with the wrong shape") {
        RawPeer peer(srv.msgpack_port());
        msgpack::sbuffer b;
        msgpack::packer<msgpack::sbuffer> pk(b);
        pk.pack_array(2);
        pk.pack(0);
        pk.pack(std::string("one"));
        peer.write(frame(packed(b)));
        const auto texts = error_texts(peer.read_until_closed());
        REQUIRE(texts.size() == 1);
        CHECK_THAT(texts[0], Catch::Contains("hello message: 4 elements expected, got 2"));
    }
    // the well-behaved client was not disturbed
    CHECK(good.get("t:dbl", o).value["value"].as<double>() == 1.5);
    CHECK(srv.stats().connections_dropped >= 1);
}
