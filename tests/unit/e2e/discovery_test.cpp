// End to end on loopback (isolated configuration: 127.0.0.1, ephemeral ports): discovery by
// search and by beacon, validation with both auth methods, echo, many clients, and peers that
// misbehave. Every wait is bounded.
#include <catch2/catch.hpp>

#include <pvwire/client/context.hpp>
#include <pvwire/net/tcp_transport.hpp>
#include <pvwire/protocol/client_handshake.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>
#include <pvwire/wire/connection_codec.hpp>
#include <pvwire/wire/framing.hpp>

#include <future>
#include <thread>

using namespace pvwire;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Serves `name` as a double NTScalar.
void serve(server::Server& srv, const std::string& name) {
    srv.add_pv(name, server::SharedPV::create(name, nt::NTScalar{TypeCode::Float64}.create()));
}

net::ServerConfig quick_server() {
    auto c = net::ServerConfig::isolated();
    c.beacon_period = 0.2;  // fast beacons for the tests
    c.beacon_burst = 1000;
    return c;
}

template <class Pred> bool eventually(Pred p, std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (p()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return p();
}

// A bare client connection driven by hand: handshake, then echoes.
struct RawClient : net::StreamTransport::Handler, std::enable_shared_from_this<RawClient> {
    std::shared_ptr<net::StreamTransport> transport;
    wire::ConnectionCodec codec;
    protocol::ClientHandshake hs{protocol::ClientHandshake::Options{{"anonymous"}, "u", "h"}};
    std::atomic<int> echoes{0};
    std::atomic<bool> validated{false}, closed{false};
    std::vector<std::byte> last_echo;

    void on_frame(std::span<const std::byte> frame, const std::shared_ptr<const void>&) override {
        wire::Message m;
        wire::Diagnostic d;
        if (codec.decode(frame, m, d) != wire::ConnectionCodec::Result::Message) return;
        wire::OutBuffer out;
        if (hs.on_message(m, out)) {
            if (!out.empty()) transport->send(std::move(out));
            if (hs.validated()) validated = true;
            return;
        }
        if (auto* e = std::get_if<wire::Echo>(&m.body)) {
            last_echo = e->payload;
            ++echoes;
        }
    }
    void on_closed(std::error_code, const std::string&) override { closed = true; }
    void echo(std::vector<std::byte> payload) {
        wire::Message m;
        m.order = hs.order();
        m.body = wire::Echo{std::move(payload)};
        wire::OutBuffer out;
        wire::encode(m, out);
        transport->send(std::move(out));
    }
};

std::shared_ptr<RawClient> raw_connect(asio::io_context& io, std::uint16_t port) {
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    auto c = std::make_shared<RawClient>();
    c->transport = net::TcpTransport::create(std::move(s));
    c->transport->start(c);
    return c;
}

}  // namespace

TEST_CASE("a client finds a served name by search and connects", "[e2e]") {
    server::Server srv(quick_server());
    serve(srv, "demo:one");
    srv.start();
    client::Context ctx(srv.client_config());
    auto ch = ctx.channel("demo:one");
    REQUIRE(ch->wait_connected(5000ms));
    REQUIRE(ch->server());
    CHECK(ch->server()->port() == srv.tcp_port());
    CHECK(ch->link()->auth_method() == "ca");
    CHECK(srv.stats().searches >= 1);
    CHECK(srv.stats().search_replies >= 1);
    auto other = ctx.channel("demo:nobody");
    CHECK_FALSE(other->wait_connected(300ms));
    CHECK(other->state() == client::Channel::State::Searching);
}

TEST_CASE("channels to one server share one connection", "[e2e]") {
    server::Server srv(quick_server());
    for (int i = 0; i < 50; ++i) serve(srv, "many:" + std::to_string(i));
    srv.start();
    client::Context ctx(srv.client_config());
    std::vector<std::shared_ptr<client::Channel>> chans;
    for (int i = 0; i < 50; ++i) chans.push_back(ctx.channel("many:" + std::to_string(i)));
    for (auto& c : chans) REQUIRE(c->wait_connected(5000ms));
    CHECK(srv.stats().connections_accepted == 1);
    CHECK(chans.front()->link() == chans.back()->link());
}

TEST_CASE("validation works with ca and with anonymous", "[e2e]") {
    server::Server srv(quick_server());
    srv.start();
    const tcp::endpoint ep(asio::ip::address_v4::loopback(), srv.tcp_port());
    {
        client::Context ctx(srv.client_config());
        auto link = ctx.link(ep);
        REQUIRE(link->wait_validated(5000ms));
        CHECK(link->auth_method() == "ca");
    }
    {
        client::ClientOptions o;
        o.auth_methods = {"anonymous"};
        client::Context ctx(srv.client_config(), o);
        auto link = ctx.link(ep);
        REQUIRE(link->wait_validated(5000ms));
        CHECK(link->auth_method() == "anonymous");
    }
}

TEST_CASE("echo payloads come back intact", "[e2e]") {
    server::Server srv(quick_server());
    srv.start();
    client::Context ctx(srv.client_config());
    auto link = ctx.link(tcp::endpoint(asio::ip::address_v4::loopback(), srv.tcp_port()));
    REQUIRE(link->wait_validated(5000ms));
    std::vector<std::future<bool>> results;
    for (int i = 0; i < 100; ++i) {
        std::vector<std::byte> payload(std::size_t(i * 37), std::byte(i));
        auto p = std::make_shared<std::promise<bool>>();
        results.push_back(p->get_future());
        link->echo(payload, [p, payload](std::error_code ec, std::vector<std::byte> back) { p->set_value(!ec && back == payload); });
    }
    for (auto& r : results) {
        REQUIRE(r.wait_for(5s) == std::future_status::ready);
        CHECK(r.get());
    }
    CHECK(srv.stats().echoes >= 100);
}

TEST_CASE("200 concurrent clients validate and echo", "[e2e]") {
    server::Server srv(quick_server());
    srv.start();
    asio::io_context io;
    std::vector<std::shared_ptr<RawClient>> clients;
    for (int i = 0; i < 200; ++i) clients.push_back(raw_connect(io, srv.tcp_port()));
    std::thread t([&] { io.run_for(10s); });
    CHECK(eventually([&] {
        return std::all_of(clients.begin(), clients.end(), [](auto& c) { return c->validated.load(); });
    }));
    for (auto& c : clients) c->echo(std::vector<std::byte>(64, std::byte(7)));
    CHECK(eventually([&] { return std::all_of(clients.begin(), clients.end(), [](auto& c) { return c->echoes == 1; }); }));
    CHECK(srv.stats().connections_open == 200);
    for (auto& c : clients) c->transport->close("done");
    CHECK(eventually([&] { return srv.stats().connections_open == 0; }));
    io.stop();
    t.join();
}

TEST_CASE("a client that stops reading is dropped at the output bound, others are served", "[e2e]") {
    auto cfg = quick_server();
    cfg.max_pending_output = 256 * 1024;
    server::Server srv(cfg);
    srv.start();
    asio::io_context io;
    // the slow one: validates by hand, then floods echo requests and never reads
    tcp::socket slow(io);
    slow.connect(tcp::endpoint(asio::ip::address_v4::loopback(), srv.tcp_port()));
    std::vector<std::byte> greeting(64);
    slow.read_some(asio::buffer(greeting));
    {
        wire::Message v;
        v.body = wire::ValidationResponse{0x10000, 0x7FFF, 0, "anonymous", Value()};
        const auto b = wire::encode_to_bytes(v);
        asio::write(slow, asio::buffer(b.data(), b.size()));
    }
    auto good = raw_connect(io, srv.tcp_port());
    std::thread t([&] { io.run_for(20s); });
    REQUIRE(eventually([&] { return good->validated.load(); }));

    wire::Message e;
    e.body = wire::Echo{std::vector<std::byte>(64 * 1024, std::byte(1))};
    const auto big = wire::encode_to_bytes(e);
    boost::system::error_code ec;
    int sent = 0;
    slow.non_blocking(true);
    for (int i = 0; i < 4000 && !ec; ++i) {  // until the kernel or the server gives up
        std::size_t off = 0;
        while (off < big.size() && !ec) {
            auto n = slow.write_some(asio::buffer(big.data() + off, big.size() - off), ec);
            if (ec == asio::error::would_block) {
                ec = {};
                if (srv.stats().connections_dropped > 0) break;
                std::this_thread::sleep_for(1ms);
                continue;
            }
            off += n;
        }
        ++sent;
        if (srv.stats().connections_dropped > 0) break;
    }
    CHECK(eventually([&] { return srv.stats().connections_dropped == 1; }));
    good->echo(std::vector<std::byte>(10, std::byte(3)));
    CHECK(eventually([&] { return good->echoes == 1; }));
    CHECK(good->last_echo == std::vector<std::byte>(10, std::byte(3)));
    good->transport->close("done");
    io.stop();
    t.join();
}

TEST_CASE("garbage, oversized headers and half messages are dropped without affecting others", "[e2e]") {
    auto cfg = quick_server();
    cfg.conn_tmo = 0.3;  // idle timeout 0.4 s
    cfg.max_message_size = 1 << 20;
    server::Server srv(cfg);
    srv.start();
    asio::io_context io;
    auto good = raw_connect(io, srv.tcp_port());
    std::thread t([&] { io.run_for(20s); });
    REQUIRE(eventually([&] { return good->validated.load(); }));

    auto connect_and_send = [&](std::vector<std::uint8_t> bytes) {
        auto s = std::make_shared<tcp::socket>(io);
        s->connect(tcp::endpoint(asio::ip::address_v4::loopback(), srv.tcp_port()));
        asio::write(*s, asio::buffer(bytes));
        return s;
    };
    const auto before = srv.stats().connections_dropped;
    auto garbage = connect_and_send({'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '1', '\r', '\n'});
    auto oversized = connect_and_send({0xCA, 0x02, 0x00, 0x02, 0xFF, 0xFF, 0xFF, 0x7F});
    auto half = connect_and_send({0xCA, 0x02, 0x00, 0x02, 0x10, 0x00, 0x00, 0x00, 0x01, 0x02});
    // the good one keeps talking (so it is not idle itself) and keeps being answered
    int asked = 0;
    CHECK(eventually([&] {
        good->echo(std::vector<std::byte>(5, std::byte(9)));
        ++asked;
        return srv.stats().connections_dropped >= before + 3;
    }));
    CHECK(eventually([&] { return good->echoes == asked; }));
    CHECK_FALSE(good->closed);
    io.stop();
    t.join();
}

TEST_CASE("a new server is noticed by its beacons and pending names are found quickly", "[e2e]") {
    // The client searches a UDP port where no server listens yet (held by this socket so that
    // nobody else takes it), until its back-off has grown: searches go out at 0, 1, 2, 4 and
    // 7 s, the next one at 11 s.
    asio::io_context io;
    auto reserved = std::make_unique<net::udp::socket>(io, net::udp::endpoint(asio::ip::address_v4::loopback(), 0));
    const auto search_port = reserved->local_endpoint().port();
    auto client_cfg = net::ClientConfig::isolated();
    client_cfg.address_list = {net::udp::endpoint(asio::ip::address_v4::loopback(), search_port)};
    client::Context ctx(client_cfg);
    std::vector<std::shared_ptr<client::Channel>> pending;
    for (const char* name : {"late:a", "late:b", "late:c", "late:d"}) pending.push_back(ctx.channel(name));
    REQUIRE(eventually([&] { return ctx.stats().searches_sent >= 5; }, 10000ms));
    for (auto& ch : pending) REQUIRE(ch->state() == client::Channel::State::Searching);

    // The server appears, beaconing to the client. Its first beacon brings the pending names
    // forward (spread over 1 s): they connect well before the regular search 4 s from now.
    reserved.reset();
    auto cfg = quick_server();
    cfg.broadcast_port = search_port;
    cfg.beacon_address_list = {net::udp::endpoint(asio::ip::address_v4::loopback(), ctx.beacon_port())};
    server::Server srv(cfg);
    for (const char* name : {"late:a", "late:b", "late:c", "late:d"}) serve(srv, name);
    const auto started = std::chrono::steady_clock::now();
    srv.start();
    for (auto& ch : pending) REQUIRE(ch->wait_connected(10000ms));
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    INFO("all pending names connected " << took.count() << " ms after the server started");
    CHECK(took <= 2500ms);
    CHECK(ctx.stats().beacons >= 1);
    CHECK(ctx.stats().servers_noticed >= 1);
}

TEST_CASE("a restarted server is noticed by its new GUID and the client reconnects", "[e2e]") {
    auto cfg = quick_server();
    auto srv = std::make_unique<server::Server>(cfg);
    serve(*srv, "restart:pv");
    srv->start();
    const auto udp_port = srv->udp_port();
    const auto tcp_port = srv->tcp_port();
    client::Context ctx(srv->client_config());
    // point beacons at the client now that its port is known: restart with that list
    auto ch = ctx.channel("restart:pv");
    REQUIRE(ch->wait_connected(5000ms));
    const auto first_guid = srv->guid();
    srv.reset();  // server gone: the connection drops, the channel searches again
    CHECK(eventually([&] { return ch->state() == client::Channel::State::Searching; }));

    cfg.broadcast_port = udp_port;  // same search port and TCP port: looks like a restart
    cfg.server_port = tcp_port;
    cfg.beacon_address_list = {net::udp::endpoint(asio::ip::address_v4::loopback(), ctx.beacon_port())};
    server::Server again(cfg);
    serve(again, "restart:pv");
    again.start();
    CHECK_FALSE(again.guid() == first_guid);
    REQUIRE(ch->wait_connected(10000ms));
    CHECK(ch->server()->port() == again.tcp_port());
    CHECK(eventually([&] { return ctx.stats().beacons >= 1; }));
    CHECK(ctx.stats().connections_lost >= 1);
}

TEST_CASE("names are found through a name server over TCP when UDP finds nothing", "[e2e]") {
    server::Server srv(quick_server());
    serve(srv, "ns:pv");
    srv.start();
    auto cfg = net::ClientConfig::isolated();
    cfg.address_list = {net::udp::endpoint(asio::ip::address_v4::loopback(), 9)};  // nobody there
    cfg.name_servers = {net::HostPort{"127.0.0.1", srv.tcp_port(), true, std::nullopt, {}}};
    client::Context ctx(cfg);
    auto ch = ctx.channel("ns:pv");
    REQUIRE(ch->wait_connected(5000ms));
    CHECK(ch->server()->port() == srv.tcp_port());
    CHECK(srv.stats().searches >= 1);  // the search arrived over TCP
}

TEST_CASE("a server that stops answering is detected within the EPICS timeout", "[e2e]") {
    // a fake server: greets and validates, then never sends anything again
    asio::io_context io;
    tcp::acceptor acc(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    std::shared_ptr<tcp::socket> held;
    acc.async_accept([&](boost::system::error_code ec, tcp::socket s) {
        if (ec) return;
        held = std::make_shared<tcp::socket>(std::move(s));
        protocol::ServerHandshake hs;
        wire::OutBuffer out;
        hs.start(out);
        const auto b = out.flatten();
        asio::write(*held, asio::buffer(b.data(), b.size()));
        wire::Message ok;
        ok.from_server = true;
        ok.body = wire::ConnectionValidated{};
        const auto v = wire::encode_to_bytes(ok);
        asio::write(*held, asio::buffer(v.data(), v.size()));
    });
    std::thread t([&] { io.run_for(8s); });
    auto cfg = net::ClientConfig::isolated();
    cfg.conn_tmo = 1.5;  // idle timeout 2 s, echo every 1 s (never answered)
    client::Context ctx(cfg);
    auto link = ctx.link(acc.local_endpoint());
    REQUIRE(link->wait_validated(3000ms));
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(eventually([&] { return link->state() == client::ServerLink::State::Closed; }, 6000ms));
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took >= 1500ms);
    CHECK(took <= 4500ms);
    CHECK(ctx.stats().echoes_sent >= 1);
    io.stop();
    t.join();
}
