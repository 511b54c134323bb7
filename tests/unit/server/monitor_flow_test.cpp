// Monitor flow on the server side, at the PvaFrontEnd level (no sockets): demand-driven PVs
// (PVHandler::feeder) fill exactly what pipeline flow control allows, and monitors wait in
// their queues while the connection's backlog is above the high-water mark.
#include <catch2/catch.hpp>

#include "../../../src/server/pva_front_end.hpp"

#include <pvwire/data/nt.hpp>
#include <pvwire/protocol/pv_request.hpp>
#include <pvwire/wire/connection_codec.hpp>

using namespace pvwire;
using server::detail::PvaFrontEnd;

namespace {

// Counts up from 1 for each subscriber, on demand.
class CounterPV final : public server::PVHandler {
public:
    TypePtr type() const override { return type_; }
    Value current() const override {
        Value v(type_);
        v["value"] = std::uint32_t(0);
        return v;
    }
    void put(Value, const server::Peer&, Done done) override { done(wire::Status::error("read-only")); }
    std::shared_ptr<void> subscribe(Listener) override { return nullptr; }
    Feeder feeder(const server::Peer&) override {
        auto n = std::make_shared<std::uint32_t>(0);
        return [this, n](server::MonitorFeed& feed) {
            for (auto room = feed.room(); room > 0; --room) {
                Value v(type_);
                v["value"] = ++*n;
                REQUIRE(feed.try_post(v));
                ++generated;
            }
            Value extra(type_);
            CHECK_FALSE(feed.try_post(extra));  // full: refused, nothing queued
        };
    }
    std::uint64_t generated = 0;

private:
    TypePtr type_ = nt::NTScalar{TypeCode::UInt32}.type();
};

// An engine whose output is captured, with a backlog the test controls.
struct Harness {
    net::asio::io_context io;
    std::shared_ptr<CounterPV> pv = std::make_shared<CounterPV>();
    std::vector<wire::Message> replies;
    std::vector<std::vector<std::byte>> updates;  // encoded MONITOR updates
    std::size_t backlog = 0;
    wire::ConnectionCodec client;  // decodes what a client would receive
    std::shared_ptr<PvaFrontEnd> engine;

    explicit Harness(server::detail::EngineLimits limits = {}) {
        engine = std::make_shared<PvaFrontEnd>(
            io.get_executor(), server::Peer{}, wire::ByteOrder::Little,
            [this](std::string_view, const server::Peer&) { return pv; },
            [this](wire::Message&& m) { replies.push_back(std::move(m)); },
            [this](wire::OutBuffer&& b) {
                backlog += b.size();
                updates.push_back(b.flatten());
            },
            [this] { return backlog; }, limits);
    }
    void handle(wire::Body body) {
        wire::Message m;
        m.body = std::move(body);
        REQUIRE(engine->handle(m));
        io.poll();
        io.restart();
    }
    std::uint32_t open_monitor(std::string_view request, std::uint8_t init_subcmd, std::uint32_t nfree) {
        handle(wire::CreateChannelRequest{{wire::SearchChannel{1, "counter"}}});
        REQUIRE(replies.size() == 1);
        const auto sid = std::get<wire::CreateChannelResponse>(replies.back().body).sid;
        wire::MonitorRequest init;
        init.sid = sid;
        init.ioid = 7;
        init.subcmd = init_subcmd;
        init.nfree = nfree;
        init.pv_request = protocol::parse_pv_request(request);
        handle(init);
        // the client learns the operation's type from the INIT reply
        wire::Message reply = replies.back();
        reply.from_server = true;
        wire::Message decoded;
        wire::Diagnostic d;
        REQUIRE(client.decode(wire::encode_to_bytes(reply), decoded, d, nullptr) ==
                wire::ConnectionCodec::Result::Message);
        wire::MonitorRequest start;
        start.sid = sid;
        start.ioid = 7;
        start.subcmd = wire::subcmd::monitor_start;
        handle(start);
        return sid;
    }
    void ack(std::uint32_t sid, std::uint32_t n) {
        wire::MonitorRequest a;
        a.sid = sid;
        a.ioid = 7;
        a.subcmd = wire::subcmd::get_put;
        a.nfree = n;
        handle(a);
    }
    // The counter values of the updates sent so far.
    std::vector<std::uint32_t> counters() {
        std::vector<std::uint32_t> out;
        for (const auto& bytes : updates) {
            wire::Message m;
            wire::Diagnostic d;
            REQUIRE(client.decode(bytes, m, d, nullptr) == wire::ConnectionCodec::Result::Message);
            const auto& r = std::get<wire::MonitorResponse>(m.body);
            out.push_back(r.data["value"].as<std::uint32_t>());
        }
        updates.clear();
        return out;
    }
};

}  // namespace

TEST_CASE("a demand-driven PV sends exactly what pipeline flow control allows, with no gap", "[server][monitor]") {
    Harness h;
    const auto sid = h.open_monitor("record[pipeline=true,queueSize=4]",
                                    wire::subcmd::init | wire::subcmd::get_put, 4);
    // the first value, then 3 from the feeder: the window of 4 is used up; 4 more wait queued
    auto got = h.counters();
    CHECK(got == std::vector<std::uint32_t>{0, 1, 2, 3});
    CHECK(h.pv->generated == 3 + 4);
    h.ack(sid, 2);
    got = h.counters();
    CHECK(got == std::vector<std::uint32_t>{4, 5});
    for (int i = 0; i < 100; ++i) h.ack(sid, 3);
    got = h.counters();
    REQUIRE(got.size() == 300);
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == 6 + i);
    CHECK(h.pv->generated == 305 + 4);  // never more than the queue ahead of what was sent
}

TEST_CASE("monitors wait while the connection's backlog is above the high-water mark", "[server][monitor]") {
    server::detail::EngineLimits limits;
    limits.tx_high_water = 1000;
    Harness h(limits);
    h.open_monitor("record[queueSize=4]", wire::subcmd::init, 0);  // no flow control
    // without a backlog bound this would never stop: the feeder always has room
    const auto first = h.counters();
    REQUIRE(first.size() > 3);
    CHECK(h.backlog >= 1000);
    CHECK(h.backlog < 1000 + 200);  // stops at the first update past the mark
    CHECK(h.pv->generated <= first.size() + 4);
    // the socket drains: sending resumes where it stopped, in order, and holds again
    h.backlog = 0;
    h.engine->writable();
    const auto second = h.counters();
    REQUIRE(second.size() > 3);
    CHECK(second.front() == first.back() + 1);
    for (std::size_t i = 1; i < second.size(); ++i) CHECK(second[i] == second[i - 1] + 1);
    // still above the mark: writable() sends nothing
    h.engine->writable();
    CHECK(h.updates.empty());
}
