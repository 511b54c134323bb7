// libFuzzer target: msgpack_protocol::Codec::decode and frame_length
// (include/pvwire/msgpack/protocol.hpp, docs/msgpack-protocol.md), as either end of a connection.
//
// Input: byte 0 is a mode byte.
//   bit 0   which side decodes: 0 the server (the frames are requests), 1 the client (replies)
//   bit 1   each frame is decoded from a buffer 4 bytes off 8-byte alignment (arrays are then
//           copied) instead of an aligned one (arrays viewed in place)
// The rest is the byte stream of the connection, cut into frames with frame_length as the
// transports do; each frame is decoded until one is an Error (the connection would close).
// The codec starts with one operation of every kind initialised
// (tests/support/msgpack_protocol_session.hpp), so data messages for ioids 1..7 are decoded
// down to their values. Seeds: tests/fuzz/seeds/msgpack_protocol/.
//
// Every decoded message is re-encoded by a codec of the sending side (b1), b1 must decode
// again with the operation table as it was, and that must re-encode to b1 exactly. Any
// failure (including ValueError from encoding what the decoder accepted) aborts.
#include "support/msgpack_protocol_session.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

using namespace pvwire;
using namespace pvwire::test::msgpack_session;

namespace {

wire::Limits small_limits() {
    wire::Limits l;
    l.max_message_bytes = std::size_t(1) << 20;
    l.max_operations = 64;
    return l;
}

[[noreturn]] void fail(const char* what, std::span<const std::byte> a, std::span<const std::byte> b = {}) {
    std::fprintf(stderr, "fuzz_msgpack_protocol: %s\n", what);
    auto hex = [](const char* name, std::span<const std::byte> s) {
        std::fprintf(stderr, "%s (%zu bytes):", name, s.size());
        for (std::size_t i = 0; i < s.size() && i < 512; ++i) std::fprintf(stderr, " %02x", unsigned(s[i]));
        std::fprintf(stderr, "\n");
    };
    hex("first", a);
    if (!b.empty()) hex("second", b);
    std::abort();
}

// `m` as the other side would send it: all its frames, contiguous.
std::vector<std::byte> encode_as_sender(Side decoder, const wire::Message& m, std::span<const std::byte> frame) {
    Codec sender(decoder == Side::server ? Side::client : Side::server);
    wire::OutBuffer out;
    try {
        sender.encode(m, out);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        fail("a decoded message does not encode", frame);
    }
    return out.flatten();
}

// decode(encode(m)) with the operations as they were before m encodes to the same bytes.
void check_round_trip(Side side, const wire::Message& m, const wire::OperationTable& ops_before,
                      std::span<const std::byte> frame) {
    const std::vector<std::byte> b1 = encode_as_sender(side, m, frame);
    Codec again(side, small_limits());
    again.operations() = ops_before;
    std::vector<std::byte> b2;
    std::span<const std::byte> rest(b1);
    while (!rest.empty()) {
        wire::Diagnostic diag;
        const std::size_t n = msgpack_protocol::frame_length(rest, std::size_t(1) << 30, diag);
        if (diag || n == 0 || n > rest.size()) fail("a re-encoded message is not whole frames", b1);
        if (n % 8 != 0) fail("a re-encoded frame is not a multiple of 8 bytes", b1);
        wire::Message m2;
        if (again.decode(rest.first(n), m2, diag) != Codec::Result::Message) {
            std::fprintf(stderr, "%s\n", diag.message().c_str());
            fail("a re-encoded message does not decode", b1);
        }
        const auto b = encode_as_sender(side, m2, b1);
        b2.insert(b2.end(), b.begin(), b.end());
        rest = rest.subspan(n);
    }
    if (b1 != b2) fail("decode(encode(m)) encodes differently", b1, b2);
}

// Decodes the frame at the start of `rest`; returns its length, or 0 when the stream ends.
std::size_t feed_one(Codec& codec, Side side, std::span<const std::byte> rest, std::size_t shift) {
    wire::Diagnostic diag;
    const std::size_t n = msgpack_protocol::frame_length(rest, small_limits().max_message_bytes, diag);
    if (diag) {
        if (diag.message().empty()) fail("a bad header without a diagnostic", rest.first(8));
        return 0;
    }
    if (n == 0) return 0;
    // A frame cut short must be refused by decode too, not read past its end.
    const std::size_t have = std::min(n, rest.size());
    const FrameCopy copy = copy_frame(rest.first(have), shift);
    const wire::OperationTable ops_before = codec.operations();
    wire::Message m;
    const auto result = codec.decode(copy.bytes, m, diag, copy.owner);
    if (have < n && result != Codec::Result::Error) fail("a truncated frame decoded", copy.bytes);
    switch (result) {
    case Codec::Result::Error:
        if (!diag || diag.message().empty()) fail("an Error without a diagnostic", copy.bytes);
        return 0;
    case Codec::Result::Ignored:
        if (!diag) fail("Ignored without a diagnostic", copy.bytes);
        (void)codec.unknown();
        return n;
    case Codec::Result::Pending: fail("Pending from a codec that has no segments", copy.bytes);
    case Codec::Result::Message: break;
    }
    check_round_trip(side, m, ops_before, copy.bytes);
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const Side side = (data[0] & 1) == decoded_by_client ? Side::client : Side::server;
    const std::size_t shift = data[0] & 2 ? 4 : 0;
    Codec codec(side, small_limits());
    side == Side::server ? teach_server(codec) : teach_client(codec);

    std::span<const std::byte> rest(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
    while (!rest.empty()) {
        const std::size_t n = feed_one(codec, side, rest, shift);
        if (n == 0) break;
        rest = rest.subspan(n);
    }
    return 0;
}
