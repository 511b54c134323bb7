#pragma once

// WireClient: a bare pvAccess client connection driven by hand, on any StreamTransport (TCP,
// a pipe): it runs the handshake, then sends whatever the test builds, and queues every
// decoded server message (with its frame's size) for the test to take. For tests that speak
// raw frames to a server: malformed requests, replayed captures, flow control.
//
// Threading: the transport's handler calls come from its executor; the test takes messages
// from any thread (next() waits up to a timeout). A test that runs the executor itself, on its
// own thread, calls next() with a zero timeout once the handlers have run.

#include <pvwire/net/stream_transport.hpp>
#include <pvwire/protocol/client_handshake.hpp>
#include <pvwire/wire/connection_codec.hpp>
#include <pvwire/wire/framing.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace pvwire::test {

struct WireClient : net::StreamTransport::Handler, std::enable_shared_from_this<WireClient> {
    using Clock = std::chrono::steady_clock;

    struct Received {
        wire::Message message;
        std::size_t frame_bytes = 0;  // header included
    };

    std::shared_ptr<net::StreamTransport> transport;
    wire::ConnectionCodec codec;
    protocol::ClientHandshake hs{protocol::ClientHandshake::Options{{"anonymous"}, "u", "h"}};
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Received> inbox;
    std::atomic<bool> validated{false}, closed{false};
    std::atomic<int> ignored{0}, errors{0};
    std::string close_reason;

    void on_frame(std::span<const std::byte> frame, const std::shared_ptr<const void>& owner) override {
        wire::Message m;
        wire::Diagnostic d;
        switch (codec.decode(frame, m, d, owner)) {
        case wire::ConnectionCodec::Result::Message: break;
        case wire::ConnectionCodec::Result::Ignored: ++ignored; return;
        case wire::ConnectionCodec::Result::Error: ++errors; return;
        case wire::ConnectionCodec::Result::Pending: return;
        }
        wire::OutBuffer out;
        if (hs.on_message(m, out)) {
            if (!out.empty()) transport->send(std::move(out));
            if (hs.validated()) {
                validated = true;
                cv.notify_all();
            }
            return;
        }
        if (std::holds_alternative<wire::Echo>(m.body)) return;
        {
            std::lock_guard lock(mu);
            inbox.push_back(Received{std::move(m), frame.size()});
        }
        cv.notify_all();
    }
    void on_closed(std::error_code, const std::string& reason) override {
        {
            std::lock_guard lock(mu);
            close_reason = reason;
        }
        closed = true;
        cv.notify_all();
    }

    void send(wire::Body body) {
        wire::Message m;
        m.order = hs.order();
        m.body = std::move(body);
        wire::OutBuffer out;
        wire::encode(m, out);
        transport->send(std::move(out));
    }
    void send_bytes(std::vector<std::byte> bytes) {
        wire::OutBuffer out;
        out.bytes() = std::move(bytes);
        transport->send(std::move(out));
    }
    std::size_t queued() {
        std::lock_guard lock(mu);
        return inbox.size();
    }
    // The next message from the server (RemoteMessage included unless skipped), or nothing
    // after `timeout`.
    std::optional<Received> next_received(std::chrono::milliseconds timeout, bool skip_messages = true) {
        std::unique_lock lock(mu);
        const auto end = Clock::now() + timeout;
        for (;;) {
            while (!inbox.empty()) {
                Received r = std::move(inbox.front());
                inbox.pop_front();
                if (skip_messages && std::holds_alternative<wire::RemoteMessage>(r.message.body)) continue;
                return r;
            }
            if (closed) return std::nullopt;
            if (cv.wait_until(lock, end) == std::cv_status::timeout && inbox.empty()) return std::nullopt;
        }
    }
    std::optional<wire::Message> next(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000),
                                      bool skip_messages = true) {
        auto r = next_received(timeout, skip_messages);
        if (!r) return std::nullopt;
        return std::move(r->message);
    }
    template <class T>
    std::optional<T> request(wire::Body body, std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
        send(std::move(body));
        auto m = next(timeout);
        if (!m) return std::nullopt;
        if (auto* r = std::get_if<T>(&m->body)) return *r;
        return std::nullopt;
    }
    // CREATE_CHANNEL; the sid, or nothing when refused.
    std::optional<std::uint32_t> create_channel(const std::string& name, std::uint32_t cid) {
        auto r = request<wire::CreateChannelResponse>(wire::CreateChannelRequest{{wire::SearchChannel{cid, name}}});
        if (!r || !r->status.success()) return std::nullopt;
        return r->sid;
    }
};

}  // namespace pvwire::test
