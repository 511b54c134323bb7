#include "message_codec.hpp"

#include <pvwire/msgpack/protocol.hpp>
#include <pvwire/wire/value_codec.hpp>

#include <array>
#include <mutex>

namespace pvwire::protocol::detail {

namespace {

// Monitor fan-out: subscribers that would receive identical bytes for one update (same value,
// same selected fields, same byte order) share one encoding of its data part. Keyed by the
// update's storage, which every subscriber's queue shares until the next post.
class FanoutCache {
public:
    std::shared_ptr<const wire::OutBuffer> find_or_encode(const Value& v, const BitSet& bits,
                                                          wire::ByteOrder order) {
        std::lock_guard lock(mu_);
        for (auto& e : entries_) {
            // the address first (cheap); the weak pointer tells a live store from a new one
            // allocated where an expired one was
            if (e.raw != v.store() || e.order != order || !(e.bits == bits))
                continue;
            if (auto s = e.store.lock(); s && s.get() == v.store())
                return e.bytes;
        }
        // large arrays stay references to the value's storage (written in place)
        auto out = std::make_shared<wire::OutBuffer>();
        wire::Writer w(*out, order);
        wire::encode_partial(w, v, bits, nullptr);
        std::shared_ptr<const wire::OutBuffer> bytes = std::move(out);
        // Encodings that reference arrays are cheap to redo and would keep those arrays
        // alive while cached: only small, self-contained ones are kept.
        if (bytes->external_count() != 0 || bytes->size() > max_cached_bytes)
            return bytes;
        entries_[next_] = Entry{v.store(), v.store_ptr(), bits, order, bytes};
        next_ = (next_ + 1) % entries_.size();
        return bytes;
    }

private:
    static constexpr std::size_t max_cached_bytes = 64 * 1024;
    struct Entry {
        const void* raw = nullptr;
        std::weak_ptr<pvwire::detail::ValueStore> store;
        BitSet bits;
        wire::ByteOrder order = wire::ByteOrder::Little;
        std::shared_ptr<const wire::OutBuffer> bytes;
    };
    std::mutex mu_;
    std::array<Entry, 64> entries_{};
    std::size_t next_ = 0;
};

FanoutCache& fanout_cache() {
    static FanoutCache c;
    return c;
}

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

    // Header, ioid, sub-command, then "BitSet + data" (shared between subscribers of a
    // broadcast update; a demand-driven one is this subscriber's alone and is encoded in
    // place), then the overrun BitSet.
    void encode_update(std::uint32_t ioid, const Value& value, const BitSet& changed, const BitSet& overrun,
                       bool shared, wire::OutBuffer& out) override {
        wire::Writer w(out, order_);
        w.begin_message(std::uint8_t(wire::Command::Monitor), wire::flag::from_server);
        w.u32(ioid);
        w.u8(0);
        if (shared)
            out.append(*fanout_cache().find_or_encode(value, changed, order_));
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
    void encode_update(std::uint32_t ioid, const Value& value, const BitSet& changed, const BitSet& overrun, bool,
                       wire::OutBuffer& out) override {
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
