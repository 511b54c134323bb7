// Monitor flow on the server side, through the server's public seam: a server::Server on this
// test's io_context (never started: no sockets) serves one end of an in-memory pipe
// (Server::accept), and the test speaks pvAccess frames on the other end. Demand-driven PVs
// (PVHandler::feeder) fill exactly what pipeline flow control allows, and monitors wait in
// their queues while the connection's backlog is above the high-water mark (256 KiB,
// docs/design.md "Flow to slow peers").
//
// The test runs the io_context itself, on its own thread, until no handler is ready: every
// step is deterministic, and "the server holds" means it has nothing left to do.
#include <catch2/catch.hpp>

#include "support/pipe_server_session.hpp"

#include <pvwire/data/nt.hpp>
#include <pvwire/net/pipe_transport.hpp>
#include <pvwire/protocol/pv_request.hpp>
#include <pvwire/server/server.hpp>

using namespace pvwire;
using namespace std::chrono_literals;

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

constexpr std::size_t high_water = 256 * 1024;  // the server's monitor hold mark
constexpr std::size_t update_bytes_max = 200;     // one counter update, framed, is well below
constexpr std::uint32_t monitor_ioid = 7;

// A validated connection to a server serving "counter", with the test at the client end.
struct PipeSession : test::PipeServerSession {
    std::shared_ptr<CounterPV> pv = std::make_shared<CounterPV>();

    PipeSession() {
        srv.add_pv("counter", pv);
        connect();
    }
    wire::MonitorRequest monitor_request(std::uint32_t sid, std::uint8_t subcmd, std::uint32_t nfree = 0) {
        wire::MonitorRequest r;
        r.sid = sid;
        r.ioid = monitor_ioid;
        r.subcmd = subcmd;
        r.nfree = nfree;
        return r;
    }
    // Creates the channel and INITs a monitor on it (not started); the sid.
    std::uint32_t init_monitor(std::string_view request, std::uint8_t init_subcmd, std::uint32_t nfree) {
        const auto created = exchange(wire::CreateChannelRequest{{wire::SearchChannel{1, "counter"}}});
        const auto sid = std::get<wire::CreateChannelResponse>(created.body).sid;
        auto init = monitor_request(sid, init_subcmd, nfree);
        init.pv_request = protocol::parse_pv_request(request);
        const auto reply = exchange(init);  // the client's codec learns the type from it
        REQUIRE(std::get<wire::MonitorResponse>(reply.body).status.success());
        return sid;
    }
    void start(std::uint32_t sid) {
        client->send(monitor_request(sid, wire::subcmd::monitor_start));
        REQUIRE(settle());
    }
    void ack(std::uint32_t sid, std::uint32_t n) {
        client->send(monitor_request(sid, wire::subcmd::get_put, n));
        REQUIRE(settle());
    }
    // The counter values (and the framed sizes) of the updates received so far.
    std::vector<std::uint32_t> counters(std::size_t* bytes = nullptr) {
        std::vector<std::uint32_t> out;
        while (auto r = client->next_received(0ms)) {
            const auto& update = std::get<wire::MonitorResponse>(r->message.body);
            out.push_back(update.data["value"].as<std::uint32_t>());
            if (bytes) *bytes += r->frame_bytes;
        }
        return out;
    }
};

// `values` count up by one from `first`.
bool counts_up_from(const std::vector<std::uint32_t>& values, std::uint32_t first) {
    for (std::size_t i = 0; i < values.size(); ++i)
        if (values[i] != first + i) return false;
    return true;
}

}  // namespace

TEST_CASE("a demand-driven PV sends exactly what pipeline flow control allows, with no gap", "[server][monitor]") {
    PipeSession s;
    const auto sid = s.init_monitor("record[pipeline=true,queueSize=4]",
                                    wire::subcmd::init | wire::subcmd::get_put, 4);
    s.start(sid);
    // the first value, then 3 from the feeder: the window of 4 is used up; 4 more wait queued
    CHECK(s.counters() == std::vector<std::uint32_t>{0, 1, 2, 3});
    CHECK(s.pv->generated == 3 + 4);
    s.ack(sid, 2);
    CHECK(s.counters() == std::vector<std::uint32_t>{4, 5});
    for (int i = 0; i < 100; ++i) s.ack(sid, 3);
    const auto got = s.counters();
    REQUIRE(got.size() == 300);
    CHECK(counts_up_from(got, 6));
    CHECK(s.pv->generated == 305 + 4);  // never more than the queue ahead of what was sent
}

TEST_CASE("monitors wait while the connection's backlog is above the high-water mark", "[server][monitor]") {
    PipeSession s;
    const auto sid = s.init_monitor("record[queueSize=4]", wire::subcmd::init, 0);  // no flow control
    // The client reads nothing: the pipe fills, then the server's output queue grows. Without
    // the backlog bound this would never settle (until the output limit dropped the client).
    s.client_end->stop_reading();
    s.start(sid);
    CHECK(s.srv.stats().connections_open == 1);
    CHECK(s.srv.stats().connections_dropped == 0);
    const auto held_backlog = s.server_end->pending_output();
    CHECK(held_backlog >= high_water);
    CHECK(held_backlog < high_water + update_bytes_max);  // stops at the first update past the mark
    const auto generated_at_hold = s.pv->generated;

    // The client reads again: all of the backlog arrives, in order, and the feeder was never
    // asked for more than the queue holds beyond what had been sent.
    s.client_end->resume_reading();
    std::vector<std::uint32_t> first;
    std::size_t first_bytes = 0;
    while (first_bytes < held_backlog) {
        const auto more = s.counters(&first_bytes);
        first.insert(first.end(), more.begin(), more.end());
        if (!s.step()) break;
    }
    REQUIRE(first_bytes >= held_backlog);
    REQUIRE(first.size() > 3);
    CHECK(counts_up_from(first, 0));
    CHECK(generated_at_hold <= first.size() + 4);

    // Sending resumed where it stopped, in order; the client stops reading again, and the
    // server holds again at the mark.
    while (s.client->queued() < first.size() && s.step()) {
    }
    s.client_end->stop_reading();
    REQUIRE(s.settle());
    CHECK(s.srv.stats().connections_dropped == 0);
    CHECK(s.server_end->pending_output() >= high_water);
    CHECK(s.server_end->pending_output() < high_water + update_bytes_max);
    const auto second = s.counters();
    REQUIRE(second.size() > 3);
    CHECK(counts_up_from(second, first.back() + 1));
}
