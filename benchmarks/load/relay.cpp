// pvwire-bench relay: the latency from a put through one server to the update of a monitor on
// another, for replicas sharing a store (docs/scale-out.md). The put's value is its sequence
// number; the next put starts from the monitor's callback (on the client's strand) when the
// previous value arrived, so every sample is one round of put, store, publish, copy and monitor
// update, undisturbed by queueing or by handing over to another thread of this program.
// --also-monitor-server watches the same PV on a second server in the same run (a gateway in
// front of the first): each put waits for both, and what the second adds is reported per put.
#include "programs.hpp"

#include <pvwire/client/context.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>

namespace pvwire::bench {

namespace {

// One monitor the puts are awaited on (strand only).
struct Watch {
    std::shared_ptr<client::Subscription> sub;
    std::vector<client::MonitorEvent> events;
    std::vector<double> latency_us;
    bool primed = false;  // had its first value
    bool seen = false;    // saw the value awaited
};

struct Relay {
    client::Context& ctx;
    const RelayArgs& args;
    client::OpOptions put_options;
    std::vector<Watch> watches;  // the monitor server's, and --also-monitor-server's
    // the value awaited and when its put started (strand only); -2: not started
    double awaited = -2;
    Clock::time_point started;
    std::mutex mu;
    std::condition_variable cv;
    bool finished = false;
    std::string error;

    void put(double value) {
        awaited = value;
        for (auto& w : watches) w.seen = false;
        started = Clock::now();
        Value v(TypeDesc::scalar(TypeCode::Float64));
        v = value;
        ctx.async_put(args.pv, std::move(v), put_options, [this](std::error_code ec, client::Result) {
            if (ec) finish("put failed: " + ec.message());
        });
    }
    // Monitor i's callback, on the client's strand. The next put starts once every monitor
    // saw the value awaited.
    void on_events(std::size_t i) {
        Watch& w = watches[i];
        if (!w.sub) return;  // not assigned yet: run_relay calls again once it is
        w.sub->pop(w.events);
        for (auto& e : w.events) {
            if (e.kind != client::MonitorEvent::Kind::Data) continue;
            const double v = e.value["value"].as<double>();
            w.primed = true;
            if (awaited == -2) {  // the first values: warm the put channel up
                if (all([](const Watch& x) { return x.primed; })) put(-1);
                continue;
            }
            if (v != awaited || w.seen) continue;
            w.seen = true;
            if (v >= 0) w.latency_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - started).count());
            if (!all([](const Watch& x) { return x.seen; })) continue;
            if (w.latency_us.size() >= args.ops || interrupted) return finish({});
            put(v + 1);
        }
    }
    template <class P> bool all(P p) const { return std::all_of(watches.begin(), watches.end(), p); }
    void finish(std::string why) {
        std::lock_guard lock(mu);
        finished = true;
        error = std::move(why);
        cv.notify_all();
    }
};

}  // namespace

int run_relay(const RelayArgs& a) {
    client::Context ctx(net::ClientConfig::from_env());
    install_signals();
    Relay r{ctx, a, {}, {}, -2, {}, {}, {}, false, {}};
    r.watches.resize(a.also_monitor_server.empty() ? 1 : 2);
    for (auto& w : r.watches) w.latency_us.reserve(a.ops);
    r.put_options.server = a.put_server;
    r.put_options.timeout = std::chrono::milliseconds(long(a.connect_timeout * 1000));
    client::MonitorOptions mo;
    mo.queue_size = 16;
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < r.watches.size(); ++i) {
        mo.server = i == 0 ? a.monitor_server : a.also_monitor_server;
        auto sub = ctx.monitor(a.pv, mo, [&r, i] { r.on_events(i); });
        net::asio::post(ctx.executor(), [&r, i, sub] {
            r.watches[i].sub = sub;
            r.on_events(i);  // what arrived before
        });
    }
    {
        std::unique_lock lock(r.mu);
        const auto limit = std::chrono::duration<double>(a.connect_timeout + double(a.ops) * 0.01);
        if (!r.cv.wait_for(lock, limit, [&] { return r.finished; })) r.error = "no progress within the time limit";
    }
    for (auto& w : r.watches) w.sub.reset();
    ctx.stop();
    auto& first = r.watches.front().latency_us;
    if (!r.error.empty()) {
        std::cerr << "pvwire-bench relay: " << a.pv << ": " << r.error << " (after " << first.size() << " puts)\n";
        return 1;
    }
    const double dt = since(t0);
    const auto n = first.size();
    // per put, what the second monitor took more than the first (before percentiles reorder)
    std::vector<double> added;
    if (r.watches.size() == 2)
        for (std::size_t k = 0; k < std::min(n, r.watches[1].latency_us.size()); ++k)
            added.push_back(r.watches[1].latency_us[k] - first[k]);
    const auto p = percentiles(first);
    std::printf("pvwire-bench relay: %zu puts through %s seen on %s: p50 %.1f us, p99 %.1f us, p99.9 %.1f us\n", n,
                a.put_server.c_str(), a.monitor_server.c_str(), p.p50, p.p99, p.p999);
    ResultLine line("relay");
    line.add("ops", std::uint64_t(n)).add("seconds", dt).add("p50_us", p.p50, 1).add("p99_us", p.p99, 1)
        .add("p999_us", p.p999, 1);
    if (r.watches.size() == 2) {
        const auto q = percentiles(r.watches[1].latency_us);
        const auto d = percentiles(added);
        std::printf("pvwire-bench relay: the same puts seen on %s: p50 %.1f us, p99 %.1f us, p99.9 %.1f us; "
                    "added per put: p50 %.1f us, p99 %.1f us\n",
                    a.also_monitor_server.c_str(), q.p50, q.p99, q.p999, d.p50, d.p99);
        line.add("also_p50_us", q.p50, 1).add("also_p99_us", q.p99, 1).add("added_p50_us", d.p50, 1)
            .add("added_p99_us", d.p99, 1);
    }
    line.print();
    return n > 0 ? 0 : 1;
}

}  // namespace pvwire::bench
