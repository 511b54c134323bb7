// One connection to a RESP server (Redis, Valkey, Dragonfly) on an Asio io_context: commands
// are formatted by hiredis's command formatter and replies parsed by its reader; the socket
// I/O is Asio's. Commands are pipelined: every command sent while a write is in flight joins
// one buffer that goes out in the next write, and replies complete their handlers in order.
//
// Not thread-safe: every call and every handler runs on one strand (the store's). Private to src/store.
#pragma once

#include <pvwire/net/asio.hpp>

#include <hiredis/hiredis.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvwire::store::detail {

namespace asio = boost::asio;

/// The text of a string, status or error reply ("" for others).
inline std::string_view text_of(const redisReply& r) { return {r.str ? r.str : "", r.str ? r.len : 0}; }

/// A decimal unsigned integer, nothing else around it.
inline std::optional<std::uint64_t> parse_u64(std::string_view s) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

/// A reply, or (reply null) the reason the connection failed before it came.
struct RespResult {
    const redisReply* reply = nullptr;
    std::string_view error;

    bool failed() const noexcept { return reply == nullptr; }
    /// The reply's text when it is an error reply (or the connection's error); "" otherwise.
    std::string_view error_text() const noexcept;
};

class RespConnection : public std::enable_shared_from_this<RespConnection> {
public:
    using ReplyHandler = std::function<void(const RespResult&)>;
    /// Replies no command waits for: the messages of a subscriber connection.
    using PushHandler = std::function<void(const redisReply&)>;
    /// Called once, when the connection fails or is closed after being connected.
    using ClosedHandler = std::function<void(const std::string& reason)>;

    RespConnection(asio::any_io_executor ex, std::size_t max_pending);
    ~RespConnection();

    /// Resolves and connects within `timeout`; `done("")` on success, else the reason.
    void connect(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout,
                 std::function<void(const std::string& error)> done);
    void on_push(PushHandler handler) { push_ = std::move(handler); }
    void on_closed(ClosedHandler handler) { closed_ = std::move(handler); }

    /// Sends one command: its arguments, binary-safe, any range of strings or string views.
    /// False, with nothing sent, when the connection is down or `max_pending` commands await
    /// replies: the caller reports it.
    template <class Args = std::initializer_list<std::string_view>>  // the default: send({"GET", key}, ...)
    bool send(const Args& args, ReplyHandler handler) {
        argv_.clear();
        lengths_.clear();
        for (const auto& a : args) {
            argv_.push_back(std::data(a));
            lengths_.push_back(std::size(a));
        }
        return send_argv(std::move(handler));
    }
    /// Closes the socket; pending handlers fail with `reason`.
    void close(const std::string& reason);
    bool open() const noexcept { return open_; }
    std::size_t pending() const noexcept { return waiting_.size(); }

private:
    bool send_argv(ReplyHandler handler);  // formats argv_/lengths_
    void start_write();
    void start_read();
    void on_bytes(std::size_t n);
    void fail(const std::string& reason);

    asio::ip::tcp::socket socket_;
    asio::steady_timer connect_timer_;
    redisReader* reader_;
    std::size_t max_pending_;
    bool open_ = false;
    bool writing_ = false;
    std::string outbox_;    // formatted commands not yet handed to a write
    std::string in_flight_; // the buffer of the current write
    std::vector<char> inbox_;
    std::vector<const char*> argv_;      // the command being formatted: kept, so that a
    std::vector<std::size_t> lengths_;   // command allocates nothing for its argument list
    std::deque<ReplyHandler> waiting_;
    PushHandler push_;
    ClosedHandler closed_;
};

}  // namespace pvwire::store::detail
