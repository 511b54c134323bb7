// The loop of an io_context thread, with optional busy polling.
//
// A thread that sleeps in epoll_wait is woken by the kernel when a message arrives; on
// virtual machines that wake-up costs tens of microseconds and dominates the round trip of a
// small request (measured on a 2-core VM: GET round trip 100 us sleeping, 25 us polling). With
// a spin budget the thread keeps polling for up to that long after its last handler before it
// sleeps. The budget adapts to the gaps between bursts of work: a spin that found nothing
// halves it (down to a few microseconds), and a sleep that work ended sooner than `max_spin`
// raises it to twice that sleep (at most `max_spin`), since a spin that long would have caught
// the work. Request/reply traffic (gaps of tens of microseconds) thus keeps spinning, while a
// fixed-rate server (a burst every millisecond or more) stops spinning after a few ticks: at
// 100 Hz x 50 clients a full budget after each tick cost ~3 us of CPU per delivered update
// for no gain (issue 13). A spin never lasts longer than the budget, so on a
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

// How long the next spin may last, learnt from what the last spins and sleeps found.
class SpinBudget {
public:
    static constexpr std::chrono::microseconds min_spin{2};
    explicit SpinBudget(std::chrono::microseconds max_spin) : max_(max_spin), now_(max_spin) {}
    std::chrono::microseconds now() const { return now_; }
    void found_nothing() { now_ = std::max(min_spin, now_ / 2); }
    // Work ended a sleep of `d`: a spin that long would have caught it.
    void slept(std::chrono::microseconds d) {
        if (d < max_) now_ = std::max(now_, std::min(max_, 2 * d));
    }

private:
    std::chrono::microseconds max_, now_;
};

inline void run_loop(asio::io_context& io, std::chrono::microseconds max_spin) {
    if (max_spin.count() <= 0) {
        io.run();
        return;
    }
    using Clock = std::chrono::steady_clock;
    SpinBudget budget(max_spin);
    SpinSlot slot;
    while (!io.stopped()) {
        if (io.poll() != 0) continue;
        if (!slot.take()) {  // every core that may spin is spinning: sleep until there is work
            if (io.run_one() == 0) break;
            continue;
        }
        const auto until = Clock::now() + budget.now();
        bool ran = false;
        while (!ran && !io.stopped() && Clock::now() < until) {
            ran = io.poll() != 0;
        }
        slot.give_back();
        if (ran) continue;
        budget.found_nothing();
        const auto slept_from = Clock::now();
        if (io.run_one() == 0) break;  // out of work, or stopped
        budget.slept(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - slept_from));
    }
}

}  // namespace pvwire::net::detail
