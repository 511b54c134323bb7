/// @file
/// Server: a pvAccess (and msgpack protocol) server on Boost.Asio. It listens on TCP (5075,
/// or an ephemeral port when that is taken, as PVXS does) and UDP (5076, shared with the other servers of the host),
/// answers searches for the names it serves, sends beacons, and runs the handshake, echo and
/// idle timeout of every client connection. (Channels and their operations come on top.)
///
/// Other transports and the msgpack protocol plug in: the configuration can add a UNIX socket
/// (unix_path), a TCP port for the msgpack protocol (msgpack_port) and an HTTP port whose
/// WebSocket endpoints /pva and /msgpack carry both (http_port); add_listener() runs any
/// net::Listener, and accept() serves a transport made elsewhere (docs/transports.md,
/// docs/msgpack-protocol.md). Both protocols reach the same PVs with the same semantics.
///
/// Threading: the server runs on threads of its own (ServerConfig::threads, by default one per
/// CPU less one, at least 1; PVWIRE_SERVER_THREADS), all on one io_context or, with ServerConfig::io_per_thread
/// (PVWIRE_SERVER_IO=per-thread), each on its own with the connections dealt out in turn; or on
/// an executor the caller gives. Each client connection is served on its own strand, so a slow or
/// broken client never delays the others. All public member functions are thread-safe.
/// Lifetime: stop() (or the destructor) closes every socket and waits for the threads.
#pragma once

#include <pvwire/net/asio.hpp>
#include <pvwire/net/config.hpp>
#include <pvwire/net/connector.hpp>
#include <pvwire/server/access_rules.hpp>
#include <pvwire/server/metrics.hpp>
#include <pvwire/server/source.hpp>
#include <pvwire/wire/basic_types.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace pvwire::server {

/// A pvAccess server (see the file's description for transports, threading and lifetime).
class Server {
public:
    /// Does this server serve `name`? Called from the server's threads; must not block.
    using Claim = std::function<bool(std::string_view name)>;

    /// Runs on `threads` threads of its own (0: config.threads, which is 1 unless set, and 0
    /// there means one per CPU); `config` defaults to the EPICS_PVAS_* / EPICS_PVA_* / PVWIRE_*
    /// environment. Nothing is bound before start().
    explicit Server(net::ServerConfig config = net::ServerConfig::from_env(), unsigned threads = 0);
    /// Runs on the caller's executor instead of owning threads (the caller runs it).
    Server(net::ServerConfig config, net::asio::any_io_executor executor);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds and starts serving. Throws boost::system::system_error if a socket cannot be bound.
    void start();
    /// Closes every socket and connection and waits for the threads; the destructor calls it.
    void stop();

    /// Accepts connections from `listener` too (before or after start(); stopped by stop()).
    void add_listener(std::shared_ptr<net::Listener> listener);
    /// Serves one connection that was accepted elsewhere (not started yet; the server starts
    /// it). It speaks `protocol` from its first byte: pvAccess begins with the server's greeting.
    void accept(std::shared_ptr<net::StreamTransport> transport, net::Protocol protocol = net::Protocol::pva);
    /// The executor the server runs on (for listeners and transports made for it).
    net::asio::any_io_executor executor() const;

    /// Serves `pv` as `name` (through the server's own StaticSource).
    void add_pv(std::string name, std::shared_ptr<PVHandler> pv);
    /// Stops serving `name`: the server's own PV of that name goes, and its open channels close.
    void remove_pv(std::string_view name);
    /// Adds a source; sources are asked in increasing `order`, then the server's own PVs.
    void add_source(std::shared_ptr<Source> source, int order = 0);

    /// Enforces `rules` (docs/security.md, "Access rules") from now on, for every protocol;
    /// null: none (every client may do everything, the default). Replaces the rules in use:
    /// every open channel is checked again on its connection's strand, a monitor that loses
    /// read access ends with a message saying why, later operations ask the new rules, and a
    /// channel whose name the pattern list no longer serves is closed. Connections stay.
    void set_access_rules(std::shared_ptr<const AccessRules> rules);
    /// The access rules in effect (null: none).
    std::shared_ptr<const AccessRules> access_rules() const;

    /// Names answered in searches without serving a channel (for discovery-only servers such
    /// as the echo example), in addition to what `set_claim` claims.
    void add_name(std::string name);
    /// Stops answering searches for `name` (added with add_name()).
    void remove_name(std::string_view name);
    /// Answers searches for every name `claim` accepts (replaces the previous one).
    void set_claim(Claim claim);
    /// Decides whether to answer a UDP search for `name`: `to_all` is true when the datagram
    /// went to every server (a broadcast or multicast address), false when it was addressed to
    /// this host (a unicast, which the servers sharing the port on this host all receive).
    using SearchFilter = std::function<bool(std::string_view name, bool to_all)>;
    /// Answers UDP searches only for the names `filter` accepts (among those served); searches
    /// over TCP, as a name server's clients send them, are answered for every name. Replicas
    /// serving the same channels use it so that a search gets one answer, from the replica
    /// owning the name (RedisStore::owns()). Null: every served name (the default).
    void set_udp_search_filter(SearchFilter filter);

    /// The configuration in effect, with the ports actually bound.
    net::ServerConfig config() const;
    /// The TCP port bound (0 before start()).
    std::uint16_t tcp_port() const;
    /// The TLS port bound (0 before start(), and without TLS: no keychain, or one that could
    /// not be used).
    std::uint16_t tls_port() const;
    /// The UDP port bound for searches (0 before start()).
    std::uint16_t udp_port() const;
    /// The HTTP (WebSocket) port once bound when the configuration asks for one, else 0.
    std::uint16_t http_port() const;
    /// The msgpack protocol's TCP port once bound when the configuration asks for one, else 0.
    std::uint16_t msgpack_port() const;
    /// This server's GUID, sent in beacons and search replies.
    const wire::Guid& guid() const;
    /// Counters since the server started: the server's own, plus every connection's, added up
    /// now (closed connections' totals included). Cheap enough to call every second.
    ServerStats stats() const;
    /// stats() as Prometheus text (format_prometheus()): what GET /metrics on the HTTP port
    /// answers (docs/metrics.md).
    std::string metrics_text() const;
    /// A client configuration that finds this server (for isolated tests and examples).
    net::ClientConfig client_config() const { return config().client_config(); }

    class Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace pvwire::server
