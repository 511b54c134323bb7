// MessageCodec: one connection's protocol, pvAccess or msgpack, as the bytes of wire::Messages
// both ways. The client's links and the server's connections hold one and run the same code
// whichever protocol the connection speaks; only this seam knows there are two.
// One instance per connection; not thread-safe.
#pragma once

#include <pvwire/net/server_address.hpp>
#include <pvwire/protocol/server_handshake.hpp>
#include <pvwire/wire/connection_codec.hpp>

#include <boost/container/small_vector.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>

namespace pvwire::protocol::detail {

// The encodings of one posted value, shared by every subscriber that receives that post: its
// data part ("BitSet + data") is encoded once per selection of fields and byte order, by the
// first connection that sends it. It lives as long as the post's queued updates, so it can
// never describe another value; any connection's thread may use it.
class SharedEncoding {
public:
    // The bytes of `bits` of `value` in `order`, encoded now if no subscriber did yet. Valid
    // while this object lives. `value` must be the post's value, the same for every call.
    const wire::OutBuffer& find_or_encode(const Value& value, const BitSet& bits, wire::ByteOrder order);

private:
    struct Entry {
        BitSet bits;
        wire::ByteOrder order;
        std::unique_ptr<const wire::OutBuffer> bytes;  // stays where it is when entries grow
    };
    std::mutex mu_;  // this post's alone: taken by the connections sending it
    boost::container::small_vector<Entry, 1> entries_;  // usually one: every field, host order
};

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
    // A monitor update. `share`: the encodings of the post the value belongs to, shared by all
    // its subscribers (null: the value is this subscriber's alone).
    virtual void encode_update(std::uint32_t ioid, const Value& value, const BitSet& changed, const BitSet& overrun,
                               SharedEncoding* share, wire::OutBuffer& out) = 0;
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
