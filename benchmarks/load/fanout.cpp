// pvwire-bench ticker and fanout: the fixed-rate fan-out of an IOC (issue 13).
//
//   ticker  serves P NTScalar PVs (uint32 or double) through the public server API (SharedPV)
//           and posts each at R Hz on absolute deadlines of a steady clock (no drift, nothing
//           printed per tick), with timeStamp set at post; optionally one more, writable PV
//           that only puts change (the mixed scenario, mixed.cpp).
//   fanout  C clients (C client contexts in this one process, each with its own connection)
//           monitor the P PVs of any fixed-rate server. Counts the updates delivered against
//           the C x P x R x seconds expected, the delay from the timeStamp to receipt (same
//           host, same clock), and, given the server's PID, its CPU per delivered update (its
//           CPU-time clock) and RSS: the server is measured alone, whichever implementation it is.
#include "programs.hpp"

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include <time.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#define CALLGRIND_DUMP_STATS_AT(what)
#endif

namespace pvwire::bench {

namespace {

TypeCode value_code(const std::string& type) { return type == "double" ? TypeCode::Float64 : TypeCode::UInt32; }

// One post of every PV: a fresh value (the server may still be sending the previous one), the
// counter, and the time of the post.
void post_tick(const std::vector<std::shared_ptr<server::SharedPV>>& pvs, std::uint32_t counter) {
    for (auto& pv : pvs) {
        Value v(pv->type());
        v["value"] = counter;
        nt::set_time_now(v["timeStamp"]);
        pv->post(v);
    }
}

// --callgrind-ticks A:B: instructions of ticks A..B-1 alone (each post and all it causes until
// the next tick), so that a count per delivered update leaves out start-up and connections.
void callgrind_window(const TickerArgs& a, std::uint64_t tick) {
    if (tick == a.callgrind_from) CALLGRIND_START_INSTRUMENTATION;
    if (tick != a.callgrind_to || a.callgrind_to == 0) return;
    CALLGRIND_STOP_INSTRUMENTATION;
    CALLGRIND_DUMP_STATS_AT("ticker ticks");
    std::cout << "pvwire-bench ticker: callgrind counted ticks " << a.callgrind_from << ".." << a.callgrind_to - 1
              << std::endl;
}

}  // namespace

int run_ticker(const TickerArgs& a) {
    auto cfg = a.isolated ? net::ServerConfig::isolated() : net::ServerConfig::from_env();
    if (a.threads >= 0) cfg.threads = unsigned(a.threads);
    if (!a.io.empty()) cfg.io_per_thread = a.io == "per-thread";
    server::Server srv(cfg);
    Value initial = nt::NTScalar{value_code(a.type)}.create();
    initial["value"] = std::uint32_t(0);
    nt::set_time_now(initial["timeStamp"]);
    auto store = std::make_shared<store::MemoryStore>();
    std::vector<std::shared_ptr<server::SharedPV>> pvs;
    for (unsigned i = 0; i < a.count; ++i) {
        const std::string name = a.prefix + std::to_string(i);
        pvs.push_back(server::SharedPV::create(name, initial, store));
        pvs.back()->set_read_only(true);
        srv.add_pv(name, pvs.back());
    }
    if (!a.put_pv.empty())  // a PV that changes only when written (mixed puts to it)
        srv.add_pv(a.put_pv, server::SharedPV::create(a.put_pv, initial, store));
    srv.start();
    std::cout << "pvwire-bench ticker: " << a.count << " PVs " << a.prefix << "0.. (" << a.type << ") at " << a.rate
              << " Hz on TCP " << srv.tcp_port() << ", UDP " << srv.udp_port() << "\npvwire-bench ticker: running"
              << std::endl;

    install_signals();
    const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / a.rate));
    const auto t0 = Clock::now();
    const double cpu0 = cpu_seconds();
    auto deadline = t0;
    std::uint64_t ticks = 0, late = 0;
    while (!interrupted && (a.seconds <= 0 || since(t0) < a.seconds)) {
        deadline += period;  // absolute deadlines: a late tick does not shift the ones after it
        std::this_thread::sleep_until(deadline);
        if (Clock::now() - deadline > period) ++late;
        callgrind_window(a, ++ticks);
        post_tick(pvs, std::uint32_t(ticks));
    }
    const double dt = since(t0), cpu = cpu_seconds() - cpu0;
    srv.stop();
    ResultLine("ticker").add("pvs", std::uint64_t(a.count)).add("rate", a.rate, 1).add("seconds", dt)
        .add("ticks", ticks).add("late_ticks", late).add("cpu_s", cpu).add("rss_kb", std::uint64_t(rss_kb())).print();
    return 0;
}

// CPU seconds and resident KiB of another process. The CPU comes from the process's CPU-time
// clock (nanoseconds, all threads: what /proc/PID/stat's utime+stime count in 10 ms ticks, too
// coarse for the cells with few updates); the RSS from /proc/PID/status.
ProcReading read_proc(int pid) {
    ProcReading r;
    clockid_t clock;
    timespec ts{};
    if (pid <= 0 || clock_getcpuclockid(pid, &clock) != 0 || clock_gettime(clock, &ts) != 0) return r;
    r.cpu_s = double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) r.rss_kb = std::strtol(line.c_str() + 6, nullptr, 10);
    return r;
}

namespace {

// What one subscription saw.
struct SubTally {
    std::shared_ptr<client::Subscription> sub;
    bool have_last = false;
    double last = 0;
    std::uint64_t delivered = 0, gaps = 0, errors = 0, disconnects = 0;
};

// Microseconds from the update's timeStamp to `now` (system clock, like the stamp); none
// without a timeStamp.
std::optional<double> delay_us(const Value& v, std::chrono::system_clock::time_point now) {
    const auto s = v.field("timeStamp.secondsPastEpoch").try_as<std::int64_t>();
    const auto ns = v.field("timeStamp.nanoseconds").try_as<std::int64_t>();
    if (!s || !ns) return std::nullopt;
    const auto stamp = std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::seconds(*s) + std::chrono::nanoseconds(*ns)));
    return std::chrono::duration<double, std::micro>(now - stamp).count();
}

// Counts one event of a subscription; data in the window adds a delivery, its gap to the
// previous counter value and its delay (while `delays` has reserved room).
void count_event(SubTally& t, const client::MonitorEvent& ev, bool counting, std::chrono::system_clock::time_point now,
                 std::vector<float>& delays) {
    using K = client::MonitorEvent::Kind;
    if (ev.kind == K::Disconnected) ++t.disconnects, t.have_last = false;
    if (ev.kind == K::Error) ++t.errors, std::cerr << "pvwire-bench fanout: " << ev.message << "\n";
    if (ev.kind != K::Data) return;
    const auto c = ev.value.field("value").try_as<double>();
    if (counting) {
        ++t.delivered;
        if (c && t.have_last && *c > t.last + 1) t.gaps += std::uint64_t(*c - t.last - 1);
        const auto d = delay_us(ev.value, now);
        if (d && delays.size() < delays.capacity()) delays.push_back(float(*d));
    }
    if (c) t.last = *c, t.have_last = true;
}

// The subscriptions with news, each listed once until the consumer takes it.
struct ReadyList {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<unsigned> ready;
    std::vector<char> listed;

    void mark(unsigned i) {
        {
            std::lock_guard lock(mu);
            if (listed[i]) return;
            listed[i] = 1;
            ready.push_back(i);
        }
        cv.notify_one();
    }
    void take(std::vector<unsigned>& out, std::chrono::milliseconds wait) {
        std::unique_lock lock(mu);
        cv.wait_for(lock, wait, [&] { return !ready.empty(); });
        out.swap(ready);
        for (auto i : out) listed[i] = 0;
    }
};

}  // namespace

// The fleet's state; the ready list first: it outlives the contexts whose callbacks use it.
struct MonitorFleet::State {
    ReadyList rl;
    // --one-thread: the contexts' io_context and its thread; the contexts go first (~MonitorFleet)
    std::optional<net::asio::io_context> io;
    std::optional<net::asio::executor_work_guard<net::asio::io_context::executor_type>> io_work;
    std::thread io_thread;
    std::vector<std::unique_ptr<client::Context>> clients;
    std::vector<SubTally> tally;
    bool counting = false;
    std::uint64_t squashed0 = 0;
    std::vector<float> delays;  // microseconds, of the updates in the window
    std::vector<unsigned> with_news;
    std::vector<client::MonitorEvent> batch;
};

MonitorFleet::MonitorFleet(const std::vector<std::vector<std::string>>& names, std::uint32_t queue,
                           std::size_t delay_room, bool one_thread)
    : s_(std::make_unique<State>()) {
    if (one_thread) {
        s_->io.emplace(1);
        s_->io_work.emplace(s_->io->get_executor());
        s_->io_thread = std::thread([io = &*s_->io] { io->run(); });
    }
    std::size_t subs = 0;
    for (auto& n : names) subs += n.size();
    s_->rl.listed.assign(subs, 0);
    s_->tally.resize(subs);
    s_->delays.reserve(delay_room);
    unsigned i = 0;
    for (auto& client_names : names) {
        s_->clients.push_back(one_thread ? std::make_unique<client::Context>(net::ClientConfig::from_env(),
                                                                             client::ClientOptions{},
                                                                             s_->io->get_executor())
                                         : std::make_unique<client::Context>(net::ClientConfig::from_env()));
        for (auto& name : client_names) {
            client::MonitorOptions o;
            o.queue_size = queue;
            s_->tally[i].sub = s_->clients.back()->monitor(name, o, [rl = &s_->rl, i] { rl->mark(i); });
            ++i;
        }
    }
}

MonitorFleet::~MonitorFleet() {
    for (auto& t : s_->tally) t.sub.reset();
    s_->clients.clear();  // their io_context still runs: a context closes its links on it
    if (s_->io_thread.joinable()) {
        s_->io_work.reset();
        s_->io->stop();
        s_->io_thread.join();
    }
}

void MonitorFleet::drain(std::chrono::milliseconds wait) {
    auto& s = *s_;
    s.rl.take(s.with_news, wait);
    const auto now = std::chrono::system_clock::now();
    for (auto i : s.with_news) {
        auto& t = s.tally[i];  // the tallies are only touched here, on the draining thread
        t.sub->pop(s.batch);
        for (auto& ev : s.batch) count_event(t, ev, s.counting, now, s.delays);
    }
    s.with_news.clear();
    s.batch.clear();
}

bool MonitorFleet::await_first_values(double timeout, const char* kind) {
    const auto tc = Clock::now();
    for (std::size_t have = 0; have < s_->tally.size();) {
        drain(std::chrono::milliseconds(50));
        have = 0;
        for (auto& t : s_->tally) have += t.have_last;
        if (have < s_->tally.size() && (interrupted || since(tc) > timeout)) {
            std::cerr << "pvwire-bench " << kind << ": only " << have << " of " << s_->tally.size()
                      << " subscriptions delivered a value within " << timeout << " s\n";
            return false;
        }
    }
    return true;
}

void MonitorFleet::start_counting() {
    for (auto& t : s_->tally) s_->squashed0 += t.sub->squashed();
    s_->counting = true;
}

FanoutTally MonitorFleet::totals() const {
    FanoutTally sum;
    for (auto& t : s_->tally) {
        sum.delivered += t.delivered;
        sum.gaps += t.gaps;
        sum.errors += t.errors + t.disconnects;
        sum.squashed += t.sub->squashed();
    }
    sum.squashed -= s_->squashed0;
    return sum;
}

std::vector<float>& MonitorFleet::delays() { return s_->delays; }

int run_fanout(const FanoutArgs& a) {
    std::vector<std::vector<std::string>> names(a.clients);
    for (auto& n : names)
        for (unsigned p = 0; p < a.count; ++p) n.push_back(a.prefix + std::to_string(p));
    MonitorFleet fleet(names, a.queue, std::size_t(std::min(1e7, a.rate * a.clients * a.count * a.seconds * 1.1)),
                       a.one_thread);
    install_signals();
    if (!fleet.await_first_values(a.connect_timeout, "fanout")) return 1;  // connections are not measured
    fleet.start_counting();
    const auto srv0 = read_proc(a.server_pid);
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    while (!interrupted && since(t0) < a.seconds) fleet.drain(std::chrono::milliseconds(20));
    const double dt = since(t0), cpu = cpu_seconds() - cpu0;
    const auto srv1 = read_proc(a.server_pid);

    FanoutTally sum = fleet.totals();
    sum.seconds = dt;
    sum.client_cpu_s = cpu;
    sum.server_cpu_s = a.server_pid > 0 ? srv1.cpu_s - srv0.cpu_s : -1;  // < 0: unknown
    sum.server_rss_kb = srv1.rss_kb;
    return report_fanout("fanout", FanoutShape{a.count, a.clients, a.rate}, sum, fleet.delays(), a.min_ratio);
}

int report_fanout(const char* kind, const FanoutShape& shape, const FanoutTally& t, std::vector<float>& delays_us,
                  double min_ratio, const std::function<void(ResultLine&)>& more) {
    const double expected = double(shape.clients) * shape.pvs * shape.rate * t.seconds;
    const double ratio = expected > 0 ? double(t.delivered) / expected : 0;
    std::vector<double> d(delays_us.begin(), delays_us.end());
    const auto pc = percentiles(d);
    const bool server_known = t.server_cpu_s >= 0;
    const double us_per = server_known && t.delivered ? t.server_cpu_s * 1e6 / double(t.delivered) : 0;
    std::printf("pvwire-bench %s: %u PVs x %u clients at %.0f Hz, %.2f s: delivered %llu of %.0f expected (%.3f), "
                "gaps %llu, squashed %llu, errors %llu; delay p50 %.0f us, p99 %.0f us; server CPU %s us per "
                "delivered update, RSS %ld KiB\n",
                kind, shape.pvs, shape.clients, shape.rate, t.seconds, static_cast<unsigned long long>(t.delivered),
                expected, ratio, static_cast<unsigned long long>(t.gaps), static_cast<unsigned long long>(t.squashed),
                static_cast<unsigned long long>(t.errors), pc.p50, pc.p99,
                server_known ? std::to_string(us_per).c_str() : "(no --server-pid)", t.server_rss_kb);
    ResultLine r(kind);
    r.add("pvs", std::uint64_t(shape.pvs)).add("clients", std::uint64_t(shape.clients)).add("rate", shape.rate, 1)
        .add("seconds", t.seconds).add("delivered", t.delivered).add("expected", expected, 0)
        .add("delivered_ratio", ratio, 4).add("gaps", t.gaps).add("squashed", t.squashed).add("errors", t.errors)
        .add("delay_p50_us", pc.p50, 1).add("delay_p99_us", pc.p99, 1).add("delay_p999_us", pc.p999, 1)
        .add("client_cpu_s", t.client_cpu_s);
    if (server_known)
        r.add("server_cpu_s", t.server_cpu_s).add("server_cpu_us_per_update", us_per, 3)
            .add("server_rss_kb", std::uint64_t(t.server_rss_kb));
    if (more) more(r);
    r.print();
    if (t.errors) std::cerr << "pvwire-bench " << kind << ": " << t.errors << " errors or disconnections\n";
    if (ratio < min_ratio)
        std::cerr << "pvwire-bench " << kind << ": delivered/expected " << ratio << " below --min-ratio " << min_ratio << "\n";
    return t.errors == 0 && t.delivered > 0 && ratio >= min_ratio ? 0 : 1;
}

}  // namespace pvwire::bench
