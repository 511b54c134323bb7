// ClientConfig / ServerConfig: defaults, every environment variable, EPICS_PVAS_* precedence,
// bad values, isolated() and client_config().
#include <catch2/catch.hpp>

#include <pvwire/net/config.hpp>

#include <algorithm>
#include <map>
#include <string>

using namespace pvwire;
using namespace pvwire::net;
using namespace std::chrono_literals;

namespace {

struct FakeEnv {
    std::map<std::string, std::string> vars;
    EnvLookup lookup() const {
        return [this](const char* name) -> const char* {
            auto it = vars.find(name);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
};

udp::endpoint ep(const char* a, std::uint16_t port) { return udp::endpoint(asio::ip::make_address(a), port); }

bool has_warning(const std::vector<std::string>& w, const std::string& needle) {
    return std::any_of(w.begin(), w.end(), [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

}  // namespace

TEST_CASE("timeouts: x4/3 and the echo period", "[net][config]") {
    CHECK(idle_timeout_for(30) == 40s);
    CHECK(echo_period_for(30) == 15s);
    CHECK(idle_timeout_for(60) == 80s);
    CHECK(echo_period_for(60) == 15s);
    CHECK(idle_timeout_for(6) == 8s);
    CHECK(echo_period_for(6) == 3s);
    CHECK(idle_timeout_for(0.3) == 2s);  // clamped to 2 s
    CHECK(echo_period_for(0.3) == 1s);   // at least 1 s
    CHECK(idle_timeout_for(0) == 40s);   // invalid -> default
    CHECK(idle_timeout_for(-5) == 40s);
}

TEST_CASE("ClientConfig defaults", "[net][config]") {
    FakeEnv env;
    const auto c = ClientConfig::from_env(env.lookup());
    CHECK(c.warnings.empty());
    CHECK(c.address_list.empty());
    CHECK(c.auto_address_list);
    CHECK(c.name_servers.empty());
    CHECK(c.server_port == 5075);
    CHECK(c.broadcast_port == 5076);
    CHECK(c.interfaces.empty());
    CHECK(c.conn_tmo == 30.0);
    CHECK(c.idle_timeout() == 40s);
    CHECK(c.echo_period() == 15s);
    CHECK(c.max_array_bytes == 16384);
    CHECK(c.debug == 0);
    CHECK(c.max_message_size == TransportLimits{}.max_message_bytes);
    CHECK(c.max_pending_output == TransportLimits{}.max_pending_output);
    CHECK(c.transport_limits().max_message_bytes == c.max_message_size);

    // A default-constructed config equals the environment-free one.
    const ClientConfig d;
    CHECK(d.broadcast_port == c.broadcast_port);
    CHECK(d.auto_address_list == c.auto_address_list);
}

TEST_CASE("ClientConfig reads every EPICS_PVA_ variable", "[net][config]") {
    FakeEnv env;
    env.vars = {
        {"EPICS_PVA_ADDR_LIST", "10.0.0.1 10.0.0.2:6000 [::1]"},
        {"EPICS_PVA_AUTO_ADDR_LIST", "no"},
        {"EPICS_PVA_NAME_SERVERS", "ns.example:7000 10.0.0.9"},
        {"EPICS_PVA_SERVER_PORT", "6075"},
        {"EPICS_PVA_BROADCAST_PORT", "6076"},
        {"EPICS_PVA_INTF_ADDR_LIST", "127.0.0.1"},
        {"EPICS_PVA_CONN_TMO", "4.5"},
        {"EPICS_PVA_MAX_ARRAY_BYTES", "1000000"},
        {"EPICS_PVA_DEBUG", "3"},
    };
    const auto c = ClientConfig::from_env(env.lookup());
    INFO(c.describe());
    CHECK(c.warnings.empty());
    REQUIRE(c.address_list.size() == 3);
    CHECK(c.address_list[0] == ep("10.0.0.1", 6076));  // default port = broadcast port
    CHECK(c.address_list[1] == ep("10.0.0.2", 6000));
    CHECK(c.address_list[2] == ep("::1", 6076));
    CHECK_FALSE(c.auto_address_list);
    REQUIRE(c.name_servers.size() == 2);
    CHECK(c.name_servers[0].host == "ns.example");  // kept unresolved
    CHECK(c.name_servers[0].port == 7000);
    CHECK(c.name_servers[1].host == "10.0.0.9");
    CHECK(c.name_servers[1].port == 6075);  // default port = server port
    CHECK(c.server_port == 6075);
    CHECK(c.broadcast_port == 6076);
    REQUIRE(c.interfaces.size() == 1);
    CHECK(c.interfaces[0] == asio::ip::make_address("127.0.0.1"));
    CHECK(c.conn_tmo == 4.5);
    CHECK(c.idle_timeout() == 6s);
    CHECK(c.echo_period() == 2250ms);
    CHECK(c.max_array_bytes == 1000000);
    CHECK(c.debug == 3);

    // Auto list off: the destinations are exactly the address list.
    CHECK(c.search_destinations() == c.address_list);
}

TEST_CASE("ClientConfig: client reads no EPICS_PVAS_ variable", "[net][config]") {
    FakeEnv env;
    env.vars = {{"EPICS_PVAS_SERVER_PORT", "1"}, {"EPICS_PVAS_BROADCAST_PORT", "2"}, {"EPICS_PVAS_BEACON_ADDR_LIST", "1.1.1.1"}};
    const auto c = ClientConfig::from_env(env.lookup());
    CHECK(c.server_port == 5075);
    CHECK(c.broadcast_port == 5076);
    CHECK(c.address_list.empty());
}

TEST_CASE("boolean syntax", "[net][config]") {
    for (const char* yes : {"YES", "yes", "Yes", "1", "true", "TRUE", " True "}) {
        FakeEnv env;
        env.vars = {{"EPICS_PVA_AUTO_ADDR_LIST", yes}, {"EPICS_PVAS_AUTO_BEACON_ADDR_LIST", yes}};
        INFO(yes);
        auto c = ClientConfig::from_env(env.lookup());
        CHECK(c.auto_address_list);
        CHECK(c.warnings.empty());
        CHECK(ServerConfig::from_env(env.lookup()).auto_beacon_address_list);
    }
    for (const char* no : {"NO", "no", "No", "0", "false", "FALSE"}) {
        FakeEnv env;
        env.vars = {{"EPICS_PVA_AUTO_ADDR_LIST", no}, {"EPICS_PVAS_AUTO_BEACON_ADDR_LIST", no}};
        INFO(no);
        auto c = ClientConfig::from_env(env.lookup());
        CHECK_FALSE(c.auto_address_list);
        CHECK(c.warnings.empty());
        CHECK_FALSE(ServerConfig::from_env(env.lookup()).auto_beacon_address_list);
    }
}

TEST_CASE("ClientConfig: bad values give warnings and defaults", "[net][config]") {
    FakeEnv env;
    env.vars = {
        {"EPICS_PVA_ADDR_LIST", "10.0.0.1 300.0.0.1 10.0.0.2:x"},
        {"EPICS_PVA_AUTO_ADDR_LIST", "maybe"},
        {"EPICS_PVA_NAME_SERVERS", "good:1 bad:port"},
        {"EPICS_PVA_SERVER_PORT", "70000"},
        {"EPICS_PVA_BROADCAST_PORT", "abc"},
        {"EPICS_PVA_INTF_ADDR_LIST", "1.2.3"},
        {"EPICS_PVA_CONN_TMO", "-3"},
        {"EPICS_PVA_MAX_ARRAY_BYTES", "0"},
        {"EPICS_PVA_DEBUG", "lots"},
    };
    ClientConfig c;
    REQUIRE_NOTHROW(c = ClientConfig::from_env(env.lookup()));
    INFO(c.describe());
    CHECK(c.address_list == std::vector<udp::endpoint>{ep("10.0.0.1", 5076)});
    CHECK(c.auto_address_list);
    REQUIRE(c.name_servers.size() == 1);
    CHECK(c.name_servers[0].host == "good");
    CHECK(c.server_port == 5075);
    CHECK(c.broadcast_port == 5076);
    CHECK(c.interfaces.empty());
    CHECK(c.conn_tmo == 30.0);
    CHECK(c.max_array_bytes == 16384);
    CHECK(c.debug == 0);

    CHECK(c.warnings.size() == 10);
    for (const char* v : {"EPICS_PVA_ADDR_LIST", "EPICS_PVA_AUTO_ADDR_LIST", "EPICS_PVA_NAME_SERVERS",
                          "EPICS_PVA_SERVER_PORT", "EPICS_PVA_BROADCAST_PORT", "EPICS_PVA_INTF_ADDR_LIST",
                          "EPICS_PVA_CONN_TMO", "EPICS_PVA_MAX_ARRAY_BYTES", "EPICS_PVA_DEBUG"}) {
        INFO(v);
        CHECK(has_warning(c.warnings, v));
    }
    CHECK(has_warning(c.warnings, "300.0.0.1"));
    CHECK(c.describe().find("warning:") != std::string::npos);
}

TEST_CASE("ClientConfig: port 0 and odd timeouts", "[net][config]") {
    FakeEnv env;
    env.vars = {{"EPICS_PVA_BROADCAST_PORT", "0"}, {"EPICS_PVA_SERVER_PORT", "0"}, {"EPICS_PVA_CONN_TMO", "nan"}};
    auto c = ClientConfig::from_env(env.lookup());
    CHECK(c.broadcast_port == 5076);
    CHECK(c.server_port == 5075);
    CHECK(c.conn_tmo == 30.0);
    CHECK(c.warnings.size() == 3);

    env.vars = {{"EPICS_PVA_CONN_TMO", "1e30"}, {"EPICS_PVA_ADDR_LIST", ""}};
    c = ClientConfig::from_env(env.lookup());
    CHECK(c.conn_tmo == 30.0);
    CHECK(c.warnings.size() == 1);  // empty value = not set

    env.vars = {{"EPICS_PVA_CONN_TMO", " 10 "}};
    c = ClientConfig::from_env(env.lookup());
    CHECK(c.conn_tmo == 10.0);
    CHECK(c.warnings.empty());
}

TEST_CASE("ClientConfig: host names in the address list are resolved", "[net][config]") {
    FakeEnv env;
    env.vars = {{"EPICS_PVA_ADDR_LIST", "localhost:9999 no-such-host.invalid"}};
    const auto c = ClientConfig::from_env(env.lookup());
    REQUIRE(c.address_list.size() == 1);
    CHECK(c.address_list[0].address().is_loopback());
    CHECK(c.address_list[0].port() == 9999);
    CHECK(c.warnings.size() == 1);
    CHECK(has_warning(c.warnings, "no-such-host.invalid"));
}

TEST_CASE("ServerConfig defaults", "[net][config]") {
    FakeEnv env;
    const auto s = ServerConfig::from_env(env.lookup());
    CHECK(s.warnings.empty());
    CHECK(s.interfaces.empty());
    CHECK(s.server_port == 5075);
    CHECK(s.broadcast_port == 5076);
    CHECK(s.beacon_address_list.empty());
    CHECK(s.auto_beacon_address_list);
    CHECK(s.ignore_address_list.empty());
    CHECK(s.conn_tmo == 30.0);
    CHECK(s.idle_timeout() == 40s);
    CHECK(s.beacon_period == 15.0);
    CHECK(s.beacon_period_slow == 180.0);
    CHECK(s.beacon_burst == 10);
    CHECK(s.max_array_bytes == 16384);
    CHECK(s.provider_names == std::vector<std::string>{"local"});
    CHECK(s.debug == 0);
    CHECK(s.bound_tcp_port == 0);
    CHECK(s.bound_udp_port == 0);
    CHECK(s.effective_tcp_port() == 5075);
    CHECK(s.effective_udp_port() == 5076);

    // Beacon schedule: first at start, 10 intervals of 15 s, then 180 s.
    for (std::uint64_t n = 0; n < 10; ++n) CHECK(s.beacon_interval(n) == 15s);
    CHECK(s.beacon_interval(10) == 180s);
    CHECK(s.beacon_interval(1000) == 180s);
}

TEST_CASE("ServerConfig reads every variable", "[net][config]") {
    FakeEnv env;
    env.vars = {
        {"EPICS_PVAS_INTF_ADDR_LIST", "127.0.0.1"},
        {"EPICS_PVAS_SERVER_PORT", "7075"},
        {"EPICS_PVAS_BROADCAST_PORT", "7076"},
        {"EPICS_PVAS_BEACON_ADDR_LIST", "10.0.0.255 10.1.0.1:9000"},
        {"EPICS_PVAS_AUTO_BEACON_ADDR_LIST", "NO"},
        {"EPICS_PVAS_IGNORE_ADDR_LIST", "10.9.9.9 10.9.9.8:1234"},
        {"EPICS_PVA_CONN_TMO", "60"},
        {"EPICS_PVAS_BEACON_PERIOD", "5"},
        {"EPICS_PVAS_MAX_ARRAY_BYTES", "65536"},
        {"EPICS_PVAS_PROVIDER_NAMES", "local  other"},
        {"EPICS_PVA_DEBUG", "1"},
    };
    const auto s = ServerConfig::from_env(env.lookup());
    INFO(s.describe());
    CHECK(s.warnings.empty());
    CHECK(s.interfaces == std::vector<asio::ip::address>{asio::ip::make_address("127.0.0.1")});
    CHECK(s.server_port == 7075);
    CHECK(s.broadcast_port == 7076);
    CHECK(s.beacon_address_list == std::vector<udp::endpoint>{ep("10.0.0.255", 7076), ep("10.1.0.1", 9000)});
    CHECK_FALSE(s.auto_beacon_address_list);
    CHECK(s.ignore_address_list == std::vector<udp::endpoint>{ep("10.9.9.9", 0), ep("10.9.9.8", 1234)});
    CHECK(s.conn_tmo == 60.0);
    CHECK(s.idle_timeout() == 80s);
    CHECK(s.beacon_period == 5.0);
    CHECK(s.beacon_period_slow == 180.0);
    CHECK(s.beacon_interval(0) == 5s);
    CHECK(s.max_array_bytes == 65536);
    CHECK(s.provider_names == std::vector<std::string>{"local", "other"});
    CHECK(s.debug == 1);

    CHECK(s.beacon_destinations() == s.beacon_address_list);

    // Ignore list: port 0 = every port of that address.
    CHECK(s.is_ignored(ep("10.9.9.9", 1)));
    CHECK(s.is_ignored(ep("::ffff:10.9.9.9", 5076)));
    CHECK(s.is_ignored(ep("10.9.9.8", 1234)));
    CHECK_FALSE(s.is_ignored(ep("10.9.9.8", 1235)));
    CHECK_FALSE(s.is_ignored(ep("10.9.9.7", 1234)));
}

TEST_CASE("ServerConfig: EPICS_PVAS_ takes precedence over EPICS_PVA_", "[net][config]") {
    FakeEnv env;
    env.vars = {
        {"EPICS_PVAS_SERVER_PORT", "7075"},           {"EPICS_PVA_SERVER_PORT", "8075"},
        {"EPICS_PVAS_BROADCAST_PORT", "7076"},        {"EPICS_PVA_BROADCAST_PORT", "8076"},
        {"EPICS_PVAS_BEACON_ADDR_LIST", "10.0.0.1"},  {"EPICS_PVA_ADDR_LIST", "10.0.0.2"},
        {"EPICS_PVAS_AUTO_BEACON_ADDR_LIST", "YES"},  {"EPICS_PVA_AUTO_ADDR_LIST", "NO"},
        {"EPICS_PVAS_BEACON_PERIOD", "20"},           {"EPICS_PVA_BEACON_PERIOD", "30"},
        {"EPICS_PVAS_MAX_ARRAY_BYTES", "100"},        {"EPICS_PVA_MAX_ARRAY_BYTES", "200"},
    };
    auto s = ServerConfig::from_env(env.lookup());
    CHECK(s.server_port == 7075);
    CHECK(s.broadcast_port == 7076);
    CHECK(s.beacon_address_list == std::vector<udp::endpoint>{ep("10.0.0.1", 7076)});
    CHECK(s.auto_beacon_address_list);
    CHECK(s.beacon_period == 20.0);
    CHECK(s.max_array_bytes == 100);

    // Without the EPICS_PVAS_ ones, the EPICS_PVA_ ones apply.
    for (auto it = env.vars.begin(); it != env.vars.end();)
        it = it->first.rfind("EPICS_PVAS_", 0) == 0 ? env.vars.erase(it) : std::next(it);
    s = ServerConfig::from_env(env.lookup());
    CHECK(s.warnings.empty());
    CHECK(s.server_port == 8075);
    CHECK(s.broadcast_port == 8076);
    CHECK(s.beacon_address_list == std::vector<udp::endpoint>{ep("10.0.0.2", 8076)});
    CHECK_FALSE(s.auto_beacon_address_list);
    CHECK(s.beacon_period == 30.0);
    CHECK(s.max_array_bytes == 200);

    // An empty EPICS_PVAS_ value counts as unset.
    env.vars["EPICS_PVAS_SERVER_PORT"] = "";
    CHECK(ServerConfig::from_env(env.lookup()).server_port == 8075);

    // A set but invalid EPICS_PVAS_ value does not fall back: it warns and keeps the default.
    env.vars["EPICS_PVAS_SERVER_PORT"] = "bad";
    s = ServerConfig::from_env(env.lookup());
    CHECK(s.server_port == 5075);
    CHECK(has_warning(s.warnings, "EPICS_PVAS_SERVER_PORT"));

    // The interface and ignore lists have no EPICS_PVA_ fallback (as PVXS).
    FakeEnv e2;
    e2.vars = {{"EPICS_PVA_INTF_ADDR_LIST", "127.0.0.1"}, {"EPICS_PVA_IGNORE_ADDR_LIST", "1.1.1.1"}};
    s = ServerConfig::from_env(e2.lookup());
    CHECK(s.interfaces.empty());
    CHECK(s.ignore_address_list.empty());
}

TEST_CASE("ServerConfig: bad values give warnings and defaults", "[net][config]") {
    FakeEnv env;
    env.vars = {
        {"EPICS_PVAS_INTF_ADDR_LIST", "1.2.3.4.5"},
        {"EPICS_PVAS_SERVER_PORT", "-1"},
        {"EPICS_PVAS_BROADCAST_PORT", "5076x"},
        {"EPICS_PVAS_BEACON_ADDR_LIST", "[::1"},
        {"EPICS_PVAS_AUTO_BEACON_ADDR_LIST", "2"},
        {"EPICS_PVAS_IGNORE_ADDR_LIST", "a..b"},
        {"EPICS_PVA_CONN_TMO", "thirty"},
        {"EPICS_PVAS_BEACON_PERIOD", "0"},
        {"EPICS_PVAS_MAX_ARRAY_BYTES", "-5"},
        {"EPICS_PVA_DEBUG", "-1"},
    };
    ServerConfig s;
    REQUIRE_NOTHROW(s = ServerConfig::from_env(env.lookup()));
    INFO(s.describe());
    CHECK(s.interfaces.empty());
    CHECK(s.server_port == 5075);
    CHECK(s.broadcast_port == 5076);
    CHECK(s.beacon_address_list.empty());
    CHECK(s.auto_beacon_address_list);
    CHECK(s.ignore_address_list.empty());
    CHECK(s.conn_tmo == 30.0);
    CHECK(s.beacon_period == 15.0);
    CHECK(s.max_array_bytes == 16384);
    CHECK(s.debug == 0);
    CHECK(s.warnings.size() == 10);

    // Beacon period below 1 s is raised to 1 s; above 180 s the slow period follows it.
    env.vars = {{"EPICS_PVA_BEACON_PERIOD", "0.25"}};
    s = ServerConfig::from_env(env.lookup());
    CHECK(s.beacon_period == 1.0);
    CHECK(s.warnings.size() == 1);
    env.vars = {{"EPICS_PVA_BEACON_PERIOD", "300"}};
    s = ServerConfig::from_env(env.lookup());
    CHECK(s.beacon_period == 300.0);
    CHECK(s.beacon_period_slow == 300.0);
    CHECK(s.warnings.empty());

    // Port 0 is allowed for a server (ephemeral).
    env.vars = {{"EPICS_PVAS_SERVER_PORT", "0"}, {"EPICS_PVAS_BROADCAST_PORT", "0"}};
    s = ServerConfig::from_env(env.lookup());
    CHECK(s.server_port == 0);
    CHECK(s.broadcast_port == 0);
    CHECK(s.warnings.empty());
}

TEST_CASE("isolated(): loopback, ephemeral ports, no auto lists", "[net][config]") {
    const auto s = ServerConfig::isolated();
    CHECK(s.interfaces == std::vector<asio::ip::address>{asio::ip::make_address("127.0.0.1")});
    CHECK(s.server_port == 0);
    CHECK(s.broadcast_port == 0);
    CHECK_FALSE(s.auto_beacon_address_list);
    CHECK(s.beacon_address_list == std::vector<udp::endpoint>{ep("127.0.0.1", 0)});
    CHECK(s.warnings.empty());
    CHECK(s.beacon_destinations().empty());  // nothing until the UDP port is known

    const auto c = ClientConfig::isolated();
    CHECK_FALSE(c.auto_address_list);
    CHECK(c.address_list == std::vector<udp::endpoint>{ep("127.0.0.1", 0)});
    CHECK(c.interfaces == std::vector<asio::ip::address>{asio::ip::make_address("127.0.0.1")});
    CHECK(c.broadcast_port == 0);
    CHECK(c.name_servers.empty());
    CHECK(c.search_destinations() == c.address_list);
}

TEST_CASE("ServerConfig::client_config finds the bound server", "[net][config]") {
    auto s = ServerConfig::isolated();
    s.bound_tcp_port = 40001;
    s.bound_udp_port = 40002;
    s.conn_tmo = 5;
    CHECK(s.effective_tcp_port() == 40001);
    CHECK(s.effective_udp_port() == 40002);
    CHECK(s.beacon_destinations() == std::vector<udp::endpoint>{ep("127.0.0.1", 40002)});

    const auto c = s.client_config();
    CHECK(c.address_list == std::vector<udp::endpoint>{ep("127.0.0.1", 40002)});
    CHECK(c.search_destinations() == c.address_list);
    CHECK_FALSE(c.auto_address_list);
    CHECK(c.broadcast_port == 0);  // ephemeral beacon listener, see client_config()
    CHECK(c.server_port == 40001);
    CHECK(c.conn_tmo == 5.0);
    CHECK(c.warnings.empty());

    // A wildcard server is reached through loopback.
    ServerConfig w;
    w.bound_udp_port = 5999;
    CHECK(w.client_config().address_list == std::vector<udp::endpoint>{ep("127.0.0.1", 5999)});
    w.interfaces = {asio::ip::make_address("0.0.0.0"), asio::ip::make_address("10.0.0.7")};
    CHECK(w.client_config().address_list == std::vector<udp::endpoint>{ep("127.0.0.1", 5999), ep("10.0.0.7", 5999)});
}

TEST_CASE("describe() lists every setting", "[net][config]") {
    auto s = ServerConfig::isolated();
    s.bound_tcp_port = 1234;
    const auto ds = s.describe();
    for (const char* key : {"EPICS_PVAS_INTF_ADDR_LIST=127.0.0.1", "EPICS_PVAS_SERVER_PORT=0 (bound 1234)",
                            "EPICS_PVAS_BROADCAST_PORT=0", "EPICS_PVAS_BEACON_ADDR_LIST=127.0.0.1:0",
                            "EPICS_PVAS_AUTO_BEACON_ADDR_LIST=NO", "EPICS_PVAS_IGNORE_ADDR_LIST=",
                            "EPICS_PVA_CONN_TMO=30", "EPICS_PVAS_BEACON_PERIOD=15", "EPICS_PVAS_MAX_ARRAY_BYTES=16384",
                            "EPICS_PVAS_PROVIDER_NAMES=local", "EPICS_PVA_DEBUG=0", "idle timeout: 40 s",
                            "10 x 15 s, then every 180 s", "beacon destinations:", "max message size:",
                            "max pending output:"}) {
        INFO(ds);
        CHECK(ds.find(key) != std::string::npos);
    }

    FakeEnv env;
    env.vars = {{"EPICS_PVA_NAME_SERVERS", "ns:1"}, {"EPICS_PVA_AUTO_ADDR_LIST", "NO"}};
    const auto dc = ClientConfig::from_env(env.lookup()).describe();
    for (const char* key : {"EPICS_PVA_ADDR_LIST=", "EPICS_PVA_AUTO_ADDR_LIST=NO", "EPICS_PVA_NAME_SERVERS=ns:1",
                            "EPICS_PVA_SERVER_PORT=5075", "EPICS_PVA_BROADCAST_PORT=5076",
                            "EPICS_PVA_INTF_ADDR_LIST=0.0.0.0", "EPICS_PVA_CONN_TMO=30",
                            "EPICS_PVA_MAX_ARRAY_BYTES=16384", "EPICS_PVA_DEBUG=0", "idle timeout: 40 s",
                            "echo period: 15 s", "search destinations:", "max message size:", "max pending output:"}) {
        INFO(dc);
        CHECK(dc.find(key) != std::string::npos);
    }
}

TEST_CASE("from_env() without a lookup uses the process environment", "[net][config]") {
    // Only checks that it runs and gives sane values whatever the environment holds.
    const auto c = ClientConfig::from_env();
    CHECK(c.broadcast_port != 0);
    CHECK(c.server_port != 0);
    const auto s = ServerConfig::from_env();
    CHECK(s.idle_timeout() >= 2s);
}

TEST_CASE("PVWIRE_BUSY_POLL_US sets the busy polling of clients and servers, within bounds", "[net][config]") {
    FakeEnv none{};
    CHECK(ClientConfig::from_env(none.lookup()).busy_poll == std::chrono::microseconds(default_busy_poll_us));
    CHECK(ServerConfig::from_env(none.lookup()).busy_poll == std::chrono::microseconds(default_busy_poll_us));
    FakeEnv off{{{"PVWIRE_BUSY_POLL_US", "0"}}};
    CHECK(ClientConfig::from_env(off.lookup()).busy_poll.count() == 0);
    CHECK(ServerConfig::from_env(off.lookup()).busy_poll.count() == 0);
    FakeEnv big{{{"PVWIRE_BUSY_POLL_US", "50000"}}};
    const auto c = ClientConfig::from_env(big.lookup());
    CHECK(c.busy_poll.count() == 10000);
    CHECK(has_warning(c.warnings, "PVWIRE_BUSY_POLL_US"));
    FakeEnv bad{{{"PVWIRE_BUSY_POLL_US", "fast"}}};
    const auto s = ServerConfig::from_env(bad.lookup());
    CHECK(s.busy_poll == std::chrono::microseconds(default_busy_poll_us));
    CHECK(has_warning(s.warnings, "PVWIRE_BUSY_POLL_US"));
}

TEST_CASE("PVWIRE_TCP_BUFFER_BYTES sets the TCP socket buffers of clients and servers; 0 is autotuning",
          "[net][config]") {
    FakeEnv none{};
    CHECK(ClientConfig::from_env(none.lookup()).transport_limits().socket_buffer_bytes ==
          TransportLimits{}.socket_buffer_bytes);
    FakeEnv zero{{{"PVWIRE_TCP_BUFFER_BYTES", "0"}}};
    CHECK(ServerConfig::from_env(zero.lookup()).transport_limits().socket_buffer_bytes == 0);
    FakeEnv mib{{{"PVWIRE_TCP_BUFFER_BYTES", "1048576"}}};
    CHECK(ClientConfig::from_env(mib.lookup()).tcp_buffer_bytes == 1048576);
    CHECK(ServerConfig::from_env(mib.lookup()).transport_limits().socket_buffer_bytes == 1048576);
    FakeEnv huge{{{"PVWIRE_TCP_BUFFER_BYTES", "4294967296"}}};
    const auto c = ClientConfig::from_env(huge.lookup());
    CHECK(c.tcp_buffer_bytes == TransportLimits{}.socket_buffer_bytes);
    CHECK(has_warning(c.warnings, "PVWIRE_TCP_BUFFER_BYTES"));
    CHECK(ClientConfig::from_env(huge.lookup()).describe().find("PVWIRE_TCP_BUFFER_BYTES=") != std::string::npos);
}

TEST_CASE("ServerConfig: PVWIRE_STATUS_PREFIX names the status PVs, none by default", "[net][config]") {
    FakeEnv env;
    env.vars = {{"PVWIRE_STATUS_PREFIX", "ioc1:srv"}};
    const auto s = ServerConfig::from_env(env.lookup());
    CHECK(s.status_prefix == "ioc1:srv");
    CHECK(s.describe().find("PVWIRE_STATUS_PREFIX=ioc1:srv\n") != std::string::npos);
    FakeEnv none;
    const auto d = ServerConfig::from_env(none.lookup());
    CHECK(d.status_prefix.empty());
    CHECK(d.describe().find("PVWIRE_STATUS_PREFIX=(none)\n") != std::string::npos);
}

TEST_CASE("IPv6 interface entries: TCP binds, the IPv6 UDP socket, groups in the beacon list", "[net][config][ipv6]") {
    auto a = [](const char* s) { return asio::ip::make_address(s); };
    ServerConfig s;
    CHECK(s.tcp_interfaces() == std::vector<asio::ip::address>{a("0.0.0.0")});  // as before IPv6
    CHECK_FALSE(s.listens_on_ipv6());

    s.interfaces = {a("127.0.0.1"), a("::1")};
    CHECK(s.tcp_interfaces() == s.interfaces);
    CHECK(s.listens_on_ipv6());

    s.interfaces = {a("::")};  // IPv4 clients still find the server
    CHECK(s.tcp_interfaces() == std::vector<asio::ip::address>{a("::"), a("0.0.0.0")});

    FakeEnv env;
    env.vars["EPICS_PVAS_INTF_ADDR_LIST"] = "[ff02::42:1]@lo";
    env.vars["EPICS_PVAS_BEACON_ADDR_LIST"] = "[ff02::42:2],4@lo";
    env.vars["EPICS_PVAS_BROADCAST_PORT"] = "7076";
    s = ServerConfig::from_env(env.lookup());
    CHECK(s.warnings.empty());
    CHECK(s.listens_on_ipv6());
    CHECK(s.tcp_interfaces() == std::vector<asio::ip::address>{a("0.0.0.0"), a("::")});  // groups are not bound
    const auto dests = s.beacon_destinations();
    REQUIRE(dests.size() >= 2);
    CHECK(dests[0].address().to_v6().scope_id() != 0);
    CHECK(hops_for(s.multicast_hops, dests[0]) == 4);
    // the group listened on hears beacons too (auto list), on the server's port
    CHECK(std::any_of(dests.begin(), dests.end(), [](const udp::endpoint& d) {
        return d.address().is_v6() && d.address().to_v6().to_bytes() == asio::ip::make_address_v6("ff02::42:1").to_bytes() &&
               d.port() == 7076;
    }));
}

TEST_CASE("the client joins the IPv6 groups it searches for their beacons, with the auto list", "[net][config][ipv6]") {
    FakeEnv env;
    env.vars["EPICS_PVA_ADDR_LIST"] = "[ff02::42:1],2@lo 10.0.0.1";
    auto c = ClientConfig::from_env(env.lookup());
    REQUIRE(c.beacon_groups().size() == 1);
    CHECK(c.beacon_groups()[0].scope_id() != 0);
    CHECK(hops_for(c.multicast_hops, c.address_list[0]) == 2);
    env.vars["EPICS_PVA_AUTO_ADDR_LIST"] = "NO";
    CHECK(ClientConfig::from_env(env.lookup()).beacon_groups().empty());
}
