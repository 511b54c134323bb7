#include <catch2/catch.hpp>

#include <pvwire/protocol/beacon_schedule.hpp>
#include <pvwire/protocol/beacon_tracker.hpp>
#include <pvwire/protocol/search_scheduler.hpp>

using namespace pvwire::protocol;
using namespace std::chrono_literals;
using Clock = SearchScheduler::Clock;

TEST_CASE("a new name is searched at once, then after 1, 1, 2, 3 ... seconds, capped at 30") {
    SearchScheduler s;
    const auto t0 = Clock::time_point{} + 1000s;
    s.add(1, "pv:a", t0);
    auto now = t0;
    std::vector<double> gaps;
    auto last = now;
    for (int i = 0; i < 40; ++i) {
        now = s.next_due();
        auto batches = s.due(now);
        REQUIRE(batches.size() == 1);
        REQUIRE(batches[0].size() == 1);
        CHECK(batches[0][0].name == "pv:a");
        if (i) gaps.push_back(std::chrono::duration<double>(now - last).count());
        last = now;
    }
    CHECK(gaps[0] == 1.0);
    CHECK(gaps[1] == 1.0);
    CHECK(gaps[2] == 2.0);
    CHECK(gaps[3] == 3.0);
    CHECK(gaps.back() == 30.0);
}

TEST_CASE("many names are packed into searches that each fit one datagram") {
    SearchScheduler s;
    const auto t0 = Clock::time_point{} + 5s;
    for (std::uint32_t i = 0; i < 1000; ++i) s.add(i, "some:fairly:long:pv:name:" + std::to_string(i), t0);
    auto batches = s.due(t0);
    std::size_t names = 0;
    for (const auto& b : batches) {
        std::size_t bytes = 33;
        for (const auto& e : b) bytes += SearchScheduler::entry_bytes(e.name);
        CHECK(bytes <= 1400);
        names += b.size();
    }
    CHECK(names == 1000);
    CHECK(batches.size() > 20);
    CHECK(s.due(t0).empty());  // all rescheduled
}

TEST_CASE("a bulk connect is spread over ticks by the per-tick bound") {
    SearchScheduler::Options o;
    o.max_per_tick = 100;
    SearchScheduler s(o);
    const auto t0 = Clock::time_point{} + 5s;
    for (std::uint32_t i = 0; i < 250; ++i) s.add(i, "n" + std::to_string(i), t0);
    std::size_t first = 0;
    for (auto& b : s.due(t0)) first += b.size();
    CHECK(first == 100);
    std::size_t second = 0;
    for (auto& b : s.due(t0)) second += b.size();
    CHECK(second == 100);
}

TEST_CASE("removed names are not searched again") {
    SearchScheduler s;
    const auto t0 = Clock::time_point{} + 5s;
    s.add(1, "a", t0);
    s.add(2, "b", t0);
    s.remove(1);
    auto b = s.due(t0);
    REQUIRE(b.size() == 1);
    REQUIRE(b[0].size() == 1);
    CHECK(b[0][0].cid == 2);
    CHECK(s.size() == 1);
}

TEST_CASE("hurry brings pending names forward, spread out, at most once per hold-off") {
    SearchScheduler s;
    auto now = Clock::time_point{} + 5s;
    for (std::uint32_t i = 0; i < 10; ++i) s.add(i, "n" + std::to_string(i), now);
    for (int k = 0; k < 12; ++k) {  // let the gaps grow
        now = s.next_due();
        s.due(now);
    }
    CHECK(s.next_due() - now > 5s);
    REQUIRE(s.hurry(now));
    CHECK(s.next_due() <= now);
    std::size_t within = 0;
    for (auto t = now; t < now + 1s; t += 100ms)
        for (auto& b : s.due(t)) within += b.size();
    CHECK(within == 10);
    CHECK_FALSE(s.hurry(now + 10s));
    CHECK(s.hurry(now + 31s));
}

TEST_CASE("beacons: new, known and restarted servers are told apart") {
    BeaconTracker t;
    pvwire::wire::Guid g1, g2;
    g2.bytes[0] = 1;
    const auto now = BeaconTracker::Clock::time_point{} + 1s;
    CHECK(t.on_beacon("127.0.0.1:5075", g1, now) == BeaconTracker::Seen::New);
    CHECK(t.on_beacon("127.0.0.1:5075", g1, now + 15s) == BeaconTracker::Seen::Known);
    CHECK(t.on_beacon("127.0.0.1:5075", g2, now + 30s) == BeaconTracker::Seen::Restarted);
    CHECK(t.on_beacon("127.0.0.1:5076", g2, now + 30s) == BeaconTracker::Seen::New);
}

TEST_CASE("beacon tracking is bounded and forgets silent servers") {
    BeaconTracker t(BeaconTracker::Options{100, std::chrono::seconds(360)});
    const auto now = BeaconTracker::Clock::time_point{} + 1s;
    pvwire::wire::Guid g;
    for (int i = 0; i < 1000; ++i) t.on_beacon("10.0.0." + std::to_string(i) + ":5075", g, now + std::chrono::seconds(i));
    CHECK(t.size() == 100);
    CHECK(t.expire(now + 2000s) == 100);
    CHECK(t.size() == 0);
}

TEST_CASE("beacons go out in a fast burst, then slowly") {
    BeaconSchedule b(15s, 10, 180s);
    for (int i = 0; i < 10; ++i) CHECK(b.next() == std::chrono::steady_clock::duration(15s));
    CHECK(b.next() == std::chrono::steady_clock::duration(180s));
    CHECK(b.sequence() == 11);
    for (int i = 0; i < 300; ++i) b.next();
    CHECK(b.sequence() == std::uint8_t(311));
}
