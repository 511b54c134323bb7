// The loop of an io_context thread, with optional busy polling.
//
// A thread that sleeps in epoll_wait is woken by the kernel when a message arrives; on
// virtual machines that wake-up costs tens of microseconds and dominates the round trip of a
// small request (measured on a 2-core VM: GET round trip 100 us sleeping, 25 us polling). With
// a spin budget the thread keeps polling for up to that long after its last handler before it
// sleeps. The budget adapts to the gaps between bursts of work: a spin that found nothing
// shrinks it by an eighth (down to a few microseconds); a spin that found work after waiting
// w, or a sleep that work ended after w < `max_spin`, raises it to 2w at least (at most
// `max_spin`): a spin that long catches the next such gap. Request/reply traffic (gaps of
// tens of microseconds) thus keeps spinning, while a fixed-rate server (a burst every
// millisecond or more, the spins inside a burst finding work at once) stops spinning after a
// few dozen ticks. The budget used to go back to `max_spin` whenever a spin found work: then
// the spin after every tick of a 100 Hz x 50 clients server cost a full budget, ~3 us of CPU
// per delivered update for no gain (issue 13). Halving on an empty spin was tried too: two
// processes polling each other (pipelined GETs) then fell into sleeping on every request
// now and then (x0.6 ops/s). A spin never lasts longer than the budget, so on a
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
    void found_nothing() { now_ = std::max(min_spin, now_ - std::max(std::chrono::microseconds(1), now_ / 8)); }
    // Work came after a spin or a sleep of `w`: a spin of 2w catches the next such gap.
    void found_after(std::chrono::microseconds w) {
        if (w < max_) now_ = std::max(now_, std::min(max_, 2 * w));
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
        const auto from = Clock::now(), until = from + budget.now();
        bool ran = false;
        while (!ran && !io.stopped() && Clock::now() < until) {
            ran = io.poll() != 0;
        }
        slot.give_back();
        using us = std::chrono::microseconds;
        if (ran) {
            budget.found_after(std::chrono::duration_cast<us>(Clock::now() - from));
            continue;
        }
        budget.found_nothing();
        const auto slept_from = Clock::now();
        if (io.run_one() == 0) break;  // out of work, or stopped
        budget.found_after(std::chrono::duration_cast<us>(Clock::now() - slept_from));
    }
}

}  // namespace pvwire::net::detail
