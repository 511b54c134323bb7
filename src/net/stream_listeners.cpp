// The TCP and UNIX socket listeners, and the TCP and UNIX connectors.
#include <pvwire/net/connector.hpp>
#include <pvwire/net/tcp_transport.hpp>
#include <pvwire/msgpack/protocol.hpp>

#include "accept_backoff.hpp"
#include "connect_tcp.hpp"

#include <cstdio>

namespace pvwire::net {
namespace {

using unix_socket = asio::local::stream_protocol;

// Accepts connections, each on its own strand, and hands them over as transports.
template <class Protocol_> class AcceptorListener final : public Listener,
                                                          public std::enable_shared_from_this<AcceptorListener<Protocol_>> {
public:
    using Acceptor = typename Protocol_::acceptor;

    AcceptorListener(Acceptor acceptor, TransportLimits limits, Protocol protocol, std::string name,
                     std::string socket_file = {})
        : acceptor_(std::move(acceptor)), backoff_(acceptor_.get_executor()), limits_(limits_for(protocol, limits)),
          protocol_(protocol), name_(std::move(name)), socket_file_(std::move(socket_file)) {}
    ~AcceptorListener() override { remove_socket_file(); }

    void start(Accepted accepted) override {
        accepted_ = std::move(accepted);
        accept_next();
    }

    void stop() override {
        asio::dispatch(acceptor_.get_executor(), [self = this->shared_from_this()] {
            boost::system::error_code ignored;
            self->acceptor_.close(ignored);
            self->backoff_.cancel();
            self->remove_socket_file();
        });
    }

    std::string describe() const override { return name_; }
    std::uint64_t accept_backoffs() const override { return backoff_.count(); }

private:
    void accept_next() {
        acceptor_.async_accept(asio::make_strand(acceptor_.get_executor()),
                               [self = this->shared_from_this()](boost::system::error_code ec,
                                                                 typename Protocol_::socket socket) {
                                   if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
                                   if (self->backoff_.pause_if_short(ec, self->name_, [self](boost::system::error_code e) {
                                           if (!e && self->acceptor_.is_open()) self->accept_next();
                                       }))
                                       return;
                                   if (!ec) {
                                       self->backoff_.accepted(self->name_);
                                       self->accepted_(make_stream_transport(std::move(socket), self->limits_),
                                                       self->protocol_);
                                   }
                                   self->accept_next();
                               });
    }

    void remove_socket_file() {
        if (socket_file_.empty()) return;
        std::remove(socket_file_.c_str());
        socket_file_.clear();
    }

    Acceptor acceptor_;
    detail::AcceptBackoff backoff_;
    TransportLimits limits_;
    Protocol protocol_;
    std::string name_;
    std::string socket_file_;  // UNIX: removed on stop
    Accepted accepted_;
};

}  // namespace

std::shared_ptr<Listener> tcp_listener(tcp::acceptor acceptor, TransportLimits limits, Protocol protocol) {
    boost::system::error_code ec;
    const auto ep = acceptor.local_endpoint(ec);
    const std::string name = std::string(protocol_name(protocol)) + " tcp " + ep.address().to_string() + ":" +
                             std::to_string(ep.port());
    return std::make_shared<AcceptorListener<tcp>>(std::move(acceptor), limits, protocol, name);
}

std::shared_ptr<Listener> unix_listener(asio::any_io_executor ex, std::string path, TransportLimits limits,
                                        Protocol protocol) {
    std::remove(path.c_str());  // a stale socket file of an earlier run would refuse the bind
    unix_socket::acceptor acceptor(ex);
    unix_socket::endpoint ep(path);
    acceptor.open(ep.protocol());
    boost::system::error_code ec;
    acceptor.bind(ep, ec);
    if (ec) throw boost::system::system_error(ec, "pvwire: bind UNIX socket " + path);
    acceptor.listen();
    const std::string name = std::string(protocol_name(protocol)) + " unix " + path;
    return std::make_shared<AcceptorListener<unix_socket>>(std::move(acceptor), limits, protocol, name, path);
}

TransportLimits limits_for(Protocol protocol, TransportLimits limits) {
    limits.frame_length = protocol == Protocol::msgpack ? &msgpack_protocol::frame_length : &wire::frame_length;
    return limits;
}

Connector tcp_connector() {
    return [](const ServerAddress& address, asio::any_io_executor ex, const TransportLimits& limits,
              ConnectDone done) {
        detail::connect_tcp(address, std::move(ex),
                            [limits, done = std::move(done)](boost::system::error_code ec, tcp::socket s, std::string text) {
                                if (ec) return done(ec, nullptr, std::move(text));
                                done({}, TcpTransport::create(std::move(s), limits), {});
                            });
    };
}

Connector unix_connector() {
    return [](const ServerAddress& address, asio::any_io_executor ex, const TransportLimits& limits,
              ConnectDone done) {
        auto socket = std::make_shared<unix_socket::socket>(ex);
        socket->async_connect(unix_socket::endpoint(address.path),
                              [socket, limits, path = address.path, done = std::move(done)](boost::system::error_code ec) {
                                  if (ec) return done(ec, nullptr, "connect to unix:" + path + " failed: " + ec.message());
                                  done({}, UnixTransport::create(std::move(*socket), limits), {});
                              });
    };
}

Connector builtin_connector(std::string_view transport) {
    if (transport == "tcp") return tcp_connector();
    if (transport == "unix") return unix_connector();
    if (transport == "ws") return websocket_connector();
    return {};
}

}  // namespace pvwire::net
