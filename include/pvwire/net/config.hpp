/// @file
/// Client and server network configuration: the EPICS_PVA_* / EPICS_PVAS_* environment
/// variables with EPICS defaults (docs/configuration.md lists every one), plus an isolated
/// loopback setup for tests.
///
/// Two structs, not one: a client and a server read different variables (a server prefers
/// EPICS_PVAS_* and falls back to EPICS_PVA_*; a client reads only EPICS_PVA_*), and a process
/// that is both builds one of each. ServerConfig::client_config() makes a client that finds
/// that server.
///
/// Nothing here throws on bad input: a variable that cannot be parsed keeps its default and a
/// line is added to `warnings` (a bad entry of an address list is dropped, the rest kept).
/// The values are plain members; callers may change them after from_env() / isolated().
#pragma once

#include <pvwire/net/address.hpp>
#include <pvwire/net/asio.hpp>
#include <pvwire/net/server_address.hpp>
#include <pvwire/net/stream_transport.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pvwire::net {

inline constexpr std::uint16_t default_server_port = 5075;     ///< EPICS_PVA_SERVER_PORT (TCP)
inline constexpr std::uint16_t default_broadcast_port = 5076;  ///< EPICS_PVA_BROADCAST_PORT (UDP)
inline constexpr double default_conn_tmo = 30.0;               ///< EPICS_PVA_CONN_TMO, seconds
inline constexpr double conn_tmo_scale = 4.0 / 3.0;            ///< configured 30 -> 40 s idle timeout
inline constexpr double default_beacon_period = 15.0;          ///< EPICS_PVAS_BEACON_PERIOD, seconds
inline constexpr double default_beacon_period_slow = 180.0;    ///< after the burst
inline constexpr unsigned default_beacon_burst = 10;           ///< fast intervals after the first beacon
inline constexpr std::size_t default_max_array_bytes = 16384;  ///< EPICS_PVA(S)_MAX_ARRAY_BYTES

/// Looks a variable up; nullptr (or "") = not set. An empty EnvLookup means std::getenv.
using EnvLookup = std::function<const char*(const char*)>;

/// The inactivity timeout for a configured EPICS_PVA_CONN_TMO: conn_tmo × 4/3, at least 2 s
/// (non-finite or <= 0 gives the default 40 s), as PVXS does.
std::chrono::milliseconds idle_timeout_for(double conn_tmo);
/// Client ECHO period: min(15 s, max(1 s, idle timeout × 3/8)); 15 s for the default.
std::chrono::milliseconds echo_period_for(double conn_tmo);

/// Secure PVAccess (TLS) settings of a client or a server, as the SLAC PVXS fork reads them
/// (docs/security.md "TLS"). TLS is on when `keychain` names a PKCS#12 file.
struct TlsConfig {
    /// EPICS_PVA_TLS_KEYCHAIN (client), EPICS_PVAS_TLS_KEYCHAIN else EPICS_PVA_TLS_KEYCHAIN
    /// (server): the PKCS#12 keychain with this side's certificate and key (optional for a
    /// client) and the CA certificates trusted to sign the peer's. A value "FILE;PASSWORD"
    /// carries the password. Unset: $XDG_CONFIG_HOME/pva/1.5/client.p12 (server.p12), else the
    /// same under pva/1.3, when that file exists ($XDG_CONFIG_HOME defaults to ~/.config).
    std::string keychain;
    /// The keychain's password: after ';' in the keychain variable, else the contents of
    /// EPICS_PVA_TLS_KEYCHAIN_PWD_FILE (EPICS_PVAS_TLS_KEYCHAIN_PWD_FILE beside
    /// EPICS_PVAS_TLS_KEYCHAIN); "" = none.
    std::string password;
    /// EPICS_PVAS_TLS_OPTIONS client_cert=require: the server refuses clients without a
    /// certificate; client_cert=optional (the default) accepts them (x509 clients are those
    /// with one).
    bool client_cert_required = false;
    /// on_expiration=shutdown: a certificate of our own that has expired at start is an
    /// error; the default (fallback-to-tcp, and standby) serves or connects without TLS.
    bool stop_if_expired = false;
    /// Options read from EPICS_PVA(S)_TLS_OPTIONS that pvwire knows and does not act on
    /// (no_revocation_check, no_stapling: certificate status needs PVACMS), for describe().
    std::vector<std::string> ignored_options;

    bool enabled() const { return !keychain.empty(); }
};

/// Busy polling before sleeping, microseconds (PVWIRE_BUSY_POLL_US).
inline constexpr long default_busy_poll_us = 100;

struct ClientConfig {
    /// EPICS_PVA_ADDR_LIST: search destinations (unicast, broadcast or multicast); entries
    /// without a port get broadcast_port. Host names are resolved by from_env().
    std::vector<udp::endpoint> address_list;
    /// The ",ttl" of multicast entries of EPICS_PVA_ADDR_LIST (hop limit of searches sent there).
    MulticastHops multicast_hops;
    /// EPICS_PVA_AUTO_ADDR_LIST: also search the broadcast address of every local interface
    /// (of `interfaces`, when that is not the wildcard), and listen for beacons on the IPv6
    /// multicast groups of address_list.
    bool auto_address_list = true;
    /// EPICS_PVA_NAME_SERVERS: TCP name servers; entries without a port get server_port. Kept
    /// unresolved so that a host name is looked up again on every (re)connect.
    std::vector<HostPort> name_servers;
    /// EPICS_PVA_SERVER_PORT: default TCP port of name servers and direct server addresses.
    std::uint16_t server_port = default_server_port;
    /// EPICS_PVA_BROADCAST_PORT: port searches are sent to and beacons are received on. 0 (only
    /// from isolated()) means no fixed beacon port.
    std::uint16_t broadcast_port = default_broadcast_port;
    /// EPICS_PVA_INTF_ADDR_LIST: where to listen for beacons; empty = 0.0.0.0 (all). Beacons
    /// are also heard on [::] (as PVXS), and on the IPv6 groups listed here ("[ff02::42:1]@eth0").
    std::vector<asio::ip::address> interfaces;
    /// EPICS_PVA_CONN_TMO, seconds, as configured (the ×4/3 is applied by idle_timeout()).
    double conn_tmo = default_conn_tmo;
    /// EPICS_PVA_MAX_ARRAY_BYTES: pvAccessCPP's buffer size. Read and reported only; it is no
    /// limit in pvwire (max_message_size is).
    std::size_t max_array_bytes = default_max_array_bytes;
    /// EPICS_PVA_DEBUG: pvAccessCPP debug level. Read and reported only.
    int debug = 0;
    /// Per-connection bounds (pvwire's own, not environment variables).
    std::size_t max_message_size = TransportLimits{}.max_message_bytes;
    std::size_t max_pending_output = TransportLimits{}.max_pending_output;
    /// PVWIRE_TCP_BUFFER_BYTES (pvwire's own): SO_SNDBUF/SO_RCVBUF of TCP connections; 0
    /// leaves the kernel's autotuning.
    std::size_t tcp_buffer_bytes = TransportLimits{}.socket_buffer_bytes;
    /// PVWIRE_BUSY_POLL_US (pvwire's own): how long the context's thread keeps polling for
    /// replies before it sleeps (adaptive, see docs/configuration.md); 0 = never.
    std::chrono::microseconds busy_poll{default_busy_poll_us};

    /// EPICS_PVA_TLS_KEYCHAIN, _PWD_FILE, _OPTIONS: with a keychain the client searches for
    /// "tls" and "tcp" and connects over TLS to servers that answer "tls".
    TlsConfig tls;

    /// What from_env() could not use, one line per problem.
    std::vector<std::string> warnings;

    std::chrono::milliseconds idle_timeout() const { return idle_timeout_for(conn_tmo); }
    std::chrono::milliseconds echo_period() const { return echo_period_for(conn_tmo); }
    TransportLimits transport_limits() const;

    /// address_list, plus (with auto_address_list) the interface broadcast addresses on
    /// broadcast_port, without duplicates. Enumerates interfaces on each call.
    std::vector<udp::endpoint> search_destinations() const;
    /// The IPv6 groups the beacon socket joins: those of `interfaces`, and with
    /// auto_address_list those of address_list (scope id = interface, 0 = the kernel's choice).
    std::vector<asio::ip::address_v6> beacon_groups() const;

    static ClientConfig from_env(const EnvLookup& env = {});
    /// Loopback only: address list 127.0.0.1 with port 0 (nothing to find until pointed at a
    /// server: use ServerConfig::client_config()), interfaces 127.0.0.1, auto list off, no name
    /// servers, broadcast_port 0.
    static ClientConfig isolated();

    /// Every effective setting, one "NAME=value" per line, then the computed values and the
    /// warnings. For `pvwire -v`.
    std::string describe() const;
};

struct ServerConfig {
    /// EPICS_PVAS_INTF_ADDR_LIST (no EPICS_PVA_ fallback, as PVXS): addresses to bind TCP and
    /// UDP to; empty = the wildcard 0.0.0.0. Any IPv6 entry ("::", "::1", a group such as
    /// "[ff02::42:1]@eth0") also opens the IPv6 UDP socket [::] on the same port (joining the
    /// groups); TCP binds the unicast entries, and [::] for "::" or when only groups are listed.
    std::vector<asio::ip::address> interfaces;
    /// EPICS_PVAS_SERVER_PORT, else EPICS_PVA_SERVER_PORT: TCP port; 0 = ephemeral.
    std::uint16_t server_port = default_server_port;
    /// EPICS_PVAS_BROADCAST_PORT, else EPICS_PVA_BROADCAST_PORT: UDP search port; 0 = ephemeral.
    std::uint16_t broadcast_port = default_broadcast_port;
    /// EPICS_PVAS_BEACON_ADDR_LIST, else EPICS_PVA_ADDR_LIST: beacon destinations. Entries
    /// without a port get broadcast_port; port 0 means "the effective UDP port".
    std::vector<udp::endpoint> beacon_address_list;
    /// The ",ttl" of multicast entries of the beacon list (hop limit of beacons sent there).
    MulticastHops multicast_hops;
    /// EPICS_PVAS_AUTO_BEACON_ADDR_LIST, else EPICS_PVA_AUTO_ADDR_LIST: also beacon to the
    /// broadcast address of every interface in `interfaces`, and to its IPv6 groups.
    bool auto_beacon_address_list = true;
    /// EPICS_PVAS_IGNORE_ADDR_LIST: searches from these sources are ignored; port 0 = any port.
    std::vector<udp::endpoint> ignore_address_list;
    /// EPICS_PVA_CONN_TMO (there is no EPICS_PVAS_ variant), seconds as configured.
    double conn_tmo = default_conn_tmo;
    /// EPICS_PVAS_BEACON_PERIOD, else EPICS_PVA_BEACON_PERIOD: the fast beacon period (>= 1 s).
    /// The first beacon goes out at start, then beacon_burst intervals of beacon_period, then
    /// every beacon_period_slow (= max(180, beacon_period) when read from the environment).
    double beacon_period = default_beacon_period;
    double beacon_period_slow = default_beacon_period_slow;
    unsigned beacon_burst = default_beacon_burst;
    /// EPICS_PVAS_MAX_ARRAY_BYTES, else EPICS_PVA_MAX_ARRAY_BYTES: read and reported only.
    std::size_t max_array_bytes = default_max_array_bytes;
    /// EPICS_PVAS_PROVIDER_NAMES: read and reported only (pvwire has no providers).
    std::vector<std::string> provider_names{"local"};
    /// EPICS_PVA_DEBUG: read and reported only.
    int debug = 0;
    std::size_t max_message_size = TransportLimits{}.max_message_bytes;
    /// PVWIRE_MAX_QUEUED_BYTES (pvwire's own): bytes queued for one connection and not yet
    /// written; a peer that lets more pile up is too slow and is closed (monitors hold back
    /// well before: their updates squash while a connection's backlog is high).
    std::size_t max_pending_output = TransportLimits{}.max_pending_output;
    /// PVWIRE_TCP_BUFFER_BYTES (pvwire's own): SO_SNDBUF/SO_RCVBUF of TCP connections; 0
    /// leaves the kernel's autotuning.
    std::size_t tcp_buffer_bytes = TransportLimits{}.socket_buffer_bytes;
    /// PVWIRE_BUSY_POLL_US (pvwire's own): how long the server's threads keep polling for
    /// requests before they sleep (adaptive); 0 = never.
    std::chrono::microseconds busy_poll{default_busy_poll_us};
    /// PVWIRE_SERVER_THREADS (pvwire's own): the threads a Server runs its connections on; 0
    /// (the default) = one per CPU this process may use, less one (at least 1): the CPU left
    /// over runs the threads that post the PVs, and on a 2-core machine, where a second server
    /// thread cost more CPU per update and delivered no more (benchmarks/RESULTS.md, issue 13),
    /// the server keeps one thread.
    unsigned threads = 0;
    /// What `threads` comes to on this machine now (0 resolved against the affinity mask).
    unsigned thread_count() const;
    /// PVWIRE_SERVER_IO (pvwire's own): "shared" (default), all threads run one io_context and
    /// any of them may take any connection's next handler; "per-thread", each thread runs an
    /// io_context of its own and each new connection is given to the next one in turn (its
    /// handlers then stay on that thread). Listeners, UDP and beacons run on the first.
    bool io_per_thread = false;

    /// PVWIRE_SEARCH_RATE (pvwire's own): UDP searches answered per second from one source
    /// address, with bursts of twice as many; 0 = no limit. Searches past it are dropped
    /// unanswered (the client searches again later), counted and logged.
    double search_rate_per_source = 200;
    /// PVWIRE_SEARCH_RATE_TOTAL (pvwire's own): UDP searches answered per second from all
    /// sources together (bursts of twice as many); 0 = no limit. A budget no set of sources,
    /// spoofed or not, can exceed.
    double search_rate_total = 5000;

    /// Limits no client can exceed (pvwire's own; docs/configuration.md). A connection past a
    /// connection limit is closed at once; a channel or operation past its limit is refused
    /// with an error status. Each hit is counted (ServerStats) and logged (pvwire.server).
    std::size_t max_connections = 16384;           ///< PVWIRE_MAX_CONNECTIONS, in total
    std::size_t max_connections_per_peer = 4096;   ///< PVWIRE_MAX_CONNECTIONS_PER_PEER, per address
    std::size_t max_channels = 65536;              ///< PVWIRE_MAX_CHANNELS, per connection
    std::size_t max_operations = 1024;             ///< PVWIRE_MAX_OPERATIONS, per channel
    /// PVWIRE_VALIDATION_TMO (pvwire's own): seconds a new connection has to complete the
    /// pvAccess handshake; before that it may send nothing else (an ECHO closes it too).
    double validation_timeout = 10.0;

    /// PVWIRE_UNIX_PATH (pvwire's own): also serve pvAccess on this UNIX socket; "" = none.
    std::string unix_path;
    /// PVWIRE_HTTP_PORT (pvwire's own): also serve an HTTP port whose WebSocket endpoints /pva
    /// and /msgpack carry the two protocols, on the first interface; unset = none, 0 = ephemeral.
    std::optional<std::uint16_t> http_port;
    /// PVWIRE_WEB_ROOT (pvwire's own): the directory whose files the HTTP port serves at "/"
    /// (index.html for "/"); "" = the installed web page (PVWIRE_DEFAULT_WEB_ROOT) if built in.
    std::string web_root;
    /// PVWIRE_WEB_WRITE (pvwire's own): writes from the web endpoints (/msgpack over HTTP and
    /// /pvws/pv) are allowed; otherwise refused with "writing from the web is disabled on this
    /// server". Off by default (as PVWS's PV_WRITE_SUPPORT).
    bool web_write = false;
    /// PVWIRE_HTTP_USER_HEADER (pvwire's own): an HTTP request header set by a trusted reverse
    /// proxy that names the user of a web connection ("ca" credentials); "" = every web
    /// connection is anonymous, known by its peer host only (docs/pvws.md).
    std::string http_user_header;
    /// PVWIRE_PVWS_THROTTLE_MS, else PV_THROTTLE_MS (PVWS's): at most one update per PV and
    /// this many milliseconds on the /pvws/pv endpoint, the newest value winning; 0 = none.
    std::uint32_t pvws_throttle_ms = 1000;
    /// PVWIRE_MSGPACK_PORT (pvwire's own): also serve the msgpack protocol on this TCP port, on
    /// the first interface; unset = none, 0 = ephemeral.
    std::optional<std::uint16_t> msgpack_port;
    /// PVWIRE_REPLICA (pvwire's own), else HOSTNAME (the pod name under Kubernetes): which
    /// replica of a scaled-out server this is, answered with the host name by op=info on the
    /// "server" PV (`pvwire list -i`, `pvxlist -i`). "" = neither is set.
    std::string replica;
    /// PVWIRE_STATUS_PREFIX (pvwire's own): serve the server's own numbers as NTScalar PVs
    /// named `<prefix>:connections`, `<prefix>:bytes_in_rate` ... (docs/metrics.md), refreshed
    /// every second; "" = none (the library's default; `pvwire serve` defaults to
    /// "pvwire:<replica>").
    std::string status_prefix;

    /// EPICS_PVAS_TLS_KEYCHAIN, _PWD_FILE, EPICS_PVAS_TLS_OPTIONS (else the EPICS_PVA_ ones):
    /// with a keychain the server also listens for TLS on tls_port and answers searches that
    /// list "tls" with it.
    TlsConfig tls;
    /// EPICS_PVAS_TLS_PORT, else EPICS_PVA_TLS_PORT: the TLS port on every interface; 0 =
    /// ephemeral. Taken: an ephemeral port (logged).
    std::uint16_t tls_port = default_tls_port;

    /// Filled by the server in its effective config once its sockets are bound (0 = not yet).
    std::uint16_t bound_tcp_port = 0;
    std::uint16_t bound_tls_port = 0;
    std::uint16_t bound_udp_port = 0;
    std::uint16_t bound_http_port = 0;
    std::uint16_t bound_msgpack_port = 0;

    std::vector<std::string> warnings;

    std::chrono::milliseconds idle_timeout() const { return idle_timeout_for(conn_tmo); }
    std::chrono::milliseconds echo_period() const { return echo_period_for(conn_tmo); }
    TransportLimits transport_limits() const;

    /// bound port if known, else the configured one.
    std::uint16_t effective_tcp_port() const { return bound_tcp_port ? bound_tcp_port : server_port; }
    std::uint16_t effective_udp_port() const { return bound_udp_port ? bound_udp_port : broadcast_port; }

    /// Time from beacon n (0 = the first, sent at start) to beacon n+1.
    std::chrono::milliseconds beacon_interval(std::uint64_t n) const;
    /// beacon_address_list (port 0 -> effective UDP port) plus, with auto_beacon_address_list,
    /// the broadcast addresses of `interfaces` on the effective UDP port; no duplicates.
    std::vector<udp::endpoint> beacon_destinations() const;
    /// The addresses TCP listens on: the unicast entries of `interfaces` (0.0.0.0 when empty);
    /// "::" brings 0.0.0.0 along (IPv4 clients keep finding the server, as with PVXS's
    /// dual-stack [::]); multicast groups are not bound, and a list of groups only gives the
    /// wildcards of their families.
    std::vector<asio::ip::address> tcp_interfaces() const;
    /// True when `interfaces` names an IPv6 address: the server then also listens for searches
    /// on [::] (PVXS likewise opens its IPv6 UDP socket only for IPv6 interface entries).
    bool listens_on_ipv6() const;
    /// True when a search from `from` must be ignored (EPICS_PVAS_IGNORE_ADDR_LIST).
    bool is_ignored(const udp::endpoint& from) const;

    /// A client that finds this server: searches unicast at each interface address (127.0.0.1
    /// for a wildcard) on the effective UDP port, auto list off, broadcast_port = effective UDP
    /// port, server_port = effective TCP port, same timeout and limits. Call it after the
    /// server has filled bound_*_port when its ports were 0.
    ClientConfig client_config() const;

    static ServerConfig from_env(const EnvLookup& env = {});
    /// Loopback only: interfaces 127.0.0.1, TCP and UDP ports 0 (ephemeral), beacons to
    /// 127.0.0.1 on the effective UDP port, auto beacon list off.
    static ServerConfig isolated();

    std::string describe() const;
};

}  // namespace pvwire::net
