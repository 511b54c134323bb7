/// @file
/// WebSocketTransport: basic_stream_transport over a Beast WebSocket stream whose handshake is
/// done. Every batch of whole messages the transport writes is one binary WebSocket message,
/// so a WebSocket message always carries one or more whole pvAccess (or msgpack) messages,
/// never a fragment of one (docs/transports.md). Reading takes the payload of the incoming
/// WebSocket messages as one byte stream, framed as over TCP.
///
/// Include this header only where WebSockets are used: it brings in Beast.
#pragma once

#include <pvwire/net/basic_stream_transport.hpp>

#include <boost/beast/websocket.hpp>

namespace pvwire::net {

template <class NextLayer> struct stream_traits<boost::beast::websocket::stream<NextLayer>> {
    using Stream = boost::beast::websocket::stream<NextLayer>;
    using next_traits = stream_traits<NextLayer>;

    /// The stream's own executor, which must be a strand (the HTTP listener and the connector
    /// make their sockets on one): Beast 1.74 cannot complete its operations on a strand of
    /// an any_io_executor (its saved handlers need work-guard members that type lacks).
    using executor_type = typename Stream::executor_type;
    static executor_type make_executor(Stream& stream) { return stream.get_executor(); }

    static void configure(Stream& stream, const TransportLimits& limits) {
        next_traits::configure(stream.next_layer(), limits);
        stream.binary(true);
        // One batch, one message: Beast would otherwise cut messages into 4 KiB frames.
        stream.auto_fragment(false);
        // The framer bounds every message it reads (max_message_bytes); a WebSocket message
        // may carry many, so no second, smaller bound here.
        stream.read_message_max(0);
        // The client masks what it sends through this buffer: larger, fewer passes.
        stream.write_buffer_bytes(64 * 1024);
    }

    static std::string peer_name(const Stream& stream) {
        return "ws:" + next_traits::peer_name(stream.next_layer());
    }

    static PeerFacts peer_facts(Stream& stream) { return next_traits::peer_facts(stream.next_layer()); }

    template <class Handler> static void async_read_some(Stream& stream, asio::mutable_buffer into, Handler&& h) {
        stream.async_read_some(into, std::forward<Handler>(h));
    }

    template <class Handler>
    static void async_write(Stream& stream, const std::vector<asio::const_buffer>& buffers, Handler&& h) {
        stream.async_write(buffers, std::forward<Handler>(h));
    }

    static void expect(Stream&, std::size_t, int&) {}

    static void shutdown(Stream& stream) { next_traits::shutdown(stream.next_layer()); }
};

using WebSocketTransport = basic_stream_transport<boost::beast::websocket::stream<tcp::socket>>;

}  // namespace pvwire::net
