// pvwire-bench relay: the latency from a put through one server to the update of a monitor on
// another, for replicas sharing a store (docs/scale-out.md). The put's value is its sequence
// number; the next put starts from the monitor's callback (on the client's strand) when the
// previous value arrived, so every sample is one round of put, store, publish, copy and monitor
// update, undisturbed by queueing or by handing over to another thread of this program.
#include "programs.hpp"

#include <pvwire/client/context.hpp>

#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>

namespace pvwire::bench {

namespace {

struct Relay {
    client::Context& ctx;
    const RelayArgs& args;
    client::OpOptions put_options;
    std::shared_ptr<client::Subscription> sub;
    std::vector<client::MonitorEvent> events;  // strand only
    // the value awaited and when its put started (strand only); -2: not started
    double awaited = -2;
    Clock::time_point started;
    std::vector<double> latency_us;
    std::mutex mu;
    std::condition_variable cv;
    bool finished = false;
    std::string error;

    void put(double value) {
        awaited = value;
        started = Clock::now();
        Value v(TypeDesc::scalar(TypeCode::Float64));
        v = value;
        ctx.async_put(args.pv, std::move(v), put_options, [this](std::error_code ec, client::Result) {
            if (ec) finish("put failed: " + ec.message());
        });
    }
    // The monitor's callback, on the client's strand.
    void on_events() {
        sub->pop(events);
        for (auto& e : events) {
            if (e.kind != client::MonitorEvent::Kind::Data) continue;
            const double v = e.value["value"].as<double>();
            if (awaited == -2) return put(-1);  // the first value: warm the put channel up
            if (v != awaited) continue;
            if (v >= 0) latency_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - started).count());
            if (latency_us.size() >= args.ops || interrupted) return finish({});
            put(v + 1);
        }
    }
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
    Relay r{ctx, a, {}, nullptr, {}, -2, {}, {}, {}, {}, false, {}};
    r.latency_us.reserve(a.ops);
    r.put_options.server = a.put_server;
    r.put_options.timeout = std::chrono::milliseconds(long(a.connect_timeout * 1000));
    client::MonitorOptions mo;
    mo.server = a.monitor_server;
    mo.queue_size = 16;
    const auto t0 = Clock::now();
    r.sub = ctx.monitor(a.pv, mo, [&r] { r.on_events(); });
    {
        std::unique_lock lock(r.mu);
        const auto limit = std::chrono::duration<double>(a.connect_timeout + double(a.ops) * 0.01);
        if (!r.cv.wait_for(lock, limit, [&] { return r.finished; })) r.error = "no progress within the time limit";
    }
    r.sub.reset();
    ctx.stop();
    if (!r.error.empty()) {
        std::cerr << "pvwire-bench relay: " << a.pv << ": " << r.error << " (after " << r.latency_us.size() << " puts)\n";
        return 1;
    }
    const double dt = since(t0);
    const auto n = r.latency_us.size();
    const auto p = percentiles(r.latency_us);
    std::printf("pvwire-bench relay: %zu puts through %s seen on %s: p50 %.1f us, p99 %.1f us, p99.9 %.1f us\n", n,
                a.put_server.c_str(), a.monitor_server.c_str(), p.p50, p.p99, p.p999);
    ResultLine("relay").add("ops", std::uint64_t(n)).add("seconds", dt).add("p50_us", p.p50, 1).add("p99_us", p.p99, 1)
        .add("p999_us", p.p999, 1).print();
    return n > 0 ? 0 : 1;
}

}  // namespace pvwire::bench
