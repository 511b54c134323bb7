// ClientProxySource end to end: a pvwire server upstream, a gateway server whose source
// forwards through a pvwire client, and downstream pvwire clients of the gateway.
#include <catch2/catch.hpp>

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/server/proxy_source.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <algorithm>
#include <thread>

using namespace pvwire;
using namespace std::chrono_literals;

namespace {

// True once `f` holds, polling for up to `limit`.
template <class F> bool eventually(F f, std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!f()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

Value scalar(TypeCode code, const auto& v) {
    Value x = nt::NTScalar{code}.create();
    x["value"].set(v);
    return x;
}

// An upstream server with a double PV "up:dbl" (or an int32 one) and a string PV "up:str",
// on given TCP and UDP ports (0: any) so that a restarted one is found at the same address.
struct Upstream {
    std::unique_ptr<server::Server> srv;
    std::shared_ptr<server::SharedPV> dbl;

    explicit Upstream(std::uint16_t tcp_port = 0, bool dbl_is_int = false, std::uint16_t udp_port = 0) {
        auto cfg = net::ServerConfig::isolated();
        cfg.server_port = tcp_port;
        cfg.broadcast_port = udp_port;
        srv = std::make_unique<server::Server>(cfg);
        dbl = server::SharedPV::create("up:dbl", dbl_is_int ? scalar(TypeCode::Int32, std::int32_t(7))
                                                            : scalar(TypeCode::Float64, 1.5));
        srv->add_pv("up:dbl", dbl);
        srv->add_pv("up:str", server::SharedPV::create("up:str", scalar(TypeCode::String, std::string("hi"))));
        srv->add_pv("other:pv", server::SharedPV::create("other:pv", scalar(TypeCode::Float64, 2.0)));
        srv->start();
    }
    std::string address() const { return "127.0.0.1:" + std::to_string(srv->tcp_port()); }
};

// The gateway: a server whose only source is a ClientProxySource on `options`.
struct Gateway {
    std::shared_ptr<client::Context> upstream_client;
    std::shared_ptr<server::ClientProxySource> proxy;
    server::Server srv{net::ServerConfig::isolated()};

    Gateway(net::ClientConfig upstream_config, server::ProxyOptions options) {
        upstream_client = std::make_shared<client::Context>(std::move(upstream_config));
        proxy = server::ClientProxySource::create(upstream_client, std::move(options));
        proxy->on_close_channels([this](const std::string& name) { srv.remove_pv(name); });
        srv.add_source(proxy);
        srv.start();
    }
    ~Gateway() {
        proxy->on_close_channels(nullptr);
        srv.stop();
    }
};

server::ProxyOptions names(std::vector<std::string> n, std::string server = {}) {
    server::ProxyOptions o;
    o.names = std::move(n);
    o.server = std::move(server);
    return o;
}

}  // namespace

TEST_CASE("gateway: names and globs admitted", "[server][gateway]") {
    auto ctx = std::make_shared<client::Context>(net::ClientConfig::isolated());
    auto p = server::ClientProxySource::create(ctx, names({"a:exact", "b:*", "c:?x", "d:[12]"}));
    CHECK(p->admits("a:exact"));
    CHECK_FALSE(p->admits("a:exact2"));
    CHECK(p->admits("b:anything:at:all"));
    CHECK(p->admits("c:1x"));
    CHECK_FALSE(p->admits("c:12x"));
    CHECK(p->admits("d:2"));
    CHECK_FALSE(p->admits("d:3"));
    CHECK_FALSE(p->claims("zzz"));
    CHECK(p->open("zzz", {}) == nullptr);
    // the exact name is listed (and being connected) from the start
    CHECK(p->names() == std::vector<std::string>{"a:exact"});
    CHECK(p->stats().upstream == 1);
}

TEST_CASE("gateway: get, put, rpc forwarded; names outside the list refused", "[server][gateway]") {
    Upstream up;
    Gateway gw(up.srv->client_config(), names({"up:dbl", "up:str"}));
    client::Context down(gw.srv.client_config());

    auto r = down.get("up:dbl");
    CHECK(r.value["value"].as<double>() == 1.5);
    CHECK(r.value.type().id() == "epics:nt/NTScalar:1.0");
    CHECK(down.get("up:str").value["value"].as<std::string>() == "hi");

    down.put("up:dbl", {{"", "4.25"}});
    CHECK(up.dbl->current()["value"].as<double>() == 4.25);
    CHECK(eventually([&] { return down.get("up:dbl").value["value"].as<double>() == 4.25; }));

    // upstream's refusal reaches the downstream client with upstream's message
    up.dbl->on_put([](Value&, const server::Peer&, server::PVHandler::Done done) {
        done(wire::Status::error("not today"));
    });
    try {
        down.put("up:dbl", {{"", "5"}});
        FAIL("the put should have been refused");
    } catch (const client::Error& e) {
        CHECK(std::string(e.what()).find("not today") != std::string::npos);
    }

    // served upstream, not admitted: the gateway never answers
    CHECK_THROWS_AS(down.get("other:pv", client::OpOptions{"", 1500ms}), client::Error);
    CHECK(gw.proxy->stats().upstream == 2);
}

TEST_CASE("gateway: a glob connects on the first search, answers the next", "[server][gateway]") {
    Upstream up;
    Gateway gw(up.srv->client_config(), names({"up:*"}));
    CHECK(gw.proxy->stats().upstream == 0);
    client::Context down(gw.srv.client_config());
    CHECK(down.get("up:str", client::OpOptions{"", 10000ms}).value["value"].as<std::string>() == "hi");
    CHECK(gw.proxy->stats().connected == 1);
    CHECK(gw.proxy->names() == std::vector<std::string>{"up:str"});
}

TEST_CASE("gateway: monitors of several clients share one upstream monitor", "[server][gateway]") {
    Upstream up;
    Gateway gw(up.srv->client_config(), names({"up:dbl"}));
    std::vector<std::unique_ptr<client::Context>> clients;
    std::vector<std::shared_ptr<client::Subscription>> subs;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(std::make_unique<client::Context>(gw.srv.client_config()));
        subs.push_back(clients.back()->monitor("up:dbl"));
    }
    REQUIRE(eventually([&] { return gw.proxy->stats().subscribers == 3; }));
    CHECK(gw.proxy->stats().monitors == 1);
    for (int k = 1; k <= 5; ++k) {
        Value v = up.dbl->current().clone();
        v.unmark();
        v["value"].set(double(k));
        up.dbl->post(v);
        std::this_thread::sleep_for(5ms);
    }
    for (auto& s : subs) {
        std::vector<double> seen;
        REQUIRE(eventually([&] {
            for (auto& e : s->pop())
                if (e.kind == client::MonitorEvent::Kind::Data) seen.push_back(e.value["value"].as<double>());
            return !seen.empty() && seen.back() == 5.0;
        }));
        // in order, maybe squashed (newest wins)
        CHECK(std::is_sorted(seen.begin() + 1, seen.end()));
        CHECK(seen.front() == 1.5);  // the first update is the whole current value
    }
    subs.clear();
    CHECK(eventually([&] { return gw.proxy->stats().subscribers == 0; }));
}

TEST_CASE("gateway: upstream lost closes downstream channels; it comes back, with a new type too",
          "[server][gateway]") {
    auto up = std::make_unique<Upstream>();
    const std::uint16_t port = up->srv->tcp_port();
    const std::string addr = up->address();
    Gateway gw(net::ClientConfig::isolated(), names({"up:dbl"}, addr));
    client::Context down(gw.srv.client_config());
    auto sub = down.monitor("up:dbl");
    std::vector<client::MonitorEvent> events;
    auto saw = [&](client::MonitorEvent::Kind k) {
        return eventually([&] {
            for (auto& e : sub->pop()) events.push_back(std::move(e));
            return std::any_of(events.begin(), events.end(), [&](const auto& e) { return e.kind == k; });
        }, 10000ms);
    };
    REQUIRE(saw(client::MonitorEvent::Kind::Data));
    CHECK(events.back().value["value"].as<double>() == 1.5);

    up.reset();  // upstream gone
    events.clear();
    CHECK(saw(client::MonitorEvent::Kind::Disconnected));
    CHECK(gw.proxy->stats().connected == 0);
    CHECK_THROWS_AS(down.get("up:dbl", client::OpOptions{"", 500ms}), client::Error);

    // back at the same address, now an int32: the downstream monitor reconnects with that type
    up = std::make_unique<Upstream>(port, true);
    events.clear();
    REQUIRE(saw(client::MonitorEvent::Kind::Data));
    const auto& data = *std::find_if(events.begin(), events.end(),
                                     [](const auto& e) { return e.kind == client::MonitorEvent::Kind::Data; });
    CHECK(data.value["value"].code() == TypeCode::Int32);
    CHECK(data.value["value"].as<int>() == 7);
    CHECK(down.get("up:dbl").value["value"].as<int>() == 7);
}

TEST_CASE("gateway: an upstream that changes type while connected closes downstream channels",
          "[server][gateway]") {
    Upstream up;
    Gateway gw(up.srv->client_config(), names({"up:dbl"}));
    client::Context down(gw.srv.client_config());
    CHECK(down.get("up:dbl").value["value"].as<double>() == 1.5);
    // the same server serves another PV of that name, of another type
    auto other = server::SharedPV::create("up:dbl2", scalar(TypeCode::String, std::string("s")));
    up.srv->remove_pv("up:dbl");  // upstream closes the gateway's channel; it searches again
    up.srv->add_pv("up:dbl", other);
    CHECK(eventually([&] {
        try {
            return down.get("up:dbl", client::OpOptions{"", 500ms}).value["value"].code() == TypeCode::String;
        } catch (const client::Error&) {
            return false;
        }
    }, 10000ms));
}

TEST_CASE("gateway: unused upstream names matched by a glob are dropped", "[server][gateway]") {
    Upstream up;
    server::ProxyOptions o = names({"up:*"});
    o.idle = 2000ms;  // longer than the downstream client's first search retry
    Gateway gw(up.srv->client_config(), o);
    {
        client::Context down(gw.srv.client_config());
        CHECK(down.get("up:str", client::OpOptions{"", 10000ms}).value["value"].as<std::string>() == "hi");
        CHECK(gw.proxy->stats().monitors == 1);
    }  // the downstream client and its channel go
    CHECK(eventually([&] { return gw.proxy->stats().upstream == 0; }, 10000ms));
}

TEST_CASE("gateway: on the same search port as its upstream, it never answers itself", "[server][gateway]") {
    auto up = std::make_unique<Upstream>();
    const std::uint16_t tcp = up->srv->tcp_port(), udp = up->srv->udp_port();
    // the gateway shares the upstream's UDP search port, as servers of one host share 5076,
    // and searches there for its upstream names
    auto gw_cfg = net::ServerConfig::isolated();
    gw_cfg.broadcast_port = udp;
    auto upstream_client = std::make_shared<client::Context>(up->srv->client_config());
    auto proxy = server::ClientProxySource::create(upstream_client, names({"up:*"}));
    server::Server gw(gw_cfg);
    proxy->on_close_channels([&gw](const std::string& name) { gw.remove_pv(name); });
    gw.add_source(proxy);
    gw.start();
    REQUIRE(gw.udp_port() == udp);

    client::Context down(up->srv->client_config());  // searches the shared port: both answer
    CHECK(down.get("up:str", client::OpOptions{"", 10000ms}).value["value"].as<std::string>() == "hi");
    REQUIRE(eventually([&] { return proxy->stats().connected == 1; }, 10000ms));

    up.reset();
    // the gateway's client searches again; its own server must not claim the name it lost
    std::this_thread::sleep_for(1500ms);
    CHECK(proxy->stats().connected == 0);
    CHECK_THROWS_AS(down.get("up:str", client::OpOptions{"", 500ms}), client::Error);

    up = std::make_unique<Upstream>(tcp, false, udp);
    CHECK(eventually([&] { return proxy->stats().connected == 1; }, 10000ms));
    proxy->on_close_channels(nullptr);
    gw.stop();
}
