#include "message_codec.hpp"

#include <pvwire/msgpack/protocol.hpp>
#include <pvwire/wire/value_codec.hpp>

namespace pvwire::protocol::detail {

const wire::OutBuffer& SharedEncoding::find_or_encode(const Value& value, const BitSet& bits, wire::ByteOrder order) {
    std::lock_guard lock(mu_);
    for (const auto& e : entries_)
        if (e.order == order && e.bits == bits) return *e.bytes;
    // large arrays stay references to the value's storage (written in place), which the
    // post's updates keep alive as long as this
    auto out = std::make_unique<wire::OutBuffer>();
    wire::Writer w(*out, order);
    wire::encode_partial(w, value, bits, nullptr);
    entries_.push_back(Entry{bits, order, std::move(out)});
    return *entries_.back().bytes;
}

namespace {

class PvaCodec final : public MessageCodec {
public:
    PvaCodec(bool server_side, const wire::Limits& limits) : server_side_(server_side), codec_(limits) {}

    Result decode(std::span<const std::byte> frame, wire::Message& out, wire::Diagnostic& diag,
                  const std::shared_ptr<const void>& owner) override {
        return codec_.decode(frame, out, diag, owner);
    }

    void encode(const wire::Message& msg, wire::OutBuffer& out) override {
        // a server encodes the INIT replies itself, so its decoder must be told their types
        if (server_side_) codec_.note_sent(msg);
        wire::encode(msg, out);
    }

    // Header, ioid, sub-command, then "BitSet + data" (encoded once per post for all its
    // subscribers; a value of this subscriber's alone is encoded in place), then the overrun
    // BitSet.
    void encode_update(std::uint32_t ioid, const Value& value, const BitSet& changed, const BitSet& overrun,
                       SharedEncoding* share, wire::OutBuffer& out) override {
        wire::Writer w(out, order_);
        w.begin_message(std::uint8_t(wire::Command::Monitor), wire::flag::from_server);
        w.u32(ioid);
        w.u8(0);
        if (share)
            out.append(share->find_or_encode(value, changed, order_));
        else
            wire::encode_partial(w, value, changed, nullptr);
        w.bitset(overrun);
        w.end_message();
    }

    void encode_goodbye(std::string_view, wire::OutBuffer&) override {}

    // An execute request whose data needs the type of an operation we do not know: sid,
    // ioid and sub-command follow the header.
    std::optional<Request> ignored_request(std::span<const std::byte> frame) const override {
        if (frame.size() < wire::header_size + 9) return std::nullopt;
        const auto h = wire::Header::parse(frame);
        if (!h || h->segment() != wire::Segment::None) return std::nullopt;
        const auto ioid = wire::endian::load<std::uint32_t>(frame.data() + wire::header_size + 4, h->order());
        return Request{h->command, ioid, std::uint8_t(frame[wire::header_size + 8])};
    }

private:
    bool server_side_;
    wire::ByteOrder order_ = wire::host_order();
    wire::ConnectionCodec codec_;
};

class MsgpackCodec final : public MessageCodec {
public:
    MsgpackCodec(bool server_side, const wire::Limits& limits)
        : codec_(server_side ? msgpack_protocol::Side::server : msgpack_protocol::Side::client, limits) {}

    Result decode(std::span<const std::byte> frame, wire::Message& out, wire::Diagnostic& diag,
                  const std::shared_ptr<const void>& owner) override {
        return codec_.decode(frame, out, diag, owner);
    }
    void encode(const wire::Message& msg, wire::OutBuffer& out) override { codec_.encode(msg, out); }
    void encode_update(std::uint32_t ioid, const Value& value, const BitSet& changed, const BitSet& overrun,
                       SharedEncoding*, wire::OutBuffer& out) override {
        msgpack_protocol::Codec::encode_update(ioid, value, changed, overrun, out);
    }
    void encode_goodbye(std::string_view reason, wire::OutBuffer& out) override {
        msgpack_protocol::Codec::encode_error(reason, out);
    }
    std::optional<Request> ignored_request(std::span<const std::byte>) const override {
        const auto& u = codec_.unknown();
        return Request{u.command, u.ioid, u.subcmd};
    }

private:
    msgpack_protocol::Codec codec_;
};

}  // namespace

std::unique_ptr<MessageCodec> make_message_codec(net::Protocol protocol, bool server_side, const wire::Limits& limits) {
    if (protocol == net::Protocol::msgpack) return std::make_unique<MsgpackCodec>(server_side, limits);
    return std::make_unique<PvaCodec>(server_side, limits);
}

}  // namespace pvwire::protocol::detail
