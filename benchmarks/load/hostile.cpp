// pvwire-bench hostile: what a flood of connections from one address costs a well-behaved
// client from another. An in-process server (one thread, like `pvwire serve`) limits
// connections per peer address to --limit. A well-behaved client, connecting from 127.0.0.2
// (net::tcp_connector with a local address), measures sequential GET latency on the idle
// server, then while an attacker on 127.0.0.1 keeps --connections connections being
// attempted: every one it loses (the server resets those past the limit, and closes the ones
// it keeps at the validation timeout) it opens again at once. The attacker never validates,
// so it also holds its --limit admitted connections open doing nothing. --rounds repeats the
// idle and attacked phases, interleaved, one line each; --pin S,A,C puts the server's, the
// attacker's and the client's threads on those CPUs (threads inherit the mask of the thread
// that starts them). Reports the GET percentiles of both phases, their ratio, and what the
// attacker got.
#include "programs.hpp"

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/net/tcp_transport.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <cstdio>
#include <iostream>
#include <thread>

#include <pthread.h>
#include <sched.h>

namespace pvwire::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Pins the calling thread (and the threads it starts from now on) to `cpu`; -1: no change.
void pin_to(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
        throw std::runtime_error("cannot pin a thread to CPU " + std::to_string(cpu));
}

struct Pinning {
    int server = -1, attacker = -1, client = -1;
};
Pinning parse_pinning(const std::string& text) {
    Pinning p;
    if (text.empty()) return p;
    if (std::sscanf(text.c_str(), "%d,%d,%d", &p.server, &p.attacker, &p.client) != 3)
        throw std::runtime_error("--pin wants S,A,C (three CPU numbers), not " + text);
    return p;
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

// Sequential GETs, at least `ops` of them and for at least `seconds`: a phase shorter than the
// refusals' hold period would see either the flood's bursts or the gaps between them, not both.
// Their latencies in microseconds.
std::vector<double> timed_gets(client::Context& ctx, const std::string& pv, const client::OpOptions& o,
                               std::uint64_t ops, double seconds) {
    std::vector<double> us;
    us.reserve(ops);
    const auto start = Clock::now();
    while ((us.size() < ops || since(start) < seconds) && !interrupted) {
        const auto t0 = Clock::now();
        ctx.get(pv, o);
        us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    return us;
}

}  // namespace

namespace {

struct Round {
    Percentiles idle, attacked;
    double refusals_per_s = 0;
    std::uint64_t open = 0;
};

void report(const HostileArgs& a, unsigned round, const Round& r) {
    const auto& pi = r.idle;
    const auto& pa = r.attacked;
    std::printf("pvwire-bench hostile: round %u, %u connections from 127.0.0.1 against a limit of %u; GET from "
                "127.0.0.2 idle p50 %.1f us p99 %.1f us, under attack p50 %.1f us p99 %.1f us (p99 x%.2f); %.0f "
                "refusals/s, %llu connections open\n",
                round, a.connections, a.limit, pi.p50, pi.p99, pa.p50, pa.p99, pa.p99 / pi.p99, r.refusals_per_s,
                static_cast<unsigned long long>(r.open));
    ResultLine("hostile")
        .add("round", std::uint64_t(round))
        .add("connections", std::uint64_t(a.connections))
        .add("limit", std::uint64_t(a.limit))
        .add("gets", a.gets)
        .add("pin", a.pin.empty() ? std::string("none") : a.pin)
        .add("idle_p50_us", pi.p50, 1)
        .add("idle_p99_us", pi.p99, 1)
        .add("attack_p50_us", pa.p50, 1)
        .add("attack_p99_us", pa.p99, 1)
        .add("p99_ratio", pa.p99 / pi.p99, 2)
        .add("refusals_per_s", r.refusals_per_s, 0)
        .add("open", r.open)
        .print();
}

// One idle phase, then one under a fresh attacker (pinned to `attacker_cpu`).
Round run_round(server::Server& srv, client::Context& ctx, const client::OpOptions& o, const HostileArgs& a,
                int attacker_cpu) {
    Round r;
    auto idle = timed_gets(ctx, "hostile:pv", o, a.gets, a.seconds);
    r.idle = percentiles(idle);
    Attacker attacker(srv.tcp_port(), a.connections);
    const auto client_mask = [] {
        cpu_set_t set;
        pthread_getaffinity_np(pthread_self(), sizeof set, &set);
        return set;
    }();
    pin_to(attacker_cpu);
    attacker.start();  // its thread keeps the mask it starts with
    pthread_setaffinity_np(pthread_self(), sizeof client_mask, &client_mask);
    // the whole flood is under way: every slot attempted, the server refusing
    while (attacker.attempts() < 2ull * a.connections && !interrupted)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const auto refused0 = srv.stats().connections_refused;
    const auto t0 = Clock::now();
    auto attacked = timed_gets(ctx, "hostile:pv", o, a.gets, a.seconds);
    r.attacked = percentiles(attacked);
    r.refusals_per_s = double(srv.stats().connections_refused - refused0) / since(t0);
    r.open = srv.stats().connections_open;
    attacker.stop();
    return r;
}

}  // namespace

int run_hostile(const HostileArgs& a) {
    install_signals();
    try {
        const Pinning pin = parse_pinning(a.pin);
        // threads inherit the mask of the thread that starts them: the server's, then the client's
        pin_to(pin.server);
        auto cfg = net::ServerConfig::isolated();
        cfg.max_connections_per_peer = a.limit;
        auto client_cfg = net::ClientConfig::isolated();
        if (a.busy_poll_us >= 0) cfg.busy_poll = client_cfg.busy_poll = std::chrono::microseconds(a.busy_poll_us);
        server::Server srv(cfg);
        srv.add_pv("hostile:pv", server::SharedPV::create("hostile:pv", nt::NTScalar{TypeCode::Float64}.create()));
        srv.start();

        pin_to(pin.client);
        client::ClientOptions options;
        options.connectors["from2"] = net::tcp_connector(asio::ip::make_address("127.0.0.2"));
        client::Context ctx(client_cfg, options);
        client::OpOptions o;
        o.server = "pva+from2://127.0.0.1:" + std::to_string(srv.tcp_port());
        o.timeout = std::chrono::seconds(5);
        ctx.get("hostile:pv", o);  // warm-up: connects
        for (unsigned i = 0; i < a.rounds && !interrupted; ++i) report(a, i + 1, run_round(srv, ctx, o, a, pin.attacker));
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "pvwire-bench hostile: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace pvwire::bench
