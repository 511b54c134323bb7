// End to end over IPv6 loopback (::1): search, search reply and connection, and beacons. The
// IPv4 side of the same server keeps working beside it. Multicast over IPv6 needs an interface
// with IFF_MULTICAST, which loopback is not: tools/pvwire/tests/ipv6_multicast.sh covers it in
// a network namespace.
#include <catch2/catch.hpp>

#include "../../support/eventually.hpp"
#include "../../support/precondition.hpp"

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

using namespace pvwire;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using net::udp;

namespace {

const asio::ip::address v6_loopback = asio::ip::address_v6::loopback();

bool host_has_ipv6_loopback() {
    asio::io_context io;
    boost::system::error_code ec;
    udp::socket s(io);
    s.open(udp::v6(), ec);
    if (!ec) s.bind(udp::endpoint(v6_loopback, 0), ec);
    return !ec;
}

// A server on 127.0.0.1 and ::1 (ephemeral ports) serving `name` = 2.5.
std::unique_ptr<server::Server> dual_stack_server(const std::string& name) {
    auto cfg = net::ServerConfig::isolated();
    cfg.interfaces = {asio::ip::address_v4::loopback(), v6_loopback};
    cfg.beacon_address_list.clear();
    auto srv = std::make_unique<server::Server>(cfg);
    auto value = nt::NTScalar{TypeCode::Float64}.create();
    value["value"].set(2.5);
    srv->add_pv(name, server::SharedPV::create(name, value));
    srv->start();
    return srv;
}

net::ClientConfig client_searching(const udp::endpoint& where) {
    auto c = net::ClientConfig::isolated();
    c.address_list = {where};
    return c;
}

}  // namespace

TEST_CASE("a client searching [::1] finds the server, connects over IPv6 and gets the value", "[e2e][ipv6]") {
    if (!host_has_ipv6_loopback()) return test::missing_precondition("IPv6 loopback (::1)");
    auto srv = dual_stack_server("six:value");
    client::Context ctx(client_searching(udp::endpoint(v6_loopback, srv->udp_port())));
    auto ch = ctx.channel("six:value");
    REQUIRE(ch->wait_connected(5000ms));
    REQUIRE(ch->server());
    // the reply said "use my source address": the client took ::1 from the datagram
    CHECK(ch->server()->address() == v6_loopback);
    CHECK(ch->server()->port() == srv->tcp_port());
    CHECK(ctx.get("six:value").value["value"].as<double>() == 2.5);
    CHECK(srv->stats().search_replies >= 1);
}

TEST_CASE("the same server still answers IPv4 searches and serves IPv4 clients", "[e2e][ipv6]") {
    if (!host_has_ipv6_loopback()) return test::missing_precondition("IPv6 loopback (::1)");
    auto srv = dual_stack_server("six:value");
    client::Context ctx(client_searching(udp::endpoint(asio::ip::address_v4::loopback(), srv->udp_port())));
    auto ch = ctx.channel("six:value");
    REQUIRE(ch->wait_connected(5000ms));
    CHECK(ch->server()->address() == asio::ip::address(asio::ip::address_v4::loopback()));
    CHECK(ctx.get("six:value").value["value"].as<double>() == 2.5);
}

TEST_CASE("beacons sent to [::1] reach the client's IPv6 beacon socket", "[e2e][ipv6]") {
    if (!host_has_ipv6_loopback()) return test::missing_precondition("IPv6 loopback (::1)");
    client::Context ctx(net::ClientConfig::isolated());
    auto cfg = net::ServerConfig::isolated();
    cfg.beacon_period = 0.2;
    cfg.beacon_burst = 1000;
    // IPv6 only: an IPv4 beacon would count too
    cfg.beacon_address_list = {udp::endpoint(v6_loopback, ctx.beacon_port())};
    server::Server srv(cfg);
    srv.start();
    CHECK(test::eventually([&] { return ctx.stats().beacons >= 2; }));
    CHECK(ctx.stats().servers_noticed >= 1);
    CHECK(srv.stats().beacons >= 2);
}
