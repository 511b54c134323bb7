// One client connection of a Server: the transport, the protocol's codec (pvAccess or msgpack),
// the handshake, echo answers, searches over TCP (pvAccess) and the idle timeout. Runs on the
// transport's strand.
#pragma once

#include "message_front_end.hpp"
#include "../protocol/message_codec.hpp"

#include <pvwire/net/stream_transport.hpp>
#include <pvwire/protocol/search_responder.hpp>
#include <pvwire/protocol/server_handshake.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace pvwire::server::detail {

class ServerConnection : public net::StreamTransport::Handler,
                         public std::enable_shared_from_this<ServerConnection> {
public:
    struct Hooks {
        std::function<std::optional<protocol::SearchResponder::Reply>(const wire::Search&)> search;
        std::function<void(ServerConnection&, const std::string& reason, bool dropped)> closed;
        std::function<void()> echoed;
        MessageFrontEnd::Open open;   // CREATE_CHANNEL: the PV for a name
        // Web connections: who the peer is, decided by the HTTP request (peer host, trusted
        // user header), not by what the protocol's handshake claims.
        std::optional<protocol::PeerCredentials> credentials;
        std::optional<ClientIdentity> identity;  // the same, for the access rules
        EngineLimits limits;
    };

    struct Timeouts {
        std::chrono::milliseconds idle;        // nothing received for this long: closed
        std::chrono::milliseconds validation;  // handshake not complete after this long: closed
    };

    ServerConnection(std::shared_ptr<net::StreamTransport> transport, net::Protocol speaks,
                     protocol::ServerHandshake::Options hs, wire::Limits limits, Timeouts timeouts, Hooks hooks);

    // Sends the greeting and starts reading and the idle timer.
    void start();
    void close(const std::string& reason);
    // Closed for a protocol error: the peer is told why first where the protocol can say it.
    void drop(const std::string& reason);
    // A PV was removed from the server: destroy this client's channels to it (any thread).
    void pv_removed(std::string name);
    // The access rules changed: this client's channels are checked again (any thread).
    void access_changed();

    void on_frame(std::span<const std::byte> frame, const std::shared_ptr<const void>& owner) override;
    void on_closed(std::error_code ec, const std::string& reason) override;
    void on_sent() override;
    void on_framing_error(const std::string& reason) override { drop(reason); }

    const protocol::PeerCredentials& credentials() const noexcept { return handshake_.credentials(); }
    std::string peer() const { return transport_->peer_name(); }
    // What this connection counted (written on its strand; set at construction, so any thread
    // may read it).
    const std::shared_ptr<ConnectionCounters>& counters() const noexcept { return counters_; }

private:
    void send(const wire::Message& m);
    void arm_idle_timer();
    void handle(const wire::Message& m);

    std::shared_ptr<net::StreamTransport> transport_;
    std::unique_ptr<protocol::detail::MessageCodec> codec_;
    protocol::ServerHandshake handshake_;
    Timeouts timeouts_;
    net::asio::steady_timer idle_timer_;
    std::chrono::steady_clock::time_point started_, last_rx_;
    Hooks hooks_;
    wire::Message msg_;        // reused for every decoded message
    wire::OutBuffer out_;      // reused for replies
    bool dropped_ = false;     // closed by us for a protocol error, limit or timeout
    std::shared_ptr<MessageFrontEnd> engine_;  // after validation
    const std::shared_ptr<ConnectionCounters> counters_ = std::make_shared<ConnectionCounters>();
};

}  // namespace pvwire::server::detail
