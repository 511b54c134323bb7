/// @file
/// HttpRoutes: what a server's HTTP port answers besides its WebSocket transports, and the
/// identity of a web connection. The server fills the routes; the HTTP listener
/// (net::http_listener) does the HTTP. No Beast type appears here, so server code never
/// includes Beast.
///
/// Routes (docs/pvws.md): WebSocket /pva and /msgpack (transports), WebSocket /pvws/pv (text
/// messages, no subprotocol), GET/HEAD /metrics, /api/config, /api/pvs, and static files under
/// a web root (index.html for "/").
///
/// Threading: the callbacks run on the connection's strand (any thread of the listener's
/// executor) and must not block.
#pragma once

#include <pvwire/net/asio.hpp>
#include <pvwire/net/server_address.hpp>
#include <pvwire/net/stream_transport.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace pvwire::net {

/// Who a web connection is, as its HTTP request shows it.
struct HttpIdentity {
    std::string peer_host;              ///< the TCP peer's address, without the port
    std::string peer;                   ///< "ws:127.0.0.1:40222", for logs and Peer::address
    /// The value of the trusted user header (HttpRoutes::user_header) when it is configured and
    /// the request carried it.
    std::optional<std::string> user;
};

/// A WebSocket of text messages (the PVWS JSON dialect). Owned by its user; dropping the last
/// reference closes it.
class MessageSocket {
public:
    /// Receives what happens on the socket, on its strand.
    class Handler {
    public:
        virtual ~Handler() = default;
        /// One whole text (or binary) message.
        virtual void on_message(std::string_view text) = 0;
        /// Some queued output was written (pending_output() went down).
        virtual void on_sent() = 0;
        /// The socket is closed (by the peer, an error or close()); nothing more follows.
        virtual void on_closed(const std::string& reason) = 0;
    };

    virtual ~MessageSocket() = default;
    /// Starts reading; messages go to `handler` while it lives.
    virtual void start(std::weak_ptr<Handler> handler) = 0;
    /// Queues one text message (any thread). A peer that lets more than the transport's
    /// max_pending_output bytes pile up is closed as too slow.
    virtual void send_text(std::string text) = 0;
    /// Sends a WebSocket ping frame (browsers answer with a pong).
    virtual void ping() = 0;
    /// Closes the socket (any thread). Idempotent.
    virtual void close(const std::string& reason) = 0;
    /// Bytes queued and not yet written.
    virtual std::size_t pending_output() const = 0;
    /// Who the peer is.
    virtual const HttpIdentity& identity() const = 0;
    /// The socket's strand.
    virtual asio::any_io_executor executor() const = 0;
};

/// A plain HTTP answer.
struct HttpAnswer {
    int status = 200;
    std::string content_type = "text/plain";
    std::string body;
};

/// What the HTTP port answers (empty members: that route answers 404).
struct HttpRoutes {
    /// WebSocket /pva and /msgpack: a transport (not started) speaking `protocol`, and who it is.
    std::function<void(std::shared_ptr<StreamTransport>, Protocol protocol, HttpIdentity)> transport;
    /// WebSocket /pvws/pv: a text-message socket (not started).
    std::function<void(std::shared_ptr<MessageSocket>)> pvws;
    /// GET /metrics: Prometheus text (served as text/plain; version=0.0.4).
    std::function<std::string()> metrics;
    /// GET /api/... : the answer for `path` ("/api/config", "/api/pvs"), or nullopt for 404.
    std::function<std::optional<HttpAnswer>(std::string_view path, const HttpIdentity& who)> api;
    /// GET / and files below: this directory; "" = none.
    std::string web_root;
    /// The request header naming the user (set by a trusted reverse proxy); "" = none.
    std::string user_header;
};

/// The MIME type for a file name's extension ("application/octet-stream" when unknown).
std::string_view content_type_for(std::string_view file_name);

/// The file under `root` that `target` (a request target, query included) names, or nullopt
/// when it names nothing that may be served (no "..", no NUL, nothing outside `root` after
/// resolving links); "/" and directories give their index.html.
std::optional<std::string> resolve_web_file(const std::string& root, std::string_view target);

}  // namespace pvwire::net
