// libFuzzer target: the input is the TCP byte stream of one pvAccess connection.
//
// Input layout:
//   * first byte 0xCA (every seed: a golden vector message starts with the magic): the whole
//     input is one stream, fed frame by frame as it is (the direction comes from each header);
//   * any other first byte is a mode byte and is dropped. Its bit 0 clear: the rest is one
//     stream as above. Bit 0 set: the rest is split in two streams, the client's (the first
//     `len` bytes, len = next two bytes little-endian) and the server's (the remainder); their
//     frames are fed alternately (client, server, client, ...) with the direction flag forced
//     to the stream's side, so segments of one direction interleave with the other's messages.
//
// Every decoded message is dumped (text forms) and checked for round-trip stability:
// b1 = encode(m); m2 = decode(b1) with a fresh type cache and a copy of the operation table as
// it was before m; b2 = encode(m2); b1 must equal b2. Any mismatch aborts.
#include <pvwire/wire/connection_codec.hpp>
#include <pvwire/wire/describe.hpp>
#include <pvwire/wire/message.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

using namespace pvwire;
using namespace pvwire::wire;

namespace {

Limits small_limits() {
    Limits l;
    l.max_message_bytes = std::size_t(1) << 20;
    l.max_cached_fields = std::size_t(1) << 16;
    l.max_fields = std::size_t(1) << 16;
    l.max_operations = 64;
    return l;
}

[[noreturn]] void fail(const char* what, std::span<const std::byte> a, std::span<const std::byte> b = {}) {
    std::fprintf(stderr, "fuzz_decode_message: %s\n", what);
    auto hex = [](const char* name, std::span<const std::byte> s) {
        std::fprintf(stderr, "%s (%zu bytes):", name, s.size());
        for (std::size_t i = 0; i < s.size() && i < 512; ++i) std::fprintf(stderr, " %02x", unsigned(s[i]));
        std::fprintf(stderr, "\n");
    };
    hex("first", a);
    if (!b.empty()) hex("second", b);
    std::abort();
}

// decode(encode(m)) must encode to the same bytes as encode(m).
void check_round_trip(const Message& m, const OperationTable& ops_before, const Limits& limits) {
    const std::vector<std::byte> b1 = encode_to_bytes(m);
    Diagnostic diag;
    auto h = Header::parse(b1, &diag);
    if (!h) fail("re-encoded header does not parse", b1);
    if (b1.size() != header_size + h->body_size()) fail("re-encoded frame length mismatch", b1);
    // A message re-encoded with every cached type spelled out may outgrow the limit.
    if (h->body_size() > limits.max_message_bytes) return;

    TypeCache types;
    OperationTable ops = ops_before;
    DecodeContext ctx;
    ctx.types = &types;
    ctx.operations = &ops;
    ctx.limits = &limits;
    Message m2;
    if (!decode(*h, std::span<const std::byte>(b1).subspan(header_size), ctx, m2, diag)) {
        std::fprintf(stderr, "%s\n", diag.message().c_str());
        fail("re-encoded message does not decode", b1);
    }
    const std::vector<std::byte> b2 = encode_to_bytes(m2);
    if (b1 != b2) fail("decode(encode(m)) re-encodes differently", b1, b2);
}

struct Stream {
    std::vector<std::byte> bytes;
    std::size_t pos = 0;
    int force_dir = -1;  // -1: keep the header's direction; 0 client; 1 server
    bool done = false;
};

// Feeds the next frame of `s`; returns false when the connection must stop.
bool feed_one(ConnectionCodec& codec, Stream& s, const Limits& limits) {
    if (s.done) return true;
    std::span<const std::byte> rest = std::span<const std::byte>(s.bytes).subspan(s.pos);
    Diagnostic diag;
    const std::size_t n = ConnectionCodec::frame_length(rest, limits, diag);
    if (diag) return false;
    if (n == 0 || n > rest.size()) {  // incomplete frame: the stream ends here
        s.done = true;
        return true;
    }
    // The frame gets its own allocation, which the decoded message may view (zero-copy).
    auto frame = std::make_shared<std::vector<std::byte>>(rest.begin(), rest.begin() + std::ptrdiff_t(n));
    s.pos += n;
    if (s.force_dir >= 0) {
        auto& f = (*frame)[2];
        f = s.force_dir ? (f | std::byte(flag::from_server)) : (f & ~std::byte(flag::from_server));
    }
    const OperationTable ops_before = codec.operations();
    Message msg;
    const auto r = codec.decode(*frame, msg, diag, frame);
    if (r == ConnectionCodec::Result::Error) {
        if (!diag) fail("decode failed without a diagnostic", *frame);
        (void)diag.message();
        return false;
    }
    // Pending: a segment was stored. Ignored: well framed but unusable (unknown command, data
    // for an operation we do not know); the connection goes on.
    if (r == ConnectionCodec::Result::Pending) return true;
    if (r == ConnectionCodec::Result::Ignored) {
        if (!diag) fail("message ignored without a diagnostic", *frame);
        (void)diag.message();
        return true;
    }
    (void)summary(msg);
    (void)describe_fields(msg);
    (void)kind_name(msg);
    (void)dump(msg);
    check_round_trip(msg, ops_before, limits);
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static const Limits limits = small_limits();
    const auto* in = reinterpret_cast<const std::byte*>(data);

    Stream a, b;
    bool split = false;
    if (data[0] == magic) {
        a.bytes.assign(in, in + size);
    } else {
        split = (data[0] & 1) != 0;
        if (!split) {
            a.bytes.assign(in + 1, in + size);
        } else {
            if (size < 3) return 0;
            std::size_t len = std::size_t(data[1]) | (std::size_t(data[2]) << 8);
            const std::byte* rest = in + 3;
            const std::size_t rest_n = size - 3;
            if (len > rest_n) len = rest_n;
            a.bytes.assign(rest, rest + len);
            b.bytes.assign(rest + len, rest + rest_n);
            a.force_dir = 0;
            b.force_dir = 1;
        }
    }

    ConnectionCodec codec(limits);
    if (!split) {
        while (!a.done)
            if (!feed_one(codec, a, limits)) break;
        return 0;
    }
    while (!a.done || !b.done) {
        if (!feed_one(codec, a, limits)) break;
        if (!feed_one(codec, b, limits)) break;
    }
    return 0;
}
