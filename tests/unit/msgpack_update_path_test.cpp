// The msgpack protocol's monitor updates: the fast paths for plain fields (PlainWriter on the
// server, read_plain_partial on the client) against the general ones (msgpack-cxx's packer and
// object tree). For random types and values, each path's frame decodes to the same fields, the
// plain writer's bytes equal the packer's, and mutated frames never decode to anything but a
// message or an error.
#include <catch2/catch.hpp>

#include "support/random_value.hpp"

#include <pvwire/msgpack/protocol.hpp>

#include <random>

using namespace pvwire;
namespace mpp = pvwire::msgpack_protocol;

namespace {

constexpr std::uint32_t ioid = 77;

// A structure of scalars, strings and structures only: every field takes the fast paths.
TypePtr plain_struct(std::mt19937& rng, int depth) {
    std::vector<Member> members;
    const std::uint32_t n = 1 + test::random_detail::below(rng, 5);
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::string name = "m" + std::to_string(i);
        if (depth > 0 && test::random_detail::chance(rng, 30))
            members.push_back({name, plain_struct(rng, depth - 1)});
        else
            members.push_back({name, TypeDesc::scalar(test::random_detail::scalar_code(rng))});
    }
    return TypeDesc::structure("", std::move(members));
}

BitSet random_bits(std::mt19937& rng, std::uint32_t count, std::uint32_t percent) {
    BitSet b;
    for (std::uint32_t i = 0; i < count; ++i)
        if (test::random_detail::chance(rng, percent)) b.set(i);
    return b;
}

std::span<const std::byte> bytes_of(const wire::OutBuffer& out, std::vector<std::byte>& keep) {
    keep = out.flatten();
    return keep;
}

// A client codec that knows monitor `ioid` of type `t` (its INIT sent, the reply decoded).
mpp::Codec monitoring_client(const TypePtr& t) {
    mpp::Codec client(mpp::Side::client), server(mpp::Side::server);
    wire::Message init;
    wire::MonitorRequest req;
    req.ioid = ioid;
    req.subcmd = wire::subcmd::init;
    init.body = req;
    wire::OutBuffer ignored;
    client.encode(init, ignored);
    wire::Message reply;
    reply.from_server = true;
    wire::MonitorResponse r;
    r.ioid = ioid;
    r.subcmd = wire::subcmd::init;
    r.type = t;
    r.has_data = false;
    reply.body = r;
    wire::OutBuffer out;
    server.encode(reply, out);
    std::vector<std::byte> keep;
    wire::Message m;
    wire::Diagnostic diag;
    REQUIRE(client.decode(bytes_of(out, keep), m, diag) == mpp::Codec::Result::Message);
    return client;
}

// The fields `changed` selects of `v`, as a fresh value with those marks.
Value selected(const Value& v, const BitSet& changed) {
    Value expected(v.type_ptr());
    for (std::size_t b = changed.next(0); b != BitSet::npos;) {
        Value(expected.store_ptr(), std::uint32_t(b)).assign(Value(v.store_ptr(), std::uint32_t(b)));
        b = changed.next(b + v.type().flat()[b].type->offset_count());
    }
    return expected;
}

void check_update(mpp::Codec& client, std::span<const std::byte> frame, const Value& v, const BitSet& changed,
                  const BitSet& overrun) {
    wire::Message m;
    wire::Diagnostic diag;
    REQUIRE(client.decode(frame, m, diag) == mpp::Codec::Result::Message);
    const auto* u = std::get_if<wire::MonitorResponse>(&m.body);
    REQUIRE(u);
    CHECK(u->ioid == ioid);
    CHECK(u->changed == changed);
    CHECK(u->overrun == overrun);
    CHECK(u->data.equals(selected(v, changed)));
}

}  // namespace

TEST_CASE("msgpack updates: plain and general paths agree, byte for byte (property)", "[msgpack][property]") {
    for (std::uint32_t seed = 1; seed <= 400; ++seed) {
        INFO("seed " << seed);
        std::mt19937 rng(seed);
        // every other seed a random type of any kind (arrays, unions: the general paths only)
        const TypePtr t = seed % 2 ? plain_struct(rng, 3) : test::random_struct(rng, 3);
        const Value v = test::random_value(rng, t);
        const BitSet changed = random_bits(rng, t->offset_count(), seed % 3 ? 30 : 70);
        const BitSet overrun = random_bits(rng, t->offset_count(), 10);
        auto client = monitoring_client(t);

        wire::OutBuffer fast;  // Codec::encode_update: the plain writer when it can
        mpp::Codec::encode_update(ioid, v, changed, overrun, fast);
        wire::Message m;  // Codec::encode of the same update: always the packer
        m.from_server = true;
        wire::MonitorResponse r;
        r.ioid = ioid;
        r.subcmd = 0;
        r.data = v;
        r.changed = changed;
        r.overrun = overrun;
        m.body = r;
        mpp::Codec server(mpp::Side::server);
        wire::OutBuffer general;
        server.encode(m, general);

        std::vector<std::byte> a, b;
        const auto fast_frame = bytes_of(fast, a);
        const auto general_frame = bytes_of(general, b);
        CHECK(fast_frame.size() % 8 == 0);
        if (seed % 2) CHECK(std::equal(a.begin(), a.end(), b.begin(), b.end()));
        check_update(client, fast_frame, v, changed, overrun);
        check_update(client, general_frame, v, changed, overrun);
    }
}

TEST_CASE("msgpack updates: mutated plain frames decode or fail, never anything else", "[msgpack][hostile]") {
    std::mt19937 rng(99);
    for (int round = 0; round < 300; ++round) {
        const TypePtr t = plain_struct(rng, 2);
        const Value v = test::random_value(rng, t);
        const BitSet changed = random_bits(rng, t->offset_count(), 60);
        auto client = monitoring_client(t);
        wire::OutBuffer out;
        mpp::Codec::encode_update(ioid, v, changed, {}, out);
        auto frame = out.flatten();
        for (int k = 0; k < 1 + round % 4; ++k) {
            const std::size_t at = mpp::header_size + test::random_detail::below(rng, std::uint32_t(frame.size() - mpp::header_size));
            frame[at] = std::byte(test::random_detail::bits64(rng));
        }
        wire::Message m;
        wire::Diagnostic diag;
        const auto result = client.decode(frame, m, diag);
        CHECK((result == mpp::Codec::Result::Message || result == mpp::Codec::Result::Error ||
               result == mpp::Codec::Result::Ignored));
        if (result == mpp::Codec::Result::Error) CHECK_FALSE(diag.message().empty());
    }
}
