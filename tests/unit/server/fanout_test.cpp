// The fan-out of posted values (issue 13): a post reaches every monitor of every connection in
// order, its data part is encoded once per post for all its subscribers (SharedEncoding, keyed
// by the store's change, store::detail::ChangeScope), and a value changed in place between two
// notifications is sent as it is now, never from an encoding of before.
//
// Through the server's public seam (test::PipeServerSession): an in-memory pipe, the test's
// own io_context run until no handler is ready.
#include <catch2/catch.hpp>

#include "support/pipe_server_session.hpp"

#include "../../../src/protocol/message_codec.hpp"

#include <pvwire/data/nt.hpp>
#include <pvwire/net/pipe_transport.hpp>
#include <pvwire/protocol/pv_request.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>
#include <pvwire/store/store.hpp>
#include <pvwire/wire/value_codec.hpp>

#include <map>
#include <utility>

using namespace pvwire;
using namespace std::chrono_literals;

namespace {

// A PV that notifies its listeners of one Value it keeps and changes in place (what a handler
// of one's own may do), optionally marking each notification as a store change.
class InPlacePV final : public server::PVHandler {
public:
    InPlacePV() { value_["value"] = std::uint32_t(0); }
    TypePtr type() const override { return value_.type_ptr(); }
    Value current() const override { return value_.clone(); }
    void put(Value, const server::Peer&, Done done) override { done(wire::Status::error("read-only")); }
    std::shared_ptr<void> subscribe(Listener listener) override {
        listeners_.push_back(std::move(listener));
        return std::make_shared<int>(0);
    }
    // Sets `value` in place and tells every listener.
    void notify(std::uint32_t value, bool as_store_change) {
        value_["value"] = value;
        value_.unmark();
        value_["value"].mark();
        std::optional<store::detail::ChangeScope> change;
        if (as_store_change) change.emplace();
        for (auto& l : listeners_) l(value_);
    }

private:
    Value value_ = nt::NTScalar{TypeCode::UInt32}.create();
    std::vector<Listener> listeners_;
};

// A validated connection to a server serving "tick" (a SharedPV) and "inplace".
struct FanoutSession : test::PipeServerSession {
    std::shared_ptr<server::SharedPV> tick;
    std::shared_ptr<InPlacePV> inplace = std::make_shared<InPlacePV>();

    FanoutSession() {
        Value initial = nt::NTScalar{TypeCode::UInt32}.create();
        initial["value"] = std::uint32_t(0);
        tick = server::SharedPV::create("tick", initial);
        srv.add_pv("tick", tick);
        srv.add_pv("inplace", inplace);
        connect();
    }
    std::uint32_t channel(const std::string& name, std::uint32_t cid) {
        const auto created = exchange(wire::CreateChannelRequest{{wire::SearchChannel{cid, name}}});
        return std::get<wire::CreateChannelResponse>(created.body).sid;
    }
    // INITs and starts monitor `ioid` on channel `sid`.
    void monitor(std::uint32_t sid, std::uint32_t ioid) {
        collect();  // the updates of earlier monitors, so that the next message is the INIT reply
        wire::MonitorRequest init;
        init.sid = sid;
        init.ioid = ioid;
        init.subcmd = wire::subcmd::init;
        init.pv_request = protocol::parse_pv_request("field()");
        REQUIRE(std::get<wire::MonitorResponse>(exchange(init).body).status.success());
        wire::MonitorRequest start;
        start.sid = sid;
        start.ioid = ioid;
        start.subcmd = wire::subcmd::monitor_start;
        client->send(start);
        REQUIRE(settle());
    }
    void post(std::uint32_t value) {
        Value v(tick->type());
        v["value"] = value;
        tick->post(v);
    }
    // The "value" of every update received so far, by ioid, in the order received.
    std::map<std::uint32_t, std::vector<std::uint32_t>> received() {
        collect();
        return std::exchange(got_, {});
    }

private:
    void collect() {
        while (auto r = client->next_received(0ms)) {
            const auto& update = std::get<wire::MonitorResponse>(r->message.body);
            if (update.is_update()) got_[update.ioid].push_back(update.data["value"].as<std::uint32_t>());
        }
    }
    std::map<std::uint32_t, std::vector<std::uint32_t>> got_;
};

}  // namespace

TEST_CASE("every monitor of one connection receives every post, in order", "[server][monitor][fanout]") {
    FanoutSession s;
    const auto sid = s.channel("tick", 1);
    const std::vector<std::uint32_t> ioids{10, 11, 12, 13, 14, 15, 16, 17};
    for (auto ioid : ioids) s.monitor(sid, ioid);
    auto first = s.received();
    for (auto ioid : ioids) CHECK(first[ioid] == std::vector<std::uint32_t>{0});

    // three posts before the connection's strand runs (one wake for all the monitors), then
    // three more, each sent before the next
    s.post(1), s.post(2), s.post(3);
    REQUIRE(s.settle());
    for (std::uint32_t v = 4; v <= 6; ++v) {
        s.post(v);
        REQUIRE(s.settle());
    }
    auto got = s.received();
    REQUIRE(got.size() == ioids.size());
    for (auto ioid : ioids) CHECK(got[ioid] == std::vector<std::uint32_t>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("monitors on two channels of one PV and of another PV each get their own posts", "[server][monitor][fanout]") {
    FanoutSession s;
    const auto a = s.channel("tick", 1), b = s.channel("tick", 2), other = s.channel("inplace", 3);
    s.monitor(a, 20);
    s.monitor(b, 21);
    s.monitor(other, 22);
    s.received();
    s.post(7);
    s.inplace->notify(70, true);
    s.post(8);
    REQUIRE(s.settle());
    auto got = s.received();
    CHECK(got[20] == std::vector<std::uint32_t>{7, 8});
    CHECK(got[21] == std::vector<std::uint32_t>{7, 8});
    CHECK(got[22] == std::vector<std::uint32_t>{70});
}

TEST_CASE("a value changed in place between two notifications is sent as it is, never stale", "[server][monitor][fanout]") {
    const bool as_store_change = GENERATE(false, true);
    CAPTURE(as_store_change);
    FanoutSession s;
    const auto sid = s.channel("inplace", 1);
    s.monitor(sid, 30);
    s.monitor(sid, 31);
    s.received();
    for (std::uint32_t v = 1; v <= 3; ++v) {
        s.inplace->notify(v, as_store_change);  // the same storage each time
        REQUIRE(s.settle());
        auto got = s.received();
        CHECK(got[30] == std::vector<std::uint32_t>{v});
        CHECK(got[31] == std::vector<std::uint32_t>{v});
    }
}

TEST_CASE("a store change has a number of its own while its watchers run, 0 outside", "[store][fanout]") {
    CHECK(store::detail::change_in_progress() == 0);
    std::uint64_t outer = 0, inner = 0;
    {
        store::detail::ChangeScope a;
        outer = store::detail::change_in_progress();
        CHECK(outer != 0);
        {
            store::detail::ChangeScope b;  // a watcher posting to another PV
            inner = store::detail::change_in_progress();
        }
        CHECK(store::detail::change_in_progress() == outer);
    }
    CHECK(inner != outer);
    CHECK(inner != 0);
    CHECK(store::detail::change_in_progress() == 0);

    // MemoryStore marks each write: its watchers see a fresh number per write, the same one
    // for every watcher of that write
    auto st = std::make_shared<store::MemoryStore>();
    Value initial = nt::NTScalar{TypeCode::UInt32}.create();
    st->create("x", initial, [](store::Status s, bool) { REQUIRE(s.success()); });
    std::vector<std::uint64_t> seen;
    auto w1 = st->watch("x", [&](const Value&) { seen.push_back(store::detail::change_in_progress()); });
    auto w2 = st->watch("x", [&](const Value&) { seen.push_back(store::detail::change_in_progress()); });
    Value delta(initial.type_ptr());
    delta["value"] = std::uint32_t(1);
    REQUIRE(st->write_now("x", delta).success());
    REQUIRE(st->write_now("x", delta).success());
    REQUIRE(seen.size() == 4);
    CHECK(seen[0] == seen[1]);
    CHECK(seen[2] == seen[3]);
    CHECK(seen[0] != seen[2]);
    CHECK(seen[0] != 0);
    w1.reset();
    REQUIRE(st->write_now("x", delta).success());
    CHECK(seen.size() == 5);  // a dropped watcher hears nothing more
}

TEST_CASE("a post's shared encoding is made once per selection and byte order", "[protocol][fanout]") {
    Value v = nt::NTScalar{TypeCode::UInt32}.create();
    v["value"] = std::uint32_t(42);
    protocol::detail::SharedEncoding share;
    const BitSet all{0};
    BitSet only_value;
    only_value.set(v["value"].offset());
    const auto& a = share.find_or_encode(v, all, wire::ByteOrder::Little);
    CHECK(&share.find_or_encode(v, all, wire::ByteOrder::Little) == &a);
    const auto& b = share.find_or_encode(v, only_value, wire::ByteOrder::Little);
    const auto& c = share.find_or_encode(v, all, wire::ByteOrder::Big);
    CHECK(&b != &a);
    CHECK(&c != &a);
    CHECK(&share.find_or_encode(v, only_value, wire::ByteOrder::Little) == &b);

    // the same bytes as an encoding of its own
    auto direct = [&](const BitSet& bits, wire::ByteOrder order) {
        wire::OutBuffer out;
        wire::Writer w(out, order);
        wire::encode_partial(w, v, bits, nullptr);
        return out.flatten();
    };
    CHECK(a.flatten() == direct(all, wire::ByteOrder::Little));
    CHECK(b.flatten() == direct(only_value, wire::ByteOrder::Little));
    CHECK(c.flatten() == direct(all, wire::ByteOrder::Big));
    CHECK(b.size() < a.size());
}
