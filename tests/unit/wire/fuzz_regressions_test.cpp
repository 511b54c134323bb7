// Regression tests for bugs found by the libFuzzer targets in tests/fuzz/. Each case holds the
// (minimised) crashing input inline and checks that it is now handled: no exception, no crash,
// a diagnostic where the input is bad.
#include <catch2/catch.hpp>

#include <pvwire/wire/connection_codec.hpp>
#include <pvwire/wire/describe.hpp>
#include <pvwire/wire/type_codec.hpp>
#include <pvwire/wire/value_codec.hpp>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

using namespace pvwire;
using namespace pvwire::wire;

namespace {

std::vector<std::byte> bytes(std::initializer_list<int> v) {
    std::vector<std::byte> out;
    for (int b : v) out.push_back(std::byte(b));
    return out;
}

// Feeds a TCP stream through one ConnectionCodec, frame by frame, as fuzz_decode_message
// does; returns the result of every frame. Stops at the first Error.
std::vector<ConnectionCodec::Result> feed(ConnectionCodec& codec, const std::vector<std::byte>& stream) {
    std::vector<ConnectionCodec::Result> results;
    std::span<const std::byte> rest(stream);
    while (!rest.empty()) {
        Diagnostic diag;
        const std::size_t n = ConnectionCodec::frame_length(rest, codec.limits(), diag);
        if (diag || n == 0 || n > rest.size()) break;
        Message msg;
        const auto r = codec.decode(rest.first(n), msg, diag);
        results.push_back(r);
        if (r == ConnectionCodec::Result::Message) (void)dump(msg);
        else if (r != ConnectionCodec::Result::Pending) CHECK(diag);
        if (r == ConnectionCodec::Result::Error) break;
        rest = rest.subspan(n);
    }
    return results;
}

}  // namespace

// fuzz_decode_message: a PUT_GET INIT reply announcing the null type (0xFF) for both sides,
// then a data reply for that ioid. The decoder built Value(nullptr), which throws ValueError
// out of ConnectionCodec::decode. Now the data reply fails with a diagnostic.
TEST_CASE("fuzz: data reply for an operation whose INIT announced the null type", "[wire][fuzz]") {
    const auto stream = bytes({
        0xca, 0x02, 0x40, 0x0c, 0x0c, 0x00, 0x00, 0x00,  // PUT_GET from server, 12 bytes
        0x52, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // ioid, sub 0xff (INIT), OK, null, null
        0x8b, 0xcc, 0x08, 0xfe,                          //   (trailing bytes)
        0xca, 0x02, 0x40, 0x0c, 0x09, 0x00, 0x00, 0x00,  // PUT_GET from server, 9 bytes
        0x52, 0x7f, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,  // ioid, sub 0 (get-side data), status
        0xfe,                                            //   BitSet size 254 (truncated)
    });
    ConnectionCodec codec;
    std::vector<ConnectionCodec::Result> r;
    REQUIRE_NOTHROW(r = feed(codec, stream));
    REQUIRE(r.size() == 2);
    CHECK(r[0] == ConnectionCodec::Result::Message);
    CHECK(r[1] != ConnectionCodec::Result::Message);
}

TEST_CASE("fuzz: GET and ARRAY data for an operation whose INIT announced the null type", "[wire][fuzz]") {
    for (int cmd : {0x0a, 0x0e}) {
        const auto stream = bytes({
            0xca, 0x02, 0x40, cmd, 0x07, 0x00, 0x00, 0x00,  // INIT reply from server, 7 bytes
            0x01, 0x00, 0x00, 0x00, 0x08, 0xff, 0xff,       // ioid 1, INIT, OK, null type
            0xca, 0x02, 0x40, cmd, 0x07, 0x00, 0x00, 0x00,  // data reply, 7 bytes
            0x01, 0x00, 0x00, 0x00, 0x40, 0xff, 0x00,       // ioid 1, sub 0x40 (GET/get), OK, 0
        });
        ConnectionCodec codec;
        std::vector<ConnectionCodec::Result> r;
        REQUIRE_NOTHROW(r = feed(codec, stream));
        REQUIRE(r.size() == 2);
        CHECK(r[0] == ConnectionCodec::Result::Message);
        CHECK(r[1] != ConnectionCodec::Result::Message);
    }
}
