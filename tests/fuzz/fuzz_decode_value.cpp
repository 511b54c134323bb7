// libFuzzer target: a type description, a full value of it and a partial value of it.
//
// Input: byte 0 bit 0 picks the byte order (set: big-endian); the rest is
//   FieldDesc (with a TypeCache, so 0xFD/0xFE work) | full value | BitSet + selected fields.
// The partial value is decoded into a clone of the full value (monitor deltas merge).
//
// Checks: the text forms do not crash; the parts that decoded re-encode (types in full,
// no registry) to bytes b1 that decode again with a fresh cache to equal values, and those
// re-encode to b1 exactly. Any mismatch aborts.
#include <pvwire/wire/type_codec.hpp>
#include <pvwire/wire/value_codec.hpp>

#include <cstdio>
#include <cstdlib>
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
    return l;
}

[[noreturn]] void fail(const char* what, std::span<const std::byte> a, std::span<const std::byte> b = {}) {
    std::fprintf(stderr, "fuzz_decode_value: %s\n", what);
    auto hex = [](const char* name, std::span<const std::byte> s) {
        std::fprintf(stderr, "%s (%zu bytes):", name, s.size());
        for (std::size_t i = 0; i < s.size() && i < 512; ++i) std::fprintf(stderr, " %02x", unsigned(s[i]));
        std::fprintf(stderr, "\n");
    };
    hex("first", a);
    if (!b.empty()) hex("second", b);
    std::abort();
}

struct Decoded {
    TypePtr type;
    Value full;      // valid when the full value decoded
    Value partial;   // valid when the partial value decoded too
    BitSet changed;
};

// Decodes up to `parts` parts (1 type, 2 + full value, 3 + partial value).
Decoded decode_all(Reader& r, TypeCache& cache, int parts = 3) {
    Decoded d;
    d.type = decode_type(r, &cache);
    if (!r.ok() || !d.type || parts < 2) return d;
    Value v(d.type);
    if (!decode_value(r, v, &cache)) return d;
    d.full = v;
    if (parts < 3) return d;
    Value p = v.clone();
    if (decode_partial(r, p, d.changed, &cache)) d.partial = p;
    return d;
}

std::vector<std::byte> encode_all(const Decoded& d, ByteOrder order) {
    OutBuffer out;
    Writer w(out, order);
    encode_type(w, d.type, nullptr);
    if (d.full) encode_value(w, d.full, nullptr);
    if (d.partial) encode_partial(w, d.partial, d.changed, nullptr);
    return out.flatten();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    static const Limits limits = small_limits();
    const ByteOrder order = (data[0] & 1) ? ByteOrder::Big : ByteOrder::Little;
    // A private copy owns the bytes, so arrays may be zero-copy views of it.
    auto input = std::make_shared<std::vector<std::byte>>(reinterpret_cast<const std::byte*>(data) + 1,
                                                          reinterpret_cast<const std::byte*>(data) + size);
    TypeCache cache;
    Reader r(*input, order, limits);
    r.set_owner(input);
    const Decoded d = decode_all(r, cache);
    if (!d.type) return 0;
    (void)to_string(*d.type);
    (void)d.type->type_name();
    if (d.full) (void)d.full.to_string();
    if (d.partial) (void)d.partial.to_string();

    const std::vector<std::byte> b1 = encode_all(d, order);
    TypeCache cache2;
    Reader r2(b1, order, limits);
    const Decoded d2 = decode_all(r2, cache2, d.partial ? 3 : d.full ? 2 : 1);
    if (!r2.ok()) {
        std::fprintf(stderr, "%s\n", r2.diagnostic().message().c_str());
        fail("re-encoded bytes do not decode", b1);
    }
    if (r2.remaining() != 0) fail("re-encoded bytes decode with bytes left over", b1);
    if (!same_type(d.type, d2.type)) fail("type changed in the round trip", b1);
    if (bool(d.full) != bool(d2.full) || bool(d.partial) != bool(d2.partial))
        fail("parts lost in the round trip", b1);
    if (d.full && !d.full.equals(d2.full)) fail("full value changed in the round trip", b1);
    if (d.partial && !d.partial.equals(d2.partial)) fail("partial value changed in the round trip", b1);
    const std::vector<std::byte> b2 = encode_all(d2, order);
    if (b1 != b2) fail("decode(encode(v)) re-encodes differently", b1, b2);
    return 0;
}
