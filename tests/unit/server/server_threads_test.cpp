// The server's threads (ServerConfig::threads, io_per_thread): PVWIRE_SERVER_THREADS and
// PVWIRE_SERVER_IO, connections dealt out over an io_context per thread, every operation
// working across them, and a clean stop.
#include <catch2/catch.hpp>

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <chrono>
#include <future>
#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <sched.h>

using namespace pvwire;
using namespace std::chrono_literals;

namespace {

// A PV whose PROCESS notes the thread it ran on (a connection's handler thread).
class WherePV final : public server::PVHandler {
public:
    TypePtr type() const override { return type_; }
    Value current() const override { return Value(type_); }
    void put(Value, const server::Peer&, Done done) override { done(wire::Status::error("read-only")); }
    std::shared_ptr<void> subscribe(Listener) override { return nullptr; }
    void process(const server::Peer&, Done done) override {
        {
            std::lock_guard lock(mu_);
            threads_.insert(std::this_thread::get_id());
        }
        done(wire::Status::ok());
    }
    std::size_t threads_seen() const {
        std::lock_guard lock(mu_);
        return threads_.size();
    }

private:
    TypePtr type_ = nt::NTScalar{TypeCode::Float64}.type();
    mutable std::mutex mu_;
    std::set<std::thread::id> threads_;
};

net::ServerConfig from(const std::map<std::string, std::string>& env) {
    return net::ServerConfig::from_env([&](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    });
}

}  // namespace

TEST_CASE("PVWIRE_SERVER_THREADS and PVWIRE_SERVER_IO set the server's threads; bad ones keep the default",
          "[server][threads]") {
    CHECK(net::ServerConfig{}.threads == 0);  // one per CPU less one
    cpu_set_t mine;
    CPU_ZERO(&mine);
    REQUIRE(sched_getaffinity(0, sizeof mine, &mine) == 0);
    CHECK(net::ServerConfig{}.thread_count() == unsigned(std::max(1, CPU_COUNT(&mine) - 1)));
    net::ServerConfig three;
    three.threads = 3;
    CHECK(three.thread_count() == 3);
    CHECK_FALSE(net::ServerConfig{}.io_per_thread);
    const auto good = from({{"PVWIRE_SERVER_THREADS", "4"}, {"PVWIRE_SERVER_IO", "per-thread"}});
    CHECK(good.threads == 4);
    CHECK(good.io_per_thread);
    CHECK(good.warnings.empty());
    CHECK(from({{"PVWIRE_SERVER_THREADS", "0"}}).threads == 0);
    const auto bad = from({{"PVWIRE_SERVER_THREADS", "many"}, {"PVWIRE_SERVER_IO", "pinned"}});
    CHECK(bad.threads == 0);
    CHECK_FALSE(bad.io_per_thread);
    REQUIRE(bad.warnings.size() == 2);
    CHECK(bad.warnings[0].find("PVWIRE_SERVER_THREADS='many'") != std::string::npos);
    CHECK(bad.warnings[1].find("PVWIRE_SERVER_IO='pinned' is neither shared nor per-thread") != std::string::npos);
    CHECK(good.describe().find("PVWIRE_SERVER_IO=per-thread") != std::string::npos);
}

TEST_CASE("an io_context per thread: connections are dealt out over the threads and every operation works across them",
          "[server][threads]") {
    auto cfg = net::ServerConfig::isolated();
    cfg.threads = 2;
    cfg.io_per_thread = true;
    server::Server srv(cfg);
    auto where = std::make_shared<WherePV>();
    srv.add_pv("th:where", where);
    auto pv = server::SharedPV::create("th:pv", nt::NTScalar{TypeCode::Float64}.create());
    srv.add_pv("th:pv", pv);
    srv.start();

    client::OpOptions o;
    o.server = "127.0.0.1:" + std::to_string(srv.tcp_port());
    o.timeout = 2s;
    std::vector<std::unique_ptr<client::Context>> clients;  // one connection each
    for (int i = 0; i < 4; ++i) {
        clients.push_back(std::make_unique<client::Context>(net::ClientConfig::isolated()));
        auto done = clients.back()->async_process("th:where", o, net::asio::use_future);
        REQUIRE(done.wait_for(5s) == std::future_status::ready);
        CHECK_FALSE(std::get<0>(done.get()));
    }
    CHECK(where->threads_seen() == 2);  // 4 connections in turn over 2 threads

    // a monitor on one connection sees a put made on another, on the other thread
    client::MonitorOptions mo;
    mo.server = o.server;
    auto sub = clients[1]->monitor("th:pv", mo);
    clients[0]->put("th:pv", {{"value", "2.5"}}, o);
    CHECK(clients[2]->get("th:pv", o).value["value"].as<double>() == 2.5);
    bool saw = false;
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (!saw && std::chrono::steady_clock::now() < until)
        for (const auto& e : sub->wait(100ms))
            saw = saw || (e.kind == client::MonitorEvent::Kind::Data && e.value["value"].as<double>() == 2.5);
    CHECK(saw);
    CHECK(srv.stats().connections_open == 4);

    const auto t0 = std::chrono::steady_clock::now();
    srv.stop();  // closes the connections on both threads and joins them
    CHECK(std::chrono::steady_clock::now() - t0 < 4s);
    // the clients see their connections closed
    CHECK_THROWS_AS(clients[3]->get("th:pv", o), client::Error);
}
