// pvwire-bench: a load generator and a load measurer for pvAccess monitors.
//
//   pvwire-bench flood   --prefix P --count N [--array-length L] [--seconds S] [--isolated]
//       Serves P0..P(N-1) (NTScalar uint32, or NTScalarArray uint32 of length L) and posts
//       value+1 to every PV in a tight loop on one thread; prints posts/s at the end.
//   pvwire-bench monitor --prefix P --count N [--queue Q] [--pipeline] [--seconds S] [--csv]
//       Monitors P0..P(N-1) and reports updates/s, MB/s (4 bytes per uint32 element: 4*L for
//       an array, 4 for a scalar; the value field only, not the protocol overhead), skipped
//       counter values, squashes and CPU seconds per million updates.
#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace pvwire;
using Clock = std::chrono::steady_clock;

namespace {

std::atomic<bool> g_interrupted{false};
void on_signal(int) { g_interrupted = true; }
void install_signals() {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
}

double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto tv = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
    return tv(ru.ru_utime) + tv(ru.ru_stime);
}

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// ---- flood ------------------------------------------------------------------------------

struct FloodArgs {
    std::string prefix = "bench:";
    unsigned count = 1;
    std::size_t array_length = 0;
    double seconds = 0;  // 0: until Ctrl-C
    bool isolated = false;
};

int run_flood(const FloodArgs& a) {
    server::Server srv(a.isolated ? net::ServerConfig::isolated() : net::ServerConfig::from_env());
    const bool is_array = a.array_length > 0;
    const TypePtr type = is_array ? nt::NTScalarArray{TypeCode::UInt32}.type() : nt::NTScalar{TypeCode::UInt32}.type();
    std::vector<std::shared_ptr<server::SharedPV>> pvs;
    for (unsigned i = 0; i < a.count; ++i) {
        const std::string name = a.prefix + std::to_string(i);
        Value init(type);
        if (is_array) init["value"].set_array(SharedArray::from(std::vector<std::uint32_t>(a.array_length, 0)));
        auto pv = server::SharedPV::create(name, init);
        pv->set_read_only(true);
        srv.add_pv(name, pv);
        pvs.push_back(std::move(pv));
    }
    try {
        srv.start();
    } catch (const std::exception& e) {
        std::cerr << "pvwire-bench flood: cannot start the server: " << e.what() << "\n";
        return 1;
    }
    const auto eff = srv.config();
    const std::string client_addr = eff.interfaces.empty() || eff.interfaces.front().is_unspecified()
                                        ? std::string("127.0.0.1")
                                        : eff.interfaces.front().to_string();
    std::cout << "pvwire-bench flood: " << a.count << " PVs " << a.prefix << "0.." << a.prefix << (a.count - 1)
              << " (" << (is_array ? "uint32[" + std::to_string(a.array_length) + "]" : std::string("uint32"))
              << ") on TCP " << srv.tcp_port() << ", UDP " << srv.udp_port() << "\n"
              << "pvwire-bench flood: clients find it with EPICS_PVA_ADDR_LIST=" << client_addr << ":"
              << srv.udp_port() << " EPICS_PVA_AUTO_ADDR_LIST=NO EPICS_PVA_BROADCAST_PORT=0"
              << " EPICS_PVA_SERVER_PORT=" << srv.tcp_port() << "\n"
              << "pvwire-bench flood: running" << (a.seconds > 0 ? "" : ", Ctrl-C to stop") << std::endl;

    install_signals();
    const auto t0 = Clock::now();
    const double cpu0 = cpu_seconds();
    std::uint64_t posted = 0;
    std::uint32_t n = 0;
    while (!g_interrupted && (a.seconds <= 0 || since(t0) < a.seconds)) {
        ++n;
        for (auto& pv : pvs) {
            Value v(type);
            if (is_array)
                v["value"].set_array(SharedArray::from(std::vector<std::uint32_t>(a.array_length, n)));
            else
                v["value"] = n;
            pv->post(v);
            ++posted;
        }
    }
    const double dt = since(t0), cpu = cpu_seconds() - cpu0;
    srv.stop();
    std::printf("pvwire-bench flood: posted %llu updates to %u PVs in %.2f s: %.0f updates/s, CPU %.2f s\n",
                static_cast<unsigned long long>(posted), a.count, dt, double(posted) / dt, cpu);
    return 0;
}

// ---- monitor ----------------------------------------------------------------------------

struct MonitorArgs {
    std::string prefix = "bench:";
    unsigned count = 1;
    std::uint32_t queue = 4;
    bool pipeline = false;
    double seconds = 0;  // 0: until Ctrl-C
    double connect_timeout = 10;
    bool csv = false;
    bool per_pv = false;
};

struct PvCount {
    std::shared_ptr<client::Subscription> sub;
    bool have_last = false;
    std::uint32_t last = 0;
    std::uint64_t updates = 0, bytes = 0, skipped = 0, squashed0 = 0, received0 = 0;
    std::size_t elements = 0;  // 0: scalar
    std::uint64_t disconnects = 0, errors = 0;
};

// Reads the counter (the first element of an array) and the payload size of one data event.
bool read_counter(const Value& root, std::uint32_t& counter, std::size_t& elements) {
    Value v = root.field("value");
    if (!v) return false;
    if (type_code::is_array(v.code())) {
        auto arr = v.array();
        elements = arr.size();
        if (!arr.holds<std::uint32_t>() || arr.empty()) return false;
        counter = arr.span<std::uint32_t>()[0];
        return true;
    }
    elements = 0;
    auto c = v.try_as<std::uint32_t>();
    if (!c) return false;
    counter = *c;
    return true;
}

int run_monitor(const MonitorArgs& a) {
    client::Context ctx(net::ClientConfig::from_env());
    std::mutex mu;
    std::condition_variable cv;
    bool ready = false;
    auto notify = [&] {
        {
            std::lock_guard lock(mu);
            ready = true;
        }
        cv.notify_one();
    };
    std::vector<PvCount> pvs(a.count);
    for (unsigned i = 0; i < a.count; ++i) {
        client::MonitorOptions o;
        o.queue_size = a.queue;
        o.pipeline = a.pipeline;
        pvs[i].sub = ctx.monitor(a.prefix + std::to_string(i), o, notify);
    }
    install_signals();

    bool counting = false;
    auto drain = [&] {
        for (auto& p : pvs) {
            for (auto& ev : p.sub->pop()) {
                if (ev.kind == client::MonitorEvent::Kind::Disconnected) {
                    p.have_last = false;
                    ++p.disconnects;
                } else if (ev.kind == client::MonitorEvent::Kind::Error) {
                    ++p.errors;
                    std::cerr << "pvwire-bench monitor: " << p.sub->name() << ": " << ev.message << "\n";
                } else if (ev.kind == client::MonitorEvent::Kind::Data) {
                    std::uint32_t c = 0;
                    std::size_t el = 0;
                    const bool ok = read_counter(ev.value, c, el);
                    if (counting) {
                        ++p.updates;
                        p.elements = el;
                        p.bytes += 4 * (el ? el : 1);
                        if (ok && p.have_last && c > p.last + 1) p.skipped += c - p.last - 1;
                    }
                    if (ok) {
                        p.last = c;
                        p.have_last = true;
                    }
                }
            }
        }
    };
    auto wait_events = [&](std::chrono::milliseconds t) {
        std::unique_lock lock(mu);
        cv.wait_for(lock, t, [&] { return ready; });
        ready = false;
    };

    // Warm-up: until every PV has delivered its first value (connection and search time are
    // not part of the measurement).
    const auto tc = Clock::now();
    for (;;) {
        drain();
        unsigned have = 0;
        for (auto& p : pvs) have += p.have_last;
        if (have == a.count) break;
        if (g_interrupted || since(tc) > a.connect_timeout) {
            std::cerr << "pvwire-bench monitor: only " << have << " of " << a.count << " PVs delivered a value within "
                      << a.connect_timeout << " s\n";
            if (have == 0) return 1;
            break;
        }
        wait_events(std::chrono::milliseconds(100));
    }

    counting = true;
    for (auto& p : pvs) {
        p.squashed0 = p.sub->squashed();
        p.received0 = p.sub->updates();
    }
    const auto t0 = Clock::now();
    const double cpu0 = cpu_seconds();
    while (!g_interrupted && (a.seconds <= 0 || since(t0) < a.seconds)) {
        wait_events(std::chrono::milliseconds(50));
        drain();
    }
    const double dt = since(t0), cpu = cpu_seconds() - cpu0;

    std::uint64_t updates = 0, bytes = 0, skipped = 0, squashed = 0, received = 0;
    std::size_t elements = 0;
    const bool show_pv = a.per_pv || a.count <= 8;
    for (auto& p : pvs) {
        const std::uint64_t sq = p.sub->squashed() - p.squashed0;
        received += p.sub->updates() - p.received0;
        updates += p.updates;
        bytes += p.bytes;
        skipped += p.skipped;
        squashed += sq;
        elements = std::max(elements, p.elements);
        if (show_pv && !a.csv)
            std::printf("  %-24s %10.0f updates/s %8.3f MB/s skipped %llu squashed %llu\n", p.sub->name().c_str(),
                        double(p.updates) / dt, double(p.bytes) / dt / 1e6,
                        static_cast<unsigned long long>(p.skipped), static_cast<unsigned long long>(sq));
    }
    const double ups = double(updates) / dt, mbs = double(bytes) / dt / 1e6;
    const double cpu_per_m = updates ? cpu / (double(updates) / 1e6) : 0.0;
    if (a.csv) {
        std::printf("%u,%u,%d,%.3f,%llu,%.1f,%.4f,%llu,%llu,%llu,%.3f,%.3f\n",
                    a.count, a.queue, a.pipeline ? 1 : 0, dt, static_cast<unsigned long long>(updates), ups, mbs,
                    static_cast<unsigned long long>(received),
                    static_cast<unsigned long long>(skipped), static_cast<unsigned long long>(squashed), cpu, cpu_per_m);
    } else {
        std::printf("pvwire-bench monitor: %u PVs, %.2f s: %llu updates, %.0f updates/s, %.3f MB/s (value payload "
                    "only: 4 B per uint32 element, %s), skipped %llu, squashed %llu, CPU %.2f s = %.2f s per million "
                    "updates; %llu received from the server (%.0f/s, incl. squashed)\n",
                    a.count, dt, static_cast<unsigned long long>(updates), ups, mbs,
                    elements ? ("array of " + std::to_string(elements)).c_str() : "scalar",
                    static_cast<unsigned long long>(skipped), static_cast<unsigned long long>(squashed), cpu,
                    cpu_per_m, static_cast<unsigned long long>(received), double(received) / dt);
    }
    return updates > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"pvwire-bench: pvAccess monitor load generator and measurer"};
    app.require_subcommand(1);

    FloodArgs fa;
    auto* flood = app.add_subcommand("flood", "serve PREFIX0..PREFIX(N-1) and post value+1 to each as fast as possible");
    flood->add_option("--prefix", fa.prefix, "PV name prefix")->required();
    flood->add_option("--count", fa.count, "number of PVs")->required()->check(CLI::PositiveNumber);
    flood->add_option("--array-length", fa.array_length, "serve uint32 arrays of this length (0: scalars)");
    flood->add_option("--seconds", fa.seconds, "run time (default: until Ctrl-C)");
    flood->add_flag("--isolated", fa.isolated, "loopback only, ephemeral ports (printed)");

    MonitorArgs ma;
    auto* mon = app.add_subcommand("monitor", "monitor PREFIX0..PREFIX(N-1) and measure the update rate");
    mon->add_option("--prefix", ma.prefix, "PV name prefix")->required();
    mon->add_option("--count", ma.count, "number of PVs")->required()->check(CLI::PositiveNumber);
    mon->add_option("--queue", ma.queue, "monitor queue size")->check(CLI::Range(1u, 1u << 20));
    mon->add_flag("--pipeline", ma.pipeline, "flow control (record[pipeline=true])");
    mon->add_option("--seconds", ma.seconds, "measurement time after every PV delivered a value (default: Ctrl-C)");
    mon->add_option("--connect-timeout", ma.connect_timeout, "seconds to wait for the first values");
    mon->add_flag("--csv", ma.csv, "print one CSV line: pvs,queue,pipeline,seconds,updates,updates_per_s,mb_per_s,received,skipped,squashed,cpu_s,cpu_s_per_mupdate");
    mon->add_flag("--per-pv", ma.per_pv, "print one line per PV (default when --count <= 8)");

    CLI11_PARSE(app, argc, argv);
    try {
        if (*flood) return run_flood(fa);
        return run_monitor(ma);
    } catch (const std::exception& e) {
        std::cerr << "pvwire-bench: " << e.what() << "\n";
        return 1;
    }
}
