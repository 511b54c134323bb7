// The HTTP listener whose WebSocket endpoints /pva and /msgpack carry the two protocols, and the WebSocket
// connector. The only file of the library that includes Beast's HTTP and
// WebSocket code.
#include <pvwire/net/connector.hpp>
#include <pvwire/net/websocket_transport.hpp>

#include "connect_tcp.hpp"

#include <boost/beast/http.hpp>

namespace pvwire::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

// A peer that connects and sends no complete request in this time is dropped.
constexpr auto request_timeout = std::chrono::seconds(10);
constexpr std::uint32_t max_request_header_bytes = 8192;

std::optional<Protocol> protocol_for_target(beast::string_view target) {
    if (target == "/pva") return Protocol::pva;
    if (target == "/msgpack") return Protocol::msgpack;
    return std::nullopt;
}

// One HTTP connection until it is upgraded to a WebSocket (or answered and closed).
class UpgradeSession : public std::enable_shared_from_this<UpgradeSession> {
public:
    UpgradeSession(tcp::socket socket, TransportLimits limits, Listener::Accepted accepted)
        : socket_(std::move(socket)), timer_(socket_.get_executor()), limits_(limits), accepted_(std::move(accepted)) {
        parser_.header_limit(max_request_header_bytes);
        parser_.body_limit(0);
    }

    void start() {
        timer_.expires_after(request_timeout);
        timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
            if (auto self = weak.lock(); self && !ec) {
                boost::system::error_code ignored;
                self->socket_.close(ignored);
            }
        });
        http::async_read(socket_, buffer_, parser_, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
            self->on_request(ec);
        });
    }

private:
    void on_request(boost::system::error_code ec) {
        timer_.cancel();
        if (ec) return;  // closed, timed out or not HTTP: nothing to answer
        auto& req = parser_.get();
        const auto protocol = protocol_for_target(req.target());
        if (!protocol) return respond(http::status::not_found, "no such endpoint: WebSocket clients use /pva or /msgpack\n");
        if (!websocket::is_upgrade(req))
            return respond(http::status::upgrade_required, "this endpoint speaks WebSocket only\n");
        auto ws = std::make_shared<websocket::stream<tcp::socket>>(std::move(socket_));
        ws->async_accept(req, [self = shared_from_this(), ws, protocol](boost::system::error_code ec) {
            if (ec) return;
            self->accepted_(WebSocketTransport::create(std::move(*ws), limits_for(*protocol, self->limits_)), *protocol);
        });
    }

    void respond(http::status status, std::string text) {
        auto res = std::make_shared<http::response<http::string_body>>(status, 11);
        res->set(http::field::content_type, "text/plain");
        res->body() = std::move(text);
        res->prepare_payload();
        res->keep_alive(false);
        http::async_write(socket_, *res, [self = shared_from_this(), res](boost::system::error_code, std::size_t) {
            boost::system::error_code ignored;
            self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
        });
    }

    tcp::socket socket_;
    asio::steady_timer timer_;
    beast::flat_buffer buffer_;
    http::request_parser<http::empty_body> parser_;
    TransportLimits limits_;
    Listener::Accepted accepted_;
};

class HttpListenerImpl final : public HttpListener, public std::enable_shared_from_this<HttpListenerImpl> {
public:
    HttpListenerImpl(tcp::acceptor acceptor, TransportLimits limits)
        : acceptor_(std::move(acceptor)), limits_(limits), port_(acceptor_.local_endpoint().port()),
          name_("http " + acceptor_.local_endpoint().address().to_string() + ":" + std::to_string(port_) +
                " (/pva, /msgpack)") {}

    void start(Accepted accepted) override {
        accepted_ = std::move(accepted);
        accept_next();
    }
    void stop() override {
        asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
            boost::system::error_code ignored;
            self->acceptor_.close(ignored);
        });
    }
    std::string describe() const override { return name_; }
    std::uint16_t bound_port() const override { return port_; }

private:
    void accept_next() {
        acceptor_.async_accept(asio::make_strand(acceptor_.get_executor()),
                               [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
                                   if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
                                   if (!ec)
                                       std::make_shared<UpgradeSession>(std::move(socket), self->limits_, self->accepted_)
                                           ->start();
                                   self->accept_next();
                               });
    }

    tcp::acceptor acceptor_;
    TransportLimits limits_;
    std::uint16_t port_;
    std::string name_;
    Accepted accepted_;
};

}  // namespace

std::shared_ptr<HttpListener> http_listener(asio::any_io_executor ex, tcp::endpoint endpoint, TransportLimits limits) {
    tcp::acceptor acceptor(ex);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    boost::system::error_code ec;
    acceptor.bind(endpoint, ec);
    if (ec)
        throw boost::system::system_error(
            ec, "pvwire: bind HTTP " + endpoint.address().to_string() + ":" + std::to_string(endpoint.port()));
    acceptor.listen();
    return std::make_shared<HttpListenerImpl>(std::move(acceptor), limits);
}

Connector websocket_connector() {
    return [](const ServerAddress& address, asio::any_io_executor ex, const TransportLimits& limits,
              ConnectDone done) {
        detail::connect_tcp(address, ex, [address, limits, done = std::move(done)](boost::system::error_code ec,
                                                                                    tcp::socket socket, std::string text) {
            if (ec) return done(ec, nullptr, std::move(text));
            auto ws = std::make_shared<websocket::stream<tcp::socket>>(std::move(socket));
            const std::string host = address.host + ":" + std::to_string(address.port);
            ws->async_handshake(host, address.path, [ws, limits, address, done](boost::system::error_code ec) {
                if (ec)
                    return done(ec, nullptr,
                                "WebSocket handshake with " + address.to_string() + " failed: " + ec.message());
                done({}, WebSocketTransport::create(std::move(*ws), limits), {});
            });
        });
    };
}

}  // namespace pvwire::net
