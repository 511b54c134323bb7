// AcceptBackoff: what a listener does when accept() fails for lack of resources. With no file
// descriptor left (EMFILE, ENFILE) the pending connection stays in the kernel's queue, so an
// accept re-armed at once fails again at once: the listener would spin a core and starve the
// connections it already serves. Instead it waits, 10 ms doubling up to 1 s, and tries again;
// the first accept that works ends the episode. One log line when an episode starts and one
// when it ends, and a count (ServerStats::accept_backoffs).
//
// Threading: used on the listener's strand only (one accept batch or wait at a time).
//
// accept_each(): the accept loop of the listeners that take connections one at a time (TLS,
// HTTP), with AcceptBackoff in it.
#pragma once

#include <pvwire/log.hpp>
#include <pvwire/net/asio.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace pvwire::net::detail {

class AcceptBackoff {
public:
    explicit AcceptBackoff(asio::any_io_executor ex) : timer_(std::move(ex)) {}

    // True when `ec` is a shortage worth waiting out: `retry` then runs after the pause (or
    // with operation_aborted once cancel() was called).
    template <class Retry> bool pause_if_short(const boost::system::error_code& ec, const std::string& listener,
                                               Retry&& retry) {
        if (!is_shortage(ec)) return false;
        count_.fetch_add(1, std::memory_order_relaxed);
        if (delay_.count() == 0)
            log::net().warn("{}: accept failed ({}); pausing accepts until descriptors are free", listener,
                            ec.message());
        delay_ = std::clamp(delay_ * 2, first_delay, max_delay);
        ++episode_;
        timer_.expires_after(delay_);
        timer_.async_wait(std::forward<Retry>(retry));
        return true;
    }
    // An accept worked: the next shortage starts a new episode.
    void accepted(const std::string& listener) {
        if (delay_.count() == 0) return;
        log::net().info("{}: accepting again after {} pauses", listener, episode_);
        delay_ = {};
        episode_ = 0;
    }
    void cancel() { timer_.cancel(); }
    std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

private:
    static bool is_shortage(const boost::system::error_code& ec) {
        namespace errc = boost::system::errc;
        return ec == errc::too_many_files_open || ec == errc::too_many_files_open_in_system ||
               ec == errc::no_buffer_space || ec == errc::not_enough_memory;
    }

    static constexpr std::chrono::milliseconds first_delay{10};
    static constexpr std::chrono::milliseconds max_delay{1000};
    asio::steady_timer timer_;
    std::chrono::milliseconds delay_{0};
    std::uint64_t episode_ = 0;
    std::atomic<std::uint64_t> count_{0};
};

// The executor of the next accepted connection: `next`'s (Listener::spread_connections) or the
// acceptor's own.
template <class Next> asio::any_io_executor connection_executor(const Next& next, const asio::any_io_executor& own) {
    return next ? next() : own;
}

// Accepts on `acceptor` one connection at a time, each socket on its own strand (on `next()`'s
// executor when set), handing each to `on_socket` (on `completion_ex`), until the acceptor
// closes; a shortage of descriptors or memory is waited out through `backoff`. `owner` keeps
// the acceptor, backoff, name and next alive.
template <class Executor, class Next, class OnSocket>
void accept_each(std::shared_ptr<void> owner, tcp::acceptor& acceptor, Executor completion_ex, AcceptBackoff& backoff,
                 const std::string& name, const Next& next, OnSocket on_socket) {
    auto again = [owner, &acceptor, completion_ex, &backoff, &name, &next, on_socket] {
        accept_each(owner, acceptor, completion_ex, backoff, name, next, on_socket);
    };
    acceptor.async_accept(asio::make_strand(connection_executor(next, acceptor.get_executor())),
                          asio::bind_executor(completion_ex, [&acceptor, &backoff, &name, on_socket, again](
                                                                 boost::system::error_code ec, tcp::socket socket) mutable {
                              if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
                              if (backoff.pause_if_short(ec, name, [&acceptor, again](boost::system::error_code e) {
                                      if (!e && acceptor.is_open()) again();
                                  }))
                                  return;
                              if (!ec) {
                                  backoff.accepted(name);
                                  on_socket(std::move(socket));
                              }
                              again();
                          }));
}

}  // namespace pvwire::net::detail
