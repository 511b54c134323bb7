// Address-list parsing, wire address conversions and local interface enumeration.
#include <catch2/catch.hpp>

#include <pvwire/net/address.hpp>
#include <pvwire/net/interfaces.hpp>

#include <algorithm>

using namespace pvwire;
using namespace pvwire::net;

namespace {
udp::endpoint ep(const char* a, std::uint16_t port) { return udp::endpoint(asio::ip::make_address(a), port); }
}  // namespace

TEST_CASE("parse_host_port: IPv4, host names, ports", "[net][address]") {
    auto hp = parse_host_port("10.1.2.3", 5076);
    REQUIRE(hp);
    CHECK(hp->host == "10.1.2.3");
    CHECK(hp->port == 5076);
    CHECK_FALSE(hp->port_given);
    CHECK_FALSE(hp->ttl);
    CHECK(hp->iface.empty());

    hp = parse_host_port("  10.1.2.3:1234 ", 5076);
    REQUIRE(hp);
    CHECK(hp->host == "10.1.2.3");
    CHECK(hp->port == 1234);
    CHECK(hp->port_given);

    hp = parse_host_port("ioc-host.example.org:5075", 1);
    REQUIRE(hp);
    CHECK(hp->host == "ioc-host.example.org");
    CHECK(hp->port == 5075);
    CHECK(hp->to_string() == "ioc-host.example.org:5075");

    hp = parse_host_port("my_pod", 7);
    REQUIRE(hp);
    CHECK(hp->host == "my_pod");
    CHECK(hp->port == 7);

    hp = parse_host_port("1.2.3.4:0", 5076);
    REQUIRE(hp);
    CHECK(hp->port == 0);
    CHECK(hp->port_given);
}

TEST_CASE("parse_host_port: IPv6 forms", "[net][address]") {
    auto hp = parse_host_port("[::1]:5076", 1);
    REQUIRE(hp);
    CHECK(hp->host == "::1");
    CHECK(hp->port == 5076);
    CHECK(hp->to_string() == "[::1]:5076");

    hp = parse_host_port("[fe80::1]", 42);
    REQUIRE(hp);
    CHECK(hp->host == "fe80::1");
    CHECK(hp->port == 42);

    hp = parse_host_port("ff02::1", 42);  // bare IPv6: no port possible
    REQUIRE(hp);
    CHECK(hp->host == "ff02::1");
    CHECK(hp->port == 42);
}

TEST_CASE("parse_host_port: PVXS ttl and interface suffixes are kept", "[net][address]") {
    auto hp = parse_host_port("239.128.1.6,8@eth0", 5076);
    REQUIRE(hp);
    CHECK(hp->host == "239.128.1.6");
    CHECK(hp->port == 5076);
    REQUIRE(hp->ttl);
    CHECK(*hp->ttl == 8);
    CHECK(hp->iface == "eth0");

    hp = parse_host_port("239.128.1.6:6000@10.0.0.5", 5076);
    REQUIRE(hp);
    CHECK(hp->port == 6000);
    CHECK_FALSE(hp->ttl);
    CHECK(hp->iface == "10.0.0.5");

    hp = parse_host_port("[ff02::42]:6000,2", 5076);
    REQUIRE(hp);
    CHECK(hp->host == "ff02::42");
    CHECK(*hp->ttl == 2);
}

TEST_CASE("parse_host_port: bad entries report a reason", "[net][address]") {
    const char* bad[] = {
        "",           "   ",           ":5076",         "1.2.3.4:",        "1.2.3.4:65536", "1.2.3.4:abc",
        "1.2.3.256",  "1.2.3",         "[::1",          "[::1]5076",       "[nothex]:1",    "[]:5",
        "ho st",      "host$name",     "a..b",          "1.2.3.4,ttl",     "1.2.3.4,300",   "1.2.3.4@",
        "1:2:3:zz::", "1.2.3.4:-1",    ".leadingdot",
    };
    for (const char* b : bad) {
        INFO(b);
        std::string err;
        CHECK_FALSE(parse_host_port(b, 5076, &err));
        CHECK_FALSE(err.empty());
    }
}

TEST_CASE("parse_address_list: separators, defaults, duplicates", "[net][address]") {
    std::vector<std::string> errors;
    auto v = parse_address_list("10.0.0.1 10.0.0.2:1234,10.0.0.3\t[::1]:99\n10.0.0.1", 5076, &errors);
    CHECK(errors.empty());
    REQUIRE(v.size() == 4);
    CHECK(v[0] == ep("10.0.0.1", 5076));
    CHECK(v[1] == ep("10.0.0.2", 1234));
    CHECK(v[2] == ep("10.0.0.3", 5076));
    CHECK(v[3] == ep("::1", 99));

    // A comma followed by a number is a TTL, not a separator.
    v = parse_address_list("239.1.1.1,8@lo,10.0.0.9", 5076, &errors);
    CHECK(errors.empty());
    REQUIRE(v.size() == 2);
    CHECK(v[0] == ep("239.1.1.1", 5076));
    CHECK(v[1] == ep("10.0.0.9", 5076));

    CHECK(parse_address_list("", 5076, &errors).empty());
    CHECK(parse_address_list("  , ,, ", 5076, &errors).empty());
    CHECK(errors.empty());
}

TEST_CASE("parse_address_list: bad entries are reported and skipped", "[net][address]") {
    std::vector<std::string> errors;
    auto v = parse_address_list("10.0.0.1 999.1.1.1 10.0.0.2:99999 [::1 10.0.0.3", 5076, &errors);
    REQUIRE(v.size() == 2);
    CHECK(v[0] == ep("10.0.0.1", 5076));
    CHECK(v[1] == ep("10.0.0.3", 5076));
    REQUIRE(errors.size() == 3);
    CHECK(errors[0].find("999.1.1.1") != std::string::npos);
    CHECK(errors[1].find("99999") != std::string::npos);

    // A null errors pointer is allowed.
    CHECK(parse_address_list("bad..name 1.1.1.1", 1, nullptr).size() == 1);
}

TEST_CASE("parse_address_list: host names only when asked", "[net][address]") {
    std::vector<std::string> errors;
    auto v = parse_address_list("localhost:7000", 5076, &errors);
    CHECK(v.empty());
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("not an IP address") != std::string::npos);

    errors.clear();
    v = parse_address_list("localhost:7000", 5076, &errors, Resolve::names);
    REQUIRE(v.size() == 1);
    CHECK(errors.empty());
    CHECK(v[0].port() == 7000);
    CHECK(v[0].address().is_loopback());

    errors.clear();
    v = parse_address_list("no-such-host.invalid", 5076, &errors, Resolve::names);
    CHECK(v.empty());
    CHECK(errors.size() == 1);

    auto hps = parse_host_port_list("a.example:1 b.example 1.2.3.4,5", 5075, &errors);
    REQUIRE(hps.size() == 3);
    CHECK(hps[0].host == "a.example");
    CHECK(hps[0].port == 1);
    CHECK(hps[1].port == 5075);
    CHECK(*hps[2].ttl == 5);
}

TEST_CASE("parse_ip and to_string", "[net][address]") {
    CHECK(parse_ip("127.0.0.1") == asio::ip::make_address("127.0.0.1"));
    CHECK(parse_ip("[::1]") == asio::ip::make_address("::1"));
    CHECK_FALSE(parse_ip("localhost"));
    CHECK_FALSE(parse_ip(""));
    CHECK(to_string(ep("1.2.3.4", 5076)) == "1.2.3.4:5076");
    CHECK(to_string(ep("::1", 5)) == "[::1]:5");
    CHECK(to_string(tcp::endpoint(asio::ip::make_address("10.0.0.1"), 5075)) == "10.0.0.1:5075");
}

TEST_CASE("wire address conversions", "[net][address]") {
    const auto v4 = asio::ip::make_address("192.168.1.20");
    const auto w = to_wire(v4);
    CHECK(w == wire::Address::ipv4(192, 168, 1, 20));
    CHECK(w.is_ipv4_mapped());
    CHECK(from_wire(w) == v4);
    CHECK(from_wire(w).is_v4());

    CHECK(from_wire(wire::Address::mapped_any()) == asio::ip::make_address("0.0.0.0"));
    CHECK(to_wire(asio::ip::make_address("0.0.0.0")) == wire::Address::mapped_any());

    const auto v6 = asio::ip::make_address("2001:db8::7");
    const auto w6 = to_wire(v6);
    CHECK_FALSE(w6.is_ipv4_mapped());
    CHECK(w6.bytes[0] == 0x20);
    CHECK(w6.bytes[1] == 0x01);
    CHECK(w6.bytes[15] == 0x07);
    CHECK(from_wire(w6) == v6);

    // A mapped address given as IPv6 comes back as plain IPv4.
    CHECK(from_wire(to_wire(asio::ip::make_address("::ffff:10.0.0.1"))) == asio::ip::make_address("10.0.0.1"));
    CHECK(from_wire(wire::Address{}) == asio::ip::make_address("::"));
}

TEST_CASE("is_unspecified", "[net][address]") {
    CHECK(is_unspecified(asio::ip::make_address("0.0.0.0")));
    CHECK(is_unspecified(asio::ip::make_address("::")));
    CHECK(is_unspecified(asio::ip::make_address("::ffff:0.0.0.0")));
    CHECK_FALSE(is_unspecified(asio::ip::make_address("127.0.0.1")));
    CHECK_FALSE(is_unspecified(asio::ip::make_address("::1")));
    CHECK_FALSE(is_unspecified(asio::ip::make_address("::ffff:1.2.3.4")));
}

TEST_CASE("interfaces: loopback is enumerated", "[net][interfaces]") {
    const auto ifs = list_interfaces();
    REQUIRE_FALSE(ifs.empty());
    const auto lo = std::find_if(ifs.begin(), ifs.end(), [](const InterfaceInfo& i) { return i.loopback; });
    REQUIRE(lo != ifs.end());
    CHECK(lo->address == asio::ip::address_v4::loopback());
    CHECK(lo->up);
    CHECK_FALSE(lo->name.empty());
    CHECK(lo->index != 0u);
    CHECK(lo->netmask.to_uint() != 0u);

    for (const auto& i : ifs) {
        INFO(i.name);
        CHECK(i.can_broadcast == i.broadcast.has_value());
    }

    // Broadcast addresses come only from up, non-loopback, broadcast-capable interfaces.
    for (const auto& b : broadcast_addresses()) {
        const bool from_eligible = std::any_of(ifs.begin(), ifs.end(), [&](const InterfaceInfo& i) {
            return i.up && !i.loopback && i.can_broadcast && i.broadcast == b;
        });
        CHECK(from_eligible);
    }
    // Limiting to loopback gives none; to the wildcard gives all.
    CHECK(broadcast_addresses({asio::ip::make_address("127.0.0.1")}).empty());
    CHECK(broadcast_addresses({asio::ip::make_address("0.0.0.0")}) == broadcast_addresses());
}

TEST_CASE("is_local_address", "[net][interfaces]") {
    CHECK(is_local_address(asio::ip::make_address("127.0.0.1")));
    CHECK(is_local_address(asio::ip::make_address("::ffff:127.0.0.1")));
    CHECK_FALSE(is_local_address(asio::ip::make_address("192.0.2.123")));  // TEST-NET-1
    CHECK_FALSE(is_local_address(asio::ip::make_address("2001:db8::99")));
    for (const auto& i : list_interfaces()) CHECK(is_local_address(i.address));
}

TEST_CASE("an IPv6 entry's @iface becomes the scope id, its ttl a hop limit", "[net][address][ipv6]") {
    const unsigned lo = interface_index("lo");
    REQUIRE(lo != 0);
    CHECK(interface_index("127.0.0.1") == lo);  // an interface named by its address
    CHECK(interface_index("no-such-interface0") == 0);

    MulticastHops hops;
    std::vector<std::string> errors;
    auto v = parse_address_list("[ff02::42:1]@lo [ff02::42:2],3@lo [::1]:99 239.1.1.1,8@lo [ff02::9]@nosuch0", 5076,
                                &errors, Resolve::literal_only, &hops);
    REQUIRE(v.size() == 4);
    CHECK(v[0].address().to_v6().scope_id() == lo);
    CHECK(v[0].port() == 5076);
    CHECK(v[1].address().to_v6().scope_id() == lo);
    CHECK(v[2] == ep("::1", 99));
    CHECK(v[2].address().to_v6().scope_id() == 0);
    CHECK(v[3] == ep("239.1.1.1", 5076));  // IPv4: the interface is not used (yet)
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("nosuch0") != std::string::npos);
    CHECK(hops_for(hops, v[1]) == 3);
    CHECK(hops_for(hops, v[3]) == 8);
    CHECK(hops_for(hops, v[0]) == -1);  // no ttl given: the system default
    CHECK(hops_for(hops, v[2]) == -1);
}

TEST_CASE("a link-local address from the wire takes the scope of the datagram's source", "[net][address][ipv6]") {
    auto source = asio::ip::make_address_v6("fe80::1");
    source.scope_id(7);
    const auto peer = asio::ip::make_address("fe80::2");
    const auto back = from_wire(to_wire(peer), source);
    CHECK(back.to_v6().scope_id() == 7);
    CHECK(asio::ip::address_v6(back.to_v6().to_bytes()) == peer.to_v6());
    // global and IPv4 addresses are left alone
    CHECK(from_wire(to_wire(asio::ip::make_address("2001:db8::7")), source).to_v6().scope_id() == 0);
    CHECK(from_wire(wire::Address::ipv4(10, 0, 0, 1), source) == asio::ip::make_address("10.0.0.1"));
}
