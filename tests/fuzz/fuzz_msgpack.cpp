// libFuzzer target: the msgpack codec's decoders (include/pvwire/msgpack/codec.hpp).
//
// Input: byte 0 picks what the rest is (value % 3):
//   0: one value document           -> decode_value
//   1: one type form                -> decode_type
//   2: two bytes little-endian n, then a value document of n bytes, then a partial document
//      merged into it               -> decode_value + decode_partial
// DecodeError on the input is expected; anything else escaping is a finding. What decoded is
// re-encoded to b1, b1 must decode again (no exception) to an equal value/type, and that must
// re-encode to b1 exactly. Any mismatch aborts.
#include <pvwire/msgpack/codec.hpp>

#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

using namespace pvwire;
namespace mp = pvwire::msgpack_codec;

namespace {

[[noreturn]] void fail(const char* what, std::span<const std::byte> a, std::span<const std::byte> b = {}) {
    std::fprintf(stderr, "fuzz_msgpack: %s\n", what);
    auto hex = [](const char* name, std::span<const std::byte> s) {
        std::fprintf(stderr, "%s (%zu bytes):", name, s.size());
        for (std::size_t i = 0; i < s.size() && i < 512; ++i) std::fprintf(stderr, " %02x", unsigned(s[i]));
        std::fprintf(stderr, "\n");
    };
    hex("first", a);
    if (!b.empty()) hex("second", b);
    std::abort();
}

void value_round_trip(const Value& v) {
    if (v) (void)v.to_string();
    const std::vector<std::byte> b1 = mp::encode_value(v);
    Value v2;
    try {
        v2 = mp::decode_value(b1);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        fail("re-encoded value does not decode", b1);
    }
    if (!v.equals(v2)) fail("value changed in the round trip", b1);
    const std::vector<std::byte> b2 = mp::encode_value(v2);
    if (b1 != b2) fail("decode(encode(v)) re-encodes differently", b1, b2);
}

void type_round_trip(const TypePtr& t) {
    (void)to_string(*t);
    const std::vector<std::byte> b1 = mp::encode_type(*t);
    TypePtr t2;
    try {
        t2 = mp::decode_type(b1);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        fail("re-encoded type does not decode", b1);
    }
    if (!same_type(t, t2)) fail("type changed in the round trip", b1);
    const std::vector<std::byte> b2 = mp::encode_type(*t2);
    if (b1 != b2) fail("decode(encode(t)) re-encodes differently", b1, b2);
}

void partial_round_trip(const Value& base, const Value& merged, const BitSet& changed) {
    std::vector<std::byte> b1;
    mp::encode_partial(merged, changed, b1);
    Value again = base.clone();
    BitSet changed2;
    try {
        mp::decode_partial(b1, again, changed2);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        fail("re-encoded partial does not decode", b1);
    }
    if (!again.equals(merged)) fail("partial value changed in the round trip", b1);
    std::vector<std::byte> b2;
    mp::encode_partial(again, changed2, b2);
    if (b1 != b2) fail("decode(encode(partial)) re-encodes differently", b1, b2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
    switch (data[0] % 3) {
    case 0: {
        Value v;
        try {
            v = mp::decode_value(in);
        } catch (const mp::DecodeError&) {
            return 0;
        }
        value_round_trip(v);
        return 0;
    }
    case 1: {
        TypePtr t;
        try {
            t = mp::decode_type(in);
        } catch (const mp::DecodeError&) {
            return 0;
        }
        if (t) type_round_trip(t);
        return 0;
    }
    default: {
        if (in.size() < 2) return 0;
        std::size_t n = std::size_t(in[0]) | (std::size_t(in[1]) << 8);
        const auto rest = in.subspan(2);
        if (n > rest.size()) n = rest.size();
        Value v;
        try {
            v = mp::decode_value(rest.first(n));
        } catch (const mp::DecodeError&) {
            return 0;
        }
        value_round_trip(v);
        if (!v) return 0;
        Value merged = v.clone();
        BitSet changed;
        try {
            mp::decode_partial(rest.subspan(n), merged, changed);
        } catch (const mp::DecodeError&) {
            if (!merged.equals(v)) fail("failed partial decode modified the value", rest);
            return 0;
        }
        partial_round_trip(v, merged, changed);
        return 0;
    }
    }
}
