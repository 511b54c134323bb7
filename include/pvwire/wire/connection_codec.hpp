/// @file
/// ConnectionCodec: the decoding state of one TCP connection, for both directions: each
/// sender's type cache and segment reassembly, and the shared table of operation types.
/// It turns framed messages (header + body) into Messages; it never touches a socket.
/// One instance per connection; not thread-safe.
#pragma once

#include <pvwire/wire/message.hpp>
#include <pvwire/wire/segment_assembler.hpp>

#include <memory>
#include <span>

namespace pvwire::wire {

/// Decodes the messages of one connection, both directions (see the file's description).
class ConnectionCodec {
public:
    /// What decode() did with a frame.
    enum class Result {
        Message,   ///< `out` holds a decoded message
        Pending,   ///< a segment was stored; the message is not complete yet
        Ignored,   ///< a well-framed message we cannot use (unknown command, reply for an
                   ///< operation we no longer know); `diag` says which. The connection goes on,
                   ///< as PVXS does.
        Error,     ///< `diag` says why; the connection should be dropped
    };

    /// A codec that enforces `limits`.
    explicit ConnectionCodec(const Limits& limits = Limits{})
        : limits_(limits), client_(limits), server_(limits), ops_(limits.max_operations) {}

    /// Decodes one framed message: exactly header + body bytes. `owner`, if given, keeps
    /// `frame` alive so arrays may be viewed instead of copied.
    Result decode(std::span<const std::byte> frame, Message& out, Diagnostic& diag,
                  std::shared_ptr<const void> owner = {}, TypeTrace* trace = nullptr);

    /// A server encodes the INIT replies itself, so its decoder never sees them; it must tell
    /// the codec what it sent so that the client's PUT, PUT_GET and ARRAY data can be decoded
    /// (and forget operations it destroyed). Call it for every message sent.
    void note_sent(const Message& msg);

    /// The receive-side cache of what each peer defined (for tests and dissectors).
    TypeCache& cache_of(bool from_server) noexcept { return from_server ? server_.types : client_.types; }
    /// The types of the open operations, by ioid (shared by both directions).
    OperationTable& operations() noexcept { return ops_; }
    /// The limits in force.
    const Limits& limits() const noexcept { return limits_; }

    /// Length of the frame at the start of `stream` (header + body), or 0 when fewer than 8
    /// bytes are there. Fails (sets diag) on a bad header or a body over the limit.
    static std::size_t frame_length(std::span<const std::byte> stream, const Limits& limits, Diagnostic& diag);

private:
    struct Direction {
        explicit Direction(const Limits& l) : segments(l) {}
        TypeCache types;
        SegmentAssembler segments;
    };
    Limits limits_;
    Direction client_, server_;
    OperationTable ops_;
};

}  // namespace pvwire::wire

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/wire/impl/connection_codec.ipp>
#endif
