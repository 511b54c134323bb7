#include <pvwire/server/server.hpp>

#include "client_identity.hpp"
#include "forwarded_searches.hpp"
#include "latency_histogram.hpp"
#include "search_rate_limiter.hpp"
#include "pvws_front_end.hpp"
#include "server_connection.hpp"
#include "web_guard.hpp"
#include "status_pvs.hpp"

#include "../net/join_threads.hpp"
#include "../net/run_loop.hpp"

#include <pvwire/net/address.hpp>
#include <pvwire/net/guid.hpp>
#include <pvwire/net/http_routes.hpp>
#include <pvwire/net/interfaces.hpp>
#include <pvwire/log.hpp>
#include <pvwire/net/connector.hpp>
#include <pvwire/net/search_forwarding.hpp>
#include <pvwire/net/tcp_transport.hpp>
#include <pvwire/net/tls.hpp>
#include <pvwire/net/udp_transport.hpp>
#include <pvwire/protocol/beacon_schedule.hpp>
#include <pvwire/version.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>

namespace pvwire::server {

namespace asio = net::asio;
using net::tcp;
using net::udp;

namespace {
const asio::ip::address_v4 local_group = net::local_fanout_group();

}  // namespace

class Server::Impl : public std::enable_shared_from_this<Server::Impl> {
public:
    Impl(net::ServerConfig cfg, unsigned threads)
        : cfg_(std::move(cfg)), owned_(std::make_unique<asio::io_context>()), ex_(owned_->get_executor()),
          nthreads_(threads != 0 ? threads : cfg_.thread_count()), guid_(net::make_guid()),
          responder_(guid_, 0, nullptr), udp_to_all_responder_(guid_, 0, nullptr),
          udp_to_host_responder_(guid_, 0, nullptr) {
        if (cfg_.io_per_thread) make_connection_ios();
    }
    Impl(net::ServerConfig cfg, asio::any_io_executor ex)
        : cfg_(std::move(cfg)), ex_(std::move(ex)), guid_(net::make_guid()), responder_(guid_, 0, nullptr),
          udp_to_all_responder_(guid_, 0, nullptr), udp_to_host_responder_(guid_, 0, nullptr) {}

    void start();
    void stop();

    bool claims(std::string_view name) {
        // a name the pattern list does not serve is not found (nor opened: ChannelCore)
        if (const auto rules = access_->get(); rules && !rules->asg_for(name).allowed) return false;
        std::vector<std::shared_ptr<Source>> sources;
        {
            std::lock_guard lock(mu_);
            if (names_.count(std::string(name))) return true;
            if (claim_ && claim_(name)) return true;
            for (const auto& [order, src] : sources_) sources.push_back(src);
        }
        for (const auto& src : sources)
            if (src->claims(name)) return true;
        return own_->claims(name);
    }

    std::shared_ptr<PVHandler> open(std::string_view name, const Peer& peer) {
        // the built-in "server" PV answers RPC op="channels" (not claimed in searches)
        if (name == "server") return info_pv();
        std::vector<std::shared_ptr<Source>> sources;
        {
            std::lock_guard lock(mu_);
            for (const auto& [order, src] : sources_) sources.push_back(src);
        }
        for (const auto& src : sources)
            if (src->claims(name))
                if (auto pv = src->open(name, peer)) return pv;
        return own_->open(name, peer);
    }

    std::vector<std::string> all_names() {
        std::vector<std::string> out = own_->names();
        std::vector<std::shared_ptr<Source>> sources;
        {
            std::lock_guard lock(mu_);
            for (const auto& [order, src] : sources_) sources.push_back(src);
        }
        for (const auto& src : sources) {
            auto n = src->names();
            out.insert(out.end(), n.begin(), n.end());
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }

    std::shared_ptr<PVHandler> info_pv();

    net::ServerConfig cfg_;
    std::unique_ptr<asio::io_context> owned_;
    asio::any_io_executor ex_;
    unsigned nthreads_ = 0;
    std::vector<std::thread> threads_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;

    // ServerConfig::io_per_thread: threads 2..n each run an io_context of their own, and new
    // connections go to owned_ and these in turn (ConnectionSpread), staying on that thread.
    struct ConnectionIo {
        asio::io_context io;
        std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
        std::thread thread;
    };
    struct ConnectionSpread {
        std::vector<asio::any_io_executor> executors;
        std::atomic<std::size_t> turn{0};
        asio::any_io_executor next() { return executors[turn.fetch_add(1, std::memory_order_relaxed) % executors.size()]; }
    };
    std::vector<std::unique_ptr<ConnectionIo>> connection_ios_;
    std::shared_ptr<ConnectionSpread> spread_;  // null: connections stay on ex_
    void make_connection_ios() {
        if (nthreads_ < 2) return;
        spread_ = std::make_shared<ConnectionSpread>();
        spread_->executors.push_back(ex_);
        for (unsigned i = 1; i < nthreads_; ++i) {
            connection_ios_.push_back(std::make_unique<ConnectionIo>());
            spread_->executors.push_back(connection_ios_.back()->io.get_executor());
        }
    }
    void run_threads();
    void join_threads();

    wire::Guid guid_;
    protocol::SearchResponder responder_;              // searches over TCP (name servers)
    protocol::SearchResponder udp_to_all_responder_;   // broadcast and multicast, through udp_filter_
    protocol::SearchResponder udp_to_host_responder_;  // unicast to this host, through udp_filter_

    mutable std::mutex mu_;
    std::set<std::string, std::less<>> names_;
    Claim claim_;
    // set_udp_search_filter(); shared, so that a search copies a pointer, not the function
    std::shared_ptr<const SearchFilter> udp_filter_;
    std::uint16_t change_count_ = 0;
    std::set<std::shared_ptr<detail::ServerConnection>> connections_;
    std::set<std::shared_ptr<detail::PvwsSession>> pvws_sessions_;  // /pvws/pv sockets
    std::map<std::string, std::size_t, std::less<>> per_peer_;  // open connections by peer address
    std::shared_ptr<detail::LimitCounters> limit_hits_ = std::make_shared<detail::LimitCounters>();
    std::shared_ptr<detail::AccessRulesSlot> access_ = std::make_shared<detail::AccessRulesSlot>();
    detail::ForwardedSearches forwarded_;
    // (cfg_ is set by then: it is the first member)
    std::unique_ptr<detail::SearchRateLimiter> search_limiter_ =
        std::make_unique<detail::SearchRateLimiter>(cfg_.search_rate_per_source, cfg_.search_rate_total);
    std::multimap<int, std::shared_ptr<Source>> sources_;
    std::shared_ptr<StaticSource> own_ = std::make_shared<StaticSource>();
    std::shared_ptr<PVHandler> info_;

    std::vector<std::shared_ptr<net::Listener>> listeners_;
    std::vector<std::shared_ptr<net::UdpTransport>> search_sockets_;
    std::shared_ptr<net::UdpTransport> beacon_socket_;
    std::shared_ptr<net::UdpTransport> beacon_socket6_;  // when a beacon destination is IPv6
    std::shared_ptr<asio::steady_timer> beacon_timer_;
    protocol::BeaconSchedule beacon_schedule_;
    std::atomic<bool> running_{false};
    std::atomic<bool> stopped_{false};  // stop() ran since the last start()

    struct Counters {
        std::atomic<std::uint64_t> accepted{0}, open{0}, dropped{0}, searches{0}, replies{0}, forwarded{0},
            beacons{0}, echoes{0};
    } counters_;
    ServerStats closed_;  // the counters of closed connections, added up (under mu_)
    // The numbers measured over an interval (about a second), restarted by the first stats()
    // after it ends (under mu_).
    struct Interval {
        std::chrono::steady_clock::time_point start{};
        double queue_fill = 0;
        double store_p50 = 0;
        detail::LatencyHistogram::Snapshot store_before{};
    } interval_;
    std::unique_ptr<detail::StatusPVs> status_pvs_;  // when cfg_.status_prefix is set
    std::shared_ptr<asio::steady_timer> status_timer_;  // under mu_ (a restart replaces it)

    ServerStats stats();

    void add_listener(std::shared_ptr<net::Listener> listener);
    // Serves a connection accepted by a listener or handed in by the user; `web`: one from the
    // HTTP port, whose identity the HTTP request decided.
    void adopt(std::shared_ptr<net::StreamTransport> transport, net::Protocol protocol,
               std::optional<net::HttpIdentity> web = std::nullopt);
    // Serves a /pvws/pv socket.
    void adopt_pvws(std::shared_ptr<net::MessageSocket> socket);

private:
    std::set<std::shared_ptr<detail::ServerConnection>> connections_snapshot();
    // Listeners, UDP sockets, the beacon timer and every connection (on the executor).
    /// What stop() closes, taken out of the server at once so that the closing (on the
    /// executor, maybe later) and the forgetting (now) cannot miss each other.
    struct Closing {
        std::vector<std::shared_ptr<net::Listener>> listeners;
        std::vector<std::shared_ptr<net::UdpTransport>> search_sockets;
        std::shared_ptr<net::UdpTransport> beacon_socket, beacon_socket6;
        std::set<std::shared_ptr<detail::ServerConnection>> connections;
        std::set<std::shared_ptr<detail::PvwsSession>> pvws_sessions;
    };
    Closing take_everything();
    void close_everything(Closing& closing);
    // Counts a new connection from `peer`; false (and logged) when a limit refuses it.
    bool admit(const std::string& peer);
    // What the TCP listeners ask right after accept(): whether admit() would take a connection
    // from `address` (refusals counted and logged as admit()'s; for IPv4, without allocating).
    bool may_connect(const asio::ip::address& address);
    net::AddressScreen address_screen();
    detail::ServerConnection::Hooks connection_hooks(std::string peer);
    // The PV for a channel; from the web without web_write, one that refuses writes.
    detail::ChannelCore::Open opener(bool web);
    // Forgets a connection from `peer` in the per-peer counts.
    void release_peer(const std::string& peer);
    net::HttpRoutes http_routes();
    std::optional<net::HttpAnswer> api(std::string_view path, const net::HttpIdentity& who);
    std::vector<tcp::acceptor> bind_tcp(const std::vector<asio::ip::address>& interfaces);
    void start_configured_listeners(const asio::ip::address& http_address);
    // A listening acceptor on `ep`, or on an ephemeral port of its address when `ep`'s is taken.
    tcp::acceptor bind_or_any(tcp::endpoint ep, const char* what);
    void open_search_sockets();
    void open_beacon_sockets(const std::vector<asio::ip::address>& interfaces);
    // Secure PVAccess: a TLS port on every interface beside the plain one, offered in search
    // replies to clients that list "tls" (cfg_.tls; none without a keychain).
    void start_tls_listeners(const std::vector<asio::ip::address>& interfaces);
    void on_datagram(const std::shared_ptr<net::UdpTransport>& sock, const net::Datagram& d);
    // Whether a UDP search from `source` is answered (its rate and the total; counted if not).
    bool admit_search(const asio::ip::address& source);
    void send_beacon();
    // The status PVs (cfg_.status_prefix): made and served on the first start, then posted
    // every second while the server runs.
    void start_status_pvs();
    void publish_status(const std::shared_ptr<asio::steady_timer>& timer);
};

void Server::Impl::start() {
    if (running_) return;
    running_ = true;
    stopped_ = false;
    const auto interfaces = cfg_.tcp_interfaces();

    auto acceptors = bind_tcp(interfaces);
    const std::uint16_t tcp_port = acceptors.front().local_endpoint().port();
    cfg_.bound_tcp_port = tcp_port;
    responder_ = protocol::SearchResponder(guid_, tcp_port, [this](std::string_view n) { return claims(n); });
    // UDP searches through the filter, one responder per kind of address
    auto filtered = [this](bool to_all) {
        return [this, to_all](std::string_view n) {
            std::shared_ptr<const SearchFilter> filter;
            {
                std::lock_guard lock(mu_);
                filter = udp_filter_;
            }
            return claims(n) && (!filter || (*filter)(n, to_all));
        };
    };
    udp_to_all_responder_ = protocol::SearchResponder(guid_, tcp_port, filtered(true));
    udp_to_host_responder_ = protocol::SearchResponder(guid_, tcp_port, filtered(false));

    open_search_sockets();
    open_beacon_sockets(interfaces);
    beacon_schedule_ = protocol::BeaconSchedule(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(cfg_.beacon_period)),
        cfg_.beacon_burst,
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(cfg_.beacon_period_slow)));
    beacon_timer_ = std::make_shared<asio::steady_timer>(ex_);

    for (auto& acc : acceptors)
        add_listener(net::tcp_listener(std::move(acc), cfg_.transport_limits(), net::Protocol::pva, address_screen()));
    start_tls_listeners(interfaces);
    start_configured_listeners(interfaces.front());
    asio::post(ex_, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->send_beacon();
    });
    start_status_pvs();

    if (owned_) run_threads();
}

// Shared: every thread runs owned_. Per thread: one runs owned_, each other its own io_context.
void Server::Impl::run_threads() {
    work_.emplace(owned_->get_executor());
    const unsigned on_owned = spread_ ? 1 : nthreads_;
    for (unsigned i = 0; i < on_owned; ++i)
        threads_.emplace_back([io = owned_.get(), spin = cfg_.busy_poll] { net::detail::run_loop(*io, spin); });
    for (auto& c : connection_ios_) {
        c->work.emplace(c->io.get_executor());
        c->thread = std::thread([io = &c->io, spin = cfg_.busy_poll] { net::detail::run_loop(*io, spin); });
    }
}

// owned_'s threads first: they run the closing of every connection, which the connections'
// own threads (per thread) finish afterwards.
void Server::Impl::join_threads() {
    work_.reset();
    std::vector<std::thread*> threads;
    for (auto& t : threads_) threads.push_back(&t);
    net::detail::join_threads(threads, *owned_);
    threads_.clear();
    for (auto& c : connection_ios_) {
        c->work.reset();
        net::detail::join_threads({&c->thread}, c->io);
    }
}

// UDP searches: the shared port, and the local group that carries forwarded unicast searches.
// Bound to the wildcard whatever the interface list says, as PVXS does: a socket bound to one
// address would take every unicast to that port away from the other processes of the host
// (the kernel prefers the more specific bind). IPv6 gets its own socket [::] on the same port
// when an interface entry is IPv6, joining the IPv6 groups listed (PVXS: one socket per
// address family; unicast IPv6 searches are not forwarded, as in PVXS).
void Server::Impl::open_search_sockets() {
    std::uint16_t udp_port = cfg_.broadcast_port;
    {
        net::UdpOptions o;
        o.multicast_groups = {local_group};
        o.multicast_interface = asio::ip::address_v4::loopback();  // the fan-out stays on this host
        auto sock = net::UdpTransport::open(ex_, udp::endpoint(asio::ip::address_v4::any(), udp_port), o);
        udp_port = sock->local_endpoint().port();
        search_sockets_.push_back(sock);
    }
    cfg_.bound_udp_port = udp_port;
    if (cfg_.listens_on_ipv6()) {
        net::UdpOptions o;
        o.multicast_groups_v6 = net::ipv6_groups(cfg_.interfaces);
        search_sockets_.push_back(
            net::UdpTransport::open(ex_, udp::endpoint(asio::ip::address_v6::any(), udp_port), o));
    }
    for (auto& sock : search_sockets_) {
        std::weak_ptr<net::UdpTransport> weak = sock;
        sock->start([self = weak_from_this(), weak](const net::Datagram& d) {
            auto impl = self.lock();
            auto s = weak.lock();
            if (impl && s) impl->on_datagram(s, d);
        });
    }
}

// Beacons from an ephemeral port, as both PVXS and pvAccessCPP do: one socket per address
// family that the beacon destinations hold (IPv4 always, as before IPv6 existed here).
void Server::Impl::open_beacon_sockets(const std::vector<asio::ip::address>& interfaces) {
    auto v4 = std::find_if(interfaces.begin(), interfaces.end(), [](const auto& a) { return a.is_v4(); });
    const asio::ip::address bind4 = v4 != interfaces.end() ? *v4 : asio::ip::address(asio::ip::address_v4::any());
    beacon_socket_ = net::UdpTransport::open(ex_, udp::endpoint(bind4, 0), net::UdpOptions{});
    beacon_socket_->start([](const net::Datagram&) {});
    const auto dests = cfg_.beacon_destinations();
    if (std::none_of(dests.begin(), dests.end(), [](const udp::endpoint& d) { return d.address().is_v6(); })) return;
    try {
        beacon_socket6_ = net::UdpTransport::open(ex_, udp::endpoint(asio::ip::address_v6::any(), 0), net::UdpOptions{});
        beacon_socket6_->start([](const net::Datagram&) {});
    } catch (const boost::system::system_error& e) {
        log::server().warn("no IPv6 beacons: {}", e.what());
    }
}

void Server::Impl::stop() {
    // A server never started may still serve connections handed to accept(): those are
    // closed too. Everything is closed on the executor; with nothing left to do, the threads
    // (or the application's run()) then return. An owned io_context no longer running would
    // keep the posted closure, and with it this Impl, forever: there the closing is direct.
    const bool was_running = running_.exchange(false);
    const bool first_stop = !stopped_.exchange(true);
    Closing closing = take_everything();
    if (was_running || (first_stop && !owned_))
        asio::post(ex_, [self = shared_from_this(), closing = std::move(closing)]() mutable {
            self->close_everything(closing);
        });
    else if (owned_)
    {
        for (auto& c : closing.connections) c->close("server stopping");
        for (auto& p : closing.pvws_sessions) p->close("server stopping");
    }
    if (owned_ && was_running) join_threads();
}

Server::Impl::Closing Server::Impl::take_everything() {
    std::lock_guard lock(mu_);
    Closing c;
    c.listeners = std::move(listeners_);
    c.search_sockets = std::move(search_sockets_);
    c.beacon_socket = std::move(beacon_socket_);
    c.beacon_socket6 = std::move(beacon_socket6_);
    c.connections = std::move(connections_);
    c.pvws_sessions = std::move(pvws_sessions_);
    listeners_.clear();
    search_sockets_.clear();
    connections_.clear();
    pvws_sessions_.clear();
    return c;
}

std::set<std::shared_ptr<detail::ServerConnection>> Server::Impl::connections_snapshot() {
    std::lock_guard lock(mu_);
    return connections_;
}

void Server::Impl::close_everything(Closing& closing) {
    for (auto& l : closing.listeners) l->stop();
    for (auto& s : closing.search_sockets) s->close();
    if (closing.beacon_socket) closing.beacon_socket->close();
    if (closing.beacon_socket6) closing.beacon_socket6->close();
    if (beacon_timer_) beacon_timer_->cancel();
    {
        std::lock_guard lock(mu_);
        if (status_timer_) status_timer_->cancel();
    }
    for (auto& c : closing.connections) c->close("server stopping");
    for (auto& p : closing.pvws_sessions) p->close("server stopping");
}

// TCP: the configured port on every interface, or an ephemeral one when it is taken (as
// PVXS does); every interface on the same port.
std::vector<tcp::acceptor> Server::Impl::bind_tcp(const std::vector<asio::ip::address>& interfaces) {
    std::vector<tcp::acceptor> acceptors;
    std::uint16_t port = cfg_.server_port;
    for (const auto& addr : interfaces) {
        tcp::acceptor acc(ex_);
        tcp::endpoint ep(addr, port);
        acc.open(ep.protocol());
        acc.set_option(tcp::acceptor::reuse_address(true));
        // [::] beside 0.0.0.0 on one port: IPv6 only, IPv4 peers keep their IPv4 addresses
        if (addr.is_v6()) acc.set_option(asio::ip::v6_only(true));
        boost::system::error_code ec;
        acc.bind(ep, ec);
        if (ec == asio::error::address_in_use && acceptors.empty()) {
            ep.port(0);
            acc.bind(ep);
        } else if (ec) {
            throw boost::system::system_error(ec, "pvwire server: bind TCP " + ep.address().to_string() + ":" +
                                                      std::to_string(ep.port()));
        }
        acc.listen();
        port = acc.local_endpoint().port();
        acceptors.push_back(std::move(acc));
    }
    return acceptors;
}

// The listeners the configuration asks for besides TCP: a UNIX socket, the msgpack protocol's
// TCP port, an HTTP port.
// The msgpack and HTTP ports, like the pvAccess TCP port, fall back to an ephemeral port when
// theirs is taken (logged, and in the effective configuration).
void Server::Impl::start_configured_listeners(const asio::ip::address& http_address) {
    if (!cfg_.unix_path.empty()) add_listener(net::unix_listener(ex_, cfg_.unix_path, cfg_.transport_limits()));
    if (cfg_.msgpack_port) {
        auto acc = bind_or_any(tcp::endpoint(http_address, *cfg_.msgpack_port), "msgpack");
        cfg_.bound_msgpack_port = acc.local_endpoint().port();
        add_listener(net::tcp_listener(std::move(acc), cfg_.transport_limits(), net::Protocol::msgpack, address_screen()));
    }
    if (cfg_.http_port) {
        std::shared_ptr<net::HttpListener> http;
        try {
            http = net::http_listener(ex_, tcp::endpoint(http_address, *cfg_.http_port), cfg_.transport_limits(),
                                      http_routes());
        } catch (const boost::system::system_error& e) {
            if (e.code() != asio::error::address_in_use) throw;
            log::server().warn("HTTP port {} is taken: serving WebSockets on an ephemeral port", *cfg_.http_port);
            http = net::http_listener(ex_, tcp::endpoint(http_address, 0), cfg_.transport_limits(), http_routes());
        }
        cfg_.bound_http_port = http->bound_port();
        add_listener(std::move(http));
    }
}

void Server::Impl::start_tls_listeners(const std::vector<asio::ip::address>& interfaces) {
    cfg_.bound_tls_port = 0;
    if (!cfg_.tls.enabled()) return;
    std::shared_ptr<net::ssl::context> context;
    try {
        context = net::make_server_tls_context(cfg_.tls);
    } catch (const net::TlsError& e) {
        if (cfg_.tls.stop_if_expired) throw;  // on_expiration=shutdown
        log::server().error("{}: serving plain pvAccess only", e.what());
        return;
    }
    std::uint16_t port = cfg_.tls_port;
    for (const auto& address : interfaces) {
        auto acc = bind_or_any(tcp::endpoint(address, port), "TLS");
        port = acc.local_endpoint().port();  // the other interfaces take the port the first got
        add_listener(net::tls_listener(std::move(acc), context, cfg_.transport_limits(), {}, address_screen()));
    }
    cfg_.bound_tls_port = port;
    for (auto* r : {&responder_, &udp_to_all_responder_, &udp_to_host_responder_}) r->set_tls_port(port);
}

tcp::acceptor Server::Impl::bind_or_any(tcp::endpoint ep, const char* what) {
    tcp::acceptor acc(ex_);
    acc.open(ep.protocol());
    acc.set_option(tcp::acceptor::reuse_address(true));
    boost::system::error_code ec;
    acc.bind(ep, ec);
    if (ec == asio::error::address_in_use && ep.port() != 0) {
        log::server().warn("{} port {} is taken: serving on an ephemeral port", what, ep.port());
        ep.port(0);
        acc.bind(ep, ec);
    }
    if (ec)
        throw boost::system::system_error(ec, std::string("pvwire server: bind ") + what + " TCP " +
                                                  ep.address().to_string() + ":" + std::to_string(ep.port()));
    acc.listen();
    return acc;
}

void Server::Impl::add_listener(std::shared_ptr<net::Listener> listener) {
    {
        std::lock_guard lock(mu_);
        listeners_.push_back(listener);
    }
    if (spread_) listener->spread_connections([spread = spread_] { return spread->next(); });
    listener->start([weak = weak_from_this()](std::shared_ptr<net::StreamTransport> transport, net::Protocol protocol) {
        auto self = weak.lock();
        if (self && self->running_) self->adopt(std::move(transport), protocol);
    });
}

namespace {
// The address part of a transport's peer name ("127.0.0.1:5075", "[::1]:5075",
// "ws:127.0.0.1:5075", "unix:/path"): what the per-peer connection limit counts by.
std::string peer_address(std::string_view name) {
    if (name.starts_with("ws:")) name.remove_prefix(3);
    if (name.starts_with("unix:")) return "unix";
    if (name.starts_with('[')) return std::string(name.substr(1, name.find(']') - 1));
    return std::string(name.substr(0, name.rfind(':')));
}
}  // namespace

namespace {
// The contract of docs/pvws.md: anonymous from the peer's host, or the trusted header's user.
protocol::PeerCredentials web_credentials(const net::HttpIdentity& who) {
    if (who.user) return {"ca", *who.user, who.peer_host};
    return {"anonymous", "", who.peer_host};
}
}  // namespace

void Server::Impl::release_peer(const std::string& peer) {
    std::lock_guard lock(mu_);
    if (auto it = per_peer_.find(peer); it != per_peer_.end() && --it->second == 0) per_peer_.erase(it);
}

bool Server::Impl::admit(const std::string& peer) {
    std::string refused;
    {
        std::lock_guard lock(mu_);
        auto& from_peer = per_peer_[peer];
        if (connections_.size() >= cfg_.max_connections)
            refused = "too many connections (limit " + std::to_string(cfg_.max_connections) + ")";
        else if (from_peer >= cfg_.max_connections_per_peer)
            refused = "too many connections from " + peer + " (limit " +
                      std::to_string(cfg_.max_connections_per_peer) + ")";
        else
            ++from_peer;
        if (!refused.empty() && from_peer == 0) per_peer_.erase(peer);
    }
    if (refused.empty()) return true;
    limit_hits_->connections.hit(refused);
    return false;
}

bool Server::Impl::may_connect(const asio::ip::address& address) {
    // an IPv4 address (or a short IPv6 one such as ::1) fits the string's own buffer: no allocation
    const std::string peer = address.to_string();
    bool total = false;
    {
        std::lock_guard lock(mu_);
        const auto it = per_peer_.find(peer);
        total = connections_.size() >= cfg_.max_connections;
        if (!total && (it == per_peer_.end() || it->second < cfg_.max_connections_per_peer)) return true;
    }
    std::array<char, 128> text;
    const auto end = total ? fmt::format_to_n(text.data(), text.size(), "too many connections (limit {})",
                                              cfg_.max_connections)
                           : fmt::format_to_n(text.data(), text.size(), "too many connections from {} (limit {})",
                                              peer, cfg_.max_connections_per_peer);
    limit_hits_->connections.hit(std::string_view(text.data(), std::min(end.size, text.size())));
    return false;
}

net::AddressScreen Server::Impl::address_screen() {
    return [weak = weak_from_this()](const asio::ip::address& address) {
        auto self = weak.lock();
        return !self || self->may_connect(address);
    };
}

void Server::Impl::adopt(std::shared_ptr<net::StreamTransport> transport, net::Protocol speaks,
                         std::optional<net::HttpIdentity> web) {
    std::string peer = peer_address(transport->peer_name());
    if (!admit(peer)) {
        transport->close("connection limit");
        return;
    }
    wire::Limits limits;
    limits.max_message_bytes = cfg_.max_message_size;
    const detail::ServerConnection::Timeouts timeouts{
        cfg_.idle_timeout(), std::chrono::milliseconds(std::llround(cfg_.validation_timeout * 1000.0))};
    auto hooks = connection_hooks(std::move(peer));
    if (web) {
        hooks.credentials = web_credentials(*web);
        hooks.identity = detail::web_identity(*web);
        hooks.open = opener(true);
    }
    auto conn = std::make_shared<detail::ServerConnection>(std::move(transport), speaks, protocol::ServerHandshake::Options{},
                                                           limits, timeouts, std::move(hooks));
    {
        std::lock_guard lock(mu_);
        // stop() takes the connections under this lock: one accepted after it is closed here
        if (!stopped_) connections_.insert(conn);
    }
    if (stopped_) return conn->close("server stopping");
    ++counters_.accepted;
    ++counters_.open;
    log::server().debug("connection from {} accepted", conn->peer());
    conn->start();
}

detail::ChannelCore::Open Server::Impl::opener(bool web) {
    std::weak_ptr<Impl> weak = shared_from_this();
    const bool guard = web && !cfg_.web_write;
    return [weak, guard](std::string_view name, const Peer& p) -> std::shared_ptr<PVHandler> {
        auto impl = weak.lock();
        auto pv = impl ? impl->open(name, p) : nullptr;
        if (pv && guard) return std::make_shared<detail::WebReadOnlyPV>(std::move(pv));
        return pv;
    };
}

void Server::Impl::adopt_pvws(std::shared_ptr<net::MessageSocket> socket) {
    const std::string peer = socket->identity().peer_host;
    if (!running_ || !admit(peer)) return socket->close("connection limit");
    detail::PvwsSession::Options o;
    o.throttle = std::chrono::milliseconds(cfg_.pvws_throttle_ms);
    o.web_write = cfg_.web_write;
    o.limits.max_channels = cfg_.max_channels;
    o.limits.max_operations_per_channel = cfg_.max_operations;
    o.limits.hits = limit_hits_;
    o.limits.access = access_;
    Peer who{socket->identity().peer, web_credentials(socket->identity()), detail::web_identity(socket->identity())};
    std::weak_ptr<Impl> weak = shared_from_this();
    auto session = std::make_shared<detail::PvwsSession>(
        socket, std::move(who), opener(true), o, [weak, peer](detail::PvwsSession& s) {
            auto impl = weak.lock();
            if (!impl) return;
            --impl->counters_.open;
            {
                std::lock_guard lock(impl->mu_);
                impl->pvws_sessions_.erase(s.shared_from_this());
            }
            impl->release_peer(peer);
        });
    {
        std::lock_guard lock(mu_);
        if (!stopped_) pvws_sessions_.insert(session);
    }
    if (stopped_) return socket->close("server stopping");
    ++counters_.accepted;
    ++counters_.open;
    log::server().debug("PVWS socket from {} accepted", socket->identity().peer);
    session->start();
}

net::HttpRoutes Server::Impl::http_routes() {
    std::weak_ptr<Impl> weak = shared_from_this();
    net::HttpRoutes r;
    r.transport = [weak](std::shared_ptr<net::StreamTransport> t, net::Protocol p, net::HttpIdentity who) {
        auto self = weak.lock();
        if (!self || !self->running_) return t->close("server stopping");
        // pvAccess over WebSocket keeps its own handshake; the msgpack protocol is a web one
        if (p == net::Protocol::msgpack) self->adopt(std::move(t), p, std::move(who));
        else self->adopt(std::move(t), p);
    };
    r.pvws = [weak](std::shared_ptr<net::MessageSocket> socket) {
        if (auto self = weak.lock()) self->adopt_pvws(std::move(socket));
        else socket->close("server stopping");
    };
    r.metrics = [weak] {
        auto self = weak.lock();
        return self ? format_prometheus(self->stats()) : std::string();
    };
    r.api = [weak](std::string_view path, const net::HttpIdentity& who) -> std::optional<net::HttpAnswer> {
        auto self = weak.lock();
        return self ? self->api(path, who) : std::nullopt;
    };
    r.web_root = cfg_.web_root;
#ifdef PVWIRE_DEFAULT_WEB_ROOT
    if (r.web_root.empty()) r.web_root = PVWIRE_DEFAULT_WEB_ROOT;
#endif
    r.user_header = cfg_.http_user_header;
    return r;
}

// GET /api/config and /api/pvs (docs/pvws.md).
std::optional<net::HttpAnswer> Server::Impl::api(std::string_view path, const net::HttpIdentity& who) {
    constexpr std::size_t max_listed = 10000;
    nlohmann::json j;
    if (path == "/api/config") {
        const auto cred = web_credentials(who);
        j = {{"write", cfg_.web_write},
             {"version", version_string()},
             {"user", cred.user.empty() ? cred.method + "@" + cred.host : cred.user + "@" + cred.host}};
    } else if (path == "/api/pvs") {
        auto names = all_names();
        if (names.size() > max_listed) names.resize(max_listed);
        j = names;
    } else {
        return std::nullopt;
    }
    return net::HttpAnswer{200, "application/json", j.dump()};
}

detail::ServerConnection::Hooks Server::Impl::connection_hooks(std::string peer) {
    std::weak_ptr<Impl> weak = shared_from_this();
    detail::ServerConnection::Hooks hooks;
    hooks.search = [weak](const wire::Search& s) -> std::optional<protocol::SearchResponder::Reply> {
        auto impl = weak.lock();
        if (!impl) return std::nullopt;
        ++impl->counters_.searches;
        auto r = impl->responder_.answer(s, true);
        if (r) ++impl->counters_.replies;
        return r;
    };
    hooks.open = opener(false);
    hooks.echoed = [weak] {
        if (auto impl = weak.lock()) ++impl->counters_.echoes;
    };
    hooks.closed = [weak, peer = std::move(peer)](detail::ServerConnection& c, const std::string& reason, bool dropped) {
        // a dropped connection (protocol error, limit, timeout) is worth more than a goodbye
        log::server().log(dropped ? log::Level::info : log::Level::debug, "connection from {} closed: {}", c.peer(),
                          reason);
        auto impl = weak.lock();
        if (!impl) return;
        --impl->counters_.open;
        if (dropped) ++impl->counters_.dropped;
        {
            std::lock_guard lock(impl->mu_);
            // folded and forgotten under one lock: stats() counts the connection exactly once
            c.counters()->add_to(impl->closed_);
            impl->connections_.erase(c.shared_from_this());
        }
        impl->release_peer(peer);
    };
    hooks.limits.max_channels = cfg_.max_channels;
    hooks.limits.max_operations_per_channel = cfg_.max_operations;
    hooks.limits.hits = limit_hits_;
    hooks.limits.access = access_;
    return hooks;
}

void Server::Impl::on_datagram(const std::shared_ptr<net::UdpTransport>& sock, const net::Datagram& d) {
    if (cfg_.is_ignored(d.from)) return;
    // a datagram may hold ORIGIN_TAG then SEARCH, each with its own byte order
    std::span<const std::byte> rest = d.bytes;
    std::optional<wire::Address> origin;
    const bool via_group = d.to && d.to->is_v4() && d.to->to_v4() == local_group;
    while (rest.size() >= wire::header_size) {
        wire::Diagnostic diag;
        auto h = wire::Header::parse(rest, &diag);
        if (!h || h->is_control() || h->segment() != wire::Segment::None) return;
        if (rest.size() < wire::header_size + h->body_size()) return;
        wire::Message m;
        wire::DecodeContext ctx;
        if (!wire::decode(*h, rest.subspan(wire::header_size, h->body_size()), ctx, m, diag)) return;
        rest = rest.subspan(wire::header_size + h->body_size());
        if (auto* tag = std::get_if<wire::OriginTag>(&m.body)) {
            // only forwarded copies from this host carry a tag
            if (!via_group || !d.from.address().is_loopback()) return;
            origin = tag->address;
            continue;
        }
        auto* search = std::get_if<wire::Search>(&m.body);
        if (!search) continue;
        ++counters_.searches;
        if (via_group && !origin) return;  // a group datagram without a tag is not for us
        if (via_group && search->response_address.is_unspecified()) return;  // as PVXS
        if (via_group && forwarded_.take(search->sequence, search->response_address, search->response_port))
            return;  // our own forwarded copy: answered already
        // a forwarded copy comes from this host: the searcher is the one it names
        if (!admit_search(via_group ? net::from_wire(search->response_address) : d.from.address())) return;
        // a unicast search reaches only one of the sockets sharing the port: pass it on
        // (IPv4 only: the fan-out group is IPv4, as in PVXS)
        const bool unicast = net::is_unicast_to_this_host(d);
        if (unicast && d.to->is_v4()) {
            const auto searcher = net::to_wire(d.from.address());
            const auto fwd =
                protocol::SearchResponder::forward(*search, net::to_wire(*d.to), searcher, d.from.port(), m.order);
            forwarded_.remember(search->sequence, searcher, d.from.port());
            if (sock->send_to(fwd, udp::endpoint(local_group, sock->local_endpoint().port())))
                ++counters_.forwarded;
        }
        // a broadcast reached every server; a unicast (and its forwarded copies) this host's
        const bool to_all = d.to && !via_group && !unicast;
        auto& responder = to_all ? udp_to_all_responder_ : udp_to_host_responder_;
        if (auto reply = responder.answer(*search)) {
            udp::endpoint to(reply->to ? net::from_wire(*reply->to, d.from.address()) : d.from.address(),
                             reply->port ? reply->port : d.from.port());
            const auto bytes = wire::encode_to_bytes(reply->response);
            if (sock->send_to(bytes, to)) ++counters_.replies;  // from the socket the search came on
        }
        return;  // one SEARCH per datagram, as PVXS
    }
}

bool Server::Impl::admit_search(const asio::ip::address& source) {
    using Verdict = detail::SearchRateLimiter::Verdict;
    const auto verdict = search_limiter_->admit(source);
    if (verdict == Verdict::answer) return true;
    limit_hits_->searches.hit(verdict == Verdict::source_over
                                  ? fmt::format("searches from {} over {}/s (PVWIRE_SEARCH_RATE)", source.to_string(),
                                                cfg_.search_rate_per_source)
                                  : fmt::format("searches over the total budget of {}/s (PVWIRE_SEARCH_RATE_TOTAL)",
                                                cfg_.search_rate_total));
    return false;
}

void Server::Impl::send_beacon() {
    if (!running_) return;
    wire::Message m;
    m.from_server = true;
    m.order = wire::ByteOrder::Big;  // PVXS sends all UDP big-endian
    wire::Beacon b;
    b.guid = guid_;
    b.sequence = beacon_schedule_.sequence();
    std::shared_ptr<net::UdpTransport> sock, sock6;  // gone once stop() took them
    {
        std::lock_guard lock(mu_);
        b.change_count = change_count_;
        sock = beacon_socket_;
        sock6 = beacon_socket6_;
    }
    if (!sock) return;
    b.server_address = wire::Address::mapped_any();
    b.server_port = cfg_.bound_tcp_port;
    m.body = b;
    const auto bytes = wire::encode_to_bytes(m);
    for (const auto& dest : cfg_.beacon_destinations()) {
        auto& from = dest.address().is_v6() ? sock6 : sock;
        if (from && from->send_to(bytes, dest, net::hops_for(cfg_.multicast_hops, dest))) ++counters_.beacons;
    }
    beacon_timer_->expires_after(beacon_schedule_.next());
    beacon_timer_->async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->send_beacon();
    });
}

// The "server" PV of every pvAccess server: RPC with op = "channels" lists the served names
// as an NTScalarArray of strings (what pvxlist and pvlist ask for); op = "info" gives
// {string implLang; string version}, the structure PVXS answers, plus hostName and replica.
// pvxlist -i prints only version and implLang, so the version names the replica and host too:
// "pvwire 0.1.0 (replica pvwire-5d8c-x2, host node3)".
namespace {
class ServerInfoPV : public PVHandler {
public:
    ServerInfoPV(std::function<std::vector<std::string>()> names, std::string replica)
        : names_(std::move(names)), replica_(std::move(replica)) {}
    TypePtr type() const override { return nullptr; }
    Value current() const override { return {}; }
    void put(Value, const Peer&, Done done) override { done(wire::Status::error("the server PV cannot be written")); }
    std::shared_ptr<void> subscribe(Listener) override { return nullptr; }
    void rpc(Value arg, const Peer&, ResultDone done) override {
        std::string op;
        if (arg) {
            if (auto f = arg.field("query.op")) op = f.try_as<std::string>().value_or("");
            else if (auto g = arg.field("op")) op = g.try_as<std::string>().value_or("");
        }
        if (op == "channels") return done(wire::Status::ok(), channels());
        if (op == "info") return done(wire::Status::ok(), info());
        done(wire::Status::error("the server PV knows op=channels and op=info"), Value());
    }

private:
    Value channels() const {
        static const TypePtr t = TypeDesc::structure(
            "epics:nt/NTScalarArray:1.0", {{"value", TypeDesc::array(TypeCode::String)}});
        Value v(t);
        v["value"].set_array(SharedArray::from(names_()));
        return v;
    }
    Value info() const {
        static const TypePtr t =
            TypeDesc::structure("", {{"implLang", TypeDesc::scalar(TypeCode::String)},
                                     {"version", TypeDesc::scalar(TypeCode::String)},
                                     {"hostName", TypeDesc::scalar(TypeCode::String)},
                                     {"replica", TypeDesc::scalar(TypeCode::String)}});
        const std::string host = net::host_name();
        Value v(t);
        v["implLang"] = "cpp";
        std::string version = std::string("pvwire ") + version_string();
        if (!replica_.empty() && replica_ != host) version += " (replica " + replica_ + ", host " + host + ")";
        else if (!host.empty()) version += " (host " + host + ")";
        v["version"] = version;
        v["hostName"] = host;
        v["replica"] = replica_;
        return v;
    }

    std::function<std::vector<std::string>()> names_;
    std::string replica_;
};
}  // namespace

std::shared_ptr<PVHandler> Server::Impl::info_pv() {
    std::lock_guard lock(mu_);
    if (!info_) {
        std::weak_ptr<Impl> weak = shared_from_this();
        info_ = std::make_shared<ServerInfoPV>(
            [weak] {
                auto self = weak.lock();
                return self ? self->all_names() : std::vector<std::string>{};
            },
            cfg_.replica);
    }
    return info_;
}

ServerStats Server::Impl::stats() {
    const auto now = std::chrono::steady_clock::now();
    const auto store = detail::store_write_latency().snapshot();
    ServerStats s;
    {
        std::lock_guard lock(mu_);
        s = closed_;
        const bool interval_over = now - interval_.start >= std::chrono::seconds(1);
        std::uint64_t fill = 0;
        for (const auto& conn : connections_) {
            conn->counters()->add_to(s);
            if (interval_over) fill = std::max(fill, conn->counters()->take_queue_fill_peak());
        }
        if (interval_over) {
            interval_.start = now;
            interval_.queue_fill = static_cast<double>(fill) / 1e6;
            interval_.store_p50 = detail::LatencyHistogram::median(store, interval_.store_before);
            interval_.store_before = store;
        }
        s.monitor_queue_fill = interval_.queue_fill;
        s.store_write_latency_p50 = interval_.store_p50;
        for (const auto& l : listeners_) s.accept_backoffs += l->accept_backoffs();
    }
    s.store_writes = store.total;
    s.store_write_seconds = static_cast<double>(store.sum_ns) * 1e-9;
    const auto& c = counters_;
    s.connections_accepted = c.accepted;
    s.connections_open = c.open;
    s.connections_dropped = c.dropped;
    s.searches = c.searches;
    s.search_replies = c.replies;
    s.searches_forwarded = c.forwarded;
    s.beacons = c.beacons;
    s.echoes = c.echoes;
    s.connections_refused = limit_hits_->connections.count();
    s.channels_refused = limit_hits_->channels.count();
    s.operations_refused = limit_hits_->operations.count();
    s.searches_limited = limit_hits_->searches.count();
    s.connections_too_slow = limit_hits_->slow_peers.count();
    return s;
}

void Server::Impl::start_status_pvs() {
    if (cfg_.status_prefix.empty()) return;
    if (!status_pvs_) {
        status_pvs_ = std::make_unique<detail::StatusPVs>(cfg_.status_prefix);
        for (const auto& [name, pv] : status_pvs_->pvs()) own_->add(name, pv);
        std::lock_guard lock(mu_);
        ++change_count_;
    }
    auto timer = std::make_shared<asio::steady_timer>(ex_);
    {
        std::lock_guard lock(mu_);
        status_timer_ = timer;
    }
    asio::post(ex_, [weak = weak_from_this(), timer] {
        if (auto self = weak.lock()) self->publish_status(timer);
    });
}

void Server::Impl::publish_status(const std::shared_ptr<asio::steady_timer>& timer) {
    if (!running_) return;
    status_pvs_->publish(stats(), std::chrono::steady_clock::now());
    timer->expires_after(std::chrono::seconds(1));
    timer->async_wait([weak = weak_from_this(), timer](boost::system::error_code ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->publish_status(timer);
    });
}

// ---------------------------------------------------------------------------------------------

Server::Server(net::ServerConfig config, unsigned threads)
    : impl_(std::make_shared<Impl>(std::move(config), threads)) {}
Server::Server(net::ServerConfig config, net::asio::any_io_executor executor)
    : impl_(std::make_shared<Impl>(std::move(config), std::move(executor))) {}
Server::~Server() { stop(); }

void Server::start() { impl_->start(); }
void Server::stop() { impl_->stop(); }

void Server::add_listener(std::shared_ptr<net::Listener> listener) { impl_->add_listener(std::move(listener)); }
void Server::accept(std::shared_ptr<net::StreamTransport> transport, net::Protocol protocol) {
    impl_->adopt(std::move(transport), protocol);
}
net::asio::any_io_executor Server::executor() const { return impl_->ex_; }

void Server::add_pv(std::string name, std::shared_ptr<PVHandler> pv) {
    impl_->own_->add(std::move(name), std::move(pv));
    std::lock_guard lock(impl_->mu_);
    ++impl_->change_count_;
}
void Server::remove_pv(std::string_view name) {
    impl_->own_->remove(name);
    std::set<std::shared_ptr<detail::ServerConnection>> conns;
    {
        std::lock_guard lock(impl_->mu_);
        ++impl_->change_count_;
        conns = impl_->connections_;
    }
    for (auto& c : conns) c->pv_removed(std::string(name));
    std::set<std::shared_ptr<detail::PvwsSession>> web;
    {
        std::lock_guard lock(impl_->mu_);
        web = impl_->pvws_sessions_;
    }
    for (auto& p : web) p->pv_removed(std::string(name));
}
void Server::set_access_rules(std::shared_ptr<const AccessRules> rules) {
    impl_->access_->set(std::move(rules));
    std::set<std::shared_ptr<detail::ServerConnection>> conns;
    std::set<std::shared_ptr<detail::PvwsSession>> web;
    {
        std::lock_guard lock(impl_->mu_);
        ++impl_->change_count_;  // the names served may have changed
        conns = impl_->connections_;
        web = impl_->pvws_sessions_;
    }
    for (auto& c : conns) c->access_changed();
    for (auto& p : web) p->access_changed();
}
std::shared_ptr<const AccessRules> Server::access_rules() const { return impl_->access_->get(); }
void Server::add_source(std::shared_ptr<Source> source, int order) {
    std::lock_guard lock(impl_->mu_);
    impl_->sources_.emplace(order, std::move(source));
    ++impl_->change_count_;
}

void Server::add_name(std::string name) {
    std::lock_guard lock(impl_->mu_);
    if (impl_->names_.insert(std::move(name)).second) ++impl_->change_count_;
}
void Server::remove_name(std::string_view name) {
    std::lock_guard lock(impl_->mu_);
    auto it = impl_->names_.find(name);
    if (it != impl_->names_.end()) {
        impl_->names_.erase(it);
        ++impl_->change_count_;
    }
}
void Server::set_claim(Claim claim) {
    std::lock_guard lock(impl_->mu_);
    impl_->claim_ = std::move(claim);
}
void Server::set_udp_search_filter(SearchFilter filter) {
    std::lock_guard lock(impl_->mu_);
    impl_->udp_filter_ = filter ? std::make_shared<const SearchFilter>(std::move(filter)) : nullptr;
}

net::ServerConfig Server::config() const { return impl_->cfg_; }
std::uint16_t Server::tcp_port() const { return impl_->cfg_.bound_tcp_port; }
std::uint16_t Server::tls_port() const { return impl_->cfg_.bound_tls_port; }
std::uint16_t Server::udp_port() const { return impl_->cfg_.bound_udp_port; }
std::uint16_t Server::http_port() const { return impl_->cfg_.bound_http_port; }
std::uint16_t Server::msgpack_port() const { return impl_->cfg_.bound_msgpack_port; }
const wire::Guid& Server::guid() const { return impl_->guid_; }

ServerStats Server::stats() const { return impl_->stats(); }

std::string Server::metrics_text() const { return format_prometheus(impl_->stats()); }

}  // namespace pvwire::server
