// RefusedConnections: connections a listener refused at accept (their peer address is over its
// limit), held for a while before they are reset. Closing a refused connection at once lets a
// flooding peer reconnect at once: accept, close and the peer's reconnect then run in a loop
// that takes both cores of a small machine from the connections being served (issue 14, a
// flood from one address made a well-behaved client's GET p99 ~30-100x its idle value).
// Held, a refused connection costs its descriptor only (no transport, no read, no epoll
// registration): the flooder's attempt stays pending for one to two `hold` periods, so N
// connections over the limit cost about N / (1.5 hold) refusals a second. Released with SO_LINGER 0: a reset, no FIN exchange,
// no TIME_WAIT kept by this side.
//
// Bounded: at most `capacity` descriptors (a quarter of RLIMIT_NOFILE, 4096 at most, by
// default). hold() says no when full; the listener then stops accepting until one is released
// (further connections wait in the kernel's listen queue, at no cost to this process).
// No allocation after construction (the heap is reserved at its capacity).
//
// Threading: one strand (the listener's): hold(), when_room(), cancel() and the timer handler.
#pragma once

#include <pvwire/net/asio.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pvwire::net::detail {

class RefusedConnections {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr Clock::duration default_hold = std::chrono::seconds(1);

    // Each connection is held for `hold` to twice that (at random: see release_due()).
    RefusedConnections(asio::any_io_executor ex, std::size_t capacity = default_capacity(),
                       Clock::duration hold = default_hold)
        : timer_(std::move(ex)), capacity_(std::max<std::size_t>(capacity, 1)), hold_(hold),
          random_(static_cast<std::uint32_t>(Clock::now().time_since_epoch().count())) {
        held_.reserve(capacity_);
    }
    ~RefusedConnections() { reset_all(); }
    RefusedConnections(const RefusedConnections&) = delete;
    RefusedConnections& operator=(const RefusedConnections&) = delete;

    // Takes `fd` and resets it after its hold; false (fd not taken) when full.
    bool hold(int fd) {
        if (held_.size() == capacity_) return false;
        std::uniform_int_distribution<Clock::rep> jitter(0, std::max<Clock::rep>(hold_.count() - 1, 0));
        held_.push_back({Clock::now() + hold_ + Clock::duration(jitter(random_)), fd});
        std::push_heap(held_.begin(), held_.end(), Held::later);
        if (held_.front().fd == fd) arm();  // the first one due now
        return true;
    }
    // `resume` runs once a held connection has been released (so there is room), or with
    // nothing released after cancel() (it must then check whether its listener still runs).
    void when_room(std::function<void()> resume) { waiting_ = std::move(resume); }
    // Resets every held connection now and forgets a when_room().
    void cancel() {
        timer_.cancel();
        reset_all();
        waiting_ = nullptr;
    }
    std::size_t held() const noexcept { return held_.size(); }
    // Closes `fd` with a reset (SO_LINGER 0).
    static void reset(int fd) {
        const linger abort_on_close{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
        ::close(fd);
    }

    // A quarter of this process's descriptors, 4096 at most: room for the flood without taking
    // the descriptors the served connections need.
    static std::size_t default_capacity() {
        rlimit lim{};
        if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return 4096;
        return std::clamp<std::size_t>(lim.rlim_cur / 4, 1, 4096);
    }

private:
    struct Held {
        Clock::time_point release_at;
        int fd = -1;
        // Heap order: the front is the one released first.
        static bool later(const Held& a, const Held& b) { return a.release_at > b.release_at; }
    };

    void wait_until(Clock::time_point when) {
        timer_.expires_at(when);  // a wait pending before is cancelled (its handler sees the error)
        timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec) release_due();
        });
    }
    void arm() { wait_until(held_.front().release_at); }
    // Connections refused together (a flood) would otherwise be reset together, reconnect
    // together and be refused together again, every hold period: a burst that holds the
    // executor, and a busy part of each period in which a served client's latency suffers.
    // Two things take them apart: each is held for a random time between one and two hold
    // periods, and resets come one at a time, 250 us apart at least. Held again from its next
    // refusal with a new random time, a flood of N connections over its limit settles into a
    // steady trickle of about N / (1.5 hold) refusals a second.
    void release_due() {
        const auto now = Clock::now();
        if (held_.empty()) return;
        if (held_.front().release_at > now) return arm();
        reset(held_.front().fd);
        std::pop_heap(held_.begin(), held_.end(), Held::later);
        held_.pop_back();
        if (!held_.empty()) wait_until(std::max(held_.front().release_at, now + min_release_pace));
        if (waiting_) std::exchange(waiting_, nullptr)();
    }
    void reset_all() {
        for (const auto& h : held_) reset(h.fd);
        held_.clear();
    }
    asio::steady_timer timer_;
    std::size_t capacity_;
    std::vector<Held> held_;  // a min-heap by release time, never past capacity_ (no allocation)
    Clock::duration hold_;
    std::minstd_rand random_;
    std::function<void()> waiting_;
    static constexpr auto min_release_pace = std::chrono::microseconds(250);
};

}  // namespace pvwire::net::detail
