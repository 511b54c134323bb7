#include "server_connection.hpp"

#include "client_identity.hpp"

namespace pvwire::server::detail {

namespace {
protocol::ServerHandshake::Options with_encoder(protocol::ServerHandshake::Options hs,
                                                protocol::detail::MessageCodec& codec) {
    hs.encode = codec.handshake_encoder();
    return hs;
}
}  // namespace

ServerConnection::ServerConnection(std::shared_ptr<net::StreamTransport> transport, net::Protocol speaks,
                                   protocol::ServerHandshake::Options hs, wire::Limits limits, Timeouts timeouts,
                                   Hooks hooks)
    : transport_(std::move(transport)), codec_(protocol::detail::make_message_codec(speaks, true, limits)),
      handshake_(with_encoder(std::move(hs), *codec_)), timeouts_(timeouts), idle_timer_(transport_->executor()),
      hooks_(std::move(hooks)) {}

void ServerConnection::start() {
    transport_->start(weak_from_this());
    out_.clear();
    handshake_.start(out_);
    ConnectionCounters::add(counters_->bytes_out, out_.size());
    transport_->send(std::move(out_));
    started_ = last_rx_ = std::chrono::steady_clock::now();
    net::asio::dispatch(transport_->executor(), [self = shared_from_this()] { self->arm_idle_timer(); });
}

void ServerConnection::close(const std::string& reason) {
    dropped_ = true;
    transport_->close(reason);
}

void ServerConnection::drop(const std::string& reason) {
    ConnectionCounters::add(counters_->protocol_errors);
    out_.clear();
    codec_->encode_goodbye(reason, out_);
    if (!out_.empty()) transport_->send(std::move(out_));
    dropped_ = true;
    transport_->close_after_sending(reason);
}

void ServerConnection::pv_removed(std::string name) {
    net::asio::post(transport_->executor(), [weak = weak_from_this(), name = std::move(name)] {
        if (auto self = weak.lock())
            if (self->engine_) self->engine_->close_channels(name);
    });
}

void ServerConnection::access_changed() {
    net::asio::post(transport_->executor(), [weak = weak_from_this()] {
        if (auto self = weak.lock())
            if (self->engine_) self->engine_->recheck_access();
    });
}

// PVXS closes a connection that received nothing for the idle timeout (40 s by default); a
// connection that has not validated by the validation timeout is closed too, so that a peer
// cannot hold a connection without ever identifying itself.
void ServerConnection::arm_idle_timer() {
    auto deadline = last_rx_ + timeouts_.idle;
    if (!handshake_.validated()) deadline = std::min(deadline, started_ + timeouts_.validation);
    idle_timer_.expires_at(deadline);
    idle_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (!self || ec) return;
        const auto now = std::chrono::steady_clock::now();
        if (!self->handshake_.validated() && now - self->started_ >= self->timeouts_.validation) {
            ConnectionCounters::add(self->counters_->timeouts);
            self->close("no validation within " + std::to_string(self->timeouts_.validation.count()) + " ms");
            return;
        }
        if (now - self->last_rx_ >= self->timeouts_.idle) {
            ConnectionCounters::add(self->counters_->timeouts);
            self->close("no message for " + std::to_string(self->timeouts_.idle.count()) + " ms");
            return;
        }
        self->arm_idle_timer();
    });
}

void ServerConnection::send(const wire::Message& m) {
    out_.clear();
    codec_->encode(m, out_);
    if (out_.empty()) return;
    ConnectionCounters::add(counters_->bytes_out, out_.size());
    transport_->send(std::move(out_));
}

void ServerConnection::on_frame(std::span<const std::byte> frame, const std::shared_ptr<const void>& owner) {
    last_rx_ = std::chrono::steady_clock::now();
    ConnectionCounters::add(counters_->bytes_in, frame.size());
    wire::Diagnostic diag;
    switch (codec_->decode(frame, msg_, diag, owner)) {
    case wire::ConnectionCodec::Result::Pending:
        return;
    case wire::ConnectionCodec::Result::Ignored:
        // an execute request for an operation we do not know: answer it with an error
        if (engine_ && diag.code == wire::errc::unknown_operation)
            if (const auto r = codec_->ignored_request(frame)) engine_->unknown_request(r->command, r->ioid, r->subcmd);
        return;
    case wire::ConnectionCodec::Result::Error:
        drop("bad message from client: " + diag.message());
        return;
    case wire::ConnectionCodec::Result::Message:
        break;
    }
    if (msg_.from_server) {  // PVXS enforces the direction bit
        drop("message with the server direction flag from a client");
        return;
    }
    handle(msg_);
}

void ServerConnection::handle(const wire::Message& m) {
    out_.clear();
    if (handshake_.on_message(m, out_)) {
        ConnectionCounters::add(counters_->bytes_out, out_.size());
        transport_->send(std::move(out_));
        if (handshake_.state() == protocol::ServerHandshake::State::Failed)
            close("client chose an authentication method we did not offer");
        return;
    }
    if (std::holds_alternative<wire::Control>(m.body)) return;  // no-ops
    if (!handshake_.validated()) {  // before validation, nothing but validation (an ECHO neither)
        drop("client sent " + std::string(wire::command_name(m.command())) + " before validation");
        return;
    }
    if (const auto* echo = std::get_if<wire::Echo>(&m.body)) {
        wire::Message reply;
        reply.order = handshake_.order();
        reply.from_server = true;
        reply.body = *echo;
        send(reply);
        if (hooks_.echoed) hooks_.echoed();
        return;
    }
    if (const auto* search = std::get_if<wire::Search>(&m.body)) {  // name-server use
        if (hooks_.search)
            if (auto reply = hooks_.search(*search)) {
                reply->response.order = handshake_.order();
                send(reply->response);
            }
        return;
    }
    if (std::holds_alternative<wire::RemoteMessage>(m.body) || std::holds_alternative<wire::AuthNZ>(m.body))
        return;  // PVXS accepts and ignores these from a client
    if (!engine_) {
        Peer peer{transport_->peer_name(), hooks_.credentials ? *hooks_.credentials : handshake_.credentials(),
                  hooks_.identity ? *hooks_.identity : client_identity(transport_->peer_facts(), handshake_.credentials())};
        std::weak_ptr<ServerConnection> weak = weak_from_this();
        engine_ = std::make_shared<MessageFrontEnd>(
            transport_->executor(), std::move(peer), handshake_.order(), hooks_.open,
            [weak](wire::Message&& reply) {
                if (auto self = weak.lock()) self->send(reply);
            },
            [weak](std::uint32_t ioid, const Value& value, const BitSet& changed, const BitSet& overrun,
                   protocol::detail::SharedEncoding* share) -> std::size_t {
                auto self = weak.lock();
                if (!self) return 0;
                wire::OutBuffer out;
                self->codec_->encode_update(ioid, value, changed, overrun, share, out);
                const std::size_t bytes = out.size();
                ConnectionCounters::add(self->counters_->bytes_out, bytes);
                self->transport_->send(std::move(out));
                return bytes;
            },
            [weak]() -> std::size_t {
                auto self = weak.lock();
                return self ? self->transport_->pending_output() : 0;
            },
            hooks_.limits, counters_);
    }
    if (!engine_->handle(m)) {
        // a message a client has no business sending (a server's message, a beacon...)
        drop("unexpected " + std::string(wire::command_name(m.command())) + " from a client");
    }
}

void ServerConnection::on_sent() {
    if (engine_) engine_->writable();
}

void ServerConnection::on_closed(std::error_code ec, const std::string& reason) {
    idle_timer_.cancel();
    if (engine_) engine_->close();
    // dropped: we closed it (protocol error, timeout) or the transport did (bad framing, a
    // limit); a peer that simply hung up is not counted
    const bool peer_left = ec == make_error_code(net::asio::error::eof) ||
                           ec == make_error_code(net::asio::error::connection_reset);
    // the transport's max_pending_output (FramedStream::send) closes with this code
    if (ec == std::errc::no_buffer_space && hooks_.limits.hits) hooks_.limits.hits->slow_peers.hit(reason);
    if (ec && !peer_left && !dropped_) ConnectionCounters::add(counters_->transport_errors);
    if (hooks_.closed) hooks_.closed(*this, reason, dropped_ || (ec && !peer_left));
}

}  // namespace pvwire::server::detail
