/// @file
/// Connector and Listener: how stream transports come to be, on the client and on the server.
///
/// A Connector opens a connection to a ServerAddress and hands over a started-less transport
/// (handshakes such as TLS or the WebSocket upgrade done). The client picks the connector by
/// the address's transport ("tcp", "unix", "ws", or one registered in ClientOptions).
///
/// A Listener accepts connections and hands each transport to the server with the protocol
/// that it speaks there (the listener decides: a port, a WebSocket path). Server::add_listener()
/// runs any Listener; Server::accept() takes a transport accepted elsewhere.
///
/// Threading: a Connector's `done` and a Listener's `accepted` run on the executor they were
/// given (any thread of it); both must not block.
#pragma once

#include <pvwire/net/asio.hpp>
#include <pvwire/net/server_address.hpp>
#include <pvwire/net/stream_transport.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

namespace pvwire::net {

/// `limits` with the framing of `protocol` (what listeners and connectors hand their
/// transports; a transport made elsewhere for Server::accept() needs it too).
TransportLimits limits_for(Protocol protocol, TransportLimits limits = {});

/// Called once: a transport (not started), or an error and a sentence saying what failed.
using ConnectDone = std::function<void(std::error_code, std::shared_ptr<StreamTransport>, std::string error_text)>;
using Connector =
    std::function<void(const ServerAddress&, asio::any_io_executor, const TransportLimits&, ConnectDone)>;

/// The built-in connectors: TCP (addresses resolved unless they are literals), UNIX domain
/// sockets, and WebSockets over TCP (binary messages, each carrying whole messages). `local`:
/// the address TCP connects from (a test or benchmark posing as another host, a multi-homed
/// client); with a host name, its first resolved address of that family is tried.
Connector tcp_connector(std::optional<asio::ip::address> local = std::nullopt);
Connector unix_connector();
Connector websocket_connector();
/// The connector for `address.transport` among the built-in ones; empty when there is none.
Connector builtin_connector(std::string_view transport);

class Listener {
public:
    using Accepted = std::function<void(std::shared_ptr<StreamTransport>, Protocol)>;

    virtual ~Listener() = default;
    /// Starts accepting; every accepted connection goes to `accepted`.
    virtual void start(Accepted accepted) = 0;
    /// Stops accepting (connections already handed over are not affected). Idempotent.
    virtual void stop() = 0;
    /// "tcp 0.0.0.0:5075", "unix /run/pv.sock", "http 127.0.0.1:8080 (/pva)": for logs.
    virtual std::string describe() const = 0;
    /// Times accepting paused because descriptors or memory ran out (EMFILE, ENFILE, ENOBUFS,
    /// ENOMEM): a listener waits (10 ms doubling to 1 s) instead of failing again at once.
    virtual std::uint64_t accept_backoffs() const { return 0; }

    /// The executor each accepted connection runs on (a strand is made on it per connection).
    using ConnectionExecutor = std::function<asio::any_io_executor()>;
    /// Called before start(): the connections accepted from now on run on `next()`'s executor,
    /// one call per connection, instead of the listener's own. A Server with an io_context per
    /// thread (ServerConfig::io_per_thread) spreads its connections so. The built-in listeners
    /// honour it; the default ignores it (an application's Listener may do the same).
    virtual void spread_connections(ConnectionExecutor next) { (void)next; }
};

/// Whether a connection from this address may be served: the server's connection limits,
/// asked right after accept(), before any transport is made. Runs on the listener's strand;
/// must be cheap and must not block.
using AddressScreen = std::function<bool(const asio::ip::address&)>;

/// Accepts on a bound, listening TCP acceptor: pvAccess (or `protocol`) over TCP. A connection
/// that `screen` refuses gets no transport: it is held for 1 to 2 s (a quarter of the process's
/// descriptors at most), then reset, so that a peer reconnecting at once cannot keep the
/// listener refusing in a loop.
std::shared_ptr<Listener> tcp_listener(tcp::acceptor acceptor, TransportLimits limits,
                                       Protocol protocol = Protocol::pva, AddressScreen screen = {});
/// Binds `path` (an existing socket file is replaced; the file is removed on stop()).
/// Throws boost::system::system_error when it cannot bind.
std::shared_ptr<Listener> unix_listener(asio::any_io_executor ex, std::string path, TransportLimits limits,
                                        Protocol protocol = Protocol::pva);
/// An HTTP port whose WebSocket endpoints /pva and /msgpack carry pvAccess and the msgpack
/// protocol, /pvws/pv PVWS text messages, and whose other targets are the GET routes of
/// `routes` (net/http_routes.hpp: /metrics, /api/..., files under the web root). A WebSocket
/// endpoint asked without an upgrade answers 426, an unknown target 404; every plain answer
/// closes the connection; a peer that sends no request within 10 s is dropped. /pva and
/// /msgpack go to routes.transport when set, else to the Listener's `accepted`. Throws when it
/// cannot bind; port 0 picks one (see bound_port()).
class HttpListener : public Listener {
public:
    /// The port bound.
    virtual std::uint16_t bound_port() const = 0;
};
struct HttpRoutes;
std::shared_ptr<HttpListener> http_listener(asio::any_io_executor ex, tcp::endpoint endpoint, TransportLimits limits,
                                            HttpRoutes routes);
/// The same with no routes but the /pva and /msgpack transports.
std::shared_ptr<HttpListener> http_listener(asio::any_io_executor ex, tcp::endpoint endpoint, TransportLimits limits);

}  // namespace pvwire::net
