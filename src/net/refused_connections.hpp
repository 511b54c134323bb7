// RefusedConnections: connections a listener refused at accept (their peer address is over its
// limit), held for a while before they are reset. Closing a refused connection at once lets a
// flooding peer reconnect at once: accept, close and the peer's reconnect then run in a loop
// that takes both cores of a small machine from the connections being served (issue 14, a
// flood from one address made a well-behaved client's GET p99 ~30-100x its idle value).
// Held, a refused connection costs its descriptor only (no transport, no read, no epoll
// registration): the flooder's attempt stays pending for `hold`, so N connections over the
// limit cost N / hold refusals a second. Released with SO_LINGER 0: a reset, no FIN exchange,
// no TIME_WAIT kept by this side.
//
// Bounded: at most `capacity` descriptors (a quarter of RLIMIT_NOFILE, 4096 at most, by
// default). hold() says no when full; the listener then stops accepting until one is released
// (further connections wait in the kernel's listen queue, at no cost to this process).
// No allocation after construction.
//
// Threading: one strand (the listener's): hold(), when_room(), cancel() and the timer handler.
#pragma once

#include <pvwire/net/asio.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pvwire::net::detail {

class RefusedConnections {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr Clock::duration default_hold = std::chrono::seconds(1);

    RefusedConnections(asio::any_io_executor ex, std::size_t capacity = default_capacity(),
                       Clock::duration hold = default_hold)
        : timer_(std::move(ex)), ring_(std::max<std::size_t>(capacity, 1)), hold_(hold) {}
    ~RefusedConnections() { reset_all(); }
    RefusedConnections(const RefusedConnections&) = delete;
    RefusedConnections& operator=(const RefusedConnections&) = delete;

    // Takes `fd` and resets it after the hold; false (fd not taken) when full.
    bool hold(int fd) {
        if (size_ == ring_.size()) return false;
        ring_[(head_ + size_) % ring_.size()] = {Clock::now() + hold_, fd};
        if (++size_ == 1) arm();
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
    std::size_t held() const noexcept { return size_; }
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
    };

    void pace() {
        timer_.expires_after(release_pace);
        timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec) release_due();
        });
    }
    void arm() {
        timer_.expires_at(ring_[head_].release_at);
        timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec) release_due();
        });
    }
    // One reset every `release_pace` at most (4,000 a second, about what the ring's 4,096
    // descriptors held for a second need): a flood refused at once is not reset (and
    // reconnected, and refused) in one burst that stalls the executor. Its connections come
    // apart instead, and since each is held again from its next refusal, they stay spread over
    // the hold period: a steady trickle of refusals rather than a burst every second.
    void release_due() {
        const auto now = Clock::now();
        const bool released = size_ > 0 && ring_[head_].release_at <= now;
        if (released) {
            reset(ring_[head_].fd);
            head_ = (head_ + 1) % ring_.size();
            --size_;
        }
        if (size_ > 0 && ring_[head_].release_at <= now) pace();
        else if (size_ > 0) arm();
        if (released && waiting_) std::exchange(waiting_, nullptr)();
    }
    void reset_all() {
        for (; size_ > 0; --size_, head_ = (head_ + 1) % ring_.size()) reset(ring_[head_].fd);
    }
    asio::steady_timer timer_;
    std::vector<Held> ring_;
    std::size_t head_ = 0, size_ = 0;
    Clock::duration hold_;
    std::function<void()> waiting_;
    static constexpr auto release_pace = std::chrono::microseconds(250);
};

}  // namespace pvwire::net::detail
