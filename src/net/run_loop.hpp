// The loop of an io_context thread, with optional busy polling.
//
// A thread that sleeps in epoll_wait is woken by the kernel when a message arrives; on
// virtual machines that wake-up costs tens of microseconds and dominates the round trip of a
// small request (measured on a 2-core VM: GET round trip 100 us sleeping, 25 us polling). With
// a spin budget the thread keeps polling for up to that long after its last handler before it
// sleeps. The budget adapts: every spin that found nothing shrinks it by an eighth (down to a
// few microseconds, so a connection with sparse traffic costs next to nothing), and one that
// found work restores it to `max_spin`. A spin never lasts longer than the budget, so on a
// busy machine it delays other threads by at most that much (yielding inside the loop was
// tried: it halved pipelined throughput on the 2-core VM). Private to src/.
//
// A spinning thread holds its core, so at most N - 1 threads of the process spin at once, N
// being the CPUs the thread may run on (its affinity mask): one core is always left to threads
// that are woken with work, and a thread pinned to one CPU never spins. On the 2-core VM a
// server and a client thread of one process spinning together made every wake-up of a third
// thread (a connection flood's) preempt one of them mid-request: the client's GET p99 doubled
// (issue 14, `pvwire-bench hostile`); with one spinner it stays within 2x of idle.
#pragma once

#include <pvwire/net/asio.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>

#include <sched.h>

namespace pvwire::net::detail {

// The CPUs the calling thread may run on (its affinity mask; 1 when that cannot be read).
inline int cpus_of_this_thread() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    return CPU_COUNT(&set);
}

// The spinning threads of this process, limited to one less than the CPUs of the caller.
class SpinSlot {
public:
    SpinSlot() : allowed_(cpus_of_this_thread() - 1) {}
    // True when this thread may spin now; then give_back() when it stops.
    bool take() {
        int n = spinning().load(std::memory_order_relaxed);
        while (n < allowed_)
            if (spinning().compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return true;
        return false;
    }
    void give_back() { spinning().fetch_sub(1, std::memory_order_relaxed); }

private:
    static std::atomic<int>& spinning() {
        static std::atomic<int> count{0};
        return count;
    }
    int allowed_;
};

inline void run_loop(asio::io_context& io, std::chrono::microseconds max_spin) {
    if (max_spin.count() <= 0) {
        io.run();
        return;
    }
    using Clock = std::chrono::steady_clock;
    constexpr std::chrono::microseconds min_spin{2};
    auto budget = max_spin;
    SpinSlot slot;
    while (!io.stopped()) {
        if (io.poll() != 0) continue;
        if (!slot.take()) {  // every core that may spin is spinning: sleep until there is work
            if (io.run_one() == 0) break;
            continue;
        }
        const auto until = Clock::now() + budget;
        bool ran = false;
        while (!ran && !io.stopped() && Clock::now() < until) {
            ran = io.poll() != 0;
        }
        slot.give_back();
        if (ran) {
            budget = max_spin;
            continue;
        }
        budget = std::max(min_spin, budget - budget / 8);
        if (io.run_one() == 0) break;  // out of work, or stopped
    }
}

}  // namespace pvwire::net::detail
