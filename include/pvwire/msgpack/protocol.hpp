/// @file
/// The msgpack protocol: pvwire's second message set, with the channel and operation
/// semantics of pvAccess, for peers that would rather not write a pvData codec (browsers,
/// scripts). The specification is docs/msgpack-protocol.md; in short:
///
///   frame    8-byte header ("MP", version 1, pad count, body length uint32 little-endian),
///            then the body: one msgpack array [kind, ...], then the padding (0..7 bytes), so
///            that every frame is a multiple of 8 bytes long
///   values   the msgpack schema of docs/msgpack.md (codec.hpp); numeric arrays of 2-, 4- and
///            8-byte elements as an ext whose elements start 8-byte aligned in the body, so a
///            receiver can view them in place
///   types    sent once per operation, in its INIT reply; data messages then carry values only
///
/// Codec translates between these frames and wire::Message, the message model pvwire's client
/// and server already run on, so the same client operations and the same server front-end
/// serve both protocols. It never touches a socket.
#pragma once

#include <pvwire/wire/connection_codec.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace pvwire::msgpack_protocol {

inline constexpr std::size_t header_size = 8;
inline constexpr std::uint8_t version = 1;

/// The first element of every message. Requests and their replies share a kind.
enum class Kind : std::uint8_t {
    hello = 0,  ///< S->C the offer, C->S the choice (connection validation)
    ready = 1,  ///< S->C the connection is validated (or not: status)
    echo = 2,  ///< either way; answered with the same payload
    open = 3,  ///< create a channel
    close = 4,  ///< destroy a channel (C->S), or the server dropped it (S->C)
    info = 5,  ///< the type of a channel's PV or of one of its fields (GET_FIELD)
    init = 6,  ///< create an operation on a channel
    get = 7,  ///< the current value (GET; PUT: the put side; PUT_GET: the get side)
    put = 8,
    put_get = 9,
    get_put = 10,  ///< PUT_GET: the current put side
    start = 11,  ///< MONITOR
    stop = 12,
    ack = 13,  ///< MONITOR flow control: the client took n more updates
    update = 14,  ///< S->C a monitor update
    finish = 15,  ///< S->C a monitor ended (status)
    array_get = 16,
    array_put = 17,
    length = 18,
    set_length = 19,
    process = 20,
    rpc = 21,
    destroy = 22,  ///< C->S the operation is no longer wanted (no reply)
    cancel = 23,  ///< C->S drop the running execution's reply (no reply)
    message = 24,  ///< S->C a note about an operation (severity, text)
    error = 25,  ///< S->C the connection is being closed: why
};
inline constexpr std::uint8_t kind_count = 26;
std::string_view kind_name(Kind k) noexcept;

/// Length of the frame at the start of `stream` (header + body), or 0 when fewer than 8
/// bytes are there or the header is bad (then `diag` says why). A body over `max_body` is an
/// error before any of it is read. Fits net::TransportLimits::frame_length.
std::size_t frame_length(std::span<const std::byte> stream, std::size_t max_body, wire::Diagnostic& diag);

/// Which end of a connection a Codec serves: it decodes the other end's messages.
enum class Side { client, server };

class Codec {
public:
    using Result = wire::ConnectionCodec::Result;

    explicit Codec(Side side, const wire::Limits& limits = {});

    /// One whole frame (header included). `owner` keeps it alive so that aligned arrays can be
    /// viewed instead of copied. Error: a frame that breaks the protocol (the diagnostic says
    /// what and where; the connection should be closed). Ignored: a well-formed request or
    /// reply for an operation this connection does not know (see unknown()).
    Result decode(std::span<const std::byte> frame, wire::Message& out, wire::Diagnostic& diag,
                  const std::shared_ptr<const void>& owner = {});

    /// Appends `msg` as one frame or more (CREATE_CHANNEL: one per channel; a MONITOR request
    /// that acknowledges and starts: two); messages the protocol does not carry (searches,
    /// beacons, control) append nothing. Remembers what decoding the replies needs. Throws
    /// ValueError when a value breaks its own type; `out` then holds a partial frame.
    void encode(const wire::Message& msg, wire::OutBuffer& out);

    /// A monitor update: [update, ioid, partial value, overrun offsets].
    static void encode_update(std::uint32_t ioid, const Value& value, const BitSet& changed, const BitSet& overrun,
                              wire::OutBuffer& out);
    /// [error, text]: sent just before the server closes a connection for a protocol error.
    static void encode_error(std::string_view text, wire::OutBuffer& out);

    /// The request decode() last reported as Ignored: the pvAccess command it stands for, its
    /// ioid and sub-command, so that the server can answer it with an error.
    struct Unknown {
        std::uint8_t command = 0;
        std::uint32_t ioid = 0;
        std::uint8_t subcmd = 0;
    };
    const Unknown& unknown() const noexcept { return unknown_; }

    wire::OperationTable& operations() noexcept { return ops_; }

private:
    Side side_;
    wire::Limits limits_;
    wire::OperationTable ops_;
    Unknown unknown_;
};

}  ///< namespace pvwire::msgpack_protocol

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/msgpack/impl/protocol.ipp>
#endif
