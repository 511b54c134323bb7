// Property tests: random type trees and values survive the pva codec in both byte orders,
// with and without the type cache, as full and as partial values.
#include <catch2/catch.hpp>

#include "../../support/random_value.hpp"

#include <pvwire/wire/connection_codec.hpp>
#include <pvwire/wire/value_codec.hpp>

using namespace pvwire;
using namespace pvwire::wire;

namespace {

struct Setup {
    ByteOrder order;
    bool cache;
};

const Setup setups[] = {{ByteOrder::Little, false}, {ByteOrder::Big, false},
                        {ByteOrder::Little, true},  {ByteOrder::Big, true}};

}  // namespace

TEST_CASE("random types and full values round-trip in both byte orders, with and without the cache") {
    for (const auto& setup : setups) {
        TypeRegistry reg;
        TypeCache cache;
        for (std::uint32_t seed = 0; seed < 400; ++seed) {
            std::mt19937 rng(seed);
            const TypePtr type = pvwire::test::random_type(rng, 4);
            const Value value = pvwire::test::random_value(rng, type);
            INFO("seed " << seed << " order " << int(setup.order) << " cache " << setup.cache);
            INFO(to_string(*type));

            OutBuffer out;
            Writer w(out, setup.order);
            encode_typed_value(w, value, setup.cache ? &reg : nullptr);
            const auto bytes = out.flatten();

            Reader r(bytes, setup.order);
            Value back;
            const bool ok = decode_typed_value(r, back, setup.cache ? &cache : nullptr);
            INFO(r.diagnostic().message());
            REQUIRE(ok);
            CHECK(r.remaining() == 0);
            REQUIRE(back.valid());
            CHECK(same_type(back.type_ptr(), type));
            CHECK(back.equals(value));
        }
        if (setup.cache) CHECK(reg.size() > 0);
    }
}

TEST_CASE("random partial values round-trip: selected fields arrive, the rest keep their old content") {
    for (const auto& setup : setups) {
        for (std::uint32_t seed = 1000; seed < 1300; ++seed) {
            std::mt19937 rng(seed);
            const TypePtr type = pvwire::test::random_struct(rng, 3);
            const Value value = pvwire::test::random_value(rng, type);
            BitSet changed;
            for (std::uint32_t off = 0; off < type->offset_count(); ++off)
                if (rng() % 4 == 0) changed.set(off);
            INFO("seed " << seed << " changed " << changed.to_string());

            OutBuffer out;
            Writer w(out, setup.order);
            encode_partial(w, value, changed, nullptr);
            const auto bytes = out.flatten();

            Value back(type);
            const Value untouched(type);
            BitSet got;
            Reader r(bytes, setup.order);
            const bool ok = decode_partial(r, back, got, nullptr);
            INFO(r.diagnostic().message());
            INFO(to_string(*type));
            REQUIRE(ok);
            CHECK(r.remaining() == 0);
            CHECK(got == changed);
            // every field covered by a set bit equals the sent one, every other field is zero
            for (std::uint32_t off = 1; off < type->offset_count(); ++off) {
                bool covered = false;
                for (std::uint32_t p = off;; p = type->flat()[p].parent) {
                    if (changed.test(p)) covered = true;
                    if (p == 0) break;
                }
                const Value b(back.store_ptr(), off), v(value.store_ptr(), off), u(untouched.store_ptr(), off);
                if (b.code() == TypeCode::Struct) continue;
                INFO("offset " << off);
                CHECK(b.equals(covered ? v : u));
            }
            // and it re-encodes to the same bytes
            OutBuffer again;
            Writer w2(again, setup.order);
            encode_partial(w2, back, got, nullptr);
            CHECK(again.flatten() == bytes);
        }
    }
}

namespace {

// Encodes and decodes `value` partially with the fixed-order writer and reader of order O.
template <ByteOrder O>
std::vector<std::byte> fixed_order_round_trip(const Value& value, const BitSet& changed, Value& back, BitSet& got) {
    OutBuffer out;
    FixedOrderWriter<O> w(out);
    encode_partial(w, value, changed, nullptr);
    const auto bytes = out.flatten();
    FixedOrderReader<O> r(bytes);
    const bool ok = decode_partial(r, back, got, nullptr);
    INFO(r.diagnostic().message());
    CHECK(ok);
    CHECK(r.remaining() == 0);
    return bytes;
}

}  // namespace

TEST_CASE("the fixed-order writer and reader produce and read exactly the run-time ones' bytes") {
    for (const ByteOrder order : {ByteOrder::Little, ByteOrder::Big}) {
        for (std::uint32_t seed = 2000; seed < 2200; ++seed) {
            std::mt19937 rng(seed);
            const TypePtr type = pvwire::test::random_struct(rng, 3);
            const Value value = pvwire::test::random_value(rng, type);
            BitSet changed;
            for (std::uint32_t off = 0; off < type->offset_count(); ++off)
                if (rng() % 3 == 0) changed.set(off);
            INFO("seed " << seed << " order " << int(order));

            OutBuffer out;
            Writer w(out, order);
            encode_partial(w, value, changed, nullptr);
            Value back(type);
            BitSet got;
            const auto fixed = order == ByteOrder::Little
                                   ? fixed_order_round_trip<ByteOrder::Little>(value, changed, back, got)
                                   : fixed_order_round_trip<ByteOrder::Big>(value, changed, back, got);
            CHECK(fixed == out.flatten());
            CHECK(got == changed);
            OutBuffer again;
            Writer w2(again, order);
            encode_partial(w2, back, got, nullptr);
            CHECK(again.flatten() == fixed);
        }
    }
}

TEST_CASE("aligned host-order arrays decode as views of the receive buffer, others as copies") {
    auto type = TypeDesc::structure("", {{"v", TypeDesc::array(TypeCode::Float64)}});
    Value value(type);
    std::vector<double> xs(1000);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = double(i) * 0.5;
    value["v"].set(xs);

    OutBuffer out;
    Writer w(out, host_order());
    encode_value(w, value, nullptr);
    auto flat = out.flatten();
    // place the 3-byte count so that the elements start 8-aligned in the buffer
    auto owner = std::make_shared<std::vector<std::byte>>(flat.size() + 8);
    std::size_t shift = 0;
    while ((reinterpret_cast<std::uintptr_t>(owner->data() + shift + 5)) % alignof(double)) ++shift;
    std::copy(flat.begin(), flat.end(), owner->begin() + std::ptrdiff_t(shift));
    std::span<const std::byte> span(owner->data() + shift, flat.size());

    SECTION("with an owner: a view, no copy") {
        Reader r(span, host_order());
        r.set_owner(owner);
        Value back(type);
        REQUIRE(decode_value(r, back, nullptr));
        const auto arr = back["v"].array();
        CHECK(static_cast<const std::byte*>(arr.data()) == span.data() + 5);
        CHECK(arr.owner() == std::static_pointer_cast<const void>(owner));
        CHECK(back.equals(value));
    }
    SECTION("without an owner: a copy") {
        Reader r(span, host_order());
        Value back(type);
        REQUIRE(decode_value(r, back, nullptr));
        CHECK(static_cast<const std::byte*>(back["v"].array().data()) != span.data() + 5);
        CHECK(back.equals(value));
    }
    SECTION("misaligned: a copy even with an owner") {
        Reader r(span.subspan(0), host_order());
        std::vector<std::byte> shifted(flat.size() + 1);
        auto owner2 = std::make_shared<std::vector<std::byte>>(flat.size() + 9);
        std::size_t s2 = shift + 1;
        std::copy(flat.begin(), flat.end(), owner2->begin() + std::ptrdiff_t(s2));
        Reader r2(std::span<const std::byte>(owner2->data() + s2, flat.size()), host_order());
        r2.set_owner(owner2);
        Value back(type);
        REQUIRE(decode_value(r2, back, nullptr));
        const auto* p = static_cast<const std::byte*>(back["v"].array().data());
        CHECK((p < owner2->data() || p >= owner2->data() + owner2->size()));
        CHECK(back.equals(value));
    }
}

TEST_CASE("large host-order arrays are written by reference, not copied into the buffer") {
    auto type = TypeDesc::structure("", {{"v", TypeDesc::array(TypeCode::Float64)}});
    Value value(type);
    value["v"].set(std::vector<double>(100000, 1.5));
    OutBuffer out;
    Writer w(out, host_order());
    encode_value(w, value, nullptr);
    CHECK(out.external_count() == 1);
    CHECK(out.external_bytes() == 800000);
    CHECK(out.bytes().size() < 16);
    CHECK(out.size() == 800005);
}

TEST_CASE("segmented sends split a large array into its own middle segment, as pvAccessCPP does") {
    auto type = TypeDesc::structure("", {{"v", TypeDesc::array(TypeCode::Float64)}});
    Value value(type);
    value["v"].set(std::vector<double>(10000, 2.0));
    Message m;
    m.from_server = true;
    m.order = host_order();
    GetResponse g;
    g.ioid = 7;
    g.subcmd = subcmd::exec;
    g.changed = BitSet{0};
    g.data = value;
    m.body = g;
    EncodeOptions opts;
    opts.segment_large_arrays = true;
    OutBuffer out;
    encode(m, out, EncodeContext{nullptr, &opts});
    const auto bytes = out.flatten();
    // first segment: ioid, subcmd, status, bitset, count; middle: 80000 raw bytes; last: empty
    REQUIRE(bytes.size() == 8 + 13 + 8 + 80000 + 8);
    CHECK(std::uint8_t(bytes[2]) == (0x50 | (host_order() == ByteOrder::Big ? 0x80 : 0)));
    CHECK(std::uint8_t(bytes[8 + 13 + 2]) == (0x70 | (host_order() == ByteOrder::Big ? 0x80 : 0)));
    CHECK(std::uint8_t(bytes[8 + 13 + 8 + 80000 + 2]) == (0x60 | (host_order() == ByteOrder::Big ? 0x80 : 0)));

    // and a receiver joins them back
    ConnectionCodec codec;
    codec.operations().set(7, OperationTypes{0x0A, type, nullptr});
    std::span<const std::byte> all(bytes);
    Message got;
    Diagnostic d;
    std::size_t at = 0;
    ConnectionCodec::Result res{};
    while (at < all.size()) {
        const auto n = ConnectionCodec::frame_length(all.subspan(at), codec.limits(), d);
        REQUIRE(n > 0);
        res = codec.decode(all.subspan(at, n), got, d);
        REQUIRE(res != ConnectionCodec::Result::Error);
        at += n;
    }
    REQUIRE(res == ConnectionCodec::Result::Message);
    CHECK(std::get<GetResponse>(got.body).data.equals(value));
}
