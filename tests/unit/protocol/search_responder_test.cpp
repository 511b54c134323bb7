// The server's search answers and unicast forwarding, checked against what PVXS sent.
#include <catch2/catch.hpp>

#include "../../support/vector_file.hpp"

#include <pvwire/protocol/search_responder.hpp>

using namespace pvwire;
using namespace pvwire::protocol;

namespace {

struct Capture {
    std::vector<pvwire::test::VectorRecord> recs;
    explicit Capture(const char* session)
        : recs(pvwire::test::parse_vector_file(pvwire::test::vectors_dir() / "sessions" / session)) {}
    const std::vector<std::uint8_t>& bytes(int index) const { return recs.at(std::size_t(index)).bytes; }
    wire::Message decode(int index) const {
        const auto& b = bytes(index);
        std::span<const std::byte> s(reinterpret_cast<const std::byte*>(b.data()), b.size());
        auto h = wire::Header::parse(s);
        REQUIRE(h);
        wire::DecodeContext ctx;
        wire::Message m;
        wire::Diagnostic d;
        REQUIRE(wire::decode(*h, s.subspan(8), ctx, m, d));
        return m;
    }
};

std::vector<std::uint8_t> u8(const std::vector<std::byte>& b) {
    return {reinterpret_cast<const std::uint8_t*>(b.data()), reinterpret_cast<const std::uint8_t*>(b.data()) + b.size()};
}

}  // namespace

TEST_CASE("a search for a served name is answered exactly as PVXS answers it") {
    Capture cap("get_ntscalar_double.session.txt");
    const auto search = std::get<wire::Search>(cap.decode(1).body);
    const auto pvxs_reply = std::get<wire::SearchResponse>(cap.decode(4).body);
    SearchResponder responder(pvxs_reply.guid, 5075, [](std::string_view n) { return n == "mbox:dbl"; });
    auto reply = responder.answer(search);
    REQUIRE(reply);
    CHECK_FALSE(reply->to);  // reply address :: means "to the sender"
    CHECK(reply->port == search.response_port);
    CHECK(u8(wire::encode_to_bytes(reply->response)) == cap.bytes(4));
}

TEST_CASE("a unicast search is forwarded to the local group exactly as PVXS forwards it") {
    Capture cap("get_ntscalar_double.session.txt");
    const auto search = std::get<wire::Search>(cap.decode(1).body);
    REQUIRE((search.flags & wire::Search::unicast));
    const auto fwd = SearchResponder::forward(search, wire::Address::ipv4(127, 0, 0, 1),
                                              wire::Address::ipv4(127, 0, 0, 1), search.response_port,
                                              wire::ByteOrder::Big);
    std::vector<std::uint8_t> pvxs = cap.bytes(2);
    pvxs.insert(pvxs.end(), cap.bytes(3).begin(), cap.bytes(3).end());
    CHECK(u8(fwd) == pvxs);
}

TEST_CASE("names nobody here serves get no answer unless one is required") {
    wire::Search s;
    s.channels = {{1, "other"}};
    SearchResponder r(wire::Guid{}, 5075, [](std::string_view n) { return n == "mine"; });
    CHECK_FALSE(r.answer(s));
    s.flags = wire::Search::reply_required;
    auto reply = r.answer(s);
    REQUIRE(reply);
    const auto& resp = std::get<wire::SearchResponse>(reply->response.body);
    CHECK_FALSE(resp.found);
    CHECK(resp.cids.empty());
}

TEST_CASE("a discovery ping with no protocols and no names is answered") {
    Capture cap("pvxlist_discover.session.txt");
    wire::Search ping;
    for (std::size_t i = 0; i < cap.recs.size(); ++i) {
        auto m = cap.decode(int(i));
        if (auto* s = std::get_if<wire::Search>(&m.body)) {
            ping = *s;
            break;
        }
    }
    REQUIRE(ping.channels.empty());
    REQUIRE(ping.protocols.empty());
    SearchResponder r(wire::Guid{}, 5075, [](std::string_view) { return true; });
    auto reply = r.answer(ping);
    REQUIRE(reply);
    CHECK_FALSE(std::get<wire::SearchResponse>(reply->response.body).found);
}

TEST_CASE("names are ignored when tcp is not among the search's protocols") {
    wire::Search s;
    s.protocols = {"udp"};
    s.channels = {{1, "mine"}};
    SearchResponder r(wire::Guid{}, 5075, [](std::string_view) { return true; });
    CHECK_FALSE(r.answer(s));
}

TEST_CASE("several claimed names are answered in one response") {
    wire::Search s;
    s.channels = {{1, "a"}, {2, "x"}, {3, "b"}};
    SearchResponder r(wire::Guid{}, 6000, [](std::string_view n) { return n != "x"; });
    auto reply = r.answer(s);
    REQUIRE(reply);
    const auto& resp = std::get<wire::SearchResponse>(reply->response.body);
    CHECK(resp.cids == std::vector<std::uint32_t>{1, 3});
    CHECK(resp.server_port == 6000);
}
