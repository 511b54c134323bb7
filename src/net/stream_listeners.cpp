// The TCP and UNIX socket listeners, and the TCP and UNIX connectors.
#include <pvwire/net/connector.hpp>
#include <pvwire/net/tcp_transport.hpp>
#include <pvwire/msgpack/protocol.hpp>

#include "accept_backoff.hpp"
#include "connect_tcp.hpp"
#include "refused_connections.hpp"

#include <cstdio>
#include <cstring>
#include <optional>
#include <type_traits>

#include <sys/socket.h>

namespace pvwire::net {
namespace {

using unix_socket = asio::local::stream_protocol;

// The io_context that runs `ex`, if it is one's plain executor.
asio::io_context* io_context_of(const asio::any_io_executor& ex) {
    auto* plain = ex.target<asio::io_context::executor_type>();
    return plain ? &plain->context() : nullptr;
}

// An accepted socket on an io_context's plain executor gets its strand over that executor's own
// type, not the type-erased any_io_executor of the socket: each handler posted to it (an update
// drain woken by a PV's thread, a flush) then needs no any_io_executor converted, allocated and
// freed on the other thread (~1,000 instructions per delivered update of a fixed-rate fan-out).
template <class Socket> struct io_context_strand_traits : stream_traits<Socket> {
    using executor_type = asio::strand<asio::io_context::executor_type>;
    static executor_type make_executor(Socket& socket) {
        return asio::make_strand(io_context_of(socket.get_executor())->get_executor());
    }
};

// Accepts connections in batches and hands them over as transports, each on its own strand.
// TCP peers that the screen refuses never get a transport: their connections are held, then
// reset (RefusedConnections).
template <class Protocol_> class AcceptorListener final : public Listener,
                                                          public std::enable_shared_from_this<AcceptorListener<Protocol_>> {
public:
    using Acceptor = typename Protocol_::acceptor;

    AcceptorListener(Acceptor acceptor, TransportLimits limits, Protocol protocol, std::string name,
                     std::string socket_file = {}, AddressScreen screen = {})
        : acceptor_(std::move(acceptor)), strand_(asio::make_strand(acceptor_.get_executor())), backoff_(strand_),
          refused_(strand_), limits_(limits_for(protocol, limits)), protocol_(protocol), name_(std::move(name)),
          socket_file_(std::move(socket_file)), screen_(std::move(screen)) {}
    ~AcceptorListener() override { remove_socket_file(); }

    void start(Accepted accepted) override {
        accepted_ = std::move(accepted);
        socket_protocol_.emplace(acceptor_.local_endpoint().protocol());
        acceptor_.non_blocking(true);  // accept_batch() takes what is queued, never waits
        wait_for_connections();
    }

    void stop() override {
        asio::dispatch(strand_, [self = this->shared_from_this()] {
            boost::system::error_code ignored;
            self->acceptor_.close(ignored);
            self->backoff_.cancel();
            self->refused_.cancel();
            self->remove_socket_file();
        });
    }

    std::string describe() const override { return name_; }
    std::uint64_t accept_backoffs() const override { return backoff_.count(); }
    void spread_connections(ConnectionExecutor next) override { next_executor_ = std::move(next); }

private:
    // Connections taken off the kernel's queue before the executor's other handlers get a turn:
    // a flood of connections delays the served ones by one batch at most.
    static constexpr int batch_size = 8;

    void wait_for_connections() {
        acceptor_.async_wait(Acceptor::wait_read,
                             asio::bind_executor(strand_, [self = this->shared_from_this()](boost::system::error_code ec) {
                                 if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
                                 self->accept_batch();
                             }));
    }

    void accept_batch() {
        for (int i = 0; i < batch_size; ++i) {
            sockaddr_storage from{};
            socklen_t from_len = sizeof from;
            const int fd = ::accept4(acceptor_.native_handle(), reinterpret_cast<sockaddr*>(&from), &from_len,
                                     SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return accept_failed(boost::system::error_code(errno, boost::system::system_category()));
            backoff_.accepted(name_);
            if (screened_out(from, from_len)) {
                if (refused_.hold(fd)) continue;
                detail::RefusedConnections::reset(fd);  // full: this one at once
                return refused_.when_room([self = this->shared_from_this()] {
                    if (self->acceptor_.is_open()) self->wait_for_connections();
                });
            }
            hand_over(fd);
        }
        asio::post(strand_, [self = this->shared_from_this()] {
            if (self->acceptor_.is_open()) self->accept_batch();
        });
    }

    void accept_failed(const boost::system::error_code& ec) {
        if (backoff_.pause_if_short(ec, name_, [self = this->shared_from_this()](boost::system::error_code e) {
                if (!e && self->acceptor_.is_open()) self->wait_for_connections();
            }))
            return;
        // EAGAIN: the queue is empty. Anything else (a peer gone before its accept) was about
        // that one connection: wait for the next.
        wait_for_connections();
    }

    // Whether the screen refuses the TCP peer at `from` (UNIX peers have no address).
    bool screened_out(const sockaddr_storage& from, socklen_t from_len) const {
        if constexpr (std::is_same_v<Protocol_, tcp>) {
            if (!screen_) return false;
            tcp::endpoint peer;
            std::memcpy(peer.data(), &from, std::min<std::size_t>(from_len, peer.capacity()));
            return !screen_(peer.address());
        } else {
            return false;
        }
    }

    void hand_over(int fd) {
        // the transport runs the socket on a strand of its own: a strand here would be a second
        // queue for every handler
        typename Protocol_::socket socket(detail::connection_executor(next_executor_, acceptor_.get_executor()));
        boost::system::error_code ec;
        socket.assign(*socket_protocol_, fd, ec);
        if (ec) {
            ::close(fd);
            return;
        }
        using Socket = typename Protocol_::socket;
        if (io_context_of(socket.get_executor()))
            accepted_(basic_stream_transport<Socket, io_context_strand_traits<Socket>>::create(std::move(socket), limits_),
                      protocol_);
        else  // a user's executor of another kind: a strand of it
            accepted_(make_stream_transport(std::move(socket), limits_), protocol_);
    }

    void remove_socket_file() {
        if (socket_file_.empty()) return;
        std::remove(socket_file_.c_str());
        socket_file_.clear();
    }

    Acceptor acceptor_;
    asio::strand<asio::any_io_executor> strand_;  // every handler of this listener
    detail::AcceptBackoff backoff_;
    detail::RefusedConnections refused_;
    TransportLimits limits_;
    Protocol protocol_;
    std::string name_;
    std::string socket_file_;  // UNIX: removed on stop
    AddressScreen screen_;
    ConnectionExecutor next_executor_;  // set before start()
    std::optional<Protocol_> socket_protocol_;  // the acceptor's (IPv4 or IPv6 for TCP), set by start()
    Accepted accepted_;
};

}  // namespace

std::shared_ptr<Listener> tcp_listener(tcp::acceptor acceptor, TransportLimits limits, Protocol protocol,
                                       AddressScreen screen) {
    boost::system::error_code ec;
    const auto ep = acceptor.local_endpoint(ec);
    const std::string name = std::string(protocol_name(protocol)) + " tcp " + ep.address().to_string() + ":" +
                             std::to_string(ep.port());
    return std::make_shared<AcceptorListener<tcp>>(std::move(acceptor), limits, protocol, name, std::string{},
                                                   std::move(screen));
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

Connector tcp_connector(std::optional<asio::ip::address> local) {
    return [local](const ServerAddress& address, asio::any_io_executor ex, const TransportLimits& limits,
                   ConnectDone done) {
        detail::connect_tcp(
            address, std::move(ex),
            [limits, done = std::move(done)](boost::system::error_code ec, tcp::socket s, std::string text) {
                if (ec) return done(ec, nullptr, std::move(text));
                done({}, TcpTransport::create(std::move(s), limits), {});
            },
            local);
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
