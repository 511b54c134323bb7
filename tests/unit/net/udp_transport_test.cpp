// UdpTransport on loopback: port sharing, destination addresses (IP_PKTINFO), local
// multicast, and the bounded send queue.
#include <catch2/catch.hpp>

#include "transport_test_support.hpp"
#include "../../support/precondition.hpp"

#include <pvwire/net/udp_transport.hpp>

#include <string>

using namespace pvwire;
using namespace pvwire::net;
using namespace pvwire::net::test;
using namespace std::chrono_literals;

namespace {

const auto loopback = asio::ip::address_v4::loopback();

struct Received {
    std::vector<std::byte> bytes;
    udp::endpoint from;
    std::optional<asio::ip::address> to;
};

UdpTransport::Handler collect(std::vector<Received>& into) {
    return [&into](const Datagram& d) { into.push_back({{d.bytes.begin(), d.bytes.end()}, d.from, d.to}); };
}

std::vector<std::byte> text(const std::string& s) {
    std::vector<std::byte> out(s.size());
    std::memcpy(out.data(), s.data(), s.size());
    return out;
}

}  // namespace

TEST_CASE("udp: two sockets share a port and a datagram arrives with its destination address", "[net][udp]") {
    asio::io_context io;
    auto first = UdpTransport::open(io.get_executor(), udp::endpoint(loopback, 0));
    const auto port = first->local_endpoint().port();
    REQUIRE(port != 0);
    // SO_REUSEPORT: a second socket binds the same port.
    std::shared_ptr<UdpTransport> second;
    REQUIRE_NOTHROW(second = UdpTransport::open(io.get_executor(), udp::endpoint(loopback, port)));
    CHECK(second->local_endpoint().port() == port);

    std::vector<Received> got1, got2;
    first->start(collect(got1));
    second->start(collect(got2));
    auto sender = UdpTransport::open(io.get_executor(), udp::endpoint(loopback, 0));
    sender->start([](const Datagram&) {});
    REQUIRE(sender->send_to(text("hello"), udp::endpoint(loopback, port)));
    REQUIRE(run_until(io, [&] { return got1.size() + got2.size() == 1; }, 5s));
    const auto& d = got1.empty() ? got2.front() : got1.front();
    CHECK(d.bytes == text("hello"));
    CHECK(d.from == sender->local_endpoint());
    REQUIRE(d.to);
    CHECK(*d.to == asio::ip::address(loopback));

    for (auto& t : {first, second, sender}) t->close();
    settle(io);
}

TEST_CASE("udp: without reuse_port a second bind of the port fails", "[net][udp]") {
    asio::io_context io;
    UdpOptions exclusive;
    exclusive.reuse_port = false;
    auto first = UdpTransport::open(io.get_executor(), udp::endpoint(loopback, 0), exclusive);
    CHECK_THROWS_AS(UdpTransport::open(io.get_executor(), udp::endpoint(loopback, first->local_endpoint().port()),
                                       exclusive),
                    boost::system::system_error);
}

TEST_CASE("udp: a multicast to 224.0.0.128 is delivered on loopback", "[net][udp]") {
    asio::io_context io;
    const auto group = asio::ip::make_address_v4("224.0.0.128");
    // Probe: can this host join the group on loopback at all?
    {
        udp::socket probe(io, udp::v4());
        boost::system::error_code ec;
        probe.set_option(asio::ip::multicast::join_group(group, loopback), ec);
        if (ec) {
            pvwire::test::missing_precondition("multicast join on loopback refused by the OS (" + ec.message() + ")");
            return;
        }
    }
    UdpOptions options;
    options.multicast_groups = {group};
    // Bound to the group itself: the membership stays on loopback.
    auto receiver = UdpTransport::open(io.get_executor(), udp::endpoint(group, 0), options);
    const auto port = receiver->local_endpoint().port();
    std::vector<Received> got;
    receiver->start(collect(got));
    auto sender = UdpTransport::open(io.get_executor(), udp::endpoint(loopback, 0));
    sender->start([](const Datagram&) {});
    REQUIRE(sender->send_to(text("fan-out"), udp::endpoint(group, port)));
    REQUIRE(run_until(io, [&] { return got.size() == 1; }, 5s));
    CHECK(got[0].bytes == text("fan-out"));
    CHECK(got[0].from == sender->local_endpoint());
    REQUIRE(got[0].to);
    CHECK(*got[0].to == asio::ip::address(group));
    CHECK(sender->dropped_sends() == 0);
}

TEST_CASE("udp: sends beyond max_queued_sends are dropped and counted", "[net][udp]") {
    asio::io_context io;
    auto receiver = UdpTransport::open(io.get_executor(), udp::endpoint(loopback, 0));
    std::vector<Received> got;
    receiver->start(collect(got));
    UdpOptions options;
    options.max_queued_sends = 4;
    auto sender = UdpTransport::open(io.get_executor(), udp::endpoint(loopback, 0), options);
    // Nothing runs until io does: the queue holds 4, the rest is dropped.
    int accepted = 0;
    for (int i = 0; i < 10; ++i) accepted += sender->send_to(text(std::to_string(100 + i)), receiver->local_endpoint());
    CHECK(accepted == 4);
    CHECK(sender->dropped_sends() == 6);
    REQUIRE(run_until(io, [&] { return got.size() == 4; }, 5s));
    for (int i = 0; i < 4; ++i) CHECK(got[std::size_t(i)].bytes == text(std::to_string(100 + i)));
    // The queue drained: sending works again.
    CHECK(sender->send_to(text("again"), receiver->local_endpoint()));
    REQUIRE(run_until(io, [&] { return got.size() == 5; }, 5s));
    CHECK(sender->dropped_sends() == 6);
}

TEST_CASE("udp: after close nothing is delivered and sends are refused", "[net][udp]") {
    asio::io_context io;
    auto receiver = UdpTransport::open(io.get_executor(), udp::endpoint(loopback, 0));
    const auto at = receiver->local_endpoint();
    std::vector<Received> got;
    receiver->start(collect(got));
    receiver->close();
    settle(io);
    CHECK_FALSE(receiver->send_to(text("x"), at));
    auto sender = UdpTransport::open(io.get_executor(), udp::endpoint(loopback, 0));
    REQUIRE(sender->send_to(text("late"), at));
    settle(io, 50ms);
    CHECK(got.empty());
}

TEST_CASE("udp: over IPv6 a datagram arrives with its sender and destination (IPV6_PKTINFO)", "[net][udp][ipv6]") {
    asio::io_context io;
    const auto v6lo = asio::ip::address_v6::loopback();
    std::shared_ptr<UdpTransport> rx;
    try {
        rx = UdpTransport::open(io.get_executor(), udp::endpoint(asio::ip::address_v6::any(), 0));
    } catch (const boost::system::system_error&) {
        return pvwire::test::missing_precondition("IPv6 sockets");
    }
    // [::] is IPv6 only: an IPv4 socket may hold the same port
    std::shared_ptr<UdpTransport> rx4;
    REQUIRE_NOTHROW(rx4 = UdpTransport::open(io.get_executor(), udp::endpoint(loopback, rx->local_endpoint().port())));
    std::vector<Received> got;
    rx->start(collect(got));
    auto sender = UdpTransport::open(io.get_executor(), udp::endpoint(v6lo, 0));
    sender->start([](const Datagram&) {});
    REQUIRE(sender->send_to(text("six"), udp::endpoint(v6lo, rx->local_endpoint().port())));
    REQUIRE(run_until(io, [&] { return got.size() == 1; }, 5s));
    CHECK(got[0].bytes == text("six"));
    CHECK(got[0].from == sender->local_endpoint());
    REQUIRE(got[0].to);
    CHECK(*got[0].to == asio::ip::address(v6lo));
    for (auto& t : {rx, rx4, sender}) t->close();
    settle(io);
}
