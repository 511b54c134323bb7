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
#include <string>
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

// ---- type descriptions that stand for far more than their bytes ---------------------------

namespace {

void put_u16(std::vector<std::byte>& b, std::uint16_t v) {
    b.push_back(std::byte(v & 0xFF));
    b.push_back(std::byte(v >> 8));
}
void put_size(std::vector<std::byte>& b, std::uint32_t n) {  // Size, always the 5-byte form
    b.push_back(std::byte(0xFE));
    for (int i = 0; i < 4; ++i) b.push_back(std::byte((n >> (8 * i)) & 0xFF));
}
void append(std::vector<std::byte>& b, std::initializer_list<int> v) {
    for (int x : v) b.push_back(std::byte(x));
}
// A member name (Size + text), distinct per i: "<c><i>".
void name(std::vector<std::byte>& b, char c, int i) {
    const std::string s = c + std::to_string(i);
    b.push_back(std::byte(s.size()));
    for (char ch : s) b.push_back(std::byte(ch));
}

}  // namespace

// fuzz_decode_value (out-of-memory, > 2 GB from a 10 KB input): cached structures K1..K13,
// each K(k) = structure { K(k-1) x; K(k-1) y } defined with 0xFD and referenced with 0xFE, so
// K13 has 16383 fields; then 2000 members referencing K13: 3 bytes each, 32 million fields in
// the flattened type (and as many slots in a Value of it). Now the type is refused once it
// passes Limits::max_fields.
TEST_CASE("fuzz: cache references cannot build a structure beyond max_fields", "[wire][fuzz]") {
    constexpr int K = 13, M = 2000;
    std::vector<std::byte> b;
    append(b, {0x80, 0x00});  // structure, id ""
    put_size(b, K + M);
    name(b, 'a', 1);
    append(b, {0xFD, 0x01, 0x00, 0x80, 0x00, 0x02, 0x01, 'x', 0x43, 0x01, 'y', 0x43});
    for (int k = 2; k <= K; ++k) {
        name(b, 'a', k);
        append(b, {0xFD});
        put_u16(b, std::uint16_t(k));
        append(b, {0x80, 0x00, 0x02, 0x01, 'x', 0xFE});
        put_u16(b, std::uint16_t(k - 1));
        append(b, {0x01, 'y', 0xFE});
        put_u16(b, std::uint16_t(k - 1));
    }
    std::size_t cut = 0;  // where member K + 10 ends
    for (int i = 0; i < M; ++i) {
        name(b, 'c', i);
        append(b, {0xFE});
        put_u16(b, K);
        if (i == 9) cut = b.size();
    }
    Limits lim;  // defaults: max_fields 2^20
    TypeCache cache;
    Reader r(b, ByteOrder::Little, lim);
    const TypePtr t = decode_type(r, &cache);
    CHECK_FALSE(t);
    REQUIRE_FALSE(r.ok());
    CHECK(r.diagnostic().code == make_error_code(errc::too_large));

    // the same description with few enough references decodes
    std::vector<std::byte> small(b.begin(), b.begin() + std::ptrdiff_t(cut));
    small[3] = std::byte(K + 10);  // the member count (little-endian u32 after 0xFE)
    small[4] = std::byte{0};
    TypeCache cache2;
    Reader r2(small, ByteOrder::Little, lim);
    const TypePtr t2 = decode_type(r2, &cache2);
    REQUIRE(r2.ok());
    REQUIRE(t2);
    CHECK(t2->offset_count() > 10 * 16383u);
}

// fuzz_decode_value (out-of-memory, > 2 GB from a 70 KB input), no cache involved: a
// structure array whose element structure has 10000 empty-structure members (fields that take
// no bytes), then 20000 elements of one byte each (the non-null flag): 200 million fields.
// Now the value decoder stops once the fields it creates pass Limits::max_fields plus one per
// input byte.
TEST_CASE("fuzz: array elements whose fields take no bytes cannot exhaust memory", "[wire][fuzz]") {
    constexpr std::uint32_t F = 10000, N = 20000;
    std::vector<std::byte> b;
    append(b, {0x88, 0x80, 0x00});  // structure[] of structure ""
    put_size(b, F);
    for (std::uint32_t i = 0; i < F; ++i) {
        name(b, 'e', int(i));
        append(b, {0x80, 0x00, 0x00});
    }
    const std::size_t type_bytes = b.size();
    put_size(b, N);
    b.insert(b.end(), N, std::byte{1});

    Reader r(b, ByteOrder::Little);
    TypeCache cache;
    const TypePtr t = decode_type(r, &cache);
    REQUIRE(r.ok());
    REQUIRE(r.pos() == type_bytes);
    Value v(t);
    CHECK_FALSE(decode_value(r, v, &cache));
    CHECK(r.diagnostic().code == make_error_code(errc::too_large));

    // a few elements are fine
    std::vector<std::byte> few(b.begin(), b.begin() + std::ptrdiff_t(type_bytes));
    put_size(few, 3);
    append(few, {0x01, 0x00, 0x01});
    Reader r2(few, ByteOrder::Little);
    TypeCache cache2;
    Value v2(decode_type(r2, &cache2));
    REQUIRE(decode_value(r2, v2, &cache2));
    CHECK(v2.array_size() == 3);
}

// fuzz_decode_value (round trip: the re-encoded type did not decode; with 3000 levels a stack
// overflow): cached unions U1 = union { double x }, U(k) = union { U(k-1) x }, each defined at
// depth 1 of one structure and referring to the previous one, nest 300 levels although
// max_depth is 20; written out in full the same type is refused. Now a cache reference is
// checked for the depth it adds.
TEST_CASE("fuzz: cache references cannot nest beyond max_depth", "[wire][fuzz]") {
    auto chain = [](int n) {
        std::vector<std::byte> b;
        append(b, {0x80, 0x00});
        put_size(b, std::uint32_t(n));
        name(b, 'm', 1);
        append(b, {0xFD, 0x01, 0x00, 0x81, 0x00, 0x01, 0x01, 'x', 0x43});
        for (int k = 2; k <= n; ++k) {
            name(b, 'm', k);
            append(b, {0xFD});
            put_u16(b, std::uint16_t(k));
            append(b, {0x81, 0x00, 0x01, 0x01, 'x', 0xFE});
            put_u16(b, std::uint16_t(k - 1));
        }
        return b;
    };
    {
        const auto b = chain(300);
        TypeCache cache;
        Reader r(b, ByteOrder::Little);
        CHECK_FALSE(decode_type(r, &cache));
        CHECK(r.diagnostic().code == make_error_code(errc::nesting_too_deep));
    }
    {
        // 19 levels of unions inside the structure: depth 20, the limit, decodes; and it
        // still decodes when re-encoded in full (no cache)
        const auto b = chain(19);
        TypeCache cache;
        Reader r(b, ByteOrder::Little);
        const TypePtr t = decode_type(r, &cache);
        REQUIRE(r.ok());
        REQUIRE(t);
        CHECK(t->depth() == 20);
        OutBuffer out;
        Writer w(out, ByteOrder::Little);
        encode_type(w, t, nullptr);
        const auto full = out.flatten();
        Reader r2(full, ByteOrder::Little);
        const TypePtr t2 = decode_type(r2, nullptr);
        REQUIRE(r2.ok());
        CHECK(same_type(t, t2));
    }
    {
        const auto b = chain(20);  // depth 21
        TypeCache cache;
        Reader r(b, ByteOrder::Little);
        CHECK_FALSE(decode_type(r, &cache));
        CHECK(r.diagnostic().code == make_error_code(errc::nesting_too_deep));
    }
}

// fuzz_decode_value (stack overflow, a 7 KB input of 0xFD bytes): 0xFD <key> may be followed by
// another 0xFD <key>, and the decoder recursed for each at the same depth, so the depth limit
// never stopped it. Now a definition must be followed by a plain description.
TEST_CASE("fuzz: a cache definition of a cache definition is refused", "[wire][fuzz]") {
    {
        std::vector<std::byte> b;
        for (int i = 0; i < 100000; ++i) append(b, {0xFD, 0xFD, 0xFD});  // key 0xFDFD, again and again
        append(b, {0x43});
        TypeCache cache;
        Reader r(b, ByteOrder::Little);
        CHECK_FALSE(decode_type(r, &cache));
        CHECK(r.diagnostic().code == make_error_code(errc::bad_type_code));
        CHECK(cache.size() == 0);
    }
    {
        const auto b = bytes({0xFD, 0x01, 0x00, 0xFE, 0x01, 0x00});  // define 1 as a reference to 1
        TypeCache cache;
        Reader r(b, ByteOrder::Little);
        CHECK_FALSE(decode_type(r, &cache));
        CHECK(r.diagnostic().code == make_error_code(errc::bad_type_code));
    }
    {
        const auto b = bytes({0xFD, 0x01, 0x00, 0x80, 0x00, 0x01, 0x01, 'x', 0x43});  // still fine
        TypeCache cache;
        Reader r(b, ByteOrder::Little);
        const TypePtr t = decode_type(r, &cache);
        REQUIRE(r.ok());
        CHECK(t);
        CHECK(cache.size() == 1);
    }
}
