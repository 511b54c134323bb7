// Helpers shared by the transport tests: frames with recognizable bodies, a recording
// handler, and running an io_context until a condition holds (always with a deadline).
#pragma once

#include <pvwire/net/stream_transport.hpp>
#include <pvwire/wire/header.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace pvwire::net::test {

// Body byte i of a frame with `seed`: distinguishable across frames and positions.
inline std::byte body_byte(std::uint32_t seed, std::size_t i) { return std::byte((seed * 131u + i * 7u + (i >> 8)) & 0xFF); }

inline std::vector<std::byte> frame_bytes(std::uint32_t seed, std::size_t body, std::uint8_t command = 20) {
    std::vector<std::byte> f(wire::header_size + body);
    wire::Header h;
    h.command = command;
    h.size = std::uint32_t(body);
    h.write(f.data());
    for (std::size_t i = 0; i < body; ++i) f[wire::header_size + i] = body_byte(seed, i);
    return f;
}

inline wire::OutBuffer frame(std::uint32_t seed, std::size_t body, std::uint8_t command = 20) {
    wire::OutBuffer out;
    out.bytes() = frame_bytes(seed, body, command);
    return out;
}

inline wire::OutBuffer raw(const std::vector<std::byte>& bytes) {
    wire::OutBuffer out;
    out.bytes() = bytes;
    return out;
}

// Records frames (copied) and the close. Thread-safe, for tests that run the io_context on
// several threads.
class Recorder : public StreamTransport::Handler {
public:
    // keep_owners: hold every owner (and the view) instead of copying only.
    explicit Recorder(bool keep_owners = false) : keep_(keep_owners) {}

    void on_frame(std::span<const std::byte> frame, const std::shared_ptr<const void>& owner) override {
        std::lock_guard lock(mu_);
        if (closed_) after_close_ = true;
        frames_.emplace_back(frame.begin(), frame.end());
        owners_seen_.push_back(owner.get());
        if (keep_) kept_.push_back(Kept{frame, owner});
        if (on_frame_hook) on_frame_hook(frame);
    }
    void on_closed(std::error_code ec, const std::string& reason) override {
        std::lock_guard lock(mu_);
        ++closed_count_;
        closed_ = true;
        ec_ = ec;
        reason_ = reason;
    }

    std::size_t frame_count() const {
        std::lock_guard lock(mu_);
        return frames_.size();
    }
    std::vector<std::vector<std::byte>> frames() const {
        std::lock_guard lock(mu_);
        return frames_;
    }
    bool closed() const {
        std::lock_guard lock(mu_);
        return closed_;
    }
    int closed_count() const {
        std::lock_guard lock(mu_);
        return closed_count_;
    }
    bool frame_after_close() const {
        std::lock_guard lock(mu_);
        return after_close_;
    }
    std::error_code error() const {
        std::lock_guard lock(mu_);
        return ec_;
    }
    std::string reason() const {
        std::lock_guard lock(mu_);
        return reason_;
    }

    struct Kept {
        std::span<const std::byte> view;
        std::shared_ptr<const void> owner;
    };
    std::vector<Kept> kept_;
    std::vector<const void*> owners_seen_;
    std::function<void(std::span<const std::byte>)> on_frame_hook;  // called under the lock

private:
    mutable std::mutex mu_;
    bool keep_;
    std::vector<std::vector<std::byte>> frames_;
    bool closed_ = false;
    bool after_close_ = false;
    int closed_count_ = 0;
    std::error_code ec_;
    std::string reason_;
};

// Asio's error codes as the std::error_code that on_closed() reports.
inline std::error_code std_error(boost::system::error_code ec) { return ec; }

// Runs `io` (on this thread) until `done()` or the deadline. Returns done().
template <class Pred>
bool run_until(asio::io_context& io, Pred done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        io.restart();
        if (io.run_for(std::chrono::milliseconds(5)) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

// Runs whatever is ready, for a short while.
inline void settle(asio::io_context& io, std::chrono::milliseconds d = std::chrono::milliseconds(20)) {
    io.restart();
    io.run_for(d);
}

}  // namespace pvwire::net::test
