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
#pragma once

#include <pvwire/net/asio.hpp>

#include <algorithm>
#include <chrono>

namespace pvwire::net::detail {

inline void run_loop(asio::io_context& io, std::chrono::microseconds max_spin) {
    if (max_spin.count() <= 0) {
        io.run();
        return;
    }
    using Clock = std::chrono::steady_clock;
    constexpr std::chrono::microseconds min_spin{2};
    auto budget = max_spin;
    while (!io.stopped()) {
        if (io.poll() != 0) continue;
        const auto until = Clock::now() + budget;
        bool ran = false;
        while (!ran && !io.stopped() && Clock::now() < until) {
            ran = io.poll() != 0;
        }
        if (ran) {
            budget = max_spin;
            continue;
        }
        budget = std::max(min_spin, budget - budget / 8);
        if (io.run_one() == 0) break;  // out of work, or stopped
    }
}

}  // namespace pvwire::net::detail
