/// @file
/// basic_stream_transport<Stream>: a StreamTransport over any Asio stream: a TCP socket, a UNIX
/// domain socket, an ssl::stream, a Beast WebSocket stream (websocket_transport.hpp), or a
/// stream of your own. Header-only; the framing, write batching, limits and zero-copy receive
/// buffers it shares with every other transport are compiled into the library
/// (detail::FramedStream).
///
/// What differs between streams is in stream_traits<Stream>:
/// @code{.unparsed}
///   executor_type, make_executor(stream)  where the transport runs: a strand of the stream's
///                                   executor
///   configure(stream, limits)      socket options once connected (TCP_NODELAY, SO_SNDBUF,
///                                   SO_RCVBUF); applied to the lowest layer when it is a socket
///   peer_name(stream)              "127.0.0.1:5075", "unix:/run/pv.sock", for logs
///   peer_facts(stream)             what the socket says of the peer: its IP address, or for a
///                                   UNIX socket that it is local and its SO_PEERCRED ids
///   async_read_some(stream, b, h)  reads at least one byte
///   async_write(stream, bs, h)     writes the whole gather list bs (one batch of whole messages)
///   write_now(stream, bs)          writes what the stream takes at once, without waiting (plain
///                                   TCP and UNIX sockets; 0 for others): a batch taken whole
///                                   needs no completion handler
///   expect(stream, more, state)    the frame being read still needs `more` bytes (TCP only:
///                                   SO_RCVLOWAT, so a large frame costs a few wake-ups)
///   shutdown(stream)               cancels pending operations and closes
/// @endcode
/// Specialise it (deriving from basic_stream_traits<Stream>), or pass a Traits class, for a
/// stream that needs something else.
///
/// Threading: the transport runs on a strand of the stream's executor; handlers are called
/// there, one at a time. All public member functions may be called from any thread.
/// Lifetime: pending operations keep the transport alive; close() ends them.
#pragma once

#include <pvwire/net/asio.hpp>
#include <pvwire/net/detail/framed_stream.hpp>
#include <pvwire/net/stream_transport.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace pvwire::net {

namespace detail {

/// The socket under layered streams (ssl::stream, websocket::stream): what next_layer() leads to.
template <class S> decltype(auto) lowest_layer_of(S& s) {
    if constexpr (requires { s.next_layer(); })
        return lowest_layer_of(s.next_layer());
    else
        return (s);
}

template <class S> using lowest_layer_t = std::remove_reference_t<decltype(lowest_layer_of(std::declval<S&>()))>;

template <class S> inline constexpr bool is_tcp_socket = std::is_same_v<S, tcp::socket>;
template <class S>
inline constexpr bool is_unix_socket = std::is_same_v<S, asio::local::stream_protocol::socket>;

/// "host:port" for IP sockets, "unix:PATH" for UNIX ones ("unix:" alone for an unnamed peer).
template <class Socket> std::string socket_peer_name(const Socket& socket) {
    boost::system::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (ec) return "(unconnected)";
    if constexpr (is_unix_socket<Socket>)
        return "unix:" + ep.path();
    else if (ep.address().is_v6())
        return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
    else
        return ep.address().to_string() + ":" + std::to_string(ep.port());
}

/// The peer's IP address and, for a UNIX socket, its process credentials (SO_PEERCRED).
template <class Socket> PeerFacts socket_peer_facts(Socket& socket) {
    PeerFacts facts;
    if constexpr (is_unix_socket<Socket>) {
        facts.local = true;
        ucred cred{};
        socklen_t len = sizeof cred;
        if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
            facts.uid = cred.uid;
            facts.gid = cred.gid;
        }
    } else {
        boost::system::error_code ec;
        auto ep = socket.remote_endpoint(ec);
        if (ec) return facts;
        auto address = ep.address();
        if (address.is_v6() && address.to_v6().is_v4_mapped())
            address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
        facts.ip = address.to_string();
    }
    return facts;
}

/// Asio's transfer_all hands at most 64 KiB to each write_some: a 4 MiB array took ~60 system
/// calls and as many writability wake-ups, where plain TCP sends it in one or two.
struct transfer_all_uncapped {
    std::size_t operator()(const boost::system::error_code& ec, std::size_t) const {
        return ec ? 0 : std::size_t(1) << 30;
    }
};

}  // namespace detail

/// What every stream does; stream_traits<Stream> is this unless specialised (net/tls.hpp adds
/// the certificate names of a TLS stream's peer). Include the specialisation's header wherever
/// a transport over that stream is made.
template <class Stream> struct basic_stream_traits {
    using lowest_layer = detail::lowest_layer_t<Stream>;
    static constexpr bool has_socket = detail::is_tcp_socket<lowest_layer> || detail::is_unix_socket<lowest_layer>;

    using executor_type = asio::strand<typename Stream::executor_type>;
    static executor_type make_executor(Stream& stream) { return asio::make_strand(stream.get_executor()); }

    static void configure(Stream& stream, const TransportLimits& limits) {
        if constexpr (has_socket) {
            auto& socket = detail::lowest_layer_of(stream);
            boost::system::error_code ignored;
            if constexpr (detail::is_tcp_socket<lowest_layer>) socket.set_option(tcp::no_delay(true), ignored);
            if (limits.socket_buffer_bytes > 0) {
                const int bytes = int(std::min<std::size_t>(limits.socket_buffer_bytes, 1u << 30));
                socket.set_option(asio::socket_base::send_buffer_size(bytes), ignored);
                socket.set_option(asio::socket_base::receive_buffer_size(bytes), ignored);
            }
        }
    }

    static std::string peer_name(const Stream& stream) {
        if constexpr (has_socket)
            return detail::socket_peer_name(detail::lowest_layer_of(const_cast<Stream&>(stream)));
        else
            return "stream";
    }

    static PeerFacts peer_facts(Stream& stream) {
        if constexpr (has_socket)
            return detail::socket_peer_facts(detail::lowest_layer_of(stream));
        else
            return {};
    }

    template <class Handler> static void async_read_some(Stream& stream, asio::mutable_buffer into, Handler&& h) {
        stream.async_read_some(into, std::forward<Handler>(h));
    }

    template <class Handler>
    static void async_write(Stream& stream, const std::vector<asio::const_buffer>& buffers, Handler&& h) {
        asio::async_write(stream, buffers, detail::transfer_all_uncapped{}, std::forward<Handler>(h));
    }

    /// What a plain TCP or UNIX socket takes at once (sendmsg without waiting), so that a
    /// batch that fits its send buffer needs no completion handler; 0 for layered streams,
    /// whose bytes are not the socket's. An error is left to the asynchronous write, which
    /// meets it again and reports it.
    static std::size_t write_now(Stream& stream, const std::vector<asio::const_buffer>& buffers) {
        if constexpr (has_socket && std::is_same_v<Stream, lowest_layer>) {
            constexpr std::size_t max_pieces = 64;  // per call, as Asio's own writes
            std::size_t total = 0;
            for (std::size_t first = 0; first < buffers.size();) {
                iovec pieces[max_pieces];
                std::size_t count = 0, want = 0;
                for (; count < max_pieces && first + count < buffers.size(); ++count) {
                    const auto& b = buffers[first + count];
                    pieces[count] = {const_cast<void*>(b.data()), b.size()};
                    want += b.size();
                }
                msghdr message{};
                message.msg_iov = pieces;
                message.msg_iovlen = count;
                const ssize_t n = ::sendmsg(stream.native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n <= 0) break;
                total += std::size_t(n);
                if (std::size_t(n) < want) break;
                first += count;
            }
            return total;
        } else {
            (void)stream, (void)buffers;
            return 0;
        }
    }

    /// Large frames on plain TCP: the read completes once most of the rest is there, not per
    /// 64 KiB segment (4 MiB monitors on the benchmark VM: 2.2 GB/s reading whatever arrived,
    /// 3.2 GB/s waiting for up to 4 MiB). Never more than the frame still needs, which the
    /// peer must send; Linux caps it at half the receive buffer and wakes the reader anyway
    /// when the receive window closes, so the wait always ends. Small frames keep one byte.
    /// Not for layered streams (their records do not map to frame bytes) nor UNIX sockets
    /// (whose poll() ignores the mark).
    static void expect(Stream& stream, std::size_t more, int& low_water) {
        if constexpr (std::is_same_v<Stream, tcp::socket>) {
            constexpr std::size_t batch_from = 256 * 1024, max_low_water = 4096 * 1024;
            const int want = more >= batch_from ? int(std::min(more, max_low_water)) : 1;
            if (want == low_water) return;
            boost::system::error_code ec;
            stream.set_option(asio::socket_base::receive_low_watermark(want), ec);
            low_water = ec ? 1 : want;
        } else {
            (void)stream, (void)more, (void)low_water;
        }
    }

    static void shutdown(Stream& stream) {
        auto& lowest = detail::lowest_layer_of(stream);
        boost::system::error_code ignored;
        if constexpr (has_socket) {
            lowest.cancel(ignored);
            lowest.shutdown(asio::socket_base::shutdown_both, ignored);
        }
        lowest.close(ignored);
    }
};

template <class Stream> struct stream_traits : basic_stream_traits<Stream> {};

template <class Stream, class Traits = stream_traits<Stream>>
class basic_stream_transport final : public StreamTransport,
                                     public std::enable_shared_from_this<basic_stream_transport<Stream, Traits>>,
                                     private detail::FramedStream::Io {
    struct Private {};

public:
    using stream_type = Stream;

    /// Takes over a connected stream (any handshake, TLS or WebSocket, already done).
    static std::shared_ptr<basic_stream_transport> create(Stream stream, TransportLimits limits = {}) {
        Traits::configure(stream, limits);
        return std::make_shared<basic_stream_transport>(Private{}, std::move(stream), limits);
    }

    basic_stream_transport(Private, Stream stream, const TransportLimits& limits)
        : strand_(Traits::make_executor(stream)),
          stream_(std::move(stream)),
          core_(*this, strand_, limits, Traits::peer_name(stream_)),
          facts_(Traits::peer_facts(stream_)) {}

    void start(std::weak_ptr<Handler> handler) override { core_.start(std::move(handler)); }
    bool send(wire::OutBuffer&& data) override { return core_.send(std::move(data)); }
    void close(const std::string& reason) override { core_.close({}, reason); }
    void close_after_sending(const std::string& reason) override { core_.close_after_sending(reason); }
    bool is_open() const override { return core_.is_open(); }
    std::size_t pending_output() const override { return core_.pending_output(); }
    std::string peer_name() const override { return core_.peer_name(); }
    PeerFacts peer_facts() const override { return facts_; }
    asio::any_io_executor executor() const override { return strand_; }

    /// The stream, for options and credentials (e.g. SO_PEERCRED, the TLS peer certificate).
    /// Use it on the transport's executor only; never read or write through it.
    Stream& stream() noexcept { return stream_; }

private:
    std::shared_ptr<void> keep_alive() override { return this->shared_from_this(); }

    void read_some(std::span<std::byte> into) override {
        Traits::async_read_some(stream_, asio::buffer(into.data(), into.size()),
                                asio::bind_executor(strand_, [self = this->shared_from_this(), this](
                                                                 const boost::system::error_code& ec, std::size_t n) {
                                    core_.read_done(ec, n);
                                }));
    }

    void expect(std::size_t more) override { Traits::expect(stream_, more, low_water_); }

    void write(const std::vector<asio::const_buffer>& buffers) override {
        Traits::async_write(stream_, buffers,
                            asio::bind_executor(strand_, [self = this->shared_from_this(), this](
                                                             const boost::system::error_code& ec, std::size_t n) {
                                core_.write_done(ec, n);
                            }));
    }

    std::size_t write_now(const std::vector<asio::const_buffer>& buffers) override {
        if constexpr (requires { Traits::write_now(stream_, buffers); })
            return Traits::write_now(stream_, buffers);
        else
            return 0;  // traits of a stream that cannot (WebSocket's own): every write waits
    }

    void shutdown() override { Traits::shutdown(stream_); }

    void post_flush() override {
        asio::post(strand_, [self = this->shared_from_this(), this] { core_.flush_queued(); });
    }

    bool on_strand() const override {
        if constexpr (requires { strand_.running_in_this_thread(); })
            return strand_.running_in_this_thread();
        else
            return false;
    }

    typename Traits::executor_type strand_;
    Stream stream_;
    int low_water_ = 1;  ///< SO_RCVLOWAT as last set (plain TCP)
    detail::FramedStream core_;
    PeerFacts facts_;  ///< taken once, when the stream is handed over
};

/// A transport over `stream`, with the stream type deduced.
template <class Stream>
std::shared_ptr<basic_stream_transport<Stream>> make_stream_transport(Stream stream, TransportLimits limits = {}) {
    return basic_stream_transport<Stream>::create(std::move(stream), limits);
}

}  // namespace pvwire::net
