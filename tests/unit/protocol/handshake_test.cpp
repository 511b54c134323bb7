// The connection handshake state machines, driven with bytes and checked against PVXS's
// captured greeting.
#include <catch2/catch.hpp>

#include "../../support/vector_file.hpp"

#include <pvwire/protocol/client_handshake.hpp>
#include <pvwire/protocol/server_handshake.hpp>
#include <pvwire/wire/connection_codec.hpp>
#include <pvwire/wire/framing.hpp>

using namespace pvwire;
using namespace pvwire::protocol;

namespace {

// Decodes every frame of `out` with `codec` and passes each message to `f`.
template <class F> void deliver(const wire::OutBuffer& out, wire::ConnectionCodec& codec, F&& f) {
    const auto bytes = out.flatten();
    std::span<const std::byte> rest(bytes);
    wire::Diagnostic d;
    while (auto n = wire::frame_length(rest, 1 << 20, d)) {
        wire::Message m;
        REQUIRE(codec.decode(rest.first(n), m, d) == wire::ConnectionCodec::Result::Message);
        f(m);
        rest = rest.subspan(n);
    }
    REQUIRE(rest.empty());
}

std::vector<std::uint8_t> to_u8(const std::vector<std::byte>& b) {
    return {reinterpret_cast<const std::uint8_t*>(b.data()), reinterpret_cast<const std::uint8_t*>(b.data()) + b.size()};
}

}  // namespace

TEST_CASE("the server greeting is byte for byte what a little-endian PVXS server sends") {
    const auto recs = pvwire::test::parse_vector_file(pvwire::test::vectors_dir() / "sessions" /
                                                      "get_ntscalar_double.session.txt");
    std::vector<std::uint8_t> pvxs;
    for (const auto& r : recs)
        if (r.fields.at("index") == "6" || r.fields.at("index") == "7") pvxs.insert(pvxs.end(), r.bytes.begin(), r.bytes.end());
    ServerHandshake::Options o;
    o.order = wire::ByteOrder::Little;
    ServerHandshake server(o);
    wire::OutBuffer out;
    server.start(out);
    CHECK(to_u8(out.flatten()) == pvxs);
    CHECK(server.state() == ServerHandshake::State::AwaitingValidation);
}

TEST_CASE("client and server complete the handshake with ca credentials") {
    for (auto order : {wire::ByteOrder::Little, wire::ByteOrder::Big}) {
        ServerHandshake::Options so;
        so.order = order;
        ServerHandshake server(so);
        ClientHandshake client(ClientHandshake::Options{{"ca", "anonymous"}, "operator", "console1"});
        wire::ConnectionCodec at_client, at_server;

        wire::OutBuffer s2c, c2s;
        server.start(s2c);
        deliver(s2c, at_client, [&](const wire::Message& m) { CHECK(client.on_message(m, c2s)); });
        CHECK(client.state() == ClientHandshake::State::AwaitingValidated);
        CHECK(client.order() == order);
        CHECK(client.method() == "ca");

        s2c.clear();
        deliver(c2s, at_server, [&](const wire::Message& m) {
            CHECK(m.order == order);  // the client answers in the server's byte order
            CHECK(server.on_message(m, s2c));
        });
        CHECK(server.validated());
        CHECK(server.credentials().method == "ca");
        CHECK(server.credentials().user == "operator");
        CHECK(server.credentials().host == "console1");

        c2s.clear();
        deliver(s2c, at_client, [&](const wire::Message& m) { CHECK(client.on_message(m, c2s)); });
        CHECK(client.validated());
        REQUIRE(client.status());
        CHECK(client.status()->success());
    }
}

TEST_CASE("a client that only does anonymous sends the null type as auth data") {
    ServerHandshake server;
    ClientHandshake client(ClientHandshake::Options{{"anonymous"}, {}, {}});
    wire::ConnectionCodec at_client, at_server;
    wire::OutBuffer s2c, c2s;
    server.start(s2c);
    deliver(s2c, at_client, [&](const wire::Message& m) { client.on_message(m, c2s); });
    const auto bytes = c2s.flatten();
    CHECK(std::uint8_t(bytes.back()) == 0xFF);  // anonymous: FieldDesc 0xFF ends the message
    s2c.clear();
    deliver(c2s, at_server, [&](const wire::Message& m) { server.on_message(m, s2c); });
    CHECK(server.credentials().method == "anonymous");
}

TEST_CASE("a client choosing a method the server did not offer gets an error status") {
    ServerHandshake server(ServerHandshake::Options{{"anonymous"}, wire::host_order(), 0x10000, 0x7FFF});
    wire::Message m;
    m.body = wire::ValidationResponse{0x10000, 0x7FFF, 0, "x509", Value()};
    wire::OutBuffer out;
    REQUIRE(server.on_message(m, out));
    CHECK(server.state() == ServerHandshake::State::Failed);
    wire::ConnectionCodec codec;
    deliver(out, codec, [&](const wire::Message& r) {
        const auto& v = std::get<wire::ConnectionValidated>(r.body);
        CHECK(v.status.type == wire::Status::Type::Error);
        CHECK(v.status.message == "Client selects unadvertised auth");
    });
}

TEST_CASE("a client falls back to anonymous when the server offers nothing it supports") {
    ClientHandshake client(ClientHandshake::Options{{"ca"}, "u", "h"});
    wire::Message req;
    req.from_server = true;
    req.body = wire::ValidationRequest{0x10000, 0x7FFF, {"x509"}};
    wire::OutBuffer out;
    REQUIRE(client.on_message(req, out));
    CHECK(client.method() == "anonymous");
}
