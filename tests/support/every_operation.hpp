// Shared by the transport tests: a server with a few PVs, and every client operation run
// against it through one server address.
#pragma once

#include <catch2/catch.hpp>

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <chrono>
#include <future>
#include <string>

namespace pvwire::test {

using namespace std::chrono_literals;
namespace asio = boost::asio;

struct TestPVs {
    std::shared_ptr<server::SharedPV> dbl, arr;
};

// Serves "t:dbl" (a double with a put handler refusing > 1000 and an rpc doubling query.a) and
// "t:arr" (int32 [1..5]).
inline TestPVs add_test_pvs(server::Server& srv) {
    Value d = nt::NTScalar{TypeCode::Float64, true}.create();
    d["value"] = 1.5;
    auto dbl = server::SharedPV::create("t:dbl", d);
    dbl->on_put([](Value& v, const server::Peer&, server::PVHandler::Done done) {
        if (v["value"].is_marked() && v["value"].as<double>() > 1000) return done(wire::Status::error("too big"));
        done(wire::Status::ok());
    });
    dbl->on_rpc([](Value arg, const server::Peer&, server::PVHandler::ResultDone done) {
        Value r = nt::NTScalar{TypeCode::Float64}.create();
        r["value"] = arg.field("query.a").as<double>() * 2;
        done(wire::Status::ok(), r);
    });
    srv.add_pv("t:dbl", dbl);
    Value a = nt::NTScalarArray{TypeCode::Int32}.create();
    a["value"].set(std::vector<int>{1, 2, 3, 4, 5});
    auto arr = server::SharedPV::create("t:arr", a);
    srv.add_pv("t:arr", arr);
    return {dbl, arr};
}

template <class Future> auto ready(Future f) {
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    return f.get();
}

// Every operation through `ctx` on the server at `server` (an address text).
inline void check_every_operation(client::Context& ctx, const std::string& server) {
    client::OpOptions o;
    o.server = server;
    CHECK(ctx.get("t:dbl", o).value["value"].as<double>() == 1.5);

    auto sub_options = client::MonitorOptions{};
    sub_options.server = server;
    auto sub = ctx.monitor("t:dbl", sub_options);

    ctx.put("t:dbl", {{"", "42.25"}}, o);
    CHECK(ctx.get("t:dbl", o).value["value"].as<double>() == 42.25);
    try {
        ctx.put("t:dbl", {{"", "5000"}}, o);
        FAIL("the put should have been rejected");
    } catch (const client::Error& e) {
        CHECK(e.code() == client::errc::remote_error);
    }

    std::vector<double> seen;
    for (int i = 0; i < 50 && (seen.empty() || seen.back() != 42.25); ++i)
        for (auto& e : sub->wait(100ms))
            if (e.kind == client::MonitorEvent::Kind::Data) seen.push_back(e.value["value"].as<double>());
    REQUIRE_FALSE(seen.empty());
    CHECK(seen.back() == 42.25);

    auto type = ctx.info("t:dbl", o);
    REQUIRE(type);
    CHECK(type->id() == "epics:nt/NTScalar:1.0");

    nt::NTURI uri;
    uri.add_arg(TypeCode::Float64, "a");
    Value arg = uri.create();
    arg["query.a"] = 21.0;
    CHECK(ctx.rpc("t:dbl", arg, o).value["value"].as<double>() == 42.0);

    Value v = nt::NTScalar{TypeCode::Float64, true}.create();
    v["value"] = 7.5;
    v["value"].mark();
    auto [ec, res] = ready(ctx.async_put_get("t:dbl", v, o, asio::use_future));
    CHECK_FALSE(ec);
    CHECK(res.value["value"].as<double>() == 7.5);
    CHECK_FALSE(std::get<0>(ready(ctx.async_process("t:dbl", o, asio::use_future))));

    using A = client::Context::ArrayAction;
    auto len = ready(ctx.async_array("t:arr", A{A::Kind::GetLength, 0, 0, 1, 0, Value()}, o, asio::use_future));
    CHECK(std::get<1>(len).length == 5);
    auto part = ready(ctx.async_array("t:arr", A{A::Kind::Get, 1, 3, 1, 0, Value()}, o, asio::use_future));
    CHECK(std::get<1>(part).value.as<std::vector<int>>() == std::vector<int>{2, 3, 4});
}

}  // namespace pvwire::test
