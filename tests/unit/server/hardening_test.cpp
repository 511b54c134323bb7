// Limits no client can exceed, and the log lines that say so: nothing but validation before
// validation, the validation timeout, connections per peer address, channels per connection,
// and the named loggers with their sink and PVWIRE_LOG-style configuration.
#include <catch2/catch.hpp>

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/log.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>
#include <pvwire/wire/message.hpp>

#include <map>
#include <mutex>
#include <thread>

using namespace pvwire;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// A raw TCP peer: no pvAccess client logic at all.
struct RawPeer {
    asio::io_context io;
    tcp::socket socket{io};

    RawPeer(std::uint16_t port, const char* from = "127.0.0.1") {
        socket.open(tcp::v4());
        socket.bind(tcp::endpoint(asio::ip::make_address(from), 0));
        socket.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    }
    // Reads until the server closes the connection or `limit` passes; true when it closed.
    bool closed_within(std::chrono::milliseconds limit) {
        socket.non_blocking(true);
        std::array<char, 4096> buf;
        const auto until = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < until) {
            boost::system::error_code ec;
            socket.read_some(asio::buffer(buf), ec);
            if (ec == asio::error::eof || ec == asio::error::connection_reset) return true;
            if (ec && ec != asio::error::would_block) return true;
            std::this_thread::sleep_for(5ms);
        }
        return false;
    }
    // The bytes the server sent first (its greeting), waiting up to a second.
    std::size_t greeting_bytes() {
        std::array<char, 4096> buf;
        socket.non_blocking(false);
        boost::system::error_code ec;
        std::size_t n = 0;
        for (int i = 0; i < 100 && n == 0; ++i) {
            if (socket.available(ec) > 0) n = socket.read_some(asio::buffer(buf), ec);
            else std::this_thread::sleep_for(10ms);
        }
        return n;
    }
    void send(wire::Body body) {
        wire::Message m;
        m.body = std::move(body);
        const auto bytes = wire::encode_to_bytes(m);
        asio::write(socket, asio::buffer(bytes.data(), bytes.size()));
    }
};

// Log lines captured through the sink, restored to the default at the end.
struct CapturedLog {
    std::mutex mu;
    std::vector<std::string> lines;
    CapturedLog() {
        log::set_sink([this](const std::string& logger, log::Level level, std::string_view text) {
            std::lock_guard lock(mu);
            lines.push_back(logger + " " + std::string(log::level_name(level)) + " " + std::string(text));
        });
    }
    ~CapturedLog() {
        log::set_sink({});
        log::set_level("pvwire.*", log::Level::warn);
    }
    bool has(const std::string& words) {
        std::lock_guard lock(mu);
        for (const auto& l : lines)
            if (l.find(words) != std::string::npos) return true;
        return false;
    }
};

template <class F> bool eventually(F f, std::chrono::milliseconds limit = 3s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!f()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

}  // namespace

TEST_CASE("an ECHO before validation closes the connection, and the log says why", "[server][hardening]") {
    CapturedLog captured;
    log::set_level("pvwire.server", log::Level::info);
    server::Server srv(net::ServerConfig::isolated());
    srv.start();
    RawPeer peer(srv.tcp_port());
    REQUIRE(peer.greeting_bytes() > 0);
    peer.send(wire::Echo{{std::byte{1}, std::byte{2}}});
    CHECK(peer.closed_within(2s));
    CHECK(eventually([&] { return srv.stats().connections_dropped == 1; }));
    CHECK(eventually([&] { return captured.has("closed: client sent ECHO before validation"); }));
}

TEST_CASE("a connection that never validates is closed at the validation timeout", "[server][hardening]") {
    auto cfg = net::ServerConfig::isolated();
    cfg.validation_timeout = 0.3;
    server::Server srv(cfg);
    srv.start();
    RawPeer silent(srv.tcp_port());
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(silent.closed_within(5s));
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took >= 250ms);
    CHECK(took < 3s);
    // a real client validates in time and stays
    client::Context ctx(srv.client_config());
    auto link = ctx.link(tcp::endpoint(asio::ip::address_v4::loopback(), srv.tcp_port()));
    REQUIRE(link->wait_validated(5s));
    std::this_thread::sleep_for(600ms);
    CHECK(link->state() == client::ServerLink::State::Validated);
}

TEST_CASE("connections per peer address are limited while other peers still get in", "[server][hardening]") {
    CapturedLog captured;
    auto cfg = net::ServerConfig::isolated();
    cfg.max_connections_per_peer = 3;
    server::Server srv(cfg);
    srv.start();
    std::vector<std::unique_ptr<RawPeer>> peers;
    for (int i = 0; i < 3; ++i) {
        peers.push_back(std::make_unique<RawPeer>(srv.tcp_port()));
        REQUIRE(peers.back()->greeting_bytes() > 0);
    }
    RawPeer fourth(srv.tcp_port());
    CHECK(fourth.closed_within(2s));
    CHECK(srv.stats().connections_refused == 1);
    CHECK(eventually([&] { return captured.has("too many connections from 127.0.0.1 (limit 3)"); }));
    RawPeer other(srv.tcp_port(), "127.0.0.2");  // another address is not affected
    CHECK(other.greeting_bytes() > 0);
    // a slot freed is a slot again
    peers.pop_back();
    REQUIRE(eventually([&] { return srv.stats().connections_open == 3; }));
    RawPeer again(srv.tcp_port());
    CHECK(again.greeting_bytes() > 0);
    CHECK(srv.stats().connections_refused == 1);
}

TEST_CASE("channels per connection are limited, refused with a status, counted and logged", "[server][hardening]") {
    CapturedLog captured;
    auto cfg = net::ServerConfig::isolated();
    cfg.max_channels = 2;
    server::Server srv(cfg);
    for (const char* name : {"h:a", "h:b", "h:c"}) {
        Value v = nt::NTScalar{TypeCode::Float64}.create();
        srv.add_pv(name, server::SharedPV::create(name, v));
    }
    srv.start();
    client::Context ctx(srv.client_config());
    CHECK_NOTHROW(ctx.get("h:a"));
    CHECK_NOTHROW(ctx.get("h:b"));
    client::OpOptions quick;
    quick.timeout = 500ms;
    CHECK_THROWS_AS(ctx.get("h:c", quick), client::Error);
    CHECK(srv.stats().channels_refused >= 1);
    CHECK(captured.has("pvwire.server WARN limit reached: too many channels on this connection (limit 2)"));
}

TEST_CASE("the server limits come from PVWIRE_* variables, bad ones keep the default with a warning",
          "[server][hardening]") {
    std::map<std::string, std::string> env{{"PVWIRE_MAX_CONNECTIONS", "100"},
                                           {"PVWIRE_MAX_CONNECTIONS_PER_PEER", "7"},
                                           {"PVWIRE_MAX_CHANNELS", "0"},
                                           {"PVWIRE_MAX_OPERATIONS", "12"},
                                           {"PVWIRE_VALIDATION_TMO", "2.5"}};
    const auto cfg = net::ServerConfig::from_env([&](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    });
    CHECK(cfg.max_connections == 100);
    CHECK(cfg.max_connections_per_peer == 7);
    CHECK(cfg.max_channels == net::ServerConfig{}.max_channels);  // 0 refused
    CHECK(cfg.max_operations == 12);
    CHECK(cfg.validation_timeout == 2.5);
    REQUIRE(cfg.warnings.size() == 1);
    CHECK(cfg.warnings[0].find("PVWIRE_MAX_CHANNELS") != std::string::npos);
}

TEST_CASE("loggers take levels by pattern and refuse a bad specification whole", "[log]") {
    CapturedLog captured;
    log::Logger mine("pvwire.test.mine");
    mine.debug("hidden {}", 1);
    CHECK_FALSE(captured.has("hidden"));
    std::string err;
    CHECK_FALSE(log::configure("pvwire.test.*=DEBUG,pvwire.server=LOUD", &err));
    CHECK(err.find("pvwire.server=LOUD") != std::string::npos);
    mine.debug("still hidden");
    CHECK_FALSE(captured.has("still hidden"));  // nothing of a bad spec applies
    CHECK(log::configure("pvwire.test.*=DEBUG"));
    mine.debug("shown {}", 2);
    CHECK(captured.has("pvwire.test.mine DEBUG shown 2"));
    log::Logger later("pvwire.test.later");  // made after the rule: it applies too
    CHECK(later.enabled(log::Level::debug));
    CHECK_FALSE(log::server().enabled(log::Level::debug));
}
