// Server replicas sharing a RedisStore (a real redis-server), in one process: a put through one
// replica reaches a monitor on another, and a search sent to every replica over UDP is answered
// by exactly one of them (the owner of the name), so clients never see a PV served twice.
#include <catch2/catch.hpp>

#include "support/redis_server.hpp"

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/store_source.hpp>
#include <pvwire/store/redis_store.hpp>

#include <future>

using namespace pvwire;
using namespace std::chrono_literals;

namespace {

struct Replica {
    std::shared_ptr<store::RedisStore> store;
    std::unique_ptr<server::Server> srv;

    Replica(const test::RedisServer& redis, const std::string& name) {
        auto c = store::RedisConfig::from_url(redis.url());
        c.replica = name;
        store = std::make_shared<store::RedisStore>(c);
        REQUIRE(store->wait_ready(10s));
        srv = std::make_unique<server::Server>(net::ServerConfig::isolated());
        srv->add_source(std::make_shared<server::StoreSource>(store));
        srv->set_udp_search_filter([s = store](std::string_view n, bool to_all) { return s->owns(n, to_all); });
        srv->start();
    }
    std::string address() const { return "127.0.0.1:" + std::to_string(srv->tcp_port()); }
};

void settle(const std::vector<Replica*>& replicas) {
    for (int i = 0; i < 300; ++i) {
        bool all = true;
        for (auto* r : replicas) all = all && r->store->replicas().size() == replicas.size();
        if (all) return;
        std::this_thread::sleep_for(10ms);
    }
    FAIL("the replicas did not see each other within 3 s");
}

}  // namespace

TEST_CASE("replicas on one redis: a put through one reaches a monitor on another, one answer per search",
          "[e2e][redis]") {
    test::RedisServer redis;
    if (!redis.available()) return;
    Replica r1(redis, "r1"), r2(redis, "r2"), r3(redis, "r3");
    settle({&r1, &r2, &r3});
    for (int i = 0; i < 8; ++i) {
        std::promise<store::Status> p;
        r1.store->create("so:pv" + std::to_string(i), nt::NTScalar{TypeCode::Float64}.create(),
                         [&](store::Status st, bool) { p.set_value(st); });
        REQUIRE(p.get_future().get().success());
    }
    for (int i = 0; i < 500 && !(r2.store->contains("so:pv7") && r3.store->contains("so:pv7")); ++i)
        std::this_thread::sleep_for(2ms);

    // a monitor on r3, a put through r2
    client::Context ctx(net::ClientConfig{});
    client::MonitorOptions mo;
    mo.server = r3.address();
    auto sub = ctx.monitor("so:pv0", mo);
    client::OpOptions po;
    po.server = r2.address();
    ctx.put("so:pv0", {{"value", "12.5"}}, po);
    bool seen = false;
    for (int i = 0; i < 100 && !seen; ++i)
        for (auto& e : sub->wait(50ms))
            seen = seen || (e.kind == client::MonitorEvent::Kind::Data && e.value["value"].as<double>() == 12.5);
    CHECK(seen);

    // UDP searches sent to all three replicas (unicast to each: they share this host) are
    // answered by exactly one, the owner of the name
    net::ClientConfig searching;
    searching.auto_address_list = false;
    for (auto* r : {&r1, &r2, &r3})
        searching.address_list.emplace_back(boost::asio::ip::make_address("127.0.0.1"), r->srv->udp_port());
    client::Context finder(searching);
    for (int i = 0; i < 8; ++i) {
        const std::string name = "so:pv" + std::to_string(i);
        const auto before = std::array{r1.srv->stats().search_replies, r2.srv->stats().search_replies,
                                       r3.srv->stats().search_replies};
        CHECK(finder.get(name).value);
        const auto after = std::array{r1.srv->stats().search_replies, r2.srv->stats().search_replies,
                                      r3.srv->stats().search_replies};
        int answering = 0;
        for (int k = 0; k < 3; ++k) answering += after[k] > before[k];
        CHECK(answering == 1);
    }
}
