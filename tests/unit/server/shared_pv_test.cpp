// SharedPV's read-only switch, called directly (no server): a read-only PV refuses puts with a
// status naming it and keeps its value; switched back, it accepts them again.
#include <catch2/catch.hpp>

#include <pvwire/data/nt.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <optional>

using namespace pvwire;

namespace {

// The status a put of `value` to `pv` completes with (SharedPV without a put handler answers
// before put() returns).
wire::Status put_now(server::SharedPV& pv, double value) {
    Value v(pv.type());
    v["value"] = value;
    std::optional<wire::Status> answer;
    pv.put(v, server::Peer{}, [&](wire::Status st) { answer = std::move(st); });
    REQUIRE(answer);
    return *answer;
}

}  // namespace

TEST_CASE("a read-only SharedPV refuses puts and keeps its value until it is writable again", "[server][sharedpv]") {
    Value initial = nt::NTScalar{TypeCode::Float64}.create();
    initial["value"] = 1.0;
    auto pv = server::SharedPV::create("ro:pv", initial);
    CHECK_FALSE(pv->read_only());

    pv->set_read_only(true);
    CHECK(pv->read_only());
    const auto refused = put_now(*pv, 2.0);
    CHECK_FALSE(refused.success());
    CHECK(refused.message.find("ro:pv") != std::string::npos);
    CHECK(pv->current()["value"].as<double>() == 1.0);

    pv->set_read_only(false);
    CHECK(put_now(*pv, 3.0).success());
    CHECK(pv->current()["value"].as<double>() == 3.0);
}
