/// @file
/// StreamTransport: a byte-stream connection (TCP, or an in-memory pipe in tests) that delivers
/// whole pvAccess frames (header + body) upward and writes encoded OutBuffers downward.
///
/// It knows the 8-byte header (to find frame boundaries) and nothing of pvData. Writes are
/// batched: everything queued while a write is in flight leaves in the next single gather
/// write. Both directions are bounded (TransportLimits); a peer that exceeds a bound is
/// disconnected with a logged reason, and nothing else is affected.
///
/// Threading: every handler call runs on the transport's executor (a strand for TCP), one at
/// a time. send() and close() may be called from any thread.
#pragma once

#include <pvwire/net/asio.hpp>
#include <pvwire/net/send_batch.hpp>
#include <pvwire/wire/framing.hpp>
#include <pvwire/wire/out_buffer.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>

namespace pvwire::net {

/// Where one message ends: the length of the first whole frame at the start of `stream`, or 0
/// while fewer than 8 bytes are there; `diag` set for a bad header or a body over `max_body`.
/// Each protocol has its own (wire::frame_length, msgpack_protocol::frame_length).
using FrameLength = std::size_t (*)(std::span<const std::byte> stream, std::size_t max_body, wire::Diagnostic& diag);

struct TransportLimits {
    /// The framing of the protocol spoken (net::limits_for() picks it by protocol).
    FrameLength frame_length = &wire::frame_length;
    /// Largest message body accepted; a header announcing more closes the connection.
    std::size_t max_message_bytes = std::size_t(64) << 20;
    /// Bytes queued for sending; past this the peer is too slow and is disconnected.
    std::size_t max_pending_output = std::size_t(64) << 20;
    /// Initial read buffer size.
    std::size_t read_buffer_bytes = 64 * 1024;
    /// SO_SNDBUF and SO_RCVBUF of TCP connections; 0 leaves the kernel's autotuning. Linux's
    /// autotuned loopback buffers cap a stream of 4 MiB arrays at ~1.6 GB/s on the benchmark
    /// machine; 4 MiB buffers allow ~5 GB/s (the kernel only commits what is queued).
    std::size_t socket_buffer_bytes = std::size_t(4) << 20;
};

/// What the transport itself established about its peer, as opposed to what the peer claims
/// in its handshake: the inputs of the identity access rules see (server::ClientIdentity).
struct PeerFacts {
    /// The peer's IP address from the socket ("10.0.0.5", "::1", IPv4-mapped addresses as
    /// IPv4); "" when the transport has none (UNIX socket, pipe).
    std::string ip;
    /// The peer is on this host by construction (a UNIX domain socket).
    bool local = false;
    /// The bytes are protected by TLS.
    bool tls = false;
    /// TLS with a verified client certificate: its subject's common name (CN) and its issuer's
    /// CN. Both "" without a client certificate.
    std::string cert_subject;
    std::string cert_issuer;
    /// The peer process's user and group ids (SO_PEERCRED on a UNIX socket).
    std::optional<unsigned> uid;
    std::optional<unsigned> gid;
};

class StreamTransport {
public:
    class Handler {
    public:
        virtual ~Handler() = default;
        /// One whole frame, header included. `frame` is valid during the call; `owner` keeps
        /// the memory alive afterwards (hold it to keep zero-copy views of the frame).
        virtual void on_frame(std::span<const std::byte> frame, const std::shared_ptr<const void>& owner) = 0;
        /// The connection is gone (peer closed, error, limit, or close() was called). Called
        /// once; no on_frame follows.
        virtual void on_closed(std::error_code ec, const std::string& reason) = 0;
        /// A write finished and pending_output() went down: senders that hold back while the
        /// peer is slow (monitor updates) may send more. Optional.
        virtual void on_sent() {}
        /// The stream broke the protocol's framing (a bad header, a body over the limit); the
        /// transport closes after this returns unless the handler called close_after_sending()
        /// (to tell the peer why first). Optional.
        virtual void on_framing_error(const std::string& reason) { (void)reason; }
    };

    virtual ~StreamTransport() = default;

    /// Starts reading. The transport keeps only a weak reference to the handler: the owner of
    /// the connection keeps both alive.
    virtual void start(std::weak_ptr<Handler> handler) = 0;
    /// Queues bytes for sending. Returns false if the transport is closed, or if this would
    /// exceed max_pending_output (then the transport closes itself with that reason).
    virtual bool send(wire::OutBuffer&& data) = 0;
    /// Closes the connection; queued output is dropped. on_closed() reports `reason`.
    virtual void close(const std::string& reason) = 0;
    /// Writes what is queued, then closes: a last message (the reason for closing a peer that
    /// broke the protocol) reaches the peer. Frames that arrive meanwhile are not delivered
    /// and later send()s are refused. The default closes at once.
    virtual void close_after_sending(const std::string& reason) { close(reason); }

    virtual bool is_open() const = 0;
    /// Bytes queued and not yet written.
    virtual std::size_t pending_output() const = 0;
    /// "127.0.0.1:5075" style name of the peer, for logs.
    virtual std::string peer_name() const = 0;
    /// What the transport established about the peer (address, TLS, certificate, process
    /// credentials). The default knows nothing.
    virtual PeerFacts peer_facts() const { return {}; }
    virtual asio::any_io_executor executor() const = 0;
};

}  // namespace pvwire::net
