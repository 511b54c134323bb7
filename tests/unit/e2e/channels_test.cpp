// Every channel operation end to end on loopback: a pvwire client against a pvwire server.
#include <catch2/catch.hpp>

#include "support/every_operation.hpp"

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <thread>

using namespace pvwire;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

struct Fixture {
    server::Server srv{net::ServerConfig::isolated()};
    std::shared_ptr<server::SharedPV> dbl, arr, en, table, uni;
    std::unique_ptr<client::Context> ctx;

    Fixture() {
        auto common = test::add_test_pvs(srv);
        dbl = common.dbl;
        arr = common.arr;

        en = server::SharedPV::create("t:enum", nt::NTEnum{}.create({"Off", "On", "Auto"}, 1));
        srv.add_pv("t:enum", en);

        nt::NTTable tt;
        tt.add_column(TypeCode::Int32, "id").add_column(TypeCode::String, "tag");
        Value t = tt.create();
        t["value.id"].set(std::vector<int>{1, 2});
        t["value.tag"].set(std::vector<std::string>{"a", "b"});
        table = server::SharedPV::create("t:table", t);
        srv.add_pv("t:table", table);

        auto ut = TypeDesc::structure("", {{"u", TypeDesc::union_of("", {{"x", TypeDesc::scalar(TypeCode::Float64)},
                                                                         {"s", TypeDesc::scalar(TypeCode::String)}})},
                                           {"any", TypeDesc::any()}});
        Value uv(ut);
        uv["u"].select("s").set(std::string("hello"));
        uv["any"].set(std::int32_t(7));
        uni = server::SharedPV::create("t:union", uv);
        srv.add_pv("t:union", uni);

        srv.start();
        ctx = std::make_unique<client::Context>(srv.client_config());
    }
};

}  // namespace

TEST_CASE("get returns the served value, with the pvRequest mask applied", "[e2e][channels]") {
    Fixture f;
    auto r = f.ctx->get("t:dbl");
    CHECK(r.value["value"].as<double>() == 1.5);
    CHECK(r.value.type().id() == "epics:nt/NTScalar:1.0");
    auto masked = f.ctx->get("t:dbl", client::OpOptions{"field(value)", 5000ms});
    CHECK(masked.value["value"].as<double>() == 1.5);
    CHECK(masked.value["value"].is_marked());
    CHECK_FALSE(masked.value["alarm.severity"].is_marked());  // not sent
    // repeated gets on the same channel reuse the initialized operation
    for (int i = 0; i < 20; ++i) CHECK(f.ctx->get("t:dbl").value["value"].as<double>() == 1.5);
}

TEST_CASE("put writes fields, a handler may reject with a message", "[e2e][channels]") {
    Fixture f;
    f.ctx->put("t:dbl", {{"", "42.25"}});
    CHECK(f.ctx->get("t:dbl").value["value"].as<double>() == 42.25);
    f.ctx->put("t:dbl", {{"alarm.severity", "2"}});
    auto v = f.ctx->get("t:dbl").value;
    CHECK(v["alarm.severity"].as<int>() == 2);
    CHECK(v["value"].as<double>() == 42.25);
    try {
        f.ctx->put("t:dbl", {{"value", "5000"}});
        FAIL("the put should have been rejected");
    } catch (const client::Error& e) {
        CHECK(e.code() == client::errc::remote_error);
        CHECK(std::string(e.what()).find("too big") != std::string::npos);
    }
    CHECK(f.ctx->get("t:dbl").value["value"].as<double>() == 42.25);
}

TEST_CASE("arrays, enums, tables, unions and variants go both ways", "[e2e][channels]") {
    Fixture f;
    CHECK(f.ctx->get("t:arr").value["value"].as<std::vector<int>>() == std::vector<int>{1, 2, 3, 4, 5});
    f.ctx->put("t:arr", {{"value", "[9, 8, 7]"}});
    CHECK(f.ctx->get("t:arr").value["value"].as<std::vector<int>>() == std::vector<int>{9, 8, 7});

    CHECK(f.ctx->get("t:enum").value["value"].as<std::string>() == "On");
    f.ctx->put("t:enum", {{"value", "Auto"}});
    CHECK(f.ctx->get("t:enum").value["value.index"].as<int>() == 2);

    auto t = f.ctx->get("t:table").value;
    CHECK(t["value.tag"].as<std::vector<std::string>>() == std::vector<std::string>{"a", "b"});
    CHECK(t["labels"].as<std::vector<std::string>>() == std::vector<std::string>{"id", "tag"});

    auto u = f.ctx->get("t:union").value;
    CHECK(u["u"].selected_name() == "s");
    CHECK(u["u"].as<std::string>() == "hello");
    CHECK(u["any"].as<int>() == 7);
}

TEST_CASE("info returns the type, rpc calls the handler, process succeeds", "[e2e][channels]") {
    Fixture f;
    auto t = f.ctx->info("t:dbl");
    REQUIRE(t);
    CHECK(t->id() == "epics:nt/NTScalar:1.0");
    CHECK(t->member_index("display"));

    nt::NTURI uri;
    uri.add_arg(TypeCode::Float64, "a");
    Value arg = uri.create();
    arg["path"] = "t:dbl";
    arg["query.a"] = 21.0;
    CHECK(f.ctx->rpc("t:dbl", arg).value["value"].as<double>() == 42.0);
    try {
        f.ctx->rpc("t:arr", arg);
        FAIL("rpc on a PV without a handler must fail");
    } catch (const client::Error& e) {
        CHECK(e.code() == client::errc::remote_error);
    }
    auto fut = f.ctx->async_process("t:dbl", {}, asio::use_future);
    REQUIRE(fut.wait_for(5s) == std::future_status::ready);
    auto [ec, processed] = fut.get();
    CHECK_FALSE(ec);
    CHECK(processed.status.type == wire::Status::Type::Ok);
}

namespace {

// A PV whose PROCESS always fails, to see that the client reports a refused process.
class RefusingProcessPV final : public server::PVHandler {
public:
    TypePtr type() const override { return type_; }
    Value current() const override { return Value(type_); }
    void put(Value, const server::Peer&, Done done) override { done(wire::Status::error("read-only")); }
    std::shared_ptr<void> subscribe(Listener) override { return nullptr; }
    void process(const server::Peer&, Done done) override { done(wire::Status::error("interlock open")); }

private:
    TypePtr type_ = nt::NTScalar{TypeCode::Float64}.type();
};

}  // namespace

TEST_CASE("a process the PV refuses completes with remote_error and the PV's message", "[e2e][channels]") {
    Fixture f;
    f.srv.add_pv("t:interlocked", std::make_shared<RefusingProcessPV>());
    auto fut = f.ctx->async_process("t:interlocked", {}, asio::use_future);
    REQUIRE(fut.wait_for(5s) == std::future_status::ready);
    auto [ec, refused] = fut.get();
    CHECK(ec == client::errc::remote_error);
    CHECK(refused.status.message == "interlock open");
}

TEST_CASE("put-get writes and returns the new value, and array operations work on the value field", "[e2e][channels]") {
    Fixture f;
    Value v(f.dbl->type());
    v["value"] = 7.5;
    v["value"].mark();
    auto fut = f.ctx->async_put_get("t:dbl", v, {}, asio::use_future);
    REQUIRE(fut.wait_for(5s) == std::future_status::ready);
    auto [ec, res] = fut.get();
    CHECK_FALSE(ec);
    CHECK(res.value["value"].as<double>() == 7.5);

    using A = client::Context::ArrayAction;
    auto len = f.ctx->async_array("t:arr", A{A::Kind::GetLength, 0, 0, 1, 0, Value()}, {}, asio::use_future);
    REQUIRE(len.wait_for(5s) == std::future_status::ready);
    CHECK(std::get<1>(len.get()).length == 5);
    auto part = std::get<1>(f.ctx->async_array("t:arr", A{A::Kind::Get, 1, 3, 1, 0, Value()}, {}, asio::use_future).get());
    CHECK(part.value.as<std::vector<int>>() == std::vector<int>{2, 3, 4});
    Value put(TypeDesc::array(TypeCode::Int32));
    put.set(std::vector<int>{-1, -2});
    f.ctx->async_array("t:arr", A{A::Kind::Put, 3, 0, 1, 0, put}, {}, asio::use_future).get();
    CHECK(f.ctx->get("t:arr").value["value"].as<std::vector<int>>() == std::vector<int>{1, 2, 3, -1, -2});
    f.ctx->async_array("t:arr", A{A::Kind::SetLength, 0, 0, 1, 2, Value()}, {}, asio::use_future).get();
    CHECK(f.ctx->get("t:arr").value["value"].as<std::vector<int>>() == std::vector<int>{1, 2});
}

TEST_CASE("a monitor gets the value, then every change", "[e2e][channels]") {
    Fixture f;
    auto sub = f.ctx->monitor("t:dbl");
    std::vector<double> seen;
    auto drain = [&] {
        for (auto& e : sub->wait(200ms))
            if (e.kind == client::MonitorEvent::Kind::Data) seen.push_back(e.value["value"].as<double>());
    };
    for (int i = 0; i < 20 && seen.empty(); ++i) drain();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0] == 1.5);
    for (int i = 1; i <= 3; ++i) {
        f.ctx->put("t:dbl", {{"", std::to_string(i)}});
        for (int k = 0; k < 20 && seen.size() < std::size_t(i + 1); ++k) drain();
    }
    CHECK(seen == std::vector<double>{1.5, 1, 2, 3});
}

TEST_CASE("monitor event values stay as they were while held; pop(batch) reuses the batch", "[e2e][channels]") {
    // Updates decode into recycled storage once nobody holds it: values a consumer keeps
    // must never be rewritten by later updates.
    Fixture f;
    auto sub = f.ctx->monitor("t:dbl", client::MonitorOptions{"", 64, true});
    std::vector<client::MonitorEvent> batch;
    std::vector<Value> kept;
    auto drain = [&] {
        sub->pop(batch);
        for (auto& e : batch)
            if (e.kind == client::MonitorEvent::Kind::Data) kept.push_back(e.value);
    };
    for (int i = 0; i < 200 && kept.empty(); ++i) {
        std::this_thread::sleep_for(10ms);
        drain();
    }
    REQUIRE(kept.size() == 1);
    for (int i = 0; i < 40; ++i) {
        Value v(f.dbl->type());
        v["value"] = double(i);
        v["value"].mark();
        f.dbl->post(v);
        if (i % 8 == 0) drain();  // some values are taken while later ones are decoded
    }
    for (int i = 0; i < 200 && (kept.empty() || kept.back()["value"].as<double>() != 39); ++i) {
        std::this_thread::sleep_for(10ms);
        drain();
    }
    REQUIRE(kept.size() == 41);  // queue of 64: nothing squashed
    CHECK(kept[0]["value"].as<double>() == 1.5);
    for (int i = 0; i < 40; ++i) CHECK(kept[std::size_t(i) + 1]["value"].as<double>() == double(i));
    for (std::size_t i = 1; i < kept.size(); ++i) CHECK(kept[i].store() != kept[i - 1].store());
    CHECK(batch.capacity() > 0);
}

TEST_CASE("a slow monitor consumer stays bounded and always ends with the newest value", "[e2e][channels]") {
    Fixture f;
    auto sub = f.ctx->monitor("t:dbl", client::MonitorOptions{"", 4, true});
    for (int i = 0; i < 50 && sub->updates() == 0; ++i) std::this_thread::sleep_for(10ms);
    for (int i = 0; i < 500; ++i) {
        Value v(f.dbl->type());
        v["value"] = double(i);
        v["value"].mark();
        f.dbl->post(v);
    }
    double last = -1;
    std::size_t events = 0;
    for (int k = 0; k < 100 && last != 499; ++k)
        for (auto& e : sub->wait(50ms))
            if (e.kind == client::MonitorEvent::Kind::Data) {
                ++events;
                last = e.value["value"].as<double>();
            }
    CHECK(last == 499);
    CHECK(events < 500);          // squashed somewhere along the way
    CHECK(sub->updates() <= 501);
}

TEST_CASE("bad requests get an error status and leave the connection usable", "[e2e][channels]") {
    Fixture f;
    try {
        f.ctx->get("t:dbl", client::OpOptions{"field(nosuchfield)", 5000ms});
        FAIL("expected an error");
    } catch (const client::Error& e) {
        CHECK(e.code() == client::errc::remote_error);
        CHECK(std::string(e.what()).find("at least one field") != std::string::npos);
    }
    try {
        f.ctx->get("t:dbl", client::OpOptions{"field(value", 5000ms});
        FAIL("expected an error");
    } catch (const client::Error& e) {
        CHECK(e.code() == client::errc::bad_request);
    }
    try {
        f.ctx->put("t:dbl", {{"value", "not a number"}});
        FAIL("expected an error");
    } catch (const client::Error& e) {
        CHECK(e.code() == client::errc::bad_value);
    }
    try {
        f.ctx->get("t:nobody", client::OpOptions{"", 300ms});
        FAIL("expected a timeout");
    } catch (const client::Error& e) {
        CHECK(e.code() == client::errc::timeout);
    }
    CHECK(f.ctx->get("t:dbl").value["value"].as<double>() == 1.5);
}

TEST_CASE("operations complete through callbacks", "[e2e][channels]") {
    // futures: the tests above; coroutines: coroutine_test.cpp
    Fixture f;
    std::promise<double> p;
    f.ctx->async_get("t:dbl", {}, [&](std::error_code ec, client::Result r) {
        p.set_value(ec ? -1 : r.value["value"].as<double>());
    });
    auto got = p.get_future();
    REQUIRE(got.wait_for(5s) == std::future_status::ready);
    CHECK(got.get() == 1.5);
}

TEST_CASE("a PV removed from the server disconnects its monitors, which resume when it returns", "[e2e][channels]") {
    Fixture f;
    auto sub = f.ctx->monitor("t:dbl");
    auto kinds = [&](client::MonitorEvent::Kind want, int rounds = 50) {
        for (int i = 0; i < rounds; ++i)
            for (auto& e : sub->wait(100ms))
                if (e.kind == want) return true;
        return false;
    };
    REQUIRE(kinds(client::MonitorEvent::Kind::Data));
    f.srv.remove_pv("t:dbl");
    CHECK(kinds(client::MonitorEvent::Kind::Disconnected));
    f.srv.add_pv("t:dbl", f.dbl);
    f.ctx->get("t:arr");  // unrelated traffic
    CHECK(kinds(client::MonitorEvent::Kind::Data, 100));  // searched again, re-INIT, value again
}

TEST_CASE("dropping an operation handle cancels it and the completion says so", "[e2e][channels]") {
    Fixture f;
    // an RPC whose handler never answers: only cancelling ends it
    auto slow = server::SharedPV::create("t:slow", nt::NTScalar{TypeCode::Float64}.create());
    auto held = std::make_shared<std::vector<server::PVHandler::ResultDone>>();
    std::mutex m;
    slow->on_rpc([&, held](Value, const server::Peer&, server::PVHandler::ResultDone done) {
        std::lock_guard lock(m);
        held->push_back(std::move(done));
    });
    f.srv.add_pv("t:slow", slow);
    std::promise<std::error_code> result;
    auto op = f.ctx->rpc_op("t:slow", nt::NTURI{}.create(), client::OpOptions{"", 10000ms},
                            [&](std::error_code ec, client::Result) { result.set_value(ec); });
    for (int i = 0; i < 200; ++i) {
        {
            std::lock_guard lock(m);
            if (!held->empty()) break;
        }
        std::this_thread::sleep_for(10ms);
    }
    op.reset();  // drop the handle
    auto fut = result.get_future();
    REQUIRE(fut.wait_for(5s) == std::future_status::ready);
    CHECK(fut.get() == client::errc::cancelled);
    CHECK(f.ctx->get("t:dbl").value["value"].as<double>() == 1.5);  // the connection goes on
    std::lock_guard lock(m);
    for (auto& d : *held) d(wire::Status::ok(), Value());  // a late answer is dropped
}
