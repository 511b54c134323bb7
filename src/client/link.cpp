#include "context_impl.hpp"

#include <pvwire/log.hpp>
#include <pvwire/net/tcp_transport.hpp>

namespace pvwire::client {

namespace {
// The endpoint of a TCP (or TLS) address given as an IP literal (what search answers give).
tcp::endpoint tcp_endpoint_of(const net::ServerAddress& address) {
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(address.host, ec);
    if (ec || (address.transport != "tcp" && address.transport != "tls")) return {};
    return tcp::endpoint(ip, address.port);
}
wire::Limits decoder_limits(const net::ClientConfig& cfg) {
    wire::Limits l;
    l.max_message_bytes = cfg.max_message_size;
    return l;
}
}  // namespace

LinkImpl::LinkImpl(std::shared_ptr<Context::Impl> ctx, net::ServerAddress address, bool name_server)
    : ctx_(ctx), address_(std::move(address)), ep_(tcp_endpoint_of(address_)), name_server_(name_server),
      codec_(protocol::detail::make_message_codec(address_.protocol, false, decoder_limits(ctx->cfg_))),
      echo_timer_(ctx->strand_),
      handshake_(protocol::ClientHandshake::Options{ctx->opts_.auth_methods, ctx->opts_.user, ctx->opts_.host,
                                                    codec_->handshake_encoder()}) {}

std::string LinkImpl::auth_method() const {
    std::lock_guard lock(mu_);
    return method_;
}

bool LinkImpl::wait_validated(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return state_ == State::Validated || state_ == State::Closed; });
    return state_ == State::Validated;
}

void LinkImpl::set_state(State s) {
    {
        std::lock_guard lock(mu_);
        state_ = s;
    }
    cv_.notify_all();
}

void LinkImpl::send(wire::Message m) {
    if (!transport_) return;
    m.order = handshake_.order();  // pvAccessCPP servers read everything in their own order
    out_.clear();
    codec_->encode(m, out_);
    if (!out_.empty()) transport_->send(std::move(out_));
}

void LinkImpl::connect() {
    auto ctx = ctx_.lock();
    if (!ctx) return;
    auto connector = ctx->connector_for(address_.transport);
    if (!connector) {
        on_closed(std::make_error_code(std::errc::address_family_not_supported),
                  "no connector for " + address_.to_string());
        return;
    }
    connector(address_, ctx->strand_, net::limits_for(address_.protocol, ctx->cfg_.transport_limits()),
              [self = shared_from_this(), strand = ctx->strand_](std::error_code ec,
                                                                 std::shared_ptr<net::StreamTransport> transport,
                                                                 std::string error) {
                  // a user's connector may complete anywhere: continue on the strand
                  asio::dispatch(strand, [self, ec, transport = std::move(transport), error = std::move(error)] {
                      self->on_connected(ec, transport, error);
                  });
              });
}

void LinkImpl::on_connected(std::error_code ec, std::shared_ptr<net::StreamTransport> transport,
                            const std::string& error) {
    auto ctx = ctx_.lock();
    if (!ctx) return;
    if (ec || !transport) {
        on_closed(ec ? ec : std::make_error_code(std::errc::not_connected), error);
        return;
    }
    if (state_ == State::Closed) {
        transport->close("closed by the client");
        return;
    }
    ++ctx->counters_.opened;
    transport_ = std::move(transport);
    set_state(State::Validating);
    last_rx_ = Clock::now();
    transport_->start(weak_from_this());
    keepalive();
}

void LinkImpl::keepalive() {
    auto ctx = ctx_.lock();
    if (!ctx) return;
    echo_timer_.expires_after(ctx->cfg_.echo_period());
    echo_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (!self || ec || self->state_ == State::Closed) return;
        auto ctx = self->ctx_.lock();
        if (!ctx) return;
        // a server that sent nothing for the EPICS timeout is dead (PVXS: 40 s by default)
        const auto silent = Clock::now() - self->last_rx_;
        if (silent >= ctx->cfg_.idle_timeout()) {
            self->transport_->close("server silent for " +
                                    std::to_string(std::chrono::duration_cast<std::chrono::seconds>(silent).count()) + " s");
            return;
        }
        if (self->handshake_.validated()) {
            self->echoes_.emplace_back();  // a keep-alive: its reply has no handler
            wire::Message m;
            m.body = wire::Echo{};
            self->send(std::move(m));
            ++ctx->counters_.echoes;
        }
        self->keepalive();
    });
}

void LinkImpl::echo(std::vector<std::byte> payload, EchoHandler handler) {
    auto ctx = ctx_.lock();
    if (!ctx) return;
    asio::dispatch(ctx->strand_, [self = shared_from_this(), payload = std::move(payload), handler = std::move(handler)]() mutable {
        if (self->state_ != State::Validated) {
            if (handler) handler(std::make_error_code(std::errc::not_connected), {});
            return;
        }
        self->echoes_.push_back(std::move(handler));
        wire::Message m;
        m.body = wire::Echo{std::move(payload)};
        self->send(std::move(m));
        if (auto c = self->ctx_.lock()) ++c->counters_.echoes;
    });
}

void LinkImpl::close() {
    auto ctx = ctx_.lock();
    if (!ctx) return;
    asio::dispatch(ctx->strand_, [self = shared_from_this()] {
        self->closing_ = true;
        if (self->transport_) self->transport_->close("closed by the client");
        else self->on_closed({}, "closed by the client");
    });
}

void LinkImpl::fail_echoes(std::error_code ec) {
    auto pending = std::move(echoes_);
    echoes_.clear();
    for (auto& h : pending)
        if (h) h(ec, {});
}

void LinkImpl::create_channel(const std::shared_ptr<ChannelImpl>& ch) {
    if (!validated()) return;  // done when validation completes
    creating_[ch->cid()] = ch;
    wire::Message m;
    m.body = wire::CreateChannelRequest{{wire::SearchChannel{ch->cid(), ch->name()}}};
    send(std::move(m));
}

void LinkImpl::destroy_channel(ChannelImpl& ch) {
    if (!validated() || !ch.sid()) return;
    by_sid_.erase(ch.sid());
    wire::Message m;
    m.body = wire::DestroyChannel{ch.sid(), ch.cid()};
    send(std::move(m));
}

void LinkImpl::attach(const std::shared_ptr<ClientOp>& op) { ops_[op->ioid()] = op; }
void LinkImpl::detach(std::uint32_t ioid) { ops_.erase(ioid); }

void LinkImpl::on_frame(std::span<const std::byte> frame, const std::shared_ptr<const void>& owner) {
    last_rx_ = Clock::now();
    wire::Diagnostic diag;
    switch (codec_->decode(frame, msg_, diag, owner)) {
    case wire::ConnectionCodec::Result::Pending:
    case wire::ConnectionCodec::Result::Ignored: return;  // e.g. a late reply for a destroyed operation
    case wire::ConnectionCodec::Result::Error:
        transport_->close("bad message from server: " + diag.message());
        return;
    case wire::ConnectionCodec::Result::Message: break;
    }
    if (!msg_.from_server) {
        transport_->close("message without the server direction flag from a server");
        return;
    }
    out_.clear();
    const bool was_validated = handshake_.validated();
    if (handshake_.on_message(msg_, out_)) {
        if (!out_.empty()) transport_->send(std::move(out_));
        {
            std::lock_guard lock(mu_);
            method_ = handshake_.method();
        }
        if (!was_validated && handshake_.validated()) {
            set_state(State::Validated);
            if (auto ctx = ctx_.lock()) ctx->link_validated(*this);
        }
        return;
    }
    dispatch(msg_);
}

void LinkImpl::dispatch(const wire::Message& m) {
    if (auto* e = std::get_if<wire::Echo>(&m.body)) {
        if (!echoes_.empty()) {
            auto h = std::move(echoes_.front());
            echoes_.pop_front();
            if (h) h({}, e->payload);
        }
        return;
    }
    if (auto* r = std::get_if<wire::SearchResponse>(&m.body)) {  // from a name server
        if (auto ctx = ctx_.lock()) {
            ++ctx->counters_.responses;
            wire::SearchResponse copy = *r;
            if (copy.server_port == 0) copy.server_port = ep_.port();
            ctx->on_search_response(copy, ep_.address(), ep_.port());
        }
        return;
    }
    if (auto* c = std::get_if<wire::CreateChannelResponse>(&m.body)) {
        auto it = creating_.find(c->cid);
        if (it == creating_.end()) return;
        auto ch = it->second.lock();
        creating_.erase(it);
        if (!ch) return;
        if (c->status.success()) {
            by_sid_[c->sid] = ch;
            ch->created(c->sid);
        } else if (auto ctx = ctx_.lock()) {
            ctx->research(*ch);  // refused after a positive search: try again later (PVXS)
        }
        return;
    }
    if (auto* d = std::get_if<wire::DestroyChannel>(&m.body)) {  // the server closed the PV
        auto it = by_sid_.find(d->sid);
        if (it == by_sid_.end()) return;
        auto ch = it->second.lock();
        by_sid_.erase(it);
        if (!ch) return;
        // its operations are gone on the server: they learn it now (monitors wait for the
        // channel to come back, one-shot operations fail)
        std::vector<std::shared_ptr<ClientOp>> affected;
        for (auto& [ioid, op] : ops_)
            if (op->channel() == ch.get()) affected.push_back(op);
        for (auto& op : affected) {
            ops_.erase(op->ioid());
            op->on_disconnect();
        }
        ch->lost();
        return;
    }
    if (auto* msg = std::get_if<wire::RemoteMessage>(&m.body)) {
        auto it = ops_.find(msg->ioid);
        if (it != ops_.end()) it->second->on_message(*msg);
        return;
    }
    // operation replies: by ioid
    const std::uint32_t ioid = std::visit(
        [](const auto& b) -> std::uint32_t {
            using T = std::decay_t<decltype(b)>;
            if constexpr (std::is_base_of_v<wire::OperationResponse, T> || std::is_same_v<T, wire::GetFieldResponse>)
                return b.ioid;
            else
                return 0;
        },
        m.body);
    if (!ioid) return;
    auto it = ops_.find(ioid);
    if (it == ops_.end()) return;  // late reply for an operation we dropped
    auto op = it->second;          // may detach itself
    op->on_reply(m);
}

void LinkImpl::on_closed(std::error_code ec, const std::string& reason) {
    if (state_ == State::Closed) return;
    if (state_ != State::Validated && !closing_ && !reason.empty()) {
        failure_ = reason;
        log::client().warn("{}", reason);
    }
    set_state(State::Closed);
    echo_timer_.cancel();
    fail_echoes(ec ? ec : std::make_error_code(std::errc::connection_aborted));
    auto ops = std::move(ops_);
    ops_.clear();
    for (auto& [ioid, op] : ops) op->on_disconnect();
    creating_.clear();
    by_sid_.clear();
    if (auto ctx = ctx_.lock()) ctx->link_closed(*this);
}

// ---- ChannelImpl ------------------------------------------------------------------------------------

ChannelImpl::ChannelImpl(std::shared_ptr<Context::Impl> ctx, std::string name, std::uint32_t cid)
    : ctx_(ctx), name_(std::move(name)), cid_(cid), sync_(ctx->channel_sync_) {}

ChannelImpl::ChannelImpl(std::shared_ptr<Context::Impl> ctx, std::string name, std::uint32_t cid,
                         const std::string& server)
    : ChannelImpl(ctx, std::move(name), cid) {
    direct_ = ctx->direct_address(server, address_error_);
}

ChannelImpl::~ChannelImpl() {
    auto ctx = ctx_.lock();
    if (!ctx) return;
    const auto cid = cid_;
    const auto sid = sid_;
    auto link = link_;
    asio::post(ctx->strand_, [weak = std::weak_ptr<Context::Impl>(ctx), cid, sid, link] {
        auto c = weak.lock();
        if (!c) return;
        c->forget_channel(cid);
        if (link && link->validated() && sid) {
            wire::Message m;
            m.body = wire::DestroyChannel{sid, cid};
            link->send(std::move(m));
        }
    });
}

Channel::State ChannelImpl::state() const {
    std::lock_guard lock(sync_->mu);
    return state_;
}
std::optional<tcp::endpoint> ChannelImpl::server() const {
    std::lock_guard lock(sync_->mu);
    return server_;
}
std::shared_ptr<ServerLink> ChannelImpl::link() const {
    std::lock_guard lock(sync_->mu);
    return state_ == State::Connected ? link_ : nullptr;
}
std::shared_ptr<LinkImpl> ChannelImpl::current_link() const {
    std::lock_guard lock(sync_->mu);
    return link_;
}

void ChannelImpl::on_state(StateHandler handler) {
    auto ctx = ctx_.lock();
    if (!ctx) return;
    asio::dispatch(ctx->strand_, [self = shared_from_this(), handler = std::move(handler)]() mutable {
        self->handler_ = std::move(handler);
        if (self->handler_) self->handler_(self->state());
    });
}

bool ChannelImpl::wait_connected(std::chrono::milliseconds timeout) {
    std::unique_lock lock(sync_->mu);
    sync_->cv.wait_for(lock, timeout, [&] { return state_ == State::Connected || state_ == State::Closed; });
    return state_ == State::Connected;
}

void ChannelImpl::set(State s, std::optional<tcp::endpoint> server, std::shared_ptr<LinkImpl> link) {
    {
        std::lock_guard lock(sync_->mu);
        if (state_ == s && server_ == server && link_ == link) return;
        state_ = s;
        server_ = server;
        link_ = std::move(link);
    }
    sync_->cv.notify_all();
    if (handler_) handler_(s);
}

void ChannelImpl::created(std::uint32_t sid) {
    sid_ = sid;
    connect_failure_.clear();
    set(State::Connected, server(), current_link());
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (auto& f : waiting) f();
    // operations that live across reconnections start again
    auto kept = kept_;
    for (auto& w : kept)
        if (auto op = w.lock()) op->begin();
}

std::shared_ptr<ClientOp> ChannelImpl::take_parked(const std::string& key) {
    auto it = parked_.find(key);
    if (it == parked_.end()) return nullptr;
    auto op = std::move(it->second);
    parked_.erase(it);
    return op;
}

bool ChannelImpl::park(const std::string& key, const std::shared_ptr<ClientOp>& op) {
    if (state() != State::Connected) return false;
    if (parked_.count(key) >= max_parked_per_key) return false;
    parked_.emplace(key, op);
    return true;
}

void ChannelImpl::lost() {
    sid_ = 0;
    parked_.clear();  // their operations died with the connection
    if (auto ctx = ctx_.lock()) ctx->research(*this);
}

void ChannelImpl::when_connected(std::function<void()> f) {
    if (state() == State::Connected) {
        f();
        return;
    }
    waiting_.push_back(std::move(f));
}

void ChannelImpl::shutdown() {
    waiting_.clear();
    kept_.clear();
    parked_.clear();
    handler_ = nullptr;
}

void ChannelImpl::keep(const std::shared_ptr<ClientOp>& op) { kept_.push_back(op); }
void ChannelImpl::unkeep(ClientOp* op) {
    std::erase_if(kept_, [op](const std::weak_ptr<ClientOp>& w) {
        auto p = w.lock();
        return !p || p.get() == op;
    });
}

}  // namespace pvwire::client
