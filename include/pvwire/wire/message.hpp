/// @file
/// Message: any pvAccess message, decoded or to be encoded, and the codec entry points.
///
/// decode() turns one whole message (header + body, segments already joined) into a Message;
/// encode() appends the bytes of a Message to an OutBuffer. Neither touches a socket. The
/// per-connection state they need (the peer's type cache, our type registry, the types of
/// open operations) is passed in, normally through a ConnectionCodec.
///
/// Beside them, typed entry points for code that knows which message it sends or expects:
/// encode<Direction::to_client>(GetResponse{...}, out) and decode(header, body, ctx, get_response,
/// diag). They refuse at compile time a message that never travels the stated way (see
/// message_traits.hpp), and skip the variant. Both paths end in the same per-message encoder and
/// decoder, so they write the same bytes.
///
/// Thread safety: none of these functions keeps state; the contexts' caches and tables belong to
/// one connection and must not be shared between threads.
#pragma once

#include <pvwire/wire/header.hpp>
#include <pvwire/wire/messages/channel.hpp>
#include <pvwire/wire/messages/connection.hpp>
#include <pvwire/wire/messages/discovery.hpp>
#include <pvwire/wire/messages/operations.hpp>
#include <pvwire/wire/message_traits.hpp>
#include <pvwire/wire/operation_table.hpp>
#include <pvwire/wire/type_codec.hpp>
#include <pvwire/wire/writer.hpp>

#include <memory>
#include <span>
#include <variant>
#include <vector>

namespace pvwire::wire {

struct Message;

/// Several operation replies in one message (pvAccessCPP client decoder only; nobody sends it).
struct MultipleData {
    std::vector<Message> replies;  ///< the replies, each a whole message
};

/// The body of a Message: one alternative per message kind.
using Body = std::variant<Control, Beacon, ValidationRequest, ValidationResponse, Echo, Search,
                          SearchResponse, AuthNZ, AclChange, CreateChannelRequest,
                          CreateChannelResponse, DestroyChannel, ConnectionValidated, GetRequest,
                          GetResponse, PutRequest, PutResponse, PutGetRequest, PutGetResponse,
                          MonitorRequest, MonitorResponse, ArrayRequest, ArrayResponse,
                          DestroyRequest, ProcessRequest, ProcessResponse, GetFieldRequest,
                          GetFieldResponse, RemoteMessage, MultipleData, RpcRequest, RpcResponse,
                          CancelRequest, OriginTag>;

/// One pvAccess message: the header fields that matter after decoding, and the body.
struct Message {
    std::uint8_t version = protocol_version;  ///< header version byte
    ByteOrder order = host_order();           ///< byte order it was or will be sent in
    bool from_server = false;                 ///< direction flag
    Body body;                                ///< the message proper (its alternative gives the command)

    /// The command byte this message is sent with.
    std::uint8_t command() const noexcept;
    /// A control message (header only).
    bool is_control() const noexcept { return std::holds_alternative<Control>(body); }
};

/// What decoding needs besides the bytes.
struct DecodeContext {
    TypeCache* types = nullptr;            ///< the sender's type cache (null on UDP)
    OperationTable* operations = nullptr;  ///< ioid -> types, shared by both directions
    const Limits* limits = nullptr;        ///< null: defaults
    std::shared_ptr<const void> owner;     ///< keeps `body` alive for zero-copy array views
    TypeTrace* trace = nullptr;            ///< receives the message's type descriptions
};

/// Decodes one whole message. `body` excludes the header. On failure returns false and
/// fills `diag` (offsets count from the start of the header).
bool decode(const Header& header, std::span<const std::byte> body, DecodeContext& ctx,
            Message& out, Diagnostic& diag);

/// What encoding needs besides the message.
struct EncodeContext {
    TypeRegistry* types = nullptr;         ///< ours, for this connection (null: send types in full)
    const EncodeOptions* options = nullptr;  ///< null: defaults
    ByteOrder order = host_order();        ///< typed encode only: a Message carries its own
};

/// Appends the message (header included, segmented if the options say so).
void encode(const Message& msg, OutBuffer& out, EncodeContext ctx = {});

/// Convenience: encode into a fresh contiguous vector.
std::vector<std::byte> encode_to_bytes(const Message& msg, EncodeContext ctx = {});

// ---- typed entry points -----------------------------------------------------------------------

/// The header fields a message struct does not carry.
struct Framing {
    ByteOrder order = host_order();            ///< of the header and body
    std::uint8_t version = protocol_version;   ///< the header's version byte
    bool from_server = false;                  ///< the header's direction flag
};

/// The one encoder and the one decoder of message struct T (wire/impl/message_codec.ipp), under
/// both the typed and the variant entry points: call those instead. decode() trusts that the
/// header announces a T.
template <class T> struct MessageCodec {
    /// Appends `msg`, header included.
    static void encode(const T& msg, OutBuffer& out, const EncodeContext& ctx, const Framing& framing);
    /// Decodes `body` into `out`; false and `diag` on failure.
    static bool decode(const Header& header, std::span<const std::byte> body, DecodeContext& ctx, T& out,
                       Diagnostic& diag);
};

/// True if `header` announces a T: control or not, command byte, direction flag.
template <message_type T> bool header_announces(const Header& header, Diagnostic& diag) {
    using traits = message_traits<T>;
    const auto refuse = [&](errc e, std::size_t offset, std::string detail) {
        diag.code = make_error_code(e);
        diag.offset = offset;
        diag.field = "header";
        diag.detail = std::string(traits::name) + " expected: " + std::move(detail);
        return false;
    };
    if constexpr (std::is_same_v<T, Control>) {
        if (!header.is_control()) return refuse(errc::unexpected_command, 2, "an application message");
    } else {
        if (header.is_control()) return refuse(errc::unexpected_command, 2, "a control message");
        if (header.command != std::uint8_t(traits::command))
            return refuse(errc::unexpected_command, 3, "command " + std::string(command_name(header.command)));
    }
    const Direction way = header.from_server() ? Direction::to_client : Direction::to_server;
    if (!travels(traits::direction, way))
        return refuse(errc::bad_direction, 2, header.from_server() ? "sent by a server" : "sent by a client");
    return true;
}

/// Appends `msg` (header included) as sent the way D says: Direction::to_server from a client,
/// Direction::to_client from a server. The byte order is ctx.order.
template <Direction D, message_type T> void encode(const T& msg, OutBuffer& out, EncodeContext ctx = {}) {
    static_assert(D != Direction::both,
                  "pvwire: wire::encode<D>(msg): D is the way this message goes, "
                  "Direction::to_server or Direction::to_client");
    static_assert(travels(message_traits<T>::direction, D),
                  "pvwire: wire::encode<D>(msg): this message is never sent that way "
                  "(see message_traits<T>::direction)");
    MessageCodec<T>::encode(msg, out, ctx, Framing{ctx.order, protocol_version, D == Direction::to_client});
}

/// The same for a message that travels one way only (GetRequest, GetResponse, ...).
template <message_type T> void encode(const T& msg, OutBuffer& out, EncodeContext ctx = {}) {
    if constexpr (message_traits<T>::direction == Direction::both)
        static_assert(message_traits<T>::direction != Direction::both,
                      "pvwire: wire::encode(msg): this message travels both ways; say which with "
                      "encode<Direction::to_server> or encode<Direction::to_client>");
    else
        encode<message_traits<T>::direction>(msg, out, ctx);
}

/// Decodes a whole message that must be a T. Besides decode()'s failures: unexpected_command
/// when the header announces another message, bad_direction when it comes the wrong way.
template <message_type T>
bool decode(const Header& header, std::span<const std::byte> body, DecodeContext& ctx, T& out, Diagnostic& diag) {
    return header_announces<T>(header, diag) && MessageCodec<T>::decode(header, body, ctx, out, diag);
}

}  // namespace pvwire::wire

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/wire/impl/message_codec.ipp>
#endif
