/// @file
/// Message: any pvAccess message, decoded or to be encoded, and the codec entry points.
///
/// decode() turns one whole message (header + body, segments already joined) into a Message;
/// encode() appends the bytes of a Message to an OutBuffer. Neither touches a socket. The
/// per-connection state they need (the peer's type cache, our type registry, the types of
/// open operations) is passed in, normally through a ConnectionCodec.
#pragma once

#include <pvwire/wire/header.hpp>
#include <pvwire/wire/messages/channel.hpp>
#include <pvwire/wire/messages/connection.hpp>
#include <pvwire/wire/messages/discovery.hpp>
#include <pvwire/wire/messages/operations.hpp>
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

// Splits a datagram or buffer holding several messages (UDP) and decodes each; stops at the
// first error.
/// What encoding needs besides the message.
struct EncodeContext {
    TypeRegistry* types = nullptr;         ///< ours, for this connection (null: send types in full)
    const EncodeOptions* options = nullptr;  ///< null: defaults
};

/// Appends the message (header included, segmented if the options say so).
void encode(const Message& msg, OutBuffer& out, EncodeContext ctx = {});

/// Convenience: encode into a fresh contiguous vector.
std::vector<std::byte> encode_to_bytes(const Message& msg, EncodeContext ctx = {});

}  // namespace pvwire::wire

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/wire/impl/message_codec.ipp>
#endif
