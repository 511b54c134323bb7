// The HTTP listener (WebSocket endpoints /pva and /msgpack carrying the two protocols, /pvws/pv
// carrying PVWS text messages, and the plain GET routes of HttpRoutes), and the WebSocket
// connector. The only file of the library that includes Beast's HTTP and
// WebSocket code.
#include <pvwire/net/connector.hpp>
#include <pvwire/net/websocket_transport.hpp>

#include <pvwire/net/http_routes.hpp>

#include "accept_backoff.hpp"
#include "connect_tcp.hpp"

#include <boost/beast/http.hpp>

#include <atomic>
#include <deque>
#include <fstream>

namespace pvwire::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

// A peer that connects and sends no complete request in this time is dropped.
constexpr auto request_timeout = std::chrono::seconds(10);
constexpr std::uint32_t max_request_header_bytes = 8192;

std::optional<Protocol> protocol_for_path(std::string_view path) {
    if (path == "/pva") return Protocol::pva;
    if (path == "/msgpack") return Protocol::msgpack;
    return std::nullopt;
}

constexpr std::string_view pvws_path = "/pvws/pv";
// A PVWS client message larger than this closes the socket (a subscribe of many names fits).
constexpr std::size_t max_text_message_bytes = 1 << 20;

// A WebSocket of text messages (MessageSocket), on the strand of its socket. Writes go one at
// a time from a queue; a ping waits in the same queue so that Beast sees one writer.
class TextSocket final : public MessageSocket, public std::enable_shared_from_this<TextSocket> {
public:
    TextSocket(websocket::stream<tcp::socket> ws, HttpIdentity who, std::size_t max_pending)
        : ws_(std::move(ws)), ex_(ws_.get_executor()), who_(std::move(who)), max_pending_(max_pending) {
        ws_.text(true);
        ws_.read_message_max(max_text_message_bytes);
    }

    void start(std::weak_ptr<Handler> handler) override {
        asio::dispatch(ws_.get_executor(), [self = shared_from_this(), handler = std::move(handler)]() mutable {
            self->handler_ = std::move(handler);
            self->read_next();
        });
    }
    void send_text(std::string text) override { queue(Item{false, std::move(text)}); }
    void ping() override { queue(Item{true, {}}); }
    void close(const std::string& reason) override {
        asio::dispatch(ws_.get_executor(), [self = shared_from_this(), reason] { self->finish(reason); });
    }
    std::size_t pending_output() const override { return pending_.load(std::memory_order_relaxed); }
    const HttpIdentity& identity() const override { return who_; }
    asio::any_io_executor executor() const override { return ex_; }

private:
    struct Item {
        bool ping = false;
        std::string text;
    };

    void queue(Item item) {
        const std::size_t bytes = item.text.size();
        if (pending_.fetch_add(bytes, std::memory_order_relaxed) + bytes > max_pending_) {
            pending_.fetch_sub(bytes, std::memory_order_relaxed);
            return close("too slow: more than " + std::to_string(max_pending_) + " bytes queued");
        }
        asio::dispatch(ws_.get_executor(), [self = shared_from_this(), item = std::move(item)]() mutable {
            if (self->closed_) return;
            self->out_.push_back(std::move(item));
            if (!self->writing_) self->write_next();
        });
    }

    void write_next() {
        if (out_.empty() || closed_) return;
        writing_ = true;
        auto done = [self = shared_from_this()](boost::system::error_code ec, std::size_t = 0) {
            self->writing_ = false;
            const std::size_t bytes = self->out_.front().text.size();
            self->out_.pop_front();
            self->pending_.fetch_sub(bytes, std::memory_order_relaxed);
            if (ec) return self->finish("write failed: " + ec.message());
            if (auto h = self->handler_.lock()) h->on_sent();
            self->write_next();
        };
        if (out_.front().ping) ws_.async_ping({}, done);
        else ws_.async_write(asio::buffer(out_.front().text), done);
    }

    void read_next() {
        ws_.async_read(in_, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
            if (ec) return self->finish(ec == websocket::error::closed ? "closed by the peer" : ec.message());
            const auto data = in_data(self->in_);
            if (auto h = self->handler_.lock()) h->on_message(data);
            self->in_.consume(self->in_.size());
            if (!self->closed_) self->read_next();
        });
    }
    static std::string_view in_data(const beast::flat_buffer& b) {
        return {static_cast<const char*>(b.data().data()), b.size()};
    }

    void finish(const std::string& reason) {
        if (closed_) return;
        closed_ = true;
        boost::system::error_code ignored;
        ws_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
        ws_.next_layer().close(ignored);
        if (auto h = handler_.lock()) h->on_closed(reason);
    }

    websocket::stream<tcp::socket> ws_;
    asio::any_io_executor ex_;
    HttpIdentity who_;
    std::size_t max_pending_;
    std::weak_ptr<Handler> handler_;
    beast::flat_buffer in_;
    std::deque<Item> out_;
    std::atomic<std::size_t> pending_{0};
    bool writing_ = false, closed_ = false;
};

// One HTTP connection: answered and closed, or upgraded to a WebSocket.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(tcp::socket socket, TransportLimits limits, std::shared_ptr<const HttpRoutes> routes,
                Listener::Accepted accepted)
        : socket_(std::move(socket)), timer_(socket_.get_executor()), limits_(limits), routes_(std::move(routes)),
          accepted_(std::move(accepted)) {
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
    using Request = http::request<http::empty_body>;

    HttpIdentity identity(const Request& req) {
        HttpIdentity who;
        boost::system::error_code ec;
        const auto ep = socket_.remote_endpoint(ec);
        if (!ec) {
            who.peer_host = ep.address().to_string();
            who.peer = "ws:" + (ep.address().is_v6() ? "[" + who.peer_host + "]" : who.peer_host) + ":" +
                       std::to_string(ep.port());
        }
        if (!routes_->user_header.empty())
            if (auto it = req.find(routes_->user_header); it != req.end() && !it->value().empty())
                who.user = std::string(it->value());
        return who;
    }

    void on_request(boost::system::error_code ec) {
        timer_.cancel();
        if (ec) return;  // closed, timed out or not HTTP: nothing to answer
        const auto& req = parser_.get();
        const std::string_view target(req.target().data(), req.target().size());
        const std::string_view path = target.substr(0, target.find('?'));
        if (const auto protocol = protocol_for_path(path)) return upgrade(req, *protocol);
        if (path == pvws_path) return upgrade_text(req);
        if (req.method() != http::verb::get && req.method() != http::verb::head)
            return respond(req, {405, "text/plain", "only GET and HEAD here\n"});
        if (path == "/metrics" && routes_->metrics)
            return respond(req, {200, "text/plain; version=0.0.4; charset=utf-8", routes_->metrics()}, "no-cache");
        if (path.starts_with("/api/") && routes_->api)
            if (auto answer = routes_->api(path, identity(req))) return respond(req, std::move(*answer), "no-cache");
        serve_file(req, target);
    }

    bool check_upgrade(const Request& req) {
        if (websocket::is_upgrade(req)) return true;
        respond(req, {426, "text/plain", "this endpoint speaks WebSocket only\n"});
        return false;
    }

    void upgrade(const Request& req, Protocol protocol) {
        if (!check_upgrade(req)) return;
        auto who = identity(req);
        auto ws = std::make_shared<websocket::stream<tcp::socket>>(std::move(socket_));
        ws->async_accept(req, [self = shared_from_this(), ws, protocol, who = std::move(who)](boost::system::error_code ec) mutable {
            if (ec) return;
            auto transport = WebSocketTransport::create(std::move(*ws), limits_for(protocol, self->limits_));
            if (self->routes_->transport) self->routes_->transport(std::move(transport), protocol, std::move(who));
            else self->accepted_(std::move(transport), protocol);
        });
    }

    // PVWS clients send no subprotocol, and none is answered.
    void upgrade_text(const Request& req) {
        if (!routes_->pvws) return respond(req, {404, "text/plain", "no PVWS endpoint on this server\n"});
        if (!check_upgrade(req)) return;
        auto who = identity(req);
        auto ws = std::make_shared<websocket::stream<tcp::socket>>(std::move(socket_));
        ws->async_accept(req, [self = shared_from_this(), ws, who = std::move(who)](boost::system::error_code ec) mutable {
            if (ec) return;
            self->routes_->pvws(std::make_shared<TextSocket>(std::move(*ws), std::move(who),
                                                             self->limits_.max_pending_output));
        });
    }

    void serve_file(const Request& req, std::string_view target) {
        const auto file = resolve_web_file(routes_->web_root, target);
        if (!file) return respond(req, {404, "text/plain", "not found\n"});
        std::ifstream in(*file, std::ios::binary);
        std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) return respond(req, {500, "text/plain", "cannot read the file\n"});
        // hashed build assets never change; the page itself is checked every time
        const bool immutable = target.find("/assets/") != std::string_view::npos;
        respond(req, {200, std::string(content_type_for(*file)), std::move(body)},
                immutable ? "public, max-age=31536000, immutable" : "no-cache");
    }

    void respond(const Request& req, HttpAnswer answer, std::string_view cache = {}) {
        auto res = std::make_shared<http::response<http::string_body>>(http::status(answer.status), req.version());
        res->set(http::field::server, "pvwire");
        res->set(http::field::content_type, answer.content_type);
        if (!cache.empty()) res->set(http::field::cache_control, std::string(cache));
        res->body() = std::move(answer.body);
        res->prepare_payload();  // HEAD: the length of what GET would send, and no body
        if (req.method() == http::verb::head) res->body().clear();
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
    std::shared_ptr<const HttpRoutes> routes_;
    Listener::Accepted accepted_;
};

class HttpListenerImpl final : public HttpListener, public std::enable_shared_from_this<HttpListenerImpl> {
public:
    HttpListenerImpl(tcp::acceptor acceptor, TransportLimits limits, HttpRoutes routes)
        : acceptor_(std::move(acceptor)), backoff_(acceptor_.get_executor()), limits_(limits),
          routes_(std::make_shared<const HttpRoutes>(std::move(routes))),
          port_(acceptor_.local_endpoint().port()),
          name_("http " + acceptor_.local_endpoint().address().to_string() + ":" + std::to_string(port_) +
                " (/pva, /msgpack, /pvws/pv)") {}

    void start(Accepted accepted) override {
        accepted_ = std::move(accepted);
        accept_next();
    }
    void stop() override {
        asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
            boost::system::error_code ignored;
            self->acceptor_.close(ignored);
            self->backoff_.cancel();
        });
    }
    std::string describe() const override { return name_; }
    std::uint64_t accept_backoffs() const override { return backoff_.count(); }
    std::uint16_t bound_port() const override { return port_; }
    void spread_connections(ConnectionExecutor next) override { next_executor_ = std::move(next); }

private:
    void accept_next() {
        detail::accept_each(shared_from_this(), acceptor_, acceptor_.get_executor(), backoff_, name_, next_executor_,
                            [this](tcp::socket socket) {
                                std::make_shared<HttpSession>(std::move(socket), limits_, routes_, accepted_)->start();
                            });
    }

    tcp::acceptor acceptor_;
    detail::AcceptBackoff backoff_;
    TransportLimits limits_;
    std::shared_ptr<const HttpRoutes> routes_;
    std::uint16_t port_;
    std::string name_;
    Accepted accepted_;
    ConnectionExecutor next_executor_;  // set before start()
};

}  // namespace

std::shared_ptr<HttpListener> http_listener(asio::any_io_executor ex, tcp::endpoint endpoint, TransportLimits limits,
                                            HttpRoutes routes) {
    tcp::acceptor acceptor(ex);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    boost::system::error_code ec;
    acceptor.bind(endpoint, ec);
    if (ec)
        throw boost::system::system_error(
            ec, "pvwire: bind HTTP " + endpoint.address().to_string() + ":" + std::to_string(endpoint.port()));
    acceptor.listen();
    return std::make_shared<HttpListenerImpl>(std::move(acceptor), limits, std::move(routes));
}

std::shared_ptr<HttpListener> http_listener(asio::any_io_executor ex, tcp::endpoint endpoint, TransportLimits limits) {
    return http_listener(std::move(ex), endpoint, limits, HttpRoutes{});
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
