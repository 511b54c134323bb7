// The transport seam end to end: the real client and server over the in-memory pipe (no
// socket at all), over a UNIX socket and over WebSockets, every operation on each; direct
// server addresses; the fault-injecting pipe driving the real client and server state.
#include <catch2/catch.hpp>

#include "support/every_operation.hpp"

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/net/pipe_transport.hpp>
#include <pvwire/net/tcp_transport.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <filesystem>
#include <thread>

using namespace pvwire;
using pvwire::test::add_test_pvs;
using pvwire::test::check_every_operation;
using pvwire::test::ready;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

std::string temp_socket_path(const char* tag) {
    return (std::filesystem::temp_directory_path() /
            ("pvwire-test-" + std::to_string(::getpid()) + "-" + tag + ".sock"))
        .string();
}

// Stops a client and a server that run on `io`, then lets `io` finish what they closed (the
// pipe ends hold each other until both are closed) before the runner thread returns.
void stop_on(asio::io_context& io, std::thread& runner, client::Context& ctx, server::Server& srv,
             asio::executor_work_guard<asio::io_context::executor_type>& work) {
    ctx.stop();
    srv.stop();
    work.reset();
    std::thread watchdog([&io] {
        for (int i = 0; i < 500 && !io.stopped(); ++i) std::this_thread::sleep_for(10ms);
        io.stop();  // a bound, never the normal way out
    });
    runner.join();
    watchdog.join();
}

// A client that searches nowhere: it reaches servers only by address.
client::ClientOptions direct_only(std::map<std::string, net::Connector> connectors = {}) {
    client::ClientOptions o;
    o.search = false;
    o.connectors = std::move(connectors);
    return o;
}

}  // namespace

TEST_CASE("every operation over the in-memory pipe, with no socket at all", "[e2e][transports]") {
    // One io_context runs both: the client and the server embed in the application's loop.
    asio::io_context io;
    server::Server srv(net::ServerConfig::isolated(), io.get_executor());  // never start()ed: no socket
    add_test_pvs(srv);
    std::shared_ptr<net::PipeTransport> server_end;
    auto pipe_connector = [&](const net::ServerAddress&, asio::any_io_executor ex, const net::TransportLimits& limits,
                              net::ConnectDone done) {
        auto [client_end, other] = net::PipeTransport::make_pair(ex, limits);
        server_end = other;
        srv.accept(other);
        done({}, client_end, {});
    };
    client::Context ctx(net::ClientConfig::isolated(), direct_only({{"pipe", pipe_connector}}), io.get_executor());
    auto work = asio::make_work_guard(io);
    std::thread runner([&] { io.run(); });

    check_every_operation(ctx, "pva+pipe://in-memory");
    CHECK(srv.stats().connections_accepted == 1);  // every operation shared one connection
    CHECK(srv.stats().connections_open == 1);

    stop_on(io, runner, ctx, srv, work);
}

TEST_CASE("every operation over a UNIX domain socket, served beside TCP", "[e2e][transports]") {
    auto cfg = net::ServerConfig::isolated();
    cfg.unix_path = temp_socket_path("ops");
    server::Server srv(cfg);
    add_test_pvs(srv);
    srv.start();
    REQUIRE(std::filesystem::exists(cfg.unix_path));
    client::Context ctx(net::ClientConfig::isolated(), direct_only());
    check_every_operation(ctx, "pva+unix://" + cfg.unix_path);
    // a searched client still finds the same PVs over TCP
    client::Context searching(srv.client_config());
    CHECK(searching.get("t:dbl").value["value"].as<double>() == 7.5);
    srv.stop();
    CHECK_FALSE(std::filesystem::exists(cfg.unix_path));  // the listener removes its file
}

TEST_CASE("every operation over WebSockets on the server's HTTP port", "[e2e][transports]") {
    auto cfg = net::ServerConfig::isolated();
    cfg.http_port = 0;
    server::Server srv(cfg);
    add_test_pvs(srv);
    srv.start();
    REQUIRE(srv.http_port() != 0);
    client::Context ctx(net::ClientConfig::isolated(), direct_only());
    check_every_operation(ctx, "pva+ws://127.0.0.1:" + std::to_string(srv.http_port()) + "/pva");
}

TEST_CASE("a direct TCP address needs no search", "[e2e][transports]") {
    server::Server srv(net::ServerConfig::isolated());
    add_test_pvs(srv);
    srv.start();
    client::Context ctx(net::ClientConfig::isolated(), direct_only());
    check_every_operation(ctx, "127.0.0.1:" + std::to_string(srv.tcp_port()));
    // a channel handle on a chosen server connects too
    auto ch = ctx.channel("t:dbl", "pva://127.0.0.1:" + std::to_string(srv.tcp_port()));
    CHECK(ch->wait_connected(5s));
}

TEST_CASE("bad server addresses fail at once with a sentence saying why", "[e2e][transports]") {
    client::Context ctx(net::ClientConfig::isolated(), direct_only());
    auto fails_with = [&](const std::string& server, const std::string& words) {
        client::OpOptions o;
        o.server = server;
        auto [ec, r] = ready(ctx.async_get("x", o, asio::use_future));
        CHECK(ec == client::errc::bad_address);
        INFO(r.status.message);
        CHECK(r.status.message.find(words) != std::string::npos);
    };
    fails_with("pva+carrier-pigeon://loft:1", "no connector for the transport \"carrier-pigeon\"");
    fails_with("pva+unix://relative/path", "absolute path");
    fails_with("127.0.0.1:99999", "bad port");
    fails_with("ftp://host", "unknown protocol \"ftp\"");
}

TEST_CASE("server addresses parse and print back", "[net][transports]") {
    auto round_trip = [](const std::string& text, const std::string& printed) {
        std::string err;
        auto a = net::ServerAddress::parse(text, 5075, &err);
        INFO(text << ": " << err);
        REQUIRE(a);
        CHECK(a->to_string() == printed);
        CHECK(net::ServerAddress::parse(printed, 5075)->to_string() == printed);
        return *a;
    };
    CHECK(round_trip("10.0.0.1", "10.0.0.1:5075").transport == "tcp");
    CHECK(round_trip("pva://host:6000", "host:6000").port == 6000);
    CHECK(round_trip("[::1]:5075", "[::1]:5075").host == "::1");
    CHECK(round_trip("pva+unix:///run/pv.sock", "pva+unix:///run/pv.sock").path == "/run/pv.sock");
    CHECK(round_trip("pva+ws://h:8080", "pva+ws://h:8080/pva").path == "/pva");
    CHECK(round_trip("msgpack+ws://h:8080", "msgpack+ws://h:8080/msgpack").protocol == net::Protocol::msgpack);
    CHECK(round_trip("msgpack+tcp://h:7000", "msgpack+tcp://h:7000").transport == "tcp");
    CHECK(round_trip("pva+tls://h:5076", "pva+tls://h:5076").transport == "tls");
    std::string err;
    CHECK_FALSE(net::ServerAddress::parse("::1:5075", 5075, &err));
    CHECK(err.find("brackets") != std::string::npos);
}

TEST_CASE("a direct channel reconnects when its server comes back", "[e2e][transports]") {
    auto cfg = net::ServerConfig::isolated();
    cfg.unix_path = temp_socket_path("reconnect");
    auto srv = std::make_unique<server::Server>(cfg);
    add_test_pvs(*srv);
    srv->start();
    client::Context ctx(net::ClientConfig::isolated(), direct_only());
    auto ch = ctx.channel("t:dbl", "pva+unix://" + cfg.unix_path);
    REQUIRE(ch->wait_connected(5s));
    srv.reset();  // gone
    for (int i = 0; i < 50 && ch->state() == client::Channel::State::Connected; ++i) std::this_thread::sleep_for(20ms);
    CHECK(ch->state() != client::Channel::State::Connected);
    srv = std::make_unique<server::Server>(cfg);
    add_test_pvs(*srv);
    srv->start();
    CHECK(ch->wait_connected(5s));
}

TEST_CASE("pipe faults reach the real client and server: failed writes and reads, byte-by-byte delivery",
          "[e2e][transports]") {
    asio::io_context io;
    server::Server srv(net::ServerConfig::isolated(), io.get_executor());
    add_test_pvs(srv);
    std::vector<std::shared_ptr<net::PipeTransport>> client_ends, server_ends;
    std::function<void(net::PipeTransport&, net::PipeTransport&)> inject = [](auto&, auto&) {};
    auto pipe_connector = [&](const net::ServerAddress&, asio::any_io_executor ex, const net::TransportLimits& limits,
                              net::ConnectDone done) {
        auto [c, s] = net::PipeTransport::make_pair(ex, limits);
        inject(*c, *s);
        client_ends.push_back(c);
        server_ends.push_back(s);
        srv.accept(s);
        done({}, c, {});
    };
    client::Context ctx(net::ClientConfig::isolated(), direct_only({{"pipe", pipe_connector}}), io.get_executor());
    auto work = asio::make_work_guard(io);
    std::thread runner([&] { io.run(); });
    client::OpOptions o;
    o.server = "pva+pipe://faulty";
    o.timeout = 2s;

    SECTION("every frame split into single bytes in both directions still works") {
        inject = [](net::PipeTransport& c, net::PipeTransport& s) {
            c.set_chunking(1);
            s.set_chunking(1);
        };
        check_every_operation(ctx, o.server);
    }
    SECTION("the server's 3rd write fails: the client sees the loss, reconnects and succeeds") {
        inject = [&](net::PipeTransport&, net::PipeTransport& s) {
            if (server_ends.empty()) s.fail_write_after(3);
        };
        auto sub_options = client::MonitorOptions{};
        sub_options.server = o.server;
        auto sub = ctx.monitor("t:dbl", sub_options);
        bool disconnected = false;
        double last = 0;
        for (int i = 0; i < 100 && !(disconnected && last == 1.5); ++i)
            for (auto& e : sub->wait(50ms)) {
                if (e.kind == client::MonitorEvent::Kind::Disconnected) disconnected = true;
                if (e.kind == client::MonitorEvent::Kind::Data) last = e.value["value"].as<double>();
            }
        CHECK(server_ends.size() >= 2);  // the first connection died, a second one serves
        CHECK(last == 1.5);
        CHECK(ctx.get("t:dbl", o).value["value"].as<double>() == 1.5);
        CHECK(srv.stats().connections_open == 1);
    }
    SECTION("the client's 2nd read fails: the operation fails or retries, the server drops that connection") {
        inject = [&](net::PipeTransport& c, net::PipeTransport&) {
            if (client_ends.empty()) c.fail_read_after(2);
        };
        auto [ec, r] = ready(ctx.async_get("t:dbl", o, asio::use_future));
        if (ec) CHECK(ec == client::errc::disconnected);
        CHECK(ctx.get("t:dbl", o).value["value"].as<double>() == 1.5);
        for (int i = 0; i < 50 && srv.stats().connections_open != 1; ++i) std::this_thread::sleep_for(20ms);
        CHECK(srv.stats().connections_open == 1);  // the broken one was closed on the server too
    }
    stop_on(io, runner, ctx, srv, work);
}
