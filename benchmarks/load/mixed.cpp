// pvwire-bench mixed: the shape of a beamline IOC (issue 13) against a fixed-rate server
// (pvwire-bench ticker --put-pv, or PVXS's equivalent): C monitor clients, each on its own
// connection and monitoring a different subset of the server's P PVs (a seeded shuffle, so the
// subsets spread over all PVs), one client doing paced puts to a writable PV and one doing gets
// in a loop, all at once. Reports the server's CPU per delivered monitor update (everything
// the server did, puts and gets included, over the monitor updates), delivered/expected, the
// monitor delay, the put and get rates and latencies, and the server's RSS.
#include "programs.hpp"

#include <pvwire/client/context.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <random>
#include <thread>

namespace pvwire::bench {

namespace {

// PREFIX-names of `per_client` of the `count` PVs for each client: a different seeded subset each.
std::vector<std::vector<std::string>> spread_subsets(const MixedArgs& a) {
    std::vector<std::vector<std::string>> names(a.clients);
    std::vector<unsigned> order(a.count);
    for (unsigned c = 0; c < a.clients; ++c) {
        std::iota(order.begin(), order.end(), 0u);
        std::mt19937 rng(c + 1);
        std::shuffle(order.begin(), order.end(), rng);
        std::sort(order.begin(), order.begin() + a.per_client);
        for (unsigned k = 0; k < a.per_client; ++k) names[c].push_back(a.prefix + std::to_string(order[k]));
    }
    return names;
}

std::string fmt_rate(double per_s) {
    char text[32];
    std::snprintf(text, sizeof text, "%g/s", per_s);
    return text;
}

// One client doing one operation over and over on its own connection: paced at `rate` per
// second on absolute deadlines (a late one is not made up), or back to back when rate is 0.
class OpLoop {
public:
    OpLoop(const char* what, std::string pv, double rate, bool put)
        : what_(what), pv_(std::move(pv)), rate_(rate), put_(put), ctx_(net::ClientConfig::from_env()) {}

    // The first operation connects the channel (not measured); false on failure.
    bool warm_up(double timeout) {
        try {
            op(std::chrono::milliseconds(long(timeout * 1000)));
            return true;
        } catch (const std::exception& e) {
            std::cerr << "pvwire-bench mixed: " << what_ << " " << pv_ << ": " << e.what() << "\n";
            return false;
        }
    }
    void start() {
        thread_ = std::thread([this] { loop(); });
    }
    void stop() {
        stop_ = true;
        thread_.join();
    }
    // Adds "<what>_per_s", latency percentiles and errors to the result; after stop().
    std::uint64_t report(ResultLine& r, double seconds) {
        const auto pc = percentiles(latency_us_);
        const double per_s = double(latency_us_.size()) / seconds;
        const std::string w = what_;
        r.add(w + "_per_s", per_s, 1).add(w + "_p50_us", pc.p50, 1).add(w + "_p99_us", pc.p99, 1).add(w + "_errors", errors_);
        std::printf("pvwire-bench mixed: %ss %.0f/s (asked: %s), latency p50 %.0f us, p99 %.0f us, errors %llu\n",
                    what_, per_s, rate_ > 0 ? fmt_rate(rate_).c_str() : "back to back", pc.p50, pc.p99,
                    static_cast<unsigned long long>(errors_));
        return errors_;
    }

private:
    void op(std::chrono::milliseconds timeout) {
        client::OpOptions o;
        o.timeout = timeout;
        if (put_)
            ctx_.put(pv_, {{"value", std::to_string(++written_)}}, o);
        else
            ctx_.get(pv_, o);
    }
    void loop() {
        const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(rate_ > 0 ? 1.0 / rate_ : 0));
        auto deadline = Clock::now();
        while (!stop_) {
            if (rate_ > 0) {
                deadline = std::max(deadline + period, Clock::now() - period);  // late: no burst to catch up
                std::this_thread::sleep_until(deadline);
            }
            const auto t0 = Clock::now();
            try {
                op(std::chrono::milliseconds(5000));
                latency_us_.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
            } catch (const std::exception& e) {
                if (errors_++ == 0) std::cerr << "pvwire-bench mixed: " << what_ << ": " << e.what() << "\n";
            }
        }
    }

    const char* what_;
    std::string pv_;
    double rate_;
    bool put_;
    client::Context ctx_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::uint64_t written_ = 0, errors_ = 0;  // touched by the loop's thread only until finish()
    std::vector<double> latency_us_;
};

}  // namespace

int run_mixed(const MixedArgs& a) {
    if (a.per_client > a.count) {
        std::cerr << "pvwire-bench mixed: --per-client " << a.per_client << " is more than --count " << a.count << "\n";
        return 1;
    }
    const double expected_rate = double(a.clients) * a.per_client * a.rate;
    MonitorFleet fleet(spread_subsets(a), a.queue, std::size_t(std::min(1e7, expected_rate * a.seconds * 1.1)));
    OpLoop puts("put", a.put_pv, a.put_rate, true);
    OpLoop gets("get", a.get_pv.empty() ? a.prefix + "0" : a.get_pv, a.get_rate, false);
    install_signals();
    if (!fleet.await_first_values(a.connect_timeout, "mixed") || !puts.warm_up(a.connect_timeout) ||
        !gets.warm_up(a.connect_timeout))
        return 1;

    fleet.start_counting();
    const auto srv0 = read_proc(a.server_pid);
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    puts.start();
    gets.start();
    while (!interrupted && since(t0) < a.seconds) fleet.drain(std::chrono::milliseconds(20));
    const double dt = since(t0), cpu = cpu_seconds() - cpu0;
    const auto srv1 = read_proc(a.server_pid);
    puts.stop();
    gets.stop();

    FanoutTally sum = fleet.totals();
    sum.seconds = dt;
    sum.client_cpu_s = cpu;
    sum.server_cpu_s = a.server_pid > 0 ? srv1.cpu_s - srv0.cpu_s : -1;
    sum.server_rss_kb = srv1.rss_kb;
    std::uint64_t op_errors = 0;
    const int monitors = report_fanout("mixed", FanoutShape{a.per_client, a.clients, a.rate}, sum, fleet.delays(),
                                       a.min_ratio, [&](ResultLine& r) {
                                           r.add("server_pvs", std::uint64_t(a.count));
                                           op_errors = puts.report(r, dt) + gets.report(r, dt);
                                       });
    return monitors == 0 && op_errors == 0 ? 0 : 1;
}

}  // namespace pvwire::bench
