// pvwire-bench get: round-trip latency and throughput of GET (or PUT, --put) on one PV of any
// server. K operations are kept in flight (--inflight, default 1: strictly sequential); each
// completion records its latency (start to completion) and starts the next operation from
// the completion callback, the way an asynchronous application would use the client.
#include "programs.hpp"

#include <pvwire/client/context.hpp>

#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>

namespace pvwire::bench {

namespace {

struct Run {
    client::Context& ctx;
    const GetArgs& args;
    client::OpOptions options;
    TypePtr put_type = TypeDesc::scalar(TypeCode::Float64);

    std::mutex mu;
    std::condition_variable cv;
    std::uint64_t started = 0, finished = 0, failed = 0;
    std::vector<double> latency_us;
    std::string first_error;
    Clock::time_point deadline = Clock::time_point::max();
    bool stop = false;

    Run(client::Context& c, const GetArgs& a) : ctx(c), args(a) {
        latency_us.reserve(a.ops);
        options.server = a.server;
    }

    // Starts one more operation if the run wants one; called from completions (the
    // context's strand) and once per in-flight slot at the beginning.
    void start_one() {
        {
            std::lock_guard lock(mu);
            if (stop || started >= args.ops || Clock::now() >= deadline) return;
            ++started;
        }
        const auto t0 = Clock::now();
        auto done = [this, t0](std::error_code ec, client::Result) {
            const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
            bool last = false;
            {
                std::lock_guard lock(mu);
                ++finished;
                if (ec) {
                    ++failed;
                    if (first_error.empty()) first_error = ec.message();
                    stop = true;
                } else {
                    latency_us.push_back(us);
                }
                last = finished == started && (stop || started >= args.ops || Clock::now() >= deadline);
            }
            if (last)
                cv.notify_all();
            else
                start_one();
        };
        if (args.put) {
            Value v(put_type);
            v = double(t0.time_since_epoch().count() % 1000000);
            ctx.async_put(args.pv, std::move(v), options, std::move(done));
        } else {
            ctx.async_get(args.pv, options, std::move(done));
        }
    }
};

}  // namespace

int run_get(const GetArgs& a) {
    client::Context ctx(net::ClientConfig::from_env());
    install_signals();
    const char* what = a.put ? "put" : "get";
    // Warm-up (not counted): finds and connects the channel, and leaves an operation to reuse.
    {
        client::OpOptions o;
        o.timeout = std::chrono::milliseconds(long(a.connect_timeout * 1000));
        o.server = a.server;
        try {
            if (a.put)
                ctx.put(a.pv, {{"value", "0"}}, o);
            else
                ctx.get(a.pv, o);
        } catch (const std::exception& e) {
            std::cerr << "pvwire-bench " << what << ": " << a.pv << ": " << e.what() << "\n";
            return 1;
        }
    }
    Run run(ctx, a);
    if (a.seconds > 0)
        run.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
    const auto t0 = Clock::now();
    const double cpu0 = cpu_seconds();
    for (unsigned i = 0; i < std::max(1u, a.inflight); ++i) run.start_one();
    {
        std::unique_lock lock(run.mu);
        while (!(run.finished == run.started && (run.stop || run.started >= a.ops || Clock::now() >= run.deadline))) {
            run.cv.wait_for(lock, std::chrono::milliseconds(100));
            if (interrupted) run.stop = true;
        }
    }
    const double dt = since(t0), cpu = cpu_seconds() - cpu0;
    if (run.failed) {
        std::cerr << "pvwire-bench " << what << ": " << a.pv << ": " << run.failed << " failed: " << run.first_error
                  << "\n";
        return 1;
    }
    const std::uint64_t ops = run.latency_us.size();
    const auto p = percentiles(run.latency_us);
    std::printf("pvwire-bench %s: %llu %ss on %s, %u in flight, %.2f s: %.0f/s, latency p50 %.1f us, p99 %.1f us, "
                "p99.9 %.1f us, CPU %.1f us per operation\n",
                what, static_cast<unsigned long long>(ops), what, a.pv.c_str(), std::max(1u, a.inflight), dt,
                double(ops) / dt, p.p50, p.p99, p.p999, ops ? cpu * 1e6 / double(ops) : 0.0);
    ResultLine(what)
        .add("mode", a.inflight > 1 ? "pipelined" : "sequential")
        .add("inflight", std::uint64_t(std::max(1u, a.inflight)))
        .add("ops", ops)
        .add("seconds", dt)
        .add("ops_per_s", double(ops) / dt, 1)
        .add("p50_us", p.p50, 1)
        .add("p99_us", p.p99, 1)
        .add("p999_us", p.p999, 1)
        .add("cpu_s", cpu)
        .add("cpu_us_per_op", ops ? cpu * 1e6 / double(ops) : 0.0, 2)
        .print();
    return ops > 0 ? 0 : 1;
}

}  // namespace pvwire::bench
