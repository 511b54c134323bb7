#include <pvwire/client/context.hpp>

#include <pvwire/net/address.hpp>
#include <pvwire/net/interfaces.hpp>
#include <pvwire/net/tcp_transport.hpp>
#include <pvwire/net/udp_transport.hpp>
#include <pvwire/protocol/beacon_tracker.hpp>
#include <pvwire/protocol/client_handshake.hpp>
#include <pvwire/protocol/search_responder.hpp>
#include <pvwire/protocol/search_scheduler.hpp>
#include <pvwire/wire/connection_codec.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace pvwire::client {

namespace asio = net::asio;
using net::tcp;
using net::udp;
using Clock = std::chrono::steady_clock;

// The group through which the pvAccess processes of one host pass unicast searches on.
asio::ip::address_v4 local_group() { return asio::ip::make_address_v4("224.0.0.128"); }

class LinkImpl;
class ChannelImpl;

// ---- Context::Impl --------------------------------------------------------------------------

class Context::Impl : public std::enable_shared_from_this<Context::Impl> {
public:
    Impl(net::ClientConfig cfg, ClientOptions opts)
        : cfg_(std::move(cfg)), opts_(std::move(opts)), strand_(asio::make_strand(io_.get_executor())),
          search_timer_(strand_), nameserver_timer_(strand_) {}

    void start();
    void stop();

    std::shared_ptr<Channel> make_channel(std::string name);
    std::shared_ptr<LinkImpl> get_link(const tcp::endpoint& ep, bool for_name_server = false);

    // called on the strand
    void forget_channel(std::uint32_t cid);
    void link_validated(LinkImpl& link);
    void link_closed(LinkImpl& link);
    void on_search_response(const wire::SearchResponse& r, const asio::ip::address& source, std::uint16_t source_port);
    void reschedule_search();
    void hurry_now();

    net::ClientConfig cfg_;
    ClientOptions opts_;
    asio::io_context io_;
    asio::strand<asio::io_context::executor_type> strand_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    std::thread thread_;
    std::atomic<bool> running_{false};

    std::shared_ptr<net::UdpTransport> search_sock_, beacon_sock_;
    std::uint16_t beacon_port_ = 0;
    protocol::SearchScheduler sched_;
    protocol::BeaconTracker beacons_;
    asio::steady_timer search_timer_, nameserver_timer_;
    Clock::time_point timer_at_ = Clock::time_point::max();
    std::uint32_t next_cid_ = 0x12345678;
    std::uint32_t search_seq_ = 1;
    std::map<std::uint32_t, std::weak_ptr<ChannelImpl>> channels_;
    std::map<tcp::endpoint, std::shared_ptr<LinkImpl>> links_;
    std::vector<std::shared_ptr<LinkImpl>> name_servers_;

    struct Counters {
        std::atomic<std::uint64_t> searches{0}, responses{0}, beacons{0}, noticed{0}, opened{0}, lost{0}, echoes{0};
    } counters_;

private:
    void search_tick();
    void on_beacon_datagram(const net::Datagram& d);
    void on_search_datagram(const net::Datagram& d);
    void connect_name_servers();
};

// ---- links ------------------------------------------------------------------------------------

class LinkImpl : public ServerLink, public net::StreamTransport::Handler, public std::enable_shared_from_this<LinkImpl> {
public:
    LinkImpl(std::shared_ptr<Context::Impl> ctx, tcp::endpoint ep, bool name_server)
        : ctx_(ctx), ep_(ep), name_server_(name_server), echo_timer_(ctx->strand_),
          handshake_(protocol::ClientHandshake::Options{ctx->opts_.auth_methods, ctx->opts_.user, ctx->opts_.host}) {
        wire::Limits l;
        l.max_message_bytes = ctx->cfg_.max_message_size;
        codec_ = std::make_unique<wire::ConnectionCodec>(l);
    }

    void connect();

    // ServerLink
    State state() const override { return state_.load(); }
    tcp::endpoint server() const override { return ep_; }
    std::string auth_method() const override {
        std::lock_guard lock(mu_);
        return method_;
    }
    void echo(std::vector<std::byte> payload, EchoHandler handler) override;
    bool wait_validated(std::chrono::milliseconds timeout) override {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, timeout, [&] { return state_ == State::Validated || state_ == State::Closed; });
        return state_ == State::Validated;
    }
    void close() override;

    // StreamTransport::Handler
    void on_frame(std::span<const std::byte> frame, const std::shared_ptr<const void>& owner) override;
    void on_closed(std::error_code ec, const std::string& reason) override;

    bool is_name_server() const noexcept { return name_server_; }
    // on the strand
    void send(wire::Message m) {
        if (!transport_) return;
        m.order = handshake_.order();
        out_.clear();
        wire::encode(m, out_);
        transport_->send(std::move(out_));
    }
    std::string close_reason() const {
        std::lock_guard lock(mu_);
        return reason_;
    }

private:
    void set_state(State s) {
        {
            std::lock_guard lock(mu_);
            state_ = s;
        }
        cv_.notify_all();
    }
    void keepalive();
    void fail_echoes(std::error_code ec);

    std::weak_ptr<Context::Impl> ctx_;
    tcp::endpoint ep_;
    bool name_server_;
    std::shared_ptr<net::StreamTransport> transport_;
    std::unique_ptr<wire::ConnectionCodec> codec_;
    asio::steady_timer echo_timer_;
    protocol::ClientHandshake handshake_;
    Clock::time_point last_rx_ = Clock::now();
    std::deque<EchoHandler> echoes_;  // replies are matched in order; keep-alives have no handler
    wire::Message msg_;
    wire::OutBuffer out_;
    std::atomic<State> state_{State::Connecting};
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::string method_;
    std::string reason_;
};

void LinkImpl::connect() {
    auto ctx = ctx_.lock();
    if (!ctx) return;
    auto sock = std::make_shared<tcp::socket>(ctx->strand_);
    sock->async_connect(ep_, [self = shared_from_this(), sock](boost::system::error_code ec) {
        auto ctx = self->ctx_.lock();
        if (!ctx) return;
        if (ec) {
            self->on_closed(ec, "connect to " + self->ep_.address().to_string() + ":" + std::to_string(self->ep_.port()) +
                                    " failed: " + ec.message());
            return;
        }
        if (self->state_ == State::Closed) return;
        ++ctx->counters_.opened;
        self->transport_ = net::TcpTransport::create(std::move(*sock), ctx->cfg_.transport_limits());
        self->set_state(State::Validating);
        self->last_rx_ = Clock::now();
        self->transport_->start(self->weak_from_this());
        self->keepalive();
    });
}

void LinkImpl::keepalive() {
    auto ctx = ctx_.lock();
    if (!ctx) return;
    const auto period = ctx->cfg_.echo_period();
    echo_timer_.expires_after(period);
    echo_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (!self || ec || self->state_ == State::Closed) return;
        auto ctx = self->ctx_.lock();
        if (!ctx) return;
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

void LinkImpl::on_frame(std::span<const std::byte> frame, const std::shared_ptr<const void>& owner) {
    last_rx_ = Clock::now();
    wire::Diagnostic diag;
    switch (codec_->decode(frame, msg_, diag, owner)) {
    case wire::ConnectionCodec::Result::Pending:
    case wire::ConnectionCodec::Result::Ignored: return;
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
    if (auto* e = std::get_if<wire::Echo>(&msg_.body)) {
        if (!echoes_.empty()) {
            auto h = std::move(echoes_.front());
            echoes_.pop_front();
            if (h) h({}, std::move(e->payload));
        }
        return;
    }
    if (auto* r = std::get_if<wire::SearchResponse>(&msg_.body)) {  // from a name server
        if (auto ctx = ctx_.lock()) {
            ++ctx->counters_.responses;
            wire::SearchResponse copy = *r;
            if (copy.server_port == 0) copy.server_port = ep_.port();
            ctx->on_search_response(copy, ep_.address(), ep_.port());
        }
        return;
    }
}

void LinkImpl::on_closed(std::error_code ec, const std::string& reason) {
    if (state_ == State::Closed) return;
    {
        std::lock_guard lock(mu_);
        reason_ = reason;
    }
    set_state(State::Closed);
    echo_timer_.cancel();
    fail_echoes(ec ? ec : std::make_error_code(std::errc::connection_aborted));
    if (auto ctx = ctx_.lock()) ctx->link_closed(*this);
}

// ---- channels -----------------------------------------------------------------------------------

class ChannelImpl : public Channel, public std::enable_shared_from_this<ChannelImpl> {
public:
    ChannelImpl(std::shared_ptr<Context::Impl> ctx, std::string name, std::uint32_t cid)
        : ctx_(ctx), name_(std::move(name)), cid_(cid) {}
    ~ChannelImpl() override {
        if (auto ctx = ctx_.lock()) {
            const auto cid = cid_;
            asio::post(ctx->strand_, [weak = std::weak_ptr<Context::Impl>(ctx), cid] {
                if (auto c = weak.lock()) c->forget_channel(cid);
            });
        }
    }

    const std::string& name() const override { return name_; }
    State state() const override {
        std::lock_guard lock(mu_);
        return state_;
    }
    std::optional<tcp::endpoint> server() const override {
        std::lock_guard lock(mu_);
        return server_;
    }
    void on_state(StateHandler handler) override {
        auto ctx = ctx_.lock();
        if (!ctx) return;
        asio::dispatch(ctx->strand_, [self = shared_from_this(), handler = std::move(handler)]() mutable {
            self->handler_ = std::move(handler);
            if (self->handler_) self->handler_(self->state());
        });
    }
    bool wait_connected(std::chrono::milliseconds timeout) override {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, timeout, [&] { return state_ == State::Connected || state_ == State::Closed; });
        return state_ == State::Connected;
    }
    std::shared_ptr<ServerLink> link() const override {
        std::lock_guard lock(mu_);
        return state_ == State::Connected ? link_ : nullptr;
    }

    // on the strand
    std::uint32_t cid() const noexcept { return cid_; }
    void set(State s, std::optional<tcp::endpoint> server, std::shared_ptr<LinkImpl> link) {
        {
            std::lock_guard lock(mu_);
            if (state_ == s && server_ == server) return;
            state_ = s;
            server_ = server;
            link_ = std::move(link);
        }
        cv_.notify_all();
        if (handler_) handler_(s);
    }
    std::shared_ptr<LinkImpl> current_link() const {
        std::lock_guard lock(mu_);
        return link_;
    }

private:
    std::weak_ptr<Context::Impl> ctx_;
    std::string name_;
    std::uint32_t cid_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    State state_ = State::Searching;
    std::optional<tcp::endpoint> server_;
    std::shared_ptr<LinkImpl> link_;
    StateHandler handler_;
};

// ---- Context::Impl implementation ---------------------------------------------------------------

void Context::Impl::start() {
    running_ = true;
    auto bind_addr = cfg_.interfaces.empty() ? asio::ip::address(asio::ip::address_v4::any()) : cfg_.interfaces.front();
    net::UdpOptions o;
    o.reuse_port = false;
    search_sock_ = net::UdpTransport::open(strand_, udp::endpoint(bind_addr, 0), o);
    // beacons arrive on the broadcast port, shared with every other pvAccess process here
    net::UdpOptions b;
    b.multicast_groups = {local_group()};
    beacon_sock_ = net::UdpTransport::open(strand_, udp::endpoint(bind_addr, cfg_.broadcast_port), b);
    beacon_port_ = beacon_sock_->local_endpoint().port();
    std::weak_ptr<Impl> weak = shared_from_this();
    search_sock_->start([weak](const net::Datagram& d) {
        if (auto self = weak.lock()) self->on_search_datagram(d);
    });
    beacon_sock_->start([weak](const net::Datagram& d) {
        if (auto self = weak.lock()) self->on_beacon_datagram(d);
    });
    work_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
    asio::post(strand_, [weak] {
        if (auto self = weak.lock()) self->connect_name_servers();
    });
}

void Context::Impl::stop() {
    if (!running_.exchange(false)) return;
    asio::post(strand_, [self = shared_from_this()] {
        self->search_timer_.cancel();
        self->nameserver_timer_.cancel();
        if (self->search_sock_) self->search_sock_->close();
        if (self->beacon_sock_) self->beacon_sock_->close();
        auto links = self->links_;
        for (auto& [ep, l] : links) l->close();
        for (auto& l : self->name_servers_) l->close();
    });
    work_.reset();
    std::mutex m;
    std::condition_variable cv;
    bool joined = false;
    std::thread watchdog([&] {
        std::unique_lock lock(m);
        if (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return joined; })) io_.stop();
    });
    if (thread_.joinable()) thread_.join();
    {
        std::lock_guard lock(m);
        joined = true;
    }
    cv.notify_one();
    watchdog.join();
    links_.clear();
    name_servers_.clear();
    channels_.clear();
}

std::shared_ptr<Channel> Context::Impl::make_channel(std::string name) {
    std::shared_ptr<ChannelImpl> ch;
    std::promise<std::shared_ptr<ChannelImpl>> made;
    auto fut = made.get_future();
    asio::dispatch(strand_, [self = shared_from_this(), &name, &made] {
        const auto cid = self->next_cid_++;
        auto c = std::make_shared<ChannelImpl>(self, std::move(name), cid);
        self->channels_[cid] = c;
        self->sched_.add(cid, c->name(), Clock::now());
        self->reschedule_search();
        made.set_value(c);
    });
    return fut.get();
}

std::shared_ptr<LinkImpl> Context::Impl::get_link(const tcp::endpoint& ep, bool for_name_server) {
    if (!for_name_server) {
        auto it = links_.find(ep);
        if (it != links_.end() && it->second->state() != ServerLink::State::Closed) return it->second;
    }
    auto link = std::make_shared<LinkImpl>(shared_from_this(), ep, for_name_server);
    if (!for_name_server) links_[ep] = link;
    link->connect();
    return link;
}

void Context::Impl::forget_channel(std::uint32_t cid) {
    channels_.erase(cid);
    sched_.remove(cid);
}

void Context::Impl::link_validated(LinkImpl& link) {
    if (link.is_name_server()) {
        hurry_now();  // a (re)connected name server: search everything through it soon
        return;
    }
    for (auto& [cid, weak] : channels_)
        if (auto ch = weak.lock())
            if (ch->state() == Channel::State::Connecting && ch->current_link().get() == &link)
                ch->set(Channel::State::Connected, link.server(), ch->current_link());
}

void Context::Impl::link_closed(LinkImpl& link) {
    if (link.is_name_server()) return;  // reconnected by the name-server timer
    ++counters_.lost;
    auto it = links_.find(link.server());
    std::shared_ptr<LinkImpl> keep;
    if (it != links_.end() && it->second.get() == &link) {
        keep = it->second;
        links_.erase(it);
    }
    if (!running_) return;
    const auto now = Clock::now();
    for (auto& [cid, weak] : channels_) {
        auto ch = weak.lock();
        if (!ch || ch->current_link().get() != &link) continue;
        ch->set(Channel::State::Searching, std::nullopt, nullptr);
        sched_.add(cid, ch->name(), now);
    }
    reschedule_search();
}

void Context::Impl::on_search_response(const wire::SearchResponse& r, const asio::ip::address& source,
                                       std::uint16_t source_port) {
    if (!r.found || r.protocol != "tcp") return;
    asio::ip::address addr = r.server_address.is_unspecified() ? source : net::from_wire(r.server_address);
    tcp::endpoint server(addr, r.server_port ? r.server_port : source_port);
    for (auto cid : r.cids) {
        auto it = channels_.find(cid);
        if (it == channels_.end()) continue;
        auto ch = it->second.lock();
        if (!ch || ch->state() != Channel::State::Searching) continue;  // the first responder wins
        sched_.remove(cid);
        auto link = get_link(server);
        if (link->state() == ServerLink::State::Validated)
            ch->set(Channel::State::Connected, server, link);
        else
            ch->set(Channel::State::Connecting, server, link);
    }
}

void Context::Impl::on_search_datagram(const net::Datagram& d) {
    std::span<const std::byte> rest = d.bytes;
    while (rest.size() >= wire::header_size) {
        wire::Diagnostic diag;
        auto h = wire::Header::parse(rest, &diag);
        if (!h || h->is_control() || rest.size() < wire::header_size + h->body_size()) return;
        wire::Message m;
        wire::DecodeContext ctx;
        const bool ok = wire::decode(*h, rest.subspan(wire::header_size, h->body_size()), ctx, m, diag);
        rest = rest.subspan(wire::header_size + h->body_size());
        if (!ok) return;
        if (auto* r = std::get_if<wire::SearchResponse>(&m.body)) {
            ++counters_.responses;
            on_search_response(*r, d.from.address(), 0);
        }
    }
}

void Context::Impl::on_beacon_datagram(const net::Datagram& d) {
    std::span<const std::byte> rest = d.bytes;
    wire::Diagnostic diag;
    auto h = wire::Header::parse(rest, &diag);
    if (!h || h->is_control() || rest.size() < wire::header_size + h->body_size()) return;
    const bool via_group = d.to && d.to->is_v4() && d.to->to_v4() == local_group();
    if (h->command == std::uint8_t(wire::Command::Search) && !via_group && d.to && d.to->is_v4() &&
        !d.to->is_multicast() && d.to->to_v4() != asio::ip::address_v4::broadcast() && net::is_local_address(*d.to)) {
        // This socket shares the broadcast port with the servers of this host, and a unicast
        // search reached it instead of them: pass it on through the local group, as a server
        // would (protocol.md §6.5).
        wire::Message m;
        wire::DecodeContext ctx;
        if (wire::decode(*h, rest.subspan(wire::header_size, h->body_size()), ctx, m, diag))
            if (auto* s = std::get_if<wire::Search>(&m.body)) {
                const auto fwd = protocol::SearchResponder::forward(*s, net::to_wire(*d.to), net::to_wire(d.from.address()),
                                                                    d.from.port(), m.order);
                beacon_sock_->send_to(fwd, udp::endpoint(local_group(), beacon_sock_->local_endpoint().port()));
            }
        return;
    }
    if (h->command != std::uint8_t(wire::Command::Beacon)) return;
    wire::Message m;
    wire::DecodeContext ctx;
    if (!wire::decode(*h, rest.subspan(wire::header_size, h->body_size()), ctx, m, diag)) return;
    const auto* b = std::get_if<wire::Beacon>(&m.body);
    if (!b || b->protocol != "tcp") return;
    ++counters_.beacons;
    const auto addr = b->server_address.is_unspecified() ? d.from.address() : net::from_wire(b->server_address);
    const auto key = addr.to_string() + ":" + std::to_string(b->server_port);
    const auto now = Clock::now();
    const auto seen = beacons_.on_beacon(key, b->guid, now);
    if (seen != protocol::BeaconTracker::Seen::Known) {
        ++counters_.noticed;
        hurry_now();
    }
    if (counters_.beacons % 256 == 0) beacons_.expire(now);
}

void Context::Impl::hurry_now() {
    if (sched_.hurry(Clock::now())) reschedule_search();
}

void Context::Impl::reschedule_search() {
    if (!running_) return;
    const auto due = sched_.next_due();
    if (due == Clock::time_point::max()) return;
    // PVXS batches new names for ~10 ms before searching
    const auto when = std::max(due, Clock::now() + std::chrono::milliseconds(10));
    if (timer_at_ <= when && timer_at_ > Clock::now()) return;  // already armed earlier
    timer_at_ = when;
    search_timer_.expires_at(when);
    search_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        if (ec) return;
        if (auto self = weak.lock()) {
            self->timer_at_ = Clock::time_point::max();
            self->search_tick();
        }
    });
}

void Context::Impl::search_tick() {
    if (!running_) return;
    const auto batches = sched_.due(Clock::now());
    const auto dests = cfg_.search_destinations();
    const auto bcasts = net::broadcast_addresses();
    for (const auto& batch : batches) {
        wire::Search s;
        s.sequence = search_seq_++;
        s.response_port = search_sock_->local_endpoint().port();
        for (const auto& e : batch) s.channels.push_back(wire::SearchChannel{e.cid, e.name});
        for (const auto& dest : dests) {
            const auto a = dest.address();
            const bool broadcast = a.is_multicast() ||
                                   (a.is_v4() && (a.to_v4() == asio::ip::address_v4::broadcast() ||
                                                  std::find(bcasts.begin(), bcasts.end(), a.to_v4()) != bcasts.end()));
            s.flags = broadcast ? 0 : wire::Search::unicast;
            wire::Message m;
            m.order = wire::ByteOrder::Big;  // as PVXS
            m.body = s;
            if (search_sock_->send_to(wire::encode_to_bytes(m), dest)) ++counters_.searches;
        }
        // and over TCP to every validated name server (reply comes back on that connection)
        for (auto& ns : name_servers_) {
            if (ns->state() != ServerLink::State::Validated) continue;
            wire::Search t = s;
            t.flags = wire::Search::unicast;
            t.response_port = 0;
            wire::Message m;
            m.body = std::move(t);
            ns->send(std::move(m));
            ++counters_.searches;
        }
    }
    reschedule_search();
}

void Context::Impl::connect_name_servers() {
    if (!running_ || cfg_.name_servers.empty()) return;
    if (name_servers_.empty()) name_servers_.resize(cfg_.name_servers.size());
    for (std::size_t i = 0; i < cfg_.name_servers.size(); ++i) {
        auto& ns = name_servers_[i];
        if (ns && ns->state() != ServerLink::State::Closed) continue;
        std::string err;
        auto hp = cfg_.name_servers[i];
        if (!hp.port_given) hp.port = cfg_.server_port;
        auto ep = net::resolve(hp, net::Resolve::names, &err);
        if (!ep) continue;
        ns = get_link(tcp::endpoint(ep->address(), ep->port()), true);
    }
    // PVXS retries disconnected name servers every 10 s
    nameserver_timer_.expires_after(std::chrono::seconds(10));
    nameserver_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->connect_name_servers();
    });
}

// ---- Context --------------------------------------------------------------------------------------

Context::Context(net::ClientConfig config, ClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(config), std::move(options))) {
    impl_->start();
}
Context::~Context() { stop(); }

std::shared_ptr<Channel> Context::channel(std::string name) { return impl_->make_channel(std::move(name)); }

std::shared_ptr<ServerLink> Context::link(const tcp::endpoint& server) {
    std::promise<std::shared_ptr<LinkImpl>> made;
    auto fut = made.get_future();
    asio::dispatch(impl_->strand_, [impl = impl_, server, &made] { made.set_value(impl->get_link(server)); });
    return fut.get();
}

void Context::hurry() {
    asio::post(impl_->strand_, [impl = impl_] { impl->hurry_now(); });
}
void Context::stop() { impl_->stop(); }
std::uint16_t Context::beacon_port() const { return impl_->beacon_port_; }
const net::ClientConfig& Context::config() const { return impl_->cfg_; }

ContextStats Context::stats() const {
    const auto& c = impl_->counters_;
    return ContextStats{c.searches, c.responses, c.beacons, c.noticed, c.opened, c.lost, c.echoes};
}

}  // namespace pvwire::client
