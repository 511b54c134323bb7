// MessageCodec: one connection's protocol, pvAccess or msgpack, as the bytes of wire::Messages
// both ways. The client's links and the server's connections hold one and run the same code
// whichever protocol the connection speaks; only this seam knows there are two.
// One instance per connection; not thread-safe.
#pragma once

#include <pvwire/net/server_address.hpp>
#include <pvwire/protocol/server_handshake.hpp>
#include <pvwire/wire/connection_codec.hpp>

#include <memory>
#include <optional>
#include <span>
#include <string_view>

namespace pvwire::protocol::detail {

class MessageCodec {
public:
    using Result = wire::ConnectionCodec::Result;

    virtual ~MessageCodec() = default;

    // One whole frame, as ConnectionCodec::decode (Ignored: a message for an operation this
    // connection does not know).
    virtual Result decode(std::span<const std::byte> frame, wire::Message& out, wire::Diagnostic& diag,
                          const std::shared_ptr<const void>& owner) = 0;
    // Appends `msg`, remembering what decoding the peer's answers needs.
    virtual void encode(const wire::Message& msg, wire::OutBuffer& out) = 0;
    // A monitor update. `shared`: the value every subscriber of the PV gets, whose data part
    // may be encoded once for all of them.
    virtual void encode_update(std::uint32_t ioid, const Value& value, const BitSet& changed, const BitSet& overrun,
                               bool shared, wire::OutBuffer& out) = 0;
    // The words a server sends before closing a connection for a protocol error (pvAccess
    // has no such message: nothing).
    virtual void encode_goodbye(std::string_view reason, wire::OutBuffer& out) = 0;

    // The request that decode() last reported as Ignored, when it can be answered with an
    // error: its pvAccess command, ioid and sub-command.
    struct Request {
        std::uint8_t command = 0;
        std::uint32_t ioid = 0;
        std::uint8_t subcmd = 0;
    };
    virtual std::optional<Request> ignored_request(std::span<const std::byte> frame) const = 0;

    // What the handshakes write their messages with.
    Encode handshake_encoder() {
        return [this](const wire::Message& m, wire::OutBuffer& out) { encode(m, out); };
    }
};

// `server_side`: the codec of a server's connection (it decodes requests).
std::unique_ptr<MessageCodec> make_message_codec(net::Protocol protocol, bool server_side, const wire::Limits& limits);

}  // namespace pvwire::protocol::detail
