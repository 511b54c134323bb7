// pvwire-bench monitor: subscribes to counter PVs and measures what arrives. Works against
// any server whose PVs hold an incrementing uint32 `value` (or a uint32 array whose first
// element increments), e.g. `pvwire-bench flood` or PVXS's `spam`.
#include "programs.hpp"

#include <pvwire/client/context.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>

namespace pvwire::bench {

namespace {

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

}  // namespace

int run_monitor(const MonitorArgs& a) {
    client::Context ctx(net::ClientConfig::from_env());
    // The subscriptions that have events, each listed once until the consumer takes it (as
    // PVXS's eatspam does): a wake-up costs one pop() per PV with news, not one per PV.
    std::mutex mu;
    std::condition_variable cv;
    std::vector<unsigned> ready;
    std::vector<char> listed(a.count, 0);  // guarded by mu
    std::vector<PvCount> pvs(a.count);
    for (unsigned i = 0; i < a.count; ++i) {
        client::MonitorOptions o;
        o.queue_size = a.queue;
        o.pipeline = a.pipeline;
        o.server = a.server;
        auto notify = [&, i] {
            bool wake = false;
            {
                std::lock_guard lock(mu);
                if (listed[i]) return;
                listed[i] = 1;
                wake = ready.empty();  // the consumer sleeps only when the list is empty
                ready.push_back(i);
            }
            if (wake) cv.notify_one();
        };
        pvs[i].sub = ctx.monitor(a.prefix + std::to_string(i), o, notify);
    }
    install_signals();

    bool counting = false;
    std::uint64_t wakeups = 0;
    std::vector<unsigned> with_news;  // the PVs listed when the consumer woke, drained below
    std::vector<client::MonitorEvent> batch;  // reused: pop() trades storage with the queue
    // Takes the queued events of every listed PV; true if any was data.
    auto drain = [&] {
        {
            std::lock_guard lock(mu);
            with_news.swap(ready);
            for (auto i : with_news) listed[i] = 0;
        }
        bool data = false;
        for (auto i : with_news) {
            auto& p = pvs[i];
            p.sub->pop(batch);
            for (auto& ev : batch) {
                if (ev.kind == client::MonitorEvent::Kind::Disconnected) {
                    p.have_last = false;
                    ++p.disconnects;
                } else if (ev.kind == client::MonitorEvent::Kind::Error) {
                    ++p.errors;
                    std::cerr << "pvwire-bench monitor: " << p.sub->name() << ": " << ev.message << "\n";
                } else if (ev.kind == client::MonitorEvent::Kind::Data) {
                    data = true;
                    std::uint32_t c = 0;
                    std::size_t el = 0;
                    const bool ok = read_counter(ev.value, c, el);
                    if (counting) {
                        ++p.updates;
                        p.elements = el;
                        p.bytes += 4 * (el ? el : 1);
                        // a counter that went backwards restarted (a new subscription): no gap
                        if (ok && p.have_last && c > p.last + 1) p.skipped += c - p.last - 1;
                    }
                    if (ok) {
                        p.last = c;
                        p.have_last = true;
                    }
                }
            }
        }
        with_news.clear();
        batch.clear();  // drop the values (the client recycles them), keep the storage
        return data;
    };
    auto wait_events = [&](std::chrono::milliseconds t) {
        std::unique_lock lock(mu);
        cv.wait_for(lock, t, [&] { return !ready.empty(); });
    };

    // Warm-up: until every PV has delivered its first value (connection and search time are
    // not part of the measurement).
    const auto tc = Clock::now();
    for (;;) {
        drain();
        unsigned have = 0;
        for (auto& p : pvs) have += p.have_last;
        if (have == a.count) break;
        if (interrupted || since(tc) > a.connect_timeout) {
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
    while (!interrupted && (a.seconds <= 0 || since(t0) < a.seconds)) {
        wait_events(std::chrono::milliseconds(50));
        if (drain()) ++wakeups;
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
        if (show_pv)
            std::printf("  PV %-22s %10.0f updates/s %9.3f MB/s skipped %llu squashed %llu\n",
                        p.sub->name().c_str(), double(p.updates) / dt,
                        double(p.bytes) / dt / 1e6, static_cast<unsigned long long>(p.skipped),
                        static_cast<unsigned long long>(sq));
    }
    const double ups = double(updates) / dt, mbs = double(bytes) / dt / 1e6;
    std::printf("pvwire-bench monitor: %u PVs, %.2f s: %llu updates, %.0f updates/s, %.3f MB/s (value payload "
                "only: 4 B per uint32 element, %s), skipped %llu, squashed %llu, %.1f updates per wake-up, "
                "CPU %.2f s = %.2f s per million updates\n",
                a.count, dt, static_cast<unsigned long long>(updates), ups, mbs,
                elements ? ("array of " + std::to_string(elements)).c_str() : "scalar",
                static_cast<unsigned long long>(skipped), static_cast<unsigned long long>(squashed),
                wakeups ? double(updates) / double(wakeups) : 0.0, cpu, updates ? cpu / (double(updates) / 1e6) : 0.0);
    ResultLine("monitor")
        .add("pvs", std::uint64_t(a.count))
        .add("seconds", dt)
        .add("updates", updates)
        .add("updates_per_s", ups, 1)
        .add("mb_per_s", mbs)
        .add("element_bytes", std::uint64_t(4 * (elements ? elements : 1)))
        .add("skipped", skipped)
        .add("squashed", squashed)
        .add("received", received)
        .add("wakeups", wakeups)
        .add("updates_per_wake", wakeups ? double(updates) / double(wakeups) : 0.0, 2)
        .add("cpu_s", cpu)
        .add("cpu_us_per_update", updates ? cpu * 1e6 / double(updates) : 0.0, 2)
        .print();
    return updates > 0 ? 0 : 1;
}

}  // namespace pvwire::bench
