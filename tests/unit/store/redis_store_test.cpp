// RedisStore against a real redis-server (tests/support/redis_server.hpp): several stores on
// one Redis act as replicas. Creation and type conflicts, partial writes merged without a race,
// one order of changes seen by every replica, a late joiner's snapshot, Redis killed -9 and
// restarted (no acknowledged write lost), and data in Redis that pvwire did not write.
#include <catch2/catch.hpp>

#include "support/redis_server.hpp"

#include <pvwire/data/nt.hpp>
#include <pvwire/store/redis_store.hpp>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>

using namespace pvwire;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<store::RedisStore> open_ready(const test::RedisServer& redis) {
    auto s = std::make_shared<store::RedisStore>(store::RedisConfig::from_url(redis.url()));
    REQUIRE(s->wait_ready(10s));
    return s;
}

Value scalar(double v) {
    Value x = nt::NTScalar{TypeCode::Float64}.create();
    x["value"] = v;
    return x;
}

// create() and write() waited for; the status.
store::Status create(store::Store& s, const std::string& name, const Value& v, bool* created = nullptr) {
    std::promise<std::pair<store::Status, bool>> p;
    s.create(name, v, [&](store::Status st, bool c) { p.set_value({std::move(st), c}); });
    auto [st, c] = p.get_future().get();
    if (created) *created = c;
    return st;
}
store::Status write(store::Store& s, const std::string& name, const Value& delta) {
    std::promise<store::Status> p;
    s.write(name, delta, [&](store::Status st) { p.set_value(std::move(st)); });
    return p.get_future().get();
}
Value value_delta(const Value& type_of, double v) {
    Value d(type_of.type_ptr());
    d["value"] = v;
    return d;
}

// Collects what a watcher receives.
struct Seen {
    std::mutex mu;
    std::vector<Value> updates;
    void operator()(const Value& u) {
        std::lock_guard lock(mu);
        updates.push_back(u.clone());
    }
    std::size_t size() {
        std::lock_guard lock(mu);
        return updates.size();
    }
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 5s) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        while (size() < n && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(2ms);
        return size() >= n;
    }
};

}  // namespace

TEST_CASE("redis store URLs are parsed, and bad ones are refused with the reason", "[store][redis]") {
    auto c = store::RedisConfig::from_url("redis://db.example:6380/3?prefix=beamline");
    CHECK(c.host == "db.example");
    CHECK(c.port == 6380);
    CHECK(c.db == 3);
    CHECK(c.prefix == "beamline");
    CHECK(store::RedisConfig::from_url("redis://[::1]:7000").host == "::1");
    CHECK(store::RedisConfig::from_url("redis://h").port == 6379);
    CHECK_THROWS_WITH(store::RedisConfig::from_url("http://h"), Catch::Contains("redis://"));
    CHECK_THROWS_WITH(store::RedisConfig::from_url("redis://h:0"), Catch::Contains("bad port"));
    CHECK_THROWS_WITH(store::RedisConfig::from_url("redis://h/x"), Catch::Contains("database"));
    CHECK_THROWS_WITH(store::open_store("mongo://h"), Catch::Contains("neither"));
}

TEST_CASE("a redis store creates, reads, writes, watches and removes channels", "[store][redis]") {
    test::RedisServer redis;
    if (!redis.available()) return;
    Seen seen;
    auto s = open_ready(redis);
    bool created = false;
    REQUIRE(create(*s, "r:a", scalar(1.5), &created).success());
    CHECK(created);
    CHECK(s->contains("r:a"));
    CHECK(s->read("r:a")["value"].as<double>() == 1.5);
    // again with the same type: exists, keeps its value
    REQUIRE(create(*s, "r:a", scalar(9), &created).success());
    CHECK_FALSE(created);
    CHECK(s->read("r:a")["value"].as<double>() == 1.5);
    // another type: refused, naming the channel
    const auto conflict = create(*s, "r:a", nt::NTScalar{TypeCode::Int32}.create(), &created);
    CHECK_FALSE(conflict.success());
    CHECK_THAT(conflict.message(), Catch::Contains("r:a") && Catch::Contains("another type"));

    auto h = s->watch("r:a", std::ref(seen));
    REQUIRE(h);
    const Value cur = s->read("r:a");
    REQUIRE(write(*s, "r:a", value_delta(cur, 2.5)).success());
    CHECK(s->read("r:a")["value"].as<double>() == 2.5);  // read-your-writes: complete means visible
    REQUIRE(seen.wait_for(1));
    CHECK(seen.updates[0]["value"].as<double>() == 2.5);
    CHECK(seen.updates[0]["value"].is_marked());
    CHECK_FALSE(seen.updates[0]["alarm.severity"].is_marked());

    CHECK_FALSE(write(*s, "r:none", value_delta(cur, 1)).success());
    std::promise<store::Status> removed;
    s->remove("r:a", [&](store::Status st) { removed.set_value(st); });
    CHECK(removed.get_future().get().success());
    CHECK_FALSE(s->contains("r:a"));
    CHECK(redis.cli("EXISTS pvwire:ch:r:a").find('0') != std::string::npos);
}

TEST_CASE("replicas sharing a redis store see every change in one order, partial puts merged", "[store][redis]") {
    test::RedisServer redis;
    if (!redis.available()) return;
    Seen on_b, on_c;  // outlive the stores: a change under way when a handle goes may still arrive
    auto a = open_ready(redis), b = open_ready(redis), c = open_ready(redis);
    REQUIRE(create(*a, "r:shared", scalar(0)).success());
    // b and c learn of the channel from the catalog message
    for (int i = 0; i < 500 && !(b->contains("r:shared") && c->contains("r:shared")); ++i) std::this_thread::sleep_for(2ms);
    REQUIRE(b->contains("r:shared"));
    REQUIRE(c->contains("r:shared"));
    auto hb = b->watch("r:shared", std::ref(on_b));
    auto hc = c->watch("r:shared", std::ref(on_c));
    const Value t = a->read("r:shared");

    // a and c write concurrently: 200 values of `value` from a, 200 alarm severities from c
    constexpr int n = 200;
    std::thread writer_a([&] {
        for (int i = 1; i <= n; ++i) REQUIRE(write(*a, "r:shared", value_delta(t, i)).success());
    });
    for (int i = 1; i <= n; ++i) {
        Value d(t.type_ptr());
        d["alarm.severity"] = i % 3;
        d["alarm.message"] = "m" + std::to_string(i);
        REQUIRE(write(*c, "r:shared", d).success());
    }
    writer_a.join();
    REQUIRE(on_b.wait_for(2 * n));
    REQUIRE(on_c.wait_for(2 * n));
    // both fields kept: no write lost to a read-modify-write race. a has no watcher to wait
    // on: its copy may still be taking c's last changes, so every copy gets until it converges
    for (auto* s : {a.get(), b.get(), c.get()}) {
        for (int i = 0; i < 2500 && s->read("r:shared")["alarm.message"].as<std::string>() != "m" + std::to_string(n); ++i)
            std::this_thread::sleep_for(2ms);
        const Value v = s->read("r:shared");
        CHECK(v["value"].as<double>() == n);
        CHECK(v["alarm.message"].as<std::string>() == "m" + std::to_string(n));
    }
    // b and c saw the same sequence: the order Redis applied
    REQUIRE(on_b.updates.size() == on_c.updates.size());
    double last_value = 0;
    for (std::size_t i = 0; i < on_b.updates.size(); ++i) {
        CHECK(on_b.updates[i]["value"].as<double>() == on_c.updates[i]["value"].as<double>());
        CHECK(on_b.updates[i]["alarm.message"].as<std::string>() == on_c.updates[i]["alarm.message"].as<std::string>());
        CHECK(on_b.updates[i]["value"].as<double>() >= last_value);  // a's puts in a's order
        last_value = on_b.updates[i]["value"].as<double>();
    }
}

TEST_CASE("a replica that joins late starts from a snapshot, then sees every later change", "[store][redis]") {
    test::RedisServer redis;
    if (!redis.available()) return;
    Seen seen;
    auto a = open_ready(redis);
    REQUIRE(create(*a, "r:late", scalar(0)).success());
    const Value t = a->read("r:late");
    for (int i = 1; i <= 50; ++i) REQUIRE(write(*a, "r:late", value_delta(t, i)).success());
    auto late = open_ready(redis);
    CHECK(late->read("r:late")["value"].as<double>() == 50);
    auto h = late->watch("r:late", std::ref(seen));
    for (int i = 51; i <= 60; ++i) REQUIRE(write(*a, "r:late", value_delta(t, i)).success());
    REQUIRE(seen.wait_for(10));
    for (int i = 0; i < 10; ++i) CHECK(seen.updates[i]["value"].as<double>() == 51 + i);
}

TEST_CASE("redis killed -9 under writes: no acknowledged write is lost, readers see INVALID meanwhile", "[store][redis]") {
    test::RedisServer redis;
    if (!redis.available()) return;
    Seen on_b;
    auto a = open_ready(redis), b = open_ready(redis);
    REQUIRE(create(*a, "r:durable", scalar(0)).success());
    for (int i = 0; i < 500 && !b->contains("r:durable"); ++i) std::this_thread::sleep_for(2ms);
    auto h = b->watch("r:durable", std::ref(on_b));
    const Value t = a->read("r:durable");

    // every write adds one to the stored version: after the restart it must lie between the
    // writes acknowledged and those plus the ones in doubt (reply lost in the kill)
    std::atomic<bool> stop{false};
    std::atomic<int> acked{0}, in_doubt{0}, refused{0}, last_acked{0};
    std::thread writer([&] {
        for (int i = 1; !stop; ++i) {
            const auto st = write(*a, "r:durable", value_delta(t, i));
            if (st.success()) {
                ++acked;
                last_acked = i;
            } else if (st.message().find("may have been applied") != std::string::npos) {
                ++in_doubt;
            } else {
                CHECK_THAT(st.message(), Catch::Contains("unreachable"));
                ++refused;
                std::this_thread::sleep_for(5ms);
            }
        }
    });
    while (acked < 200) std::this_thread::sleep_for(1ms);
    redis.stop(SIGKILL);
    // while it is down: writes fail, reads keep the last value marked INVALID. Each store
    // notices the loss on its own connections, b possibly after a: wait for both.
    for (int i = 0; i < 2500 && (a->reachable() || b->reachable()); ++i) std::this_thread::sleep_for(2ms);
    CHECK_FALSE(a->reachable());
    REQUIRE_FALSE(b->reachable());
    const Value down = b->read("r:durable");
    CHECK(down["alarm.severity"].as<int>() == 3);
    CHECK(down["alarm.message"].as<std::string>() == "store unreachable");
    REQUIRE(on_b.wait_for(1));
    const int refused_while_down = refused;
    std::this_thread::sleep_for(200ms);
    CHECK(refused > refused_while_down);  // refused at once, not queued

    redis.start();
    REQUIRE(a->wait_ready(15s));
    REQUIRE(b->wait_ready(15s));
    while (acked < 400) std::this_thread::sleep_for(1ms);  // and writing again
    stop = true;
    writer.join();
    const auto stored = std::stoull(redis.cli("HGET pvwire:ch:r:durable '#ver'"));
    WARN("writes acknowledged " << acked << ", in doubt " << in_doubt << ", refused " << refused
                                << ", stored version " << stored);
    CHECK(stored >= std::uint64_t(acked.load()));
    CHECK(stored <= std::uint64_t(acked + in_doubt));
    const Value after = b->read("r:durable");
    CHECK(after["value"].as<double>() == last_acked);
    CHECK(after["alarm.severity"].as<int>() == 0);
    CHECK(a->resync_count() >= 1);
}

TEST_CASE("data in redis that pvwire did not write is reported, never served or crashed on", "[store][redis]") {
    test::RedisServer redis;
    if (!redis.available()) return;
    auto a = open_ready(redis);
    REQUIRE(create(*a, "r:good", scalar(1)).success());
    // a channel whose type is garbage, and a leaf of a good channel overwritten with garbage
    redis.cli("HSET pvwire:ch:r:bad '#type' notmsgpack '#inc' 1 '#ver' 0");
    redis.cli("SADD pvwire:channels r:bad");
    redis.cli("HSET pvwire:ch:r:good value '\\xc1\\xc1'");
    auto b = open_ready(redis);
    CHECK_FALSE(b->contains("r:bad"));
    CHECK_FALSE(b->contains("r:good"));  // its stored value is unreadable
    CHECK(b->contains("r:good") == false);
    // a malformed change message is ignored; the store keeps serving
    redis.cli("PUBLISH pvwire:0:updates garbage");
    CHECK(a->read("r:good")["value"].as<double>() == 1);
    REQUIRE(write(*a, "r:good", value_delta(a->read("r:good"), 7)).success());
    CHECK(a->read("r:good")["value"].as<double>() == 7);
}

TEST_CASE("a subscriber connection redis drops at its output buffer limit is resynchronised from a snapshot",
          "[store][redis]") {
    test::RedisServer redis;
    if (!redis.available()) return;
    Seen on_b;  // outlives the stores: a change under way when the handle goes may still arrive
    std::atomic<int> stalls{0};
    auto a = open_ready(redis), b = open_ready(redis);
    Value arr = nt::NTScalarArray{TypeCode::Float64}.create();
    arr["value"].set(std::vector<double>(4096, 1.0));
    REQUIRE(create(*a, "r:burst", arr).success());
    for (int i = 0; i < 500 && !b->contains("r:burst"); ++i) std::this_thread::sleep_for(2ms);
    // b's watcher stalls its thread at the first updates, as an overloaded replica would, so
    // that the changes pile up in Redis for b's subscriber connection
    auto h = b->watch("r:burst", [&](const Value& u) {
        if (stalls++ < 3) std::this_thread::sleep_for(100ms);
        on_b(u);
    });
    // pub/sub clients are dropped as soon as 4 KiB of messages wait for them
    redis.cli("CONFIG SET client-output-buffer-limit 'pubsub 4096 0 0'");
    const auto resyncs_before = b->resync_count();
    std::atomic<int> outstanding{0};
    for (int i = 0; i < 300; ++i) {
        Value d(arr.type_ptr());
        d["value"].set(std::vector<double>(4096, double(i)));
        ++outstanding;
        a->write("r:burst", d, [&](store::Status) { --outstanding; });  // some in doubt when a's subscriber goes too
    }
    for (int i = 0; i < 2000 && outstanding > 0; ++i) std::this_thread::sleep_for(5ms);
    CHECK(outstanding == 0);
    redis.cli("CONFIG SET client-output-buffer-limit 'pubsub 32mb 8mb 60'");
    REQUIRE(b->wait_ready(15s));
    REQUIRE(a->wait_ready(15s));
    CHECK(b->resync_count() > resyncs_before);
    Value last(arr.type_ptr());
    last["value"].set(std::vector<double>(4096, 1000.0));
    REQUIRE(write(*a, "r:burst", last).success());
    // b converges on the last value, and its watcher was told
    for (int i = 0; i < 1000 && b->read("r:burst")["value"].as<std::vector<double>>()[0] != 1000.0; ++i)
        std::this_thread::sleep_for(2ms);
    CHECK(b->read("r:burst")["value"].as<std::vector<double>>()[0] == 1000.0);
    auto last_seen = [&] {
        std::lock_guard lock(on_b.mu);
        return on_b.updates.empty() ? -1.0 : on_b.updates.back()["value"].as<std::vector<double>>()[0];
    };
    for (int i = 0; i < 1000 && last_seen() != 1000.0; ++i) std::this_thread::sleep_for(2ms);
    CHECK(last_seen() == 1000.0);
}

TEST_CASE("replicas share out the names: each is owned by exactly one live replica", "[store][redis]") {
    test::RedisServer redis;
    if (!redis.available()) return;
    auto open_named = [&](const std::string& replica) {
        auto c = store::RedisConfig::from_url(redis.url());
        c.replica = replica;
        auto s = std::make_shared<store::RedisStore>(c);
        REQUIRE(s->wait_ready(10s));
        return s;
    };
    auto a = open_named("rep-a"), b = open_named("rep-b");
    auto c = open_named("rep-c");
    auto settled = [](const std::vector<std::shared_ptr<store::RedisStore>>& stores) {
        for (int i = 0; i < 300; ++i) {
            bool all = true;
            for (auto& s : stores) all = all && s->replicas().size() == stores.size();
            if (all) return true;
            std::this_thread::sleep_for(10ms);
        }
        return false;
    };
    REQUIRE(settled({a, b, c}));
    std::map<std::string, int> per_replica;
    for (int i = 0; i < 300; ++i) {
        const std::string name = "pv:" + std::to_string(i);
        const int owners = int(a->owns(name)) + int(b->owns(name)) + int(c->owns(name));
        CHECK(owners == 1);
        per_replica[a->owns(name) ? "a" : b->owns(name) ? "b" : "c"]++;
    }
    for (const auto& [replica, n] : per_replica) CHECK(n > 50);  // roughly a third each
    // c leaves: a and b take over its names within a heartbeat
    c.reset();
    REQUIRE(settled({a, b}));
    for (int i = 0; i < 300; ++i) {
        const std::string name = "pv:" + std::to_string(i);
        CHECK(int(a->owns(name)) + int(b->owns(name)) == 1);
    }
}
