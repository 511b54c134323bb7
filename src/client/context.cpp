#include "context_impl.hpp"

#include <pvwire/wire/datagram.hpp>

#include "../net/join_threads.hpp"
#include "../net/run_loop.hpp"

#include <pvwire/log.hpp>
#include <pvwire/net/address.hpp>
#include <pvwire/net/interfaces.hpp>
#include <pvwire/net/search_forwarding.hpp>
#include <pvwire/net/tcp_transport.hpp>
#include <pvwire/log.hpp>
#include <pvwire/net/tls.hpp>
#include <pvwire/net/udp_transport.hpp>
#include <pvwire/protocol/beacon_tracker.hpp>
#include <pvwire/protocol/client_handshake.hpp>
#include <pvwire/protocol/search_scheduler.hpp>
#include <pvwire/wire/connection_codec.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <future>
#include <stdexcept>
#include <thread>

namespace pvwire::client {

// ---- Context::Impl implementation ---------------------------------------------------------------

namespace {
std::unique_ptr<asio::io_context> own_io_unless(const std::optional<asio::any_io_executor>& executor) {
    return executor ? nullptr : std::make_unique<asio::io_context>();
}

// The TLS connector of a configured keychain; none (plain pvAccess only, logged) when it
// cannot be used, unless on_expiration=shutdown asks for an error.
net::Connector tls_connector_for(const net::TlsConfig& tls) {
    if (!tls.enabled()) return {};
    try {
        return net::tls_connector(net::make_client_tls_context(tls));
    } catch (const net::TlsError& e) {
        if (tls.stop_if_expired) throw;
        log::client().error("{}: connecting with plain pvAccess only", e.what());
        return {};
    }
}

// A SEARCH lists "tls" first when the client can connect over TLS ("tls" and "tcp": 4 bytes).
protocol::SearchScheduler::Options search_options(bool tls) {
    protocol::SearchScheduler::Options o;
    if (tls) o.max_payload -= 4;
    return o;
}

// The io_context executor under the application's executor. The context's strand is kept over
// the concrete io_context executor type, not over an any_io_executor: dispatching through the
// type-erased one costs a heap allocation per handler (measured: +29% instructions per GET).
asio::io_context::executor_type io_context_executor(const asio::any_io_executor& ex) {
    if (auto* io = ex.target<asio::io_context::executor_type>()) return *io;
    if (auto* strand = ex.target<asio::strand<asio::io_context::executor_type>>()) return strand->get_inner_executor();
    throw std::invalid_argument("pvwire::client::Context: the executor must be an io_context's (or a strand of one)");
}
}  // namespace

Context::Impl::Impl(net::ClientConfig cfg, ClientOptions opts, std::optional<asio::any_io_executor> executor)
    : cfg_(std::move(cfg)), opts_(std::move(opts)), owned_io_(own_io_unless(executor)),
      strand_(asio::make_strand(executor ? io_context_executor(*executor) : owned_io_->get_executor())),
      tls_connector_(tls_connector_for(cfg_.tls)), sched_(search_options(bool(tls_connector_))), search_timer_(strand_),
      nameserver_timer_(strand_), direct_timer_(strand_) {}

void Context::Impl::start() {
    running_ = true;
    std::weak_ptr<Impl> weak = shared_from_this();
    if (opts_.search) open_udp();
    if (owned_io_) {
        work_.emplace(owned_io_->get_executor());
        thread_ = std::thread([this] { net::detail::run_loop(*owned_io_, cfg_.busy_poll); });
    }
    asio::post(strand_, [weak] {
        if (auto self = weak.lock()) self->connect_name_servers();
    });
}

void Context::Impl::open_udp() {
    // The first IPv4 interface (the wildcard when none): IPv6 goes through the second socket.
    asio::ip::address bind_addr = asio::ip::address_v4::any();
    for (const auto& a : cfg_.interfaces)
        if (a.is_v4() && !a.is_multicast()) {
            bind_addr = a;
            break;
        }
    net::UdpOptions o;
    o.reuse_port = false;
    search_sock_ = net::UdpTransport::open(strand_, udp::endpoint(bind_addr, 0), o);
    // Beacons arrive on the broadcast port, shared with every other pvAccess process here.
    // Unlike PVXS, a client does not join the local fan-out group (224.0.0.128): only
    // forwarded searches travel there, which a client ignores, and with N client processes
    // on a host every search would otherwise be copied to and wake all N of them.
    net::UdpOptions b;
    b.multicast_interface = asio::ip::address_v4::loopback();  // forwarding stays on this host
    beacon_sock_ = net::UdpTransport::open(strand_, udp::endpoint(asio::ip::address_v4::any(), cfg_.broadcast_port), b);
    beacon_port_ = beacon_sock_->local_endpoint().port();
    open_udp6();
    std::weak_ptr<Impl> weak = shared_from_this();
    for (auto* sock : {&search_sock_, &search_sock6_})
        if (*sock)
            (*sock)->start([weak](const net::Datagram& d) {
                if (auto self = weak.lock()) self->on_search_datagram(d);
            });
    for (auto* sock : {&beacon_sock_, &beacon_sock6_})
        if (*sock)
            (*sock)->start([weak](const net::Datagram& d) {
                if (auto self = weak.lock()) self->on_beacon_datagram(d);
            });
}

// As PVXS: searches to IPv6 destinations leave from [::] on the IPv4 search socket's port,
// and beacons are heard on [::] too (on the same port as IPv4, joining the groups of
// ClientConfig::beacon_groups()). A host without IPv6 just has no such sockets.
void Context::Impl::open_udp6() {
    try {
        net::UdpOptions o;
        o.reuse_port = false;
        search_sock6_ = net::UdpTransport::open(
            strand_, udp::endpoint(asio::ip::address_v6::any(), search_sock_->local_endpoint().port()), o);
    } catch (const boost::system::system_error& e) {
        log::client().debug("no IPv6 search socket: {}", e.what());
    }
    try {
        net::UdpOptions b;
        b.multicast_groups_v6 = cfg_.beacon_groups();
        beacon_sock6_ = net::UdpTransport::open(strand_, udp::endpoint(asio::ip::address_v6::any(), beacon_port_), b);
    } catch (const boost::system::system_error& e) {
        log::client().debug("no IPv6 beacon socket: {}", e.what());
    }
}

void Context::Impl::stop() {
    if (!running_.exchange(false)) return;
    asio::post(strand_, [self = shared_from_this()] {
        self->search_timer_.cancel();
        self->nameserver_timer_.cancel();
        self->direct_timer_.cancel();
        for (auto* sock : {&self->search_sock_, &self->search_sock6_, &self->beacon_sock_, &self->beacon_sock6_})
            if (*sock) (*sock)->close();
        // operations and channels refer to each other: break that before closing
        for (auto& [cid, weak] : self->channels_)
            if (auto ch = weak.lock()) ch->shutdown();
        self->op_channels_.clear();
        auto links = self->links_;
        for (auto& [ep, l] : links) l->close();
        for (auto& l : self->name_servers_) l->close();
    });
    if (!owned_io_) return;  // the user's executor runs the closing; its owner joins
    work_.reset();
    net::detail::join_threads({&thread_}, *owned_io_);
    links_.clear();
    name_servers_.clear();
    channels_.clear();
    op_channels_.clear();
}

std::shared_ptr<ChannelImpl> Context::Impl::make_channel(std::string name, const std::string& server) {
    // called on the strand
    auto c = server.empty() ? std::make_shared<ChannelImpl>(shared_from_this(), std::move(name), next_cid_++)
                            : std::make_shared<ChannelImpl>(shared_from_this(), std::move(name), next_cid_++, server);
    register_channel(c);
    return c;
}

void Context::Impl::register_channel(const std::shared_ptr<ChannelImpl>& c) {
    // called on the strand
    channels_[c->cid()] = c;
    if (!c->address_error().empty()) return;  // its operations fail at once
    if (c->direct()) return connect_direct(*c);
    sched_.add(c->cid(), c->name(), Clock::now());
    reschedule_search();
}

std::shared_ptr<ChannelImpl> Context::Impl::op_channel(const std::string& name, const std::string& server) {
    // no key built for searched channels: a repeated get pays no string copy
    const std::string direct_key = server.empty() ? std::string() : server + " " + name;
    const std::string& key = server.empty() ? name : direct_key;
    auto it = op_channels_.find(key);
    if (it != op_channels_.end()) return it->second;
    // bounded: past 10000 cached names, forget those not connected
    if (op_channels_.size() >= 10000)
        for (auto i = op_channels_.begin(); i != op_channels_.end();)
            i = i->second->state() == Channel::State::Connected ? std::next(i) : op_channels_.erase(i);
    auto c = make_channel(name, server);
    op_channels_[key] = c;
    return c;
}

std::shared_ptr<LinkImpl> Context::Impl::get_link(const net::ServerAddress& address, bool for_name_server) {
    std::string key = address.to_string();
    if (!for_name_server) {
        auto it = links_.find(key);
        if (it != links_.end() && it->second->state() != ServerLink::State::Closed) return it->second;
    }
    auto link = std::make_shared<LinkImpl>(shared_from_this(), address, for_name_server);
    if (!for_name_server) links_[std::move(key)] = link;
    link->connect();
    return link;
}

std::shared_ptr<LinkImpl> Context::Impl::get_link(const tcp::endpoint& ep, bool for_name_server,
                                                  const char* transport) {
    net::ServerAddress address;
    address.transport = transport;
    address.host = ep.address().to_string();
    address.port = ep.port();
    return get_link(address, for_name_server);
}

net::Connector Context::Impl::connector_for(const std::string& transport) const {
    if (auto it = opts_.connectors.find(transport); it != opts_.connectors.end()) return it->second;
    if (transport == "tls" && tls_connector_) return tls_connector_;
    return net::builtin_connector(transport);
}

std::optional<net::ServerAddress> Context::Impl::direct_address(const std::string& server, std::string& error) const {
    auto address = net::ServerAddress::parse(server, cfg_.server_port, &error);
    if (!address) {
        error = "bad server address \"" + server + "\": " + error;
        return std::nullopt;
    }
    if (!connector_for(address->transport)) {
        error = "no connector for the transport \"" + address->transport + "\" of " + server +
                " (built in: tcp, unix, ws; others through ClientOptions::connectors)";
        return std::nullopt;
    }
    return address;
}

void Context::Impl::connect_direct(ChannelImpl& ch) {
    auto link = get_link(*ch.direct());
    ch.set(Channel::State::Connecting, link->server(), link);
    if (link->validated()) link->create_channel(ch.shared_from_this());
}

// Direct channels whose server went away: one attempt per second for all of them, as PVXS
// retries a server it was told to use.
void Context::Impl::retry_direct() {
    if (direct_timer_armed_ || !running_) return;
    direct_timer_armed_ = true;
    direct_timer_.expires_after(std::chrono::seconds(1));
    direct_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (!self || ec) return;
        self->direct_timer_armed_ = false;
        for (auto& [cid, weak_ch] : self->channels_)
            if (auto ch = weak_ch.lock(); ch && ch->direct() && ch->state() == Channel::State::Searching)
                self->connect_direct(*ch);
    });
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
                link.create_channel(ch);
}

void Context::Impl::link_closed(LinkImpl& link) {
    if (link.is_name_server()) return;  // reconnected by the name-server timer
    ++counters_.lost;
    auto it = links_.find(link.address().to_string());
    std::shared_ptr<LinkImpl> keep;
    if (it != links_.end() && it->second.get() == &link) {
        keep = it->second;
        links_.erase(it);
    }
    for (auto& [cid, weak] : channels_) {
        auto ch = weak.lock();
        if (!ch || ch->current_link().get() != &link) continue;
        if (!link.failure().empty()) ch->note_connect_failure(link.failure());
        ch->lost();
    }
}

void Context::Impl::research(ChannelImpl& ch) {
    if (!running_) return;
    ch.set(Channel::State::Searching, std::nullopt, nullptr);
    if (ch.direct()) return retry_direct();
    sched_.add(ch.cid(), ch.name(), Clock::now());
    reschedule_search();
}

void Context::Impl::on_search_response(const wire::SearchResponse& r, const asio::ip::address& source,
                                       std::uint16_t source_port) {
    const bool tls = r.protocol == "tls" && tls_connector_;
    if (!r.found || !(r.protocol == "tcp" || tls)) return;
    asio::ip::address addr = r.server_address.is_unspecified() ? source : net::from_wire(r.server_address, source);
    tcp::endpoint server(addr, r.server_port ? r.server_port : source_port);
    for (auto cid : r.cids) {
        auto it = channels_.find(cid);
        if (it == channels_.end()) continue;
        auto ch = it->second.lock();
        if (!ch || ch->state() != Channel::State::Searching) continue;  // the first responder wins
        sched_.remove(cid);
        auto link = get_link(server, false, tls ? "tls" : "tcp");
        ch->set(Channel::State::Connecting, server, link);
        if (link->validated()) link->create_channel(ch);
    }
}

void Context::Impl::on_search_datagram(const net::Datagram& d) {
    wire::for_each_datagram_message(d.bytes, [&](const wire::Message& m) {
        if (auto* r = std::get_if<wire::SearchResponse>(&m.body)) {
            ++counters_.responses;
            on_search_response(*r, d.from.address(), 0);
        }
    });
}

void Context::Impl::on_beacon_datagram(const net::Datagram& d) {
    // This socket shares the broadcast port with the servers of this host, and a unicast
    // search may reach it instead of them: pass it on, as a server would.
    if (d.to && d.to->is_v4() && net::forward_unicast_search(*beacon_sock_, d)) return;
    std::span<const std::byte> rest = d.bytes;
    wire::Diagnostic diag;
    auto h = wire::Header::parse(rest, &diag);
    if (!h || h->is_control() || rest.size() < wire::header_size + h->body_size()) return;
    if (h->command != std::uint8_t(wire::Command::Beacon)) return;
    wire::Message m;
    wire::DecodeContext ctx;
    if (!wire::decode(*h, rest.subspan(wire::header_size, h->body_size()), ctx, m, diag)) return;
    const auto* b = std::get_if<wire::Beacon>(&m.body);
    if (!b || b->protocol != "tcp") return;
    ++counters_.beacons;
    const auto addr =
        b->server_address.is_unspecified() ? d.from.address() : net::from_wire(b->server_address, d.from.address());
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
    // no UDP socket (ClientOptions::search off): name servers only
    const auto dests = search_sock_ ? cfg_.search_destinations() : std::vector<udp::endpoint>{};
    const auto bcasts = net::broadcast_addresses();
    for (const auto& batch : batches) {
        wire::Search s;
        s.sequence = search_seq_++;
        if (tls_connector_) s.protocols = {"tls", "tcp"};
        for (const auto& e : batch) s.channels.push_back(wire::SearchChannel{e.cid, e.name});
        for (const auto& dest : dests) {
            const auto& sock = dest.address().is_v6() ? search_sock6_ : search_sock_;
            if (!sock) continue;
            s.response_port = sock->local_endpoint().port();
            const auto a = dest.address();
            const bool broadcast = a.is_multicast() ||
                                   (a.is_v4() && (a.to_v4() == asio::ip::address_v4::broadcast() ||
                                                  std::find(bcasts.begin(), bcasts.end(), a.to_v4()) != bcasts.end()));
            s.flags = broadcast ? 0 : wire::Search::unicast;
            wire::Message m;
            m.order = wire::ByteOrder::Big;  // as PVXS
            m.body = s;
            if (sock->send_to(wire::encode_to_bytes(m), dest, net::hops_for(cfg_.multicast_hops, dest)))
                ++counters_.searches;
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
Context::Context(net::ClientConfig config, ClientOptions options, net::asio::any_io_executor executor)
    : impl_(std::make_shared<Impl>(std::move(config), std::move(options), std::move(executor))) {
    impl_->start();
}
Context::~Context() { stop(); }

std::shared_ptr<Channel> Context::channel(std::string name, const std::string& server) {
    // No round trip to the strand (10,000 channels would pay 10,000 thread hand-offs): the
    // channel is made here and registered there, before the clean-up its destructor posts.
    auto c = server.empty() ? std::make_shared<ChannelImpl>(impl_, std::move(name), impl_->next_cid_++)
                            : std::make_shared<ChannelImpl>(impl_, std::move(name), impl_->next_cid_++, server);
    asio::post(impl_->strand_, [impl = impl_, weak = std::weak_ptr<ChannelImpl>(c)] {
        if (auto ch = weak.lock()) impl->register_channel(ch);
    });
    return c;
}

net::asio::any_io_executor Context::executor() const { return impl_->strand_; }

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
