// pvwire-bench hostile: what a flood of connections from one address costs a well-behaved
// client from another. An in-process server (one thread, like `pvwire serve`) limits
// connections per peer address to --limit. A well-behaved client, bound to 127.0.0.2, measures
// sequential GET latency first on the idle server, then while an attacker on 127.0.0.1 keeps
// --connections connections being attempted: every one it loses (the server closes those past
// the limit at once, and the ones it keeps at the validation timeout) it opens again at once.
// The attacker never validates, so it also holds its --limit admitted connections open doing
// nothing. Reports the GET percentiles of both phases, their ratio, and what the attacker got.
#include "programs.hpp"

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/net/tcp_transport.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <cstdio>
#include <iostream>
#include <thread>

namespace pvwire::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Connects from 127.0.0.2, so that the server sees another peer address than the attacker's.
net::Connector connector_from_127_0_0_2() {
    return [](const net::ServerAddress& address, asio::any_io_executor ex, const net::TransportLimits& limits,
              net::ConnectDone done) {
        auto socket = std::make_shared<tcp::socket>(ex);
        socket->open(tcp::v4());
        socket->bind(tcp::endpoint(asio::ip::make_address("127.0.0.2"), 0));
        socket->async_connect(tcp::endpoint(asio::ip::make_address(address.host), address.port),
                              [socket, limits, done = std::move(done)](boost::system::error_code ec) {
                                  if (ec) return done(ec, nullptr, "connect from 127.0.0.2 failed: " + ec.message());
                                  done({}, net::TcpTransport::create(std::move(*socket), limits), {});
                              });
    };
}

// Keeps `slots` connections from 127.0.0.1 being attempted: each one closed by the server is
// opened again at once. Runs on its own thread until stop().
class Attacker {
public:
    Attacker(std::uint16_t port, unsigned slots) : target_(asio::ip::address_v4::loopback(), port) {
        for (unsigned i = 0; i < slots; ++i) slots_.push_back(std::make_unique<Slot>(io_));
    }
    void start() {
        for (auto& s : slots_) connect(*s);
        thread_ = std::thread([this] { io_.run(); });
    }
    void stop() {
        io_.stop();
        if (thread_.joinable()) thread_.join();
    }
    std::uint64_t attempts() const { return attempts_.load(); }
    std::uint64_t lost() const { return lost_.load(); }

private:
    struct Slot {
        explicit Slot(asio::io_context& io) : socket(io) {}
        tcp::socket socket;
        std::array<char, 256> buf{};
    };
    void connect(Slot& s) {
        boost::system::error_code ignored;
        s.socket.close(ignored);
        s.socket.open(tcp::v4());
        s.socket.bind(tcp::endpoint(asio::ip::address_v4::loopback(), 0), ignored);
        ++attempts_;
        s.socket.async_connect(target_, [this, &s](boost::system::error_code ec) {
            if (ec) return lost(s);
            read(s);
        });
    }
    // Reads (the greeting, then nothing) until the server closes the connection.
    void read(Slot& s) {
        s.socket.async_read_some(asio::buffer(s.buf), [this, &s](boost::system::error_code ec, std::size_t) {
            if (ec) return lost(s);
            read(s);
        });
    }
    void lost(Slot& s) {
        ++lost_;
        connect(s);
    }

    asio::io_context io_;
    tcp::endpoint target_;
    std::vector<std::unique_ptr<Slot>> slots_;
    std::thread thread_;
    std::atomic<std::uint64_t> attempts_{0}, lost_{0};
};

// `ops` sequential GETs; their latencies in microseconds (empty on a failure).
std::vector<double> timed_gets(client::Context& ctx, const std::string& pv, const client::OpOptions& o,
                               std::uint64_t ops) {
    std::vector<double> us;
    us.reserve(ops);
    for (std::uint64_t i = 0; i < ops && !interrupted; ++i) {
        const auto t0 = Clock::now();
        ctx.get(pv, o);
        us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    return us;
}

}  // namespace

int run_hostile(const HostileArgs& a) {
    install_signals();
    auto cfg = net::ServerConfig::isolated();
    cfg.max_connections_per_peer = a.limit;
    server::Server srv(cfg);
    srv.add_pv("hostile:pv", server::SharedPV::create("hostile:pv", nt::NTScalar{TypeCode::Float64}.create()));
    srv.start();

    client::ClientOptions options;
    options.connectors["from2"] = connector_from_127_0_0_2();
    client::Context ctx(net::ClientConfig::isolated(), options);
    client::OpOptions o;
    o.server = "pva+from2://127.0.0.1:" + std::to_string(srv.tcp_port());
    o.timeout = std::chrono::seconds(5);
    try {
        ctx.get("hostile:pv", o);  // warm-up: connects
        auto idle = timed_gets(ctx, "hostile:pv", o, a.gets);

        Attacker attacker(srv.tcp_port(), a.connections);
        attacker.start();
        // the whole flood is under way: every slot attempted, the server refusing
        while (attacker.attempts() < 2ull * a.connections && !interrupted)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        const auto refused0 = srv.stats().connections_refused;
        const auto t0 = Clock::now();
        auto attacked = timed_gets(ctx, "hostile:pv", o, a.gets);
        const double dt = since(t0);
        const auto refused = srv.stats().connections_refused - refused0;
        const auto open_now = srv.stats().connections_open;
        attacker.stop();

        const auto pi = percentiles(idle), pa = percentiles(attacked);
        std::printf("pvwire-bench hostile: %u connections from 127.0.0.1 against a limit of %u; GET from 127.0.0.2 "
                    "idle p50 %.1f us p99 %.1f us, under attack p50 %.1f us p99 %.1f us (p99 x%.2f); %.0f refusals/s, "
                    "%llu connections open\n",
                    a.connections, a.limit, pi.p50, pi.p99, pa.p50, pa.p99, pa.p99 / pi.p99, double(refused) / dt,
                    static_cast<unsigned long long>(open_now));
        ResultLine("hostile")
            .add("connections", std::uint64_t(a.connections))
            .add("limit", std::uint64_t(a.limit))
            .add("gets", std::uint64_t(attacked.size()))
            .add("idle_p50_us", pi.p50, 1)
            .add("idle_p99_us", pi.p99, 1)
            .add("attack_p50_us", pa.p50, 1)
            .add("attack_p99_us", pa.p99, 1)
            .add("p99_ratio", pa.p99 / pi.p99, 2)
            .add("refusals_per_s", double(refused) / dt, 0)
            .add("open", open_now)
            .print();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "pvwire-bench hostile: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace pvwire::bench
