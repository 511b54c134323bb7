// The server's metrics: the counters of a client session, their Prometheus text, the status
// PVs, and the store write latency.
#include <catch2/catch.hpp>

#include "support/every_operation.hpp"

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/server/metrics.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>
#include <pvwire/store/store.hpp>

#include <regex>
#include <set>
#include <sstream>
#include <thread>

using namespace pvwire;
using namespace std::chrono_literals;

namespace {

std::uint64_t ops(const server::ServerStats& s, server::OpKind kind) {
    return s.operations[static_cast<std::size_t>(kind)];
}

// Polls `check` for up to 5 s (what the server counts on its strand may lag the reply).
template <class F> bool eventually(F check) {
    for (int i = 0; i < 100; ++i) {
        if (check()) return true;
        std::this_thread::sleep_for(50ms);
    }
    return check();
}

// A store that acknowledges writes only after `delay`: a stand-in for a networked store.
class SlowStore : public store::Store {
public:
    explicit SlowStore(std::chrono::milliseconds delay) : delay_(delay) {}
    void create(const std::string& name, const Value& initial, CreateDone done) override {
        inner_.create(name, initial, std::move(done));
    }
    Value read(std::string_view name) const override { return inner_.read(name); }
    void write(std::string_view name, const Value& delta, Done done) override {
        std::this_thread::sleep_for(delay_);
        inner_.write(name, delta, std::move(done));
    }
    std::shared_ptr<void> watch(std::string_view name, Watcher w) override { return inner_.watch(name, std::move(w)); }
    void remove(std::string_view name, Done done) override { inner_.remove(name, std::move(done)); }
    bool contains(std::string_view name) const override { return inner_.contains(name); }
    std::vector<std::string> names() const override { return inner_.names(); }
    std::shared_ptr<void> watch_catalog(CatalogWatcher w) override { return inner_.watch_catalog(std::move(w)); }

private:
    store::MemoryStore inner_;
    std::chrono::milliseconds delay_;
};

}  // namespace

TEST_CASE("a client session moves the connection, operation, byte and update counters", "[server][metrics]") {
    server::Server srv{net::ServerConfig::isolated()};
    auto pvs = test::add_test_pvs(srv);
    srv.start();
    const auto before = srv.stats();
    CHECK(before.connections_open == 0);
    CHECK(before.bytes_received == 0);
    {
        client::Context ctx(srv.client_config());
        test::check_every_operation(ctx, "");
        auto s = srv.stats();
        CHECK(s.connections_open == 1);
        CHECK(s.channels_open == 2);  // t:dbl and t:arr
        CHECK(s.operations_open >= 1);
        CHECK(ops(s, server::OpKind::get) >= 2);
        CHECK(ops(s, server::OpKind::put) >= 2);
        CHECK(ops(s, server::OpKind::put_get) == 1);
        CHECK(ops(s, server::OpKind::monitor) == 1);
        CHECK(ops(s, server::OpKind::array) == 2);
        CHECK(ops(s, server::OpKind::process) == 1);
        CHECK(ops(s, server::OpKind::rpc) == 1);
        CHECK(s.operation_errors == 1);  // the put refused as "too big"
        CHECK(s.errors() == 1);
        CHECK(s.bytes_received > 0);
        CHECK(s.bytes_sent > s.bytes_received);
        CHECK(s.monitor_updates_sent >= 2);  // the first value, then 42.25
    }
    REQUIRE(eventually([&] { return srv.stats().connections_open == 0; }));
    const auto after = srv.stats();
    // a closed connection's counts stay in the totals; its channels and operations are gone
    CHECK(after.channels_open == 0);
    CHECK(after.operations_open == 0);
    CHECK(ops(after, server::OpKind::rpc) == 1);
    CHECK(after.bytes_received > 0);
    CHECK(after.connections_accepted == 1);
}

TEST_CASE("every update posted to a monitored PV is either sent or squashed", "[server][metrics]") {
    server::Server srv{net::ServerConfig::isolated()};
    Value initial = nt::NTScalar{TypeCode::Float64}.create();
    auto pv = server::SharedPV::create("t:fast", initial);
    srv.add_pv("t:fast", pv);
    srv.start();
    client::Context ctx(srv.client_config());
    auto sub = ctx.monitor("t:fast");
    // the first (whole) value, before any post
    REQUIRE(eventually([&] { return srv.stats().monitor_updates_sent == 1; }));
    constexpr int posts = 500;
    for (int i = 1; i <= posts; ++i) {
        Value v = nt::NTScalar{TypeCode::Float64}.create();
        v["value"] = double(i);
        pv->post(v);
    }
    double last = 0;
    REQUIRE(eventually([&] {
        for (auto& e : sub->wait(10ms))
            if (e.kind == client::MonitorEvent::Kind::Data) last = e.value["value"].as<double>();
        return last == posts;
    }));
    REQUIRE(eventually([&] {
        const auto s = srv.stats();
        return s.monitor_updates_sent + s.monitor_updates_squashed == posts + 1;
    }));
    const auto s = srv.stats();
    CHECK(s.monitor_queue_fill >= 0.0);
    CHECK(s.monitor_queue_fill <= 1.0);
}

TEST_CASE("a refused channel counts as a channel error", "[server][metrics]") {
    auto cfg = net::ServerConfig::isolated();
    cfg.max_channels = 1;
    server::Server srv{cfg};
    test::add_test_pvs(srv);
    srv.start();
    client::Context ctx(srv.client_config());
    CHECK(ctx.get("t:dbl").value["value"].as<double>() == 1.5);
    client::OpOptions quick;
    quick.timeout = 2000ms;
    CHECK_THROWS(ctx.get("t:arr", quick));
    REQUIRE(eventually([&] { return srv.stats().channel_errors >= 1; }));
    const auto s = srv.stats();
    CHECK(s.channels_refused >= 1);
    CHECK(s.errors() >= 1);
}

TEST_CASE("the Prometheus text has a HELP and a TYPE line before each family's samples", "[server][metrics]") {
    server::ServerStats s;
    s.connections_open = 3;
    s.bytes_received = 1234;
    s.operations[static_cast<std::size_t>(server::OpKind::get)] = 7;
    s.operations[static_cast<std::size_t>(server::OpKind::put_get)] = 2;
    s.monitor_updates_squashed = 5;
    s.operation_errors = 4;
    s.monitor_queue_fill = 0.25;
    s.store_write_latency_p50 = 0.0015;
    const std::string text = server::format_prometheus(s);
    REQUIRE_FALSE(text.empty());
    CHECK(text.back() == '\n');

    const std::regex sample(R"(^(pvwire_[a-z_]+)(\{[a-z_]+="[a-z_0-9.]+"\})? (-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?)$)");
    const std::regex help(R"(^# HELP (pvwire_[a-z_]+) \S.*$)");
    const std::regex type(R"(^# TYPE (pvwire_[a-z_]+) (counter|gauge|summary)$)");
    std::set<std::string> typed;
    std::string helped, current;
    std::istringstream lines(text);
    int samples = 0;
    for (std::string line; std::getline(lines, line);) {
        std::smatch m;
        INFO(line);
        if (std::regex_match(line, m, help)) {
            helped = m[1];
        } else if (std::regex_match(line, m, type)) {
            CHECK(m[1] == helped);
            CHECK(typed.insert(m[1]).second);  // each family once
            current = m[1];
        } else {
            REQUIRE(std::regex_match(line, m, sample));
            CHECK(std::string(m[1]).rfind(current, 0) == 0);  // within its family (or _sum, _count)
            ++samples;
        }
    }
    CHECK(samples > 20);
    CHECK(text.find("pvwire_connections 3\n") != std::string::npos);
    CHECK(text.find("pvwire_bytes_received_total 1234\n") != std::string::npos);
    CHECK(text.find("pvwire_operations_total{kind=\"get\"} 7\n") != std::string::npos);
    CHECK(text.find("pvwire_operations_total{kind=\"put_get\"} 2\n") != std::string::npos);
    CHECK(text.find("pvwire_operations_total{kind=\"rpc\"} 0\n") != std::string::npos);
    CHECK(text.find("pvwire_monitor_updates_squashed_total 5\n") != std::string::npos);
    CHECK(text.find("pvwire_errors_total{kind=\"operation\"} 4\n") != std::string::npos);
    CHECK(text.find("pvwire_monitor_queue_fill 0.25\n") != std::string::npos);
    CHECK(text.find("pvwire_store_write_latency_seconds{quantile=\"0.5\"} 0.0015\n") != std::string::npos);
    CHECK(text.find("# TYPE pvwire_monitor_updates_sent_total counter\n") != std::string::npos);
}

TEST_CASE("metrics_text renders the server's own counters", "[server][metrics]") {
    server::Server srv{net::ServerConfig::isolated()};
    test::add_test_pvs(srv);
    srv.start();
    client::Context ctx(srv.client_config());
    CHECK(ctx.get("t:dbl").value["value"].as<double>() == 1.5);
    const std::string text = srv.metrics_text();
    CHECK(text.find("pvwire_connections 1\n") != std::string::npos);
    CHECK(text.find("pvwire_operations_total{kind=\"get\"} 1\n") != std::string::npos);
}

TEST_CASE("status PVs under the prefix serve the server's numbers and follow them", "[server][metrics]") {
    auto cfg = net::ServerConfig::isolated();
    cfg.status_prefix = "t:status";
    server::Server srv{cfg};
    test::add_test_pvs(srv);
    srv.start();
    client::Context ctx(srv.client_config());

    auto conns = ctx.get("t:status:connections").value;
    CHECK(conns.type().id() == "epics:nt/NTScalar:1.0");
    auto rate = ctx.get("t:status:bytes_in_rate").value;
    CHECK(rate["display.units"].as<std::string>() == "B/s");
    for (const char* name : {"channels", "operations", "bytes_in", "bytes_out", "bytes_out_rate", "ops:get", "ops:put",
                             "ops:put_get", "ops:monitor", "ops:array", "ops:process", "ops:rpc", "updates_sent",
                             "updates_squashed", "queue_fill", "errors", "store_latency_us"})
        CHECK(ctx.get(std::string("t:status:") + name).value);

    // our own gets show within a couple of refreshes
    const auto gets_before = ctx.get("t:status:ops:get").value["value"].as<std::uint64_t>();
    for (int i = 0; i < 3; ++i) ctx.get("t:dbl");
    CHECK(eventually([&] { return ctx.get("t:status:ops:get").value["value"].as<std::uint64_t>() >= gets_before + 3; }));
    CHECK(eventually([&] { return ctx.get("t:status:connections").value["value"].as<std::uint64_t>() == 1; }));

    try {
        ctx.put("t:status:errors", {{"", "0"}});
        FAIL("a status PV must refuse puts");
    } catch (const client::Error& e) {
        CHECK(e.code() == client::errc::remote_error);
    }
}

TEST_CASE("no status PVs without a prefix", "[server][metrics]") {
    server::Server srv{net::ServerConfig::isolated()};
    test::add_test_pvs(srv);
    srv.start();
    client::Context ctx(srv.client_config());
    client::OpOptions quick;
    quick.timeout = 1000ms;
    CHECK_THROWS(ctx.get(":connections", quick));
    CHECK(srv.stats().channels_open == 0);
}

TEST_CASE("writes to a networked store report their latency", "[server][metrics]") {
    server::Server srv{net::ServerConfig::isolated()};
    auto store = std::make_shared<SlowStore>(3ms);
    Value initial = nt::NTScalar{TypeCode::Float64}.create();
    auto pv = server::SharedPV::create("t:slow", initial, store);
    srv.add_pv("t:slow", pv);
    srv.start();
    const auto before = srv.stats();  // also starts an interval
    client::Context ctx(srv.client_config());
    for (int i = 0; i < 5; ++i) ctx.put("t:slow", {{"", std::to_string(i)}});
    std::this_thread::sleep_for(1100ms);  // the interval ends: the next stats() takes its median
    const auto s = srv.stats();
    CHECK(s.store_writes >= before.store_writes + 5);
    CHECK(s.store_write_latency_p50 >= 0.0025);
    CHECK(s.store_write_latency_p50 < 1.0);
    CHECK(s.store_write_seconds >= 5 * 0.003);
}
