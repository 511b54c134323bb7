// The access rules enforced end to end: a real server with rules, real pvwire clients over
// pvAccess (TCP and a UNIX socket), the msgpack protocol and WebSockets (docs/security.md,
// "Access rules").
#include <catch2/catch.hpp>

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/server/access_rules.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <algorithm>
#include <filesystem>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

using namespace pvwire;
using namespace std::chrono_literals;

namespace {

// Line 4 is ASG(ops): alice writes, everybody reads; ASG(secret): only alice reads.
constexpr const char* site_acf = R"(UAG(ops) { alice }
ASG(DEFAULT) { RULE(1, READ) }

ASG(ops) {
    RULE(1, READ)
    RULE(1, WRITE) { UAG(ops) }
}
ASG(secret) {
    RULE(1, READ) { UAG(ops) }
}
)";

std::shared_ptr<const server::AccessRules> rules(const char* acf, std::optional<std::string> pvlist = std::nullopt) {
    server::AccessRulesOptions o;
    o.acf_name = "site.acf";
    o.pvlist = std::move(pvlist);
    o.pvlist_name = "site.pvlist";
    return server::AccessRules::parse(acf, o);
}

std::shared_ptr<server::SharedPV> add_pv(server::Server& srv, const std::string& name, const std::string& asg) {
    Value v = nt::NTScalar{TypeCode::Float64, true}.create();
    v["value"] = 1.5;
    auto pv = server::SharedPV::create(name, v);
    if (!asg.empty()) pv->set_access_group(asg, 0);
    srv.add_pv(name, pv);
    return pv;
}

struct Site {
    server::Server srv;
    std::shared_ptr<server::SharedPV> pump, vault, plain;

    explicit Site(net::ServerConfig cfg = net::ServerConfig::isolated()) : srv(std::move(cfg)) {
        pump = add_pv(srv, "acl:pump", "ops");
        vault = add_pv(srv, "acl:vault", "secret");
        plain = add_pv(srv, "acl:plain", "");
        srv.set_access_rules(rules(site_acf));
        srv.start();
    }
    std::unique_ptr<client::Context> client(const std::string& user) {
        client::ClientOptions o;
        o.user = user;
        return std::make_unique<client::Context>(srv.client_config(), o);
    }
};

// The message of the client::Error `f` throws ("" when it does not throw).
template <class F> std::string error_of(F&& f) {
    try {
        f();
    } catch (const client::Error& e) {
        return e.what();
    }
    return {};
}

// The first event of `sub` that is not Connected within 5 s.
client::MonitorEvent next_event(client::Subscription& sub) {
    for (int i = 0; i < 100; ++i)
        for (auto& e : sub.wait(50ms))
            if (e.kind != client::MonitorEvent::Kind::Connected) return e;
    FAIL("no monitor event");
    return {};
}

std::string local_socket_path() {
    return (std::filesystem::temp_directory_path() / ("pvwire-acl-" + std::to_string(::getpid()) + ".sock")).string();
}

}  // namespace

TEST_CASE("acl: a client may read, its denied put names the ASG and its line; a granted user puts", "[e2e][acl]") {
    Site site;
    auto dave = site.client("dave");
    CHECK(dave->get("acl:pump").value["value"].as<double>() == 1.5);
    const std::string why = error_of([&] { dave->put("acl:pump", {{"value", "7"}}); });
    CHECK_THAT(why, Catch::Contains("put denied by ASG(ops) at site.acf:4"));
    CHECK_THAT(why, Catch::Contains("user \"dave\""));
    CHECK(site.pump->current()["value"].as<double>() == 1.5);
    auto alice = site.client("alice");
    alice->put("acl:pump", {{"value", "7"}});
    CHECK(site.pump->current()["value"].as<double>() == 7);
    CHECK(site.srv.stats().access_denied >= 1);
}

TEST_CASE("acl: a denied read hides the value from get and monitor", "[e2e][acl]") {
    Site site;
    auto dave = site.client("dave");
    const std::string why = error_of([&] { dave->get("acl:vault"); });
    CHECK_THAT(why, Catch::Contains("read denied by ASG(secret) at site.acf:8"));
    auto sub = dave->monitor("acl:vault");
    auto e = next_event(*sub);
    CHECK(e.kind == client::MonitorEvent::Kind::Error);
    CHECK(!e.value);
    CHECK_THAT(e.message, Catch::Contains("read denied by ASG(secret)"));
    // alice reads it
    CHECK(site.client("alice")->get("acl:vault").value["value"].as<double>() == 1.5);
}

TEST_CASE("acl: a name the pattern list denies is neither found nor created", "[e2e][acl]") {
    server::Server srv{net::ServerConfig::isolated()};
    add_pv(srv, "ops:pump", "");
    add_pv(srv, "ops:secret1", "");
    srv.set_access_rules(rules(site_acf, ".* ALLOW\nops:secret.* DENY\n"));
    srv.start();
    client::Context ctx(srv.client_config());
    CHECK(ctx.get("ops:pump").value["value"].as<double>() == 1.5);
    // by search: no answer
    CHECK_FALSE(error_of([&] { ctx.get("ops:secret1", client::OpOptions{"", 1500ms}); }).empty());
    // by address: CREATE_CHANNEL refused
    client::OpOptions direct{"", 1500ms, "127.0.0.1:" + std::to_string(srv.tcp_port())};
    CHECK_FALSE(error_of([&] { ctx.get("ops:secret1", direct); }).empty());
    CHECK(srv.stats().access_denied >= 1);
}

TEST_CASE("acl: new rules that take read away end a live monitor with the reason; puts follow the new rules",
          "[e2e][acl]") {
    Site site;
    auto alice = site.client("alice");
    auto sub = alice->monitor("acl:pump");
    auto first = next_event(*sub);
    REQUIRE(first.kind == client::MonitorEvent::Kind::Data);
    // ASG(ops) now grants nothing to alice
    site.srv.set_access_rules(rules(R"(UAG(eng) { carol }
ASG(DEFAULT) { RULE(1, READ) }
ASG(ops) { RULE(1, WRITE) { UAG(eng) } }
)"));
    auto e = next_event(*sub);
    CHECK(e.kind == client::MonitorEvent::Kind::Finished);
    CHECK_THAT(e.message, Catch::Contains("read denied by ASG(ops) at site.acf:3"));
    CHECK_THAT(error_of([&] { alice->get("acl:pump"); }), Catch::Contains("read denied by ASG(ops)"));
    // write taken away, read kept: the open channel's puts are refused from now on
    site.srv.set_access_rules(rules(R"(UAG(eng) { carol }
ASG(DEFAULT) { RULE(1, READ) }
ASG(ops) { RULE(1, READ) RULE(1, WRITE) { UAG(eng) } }
)"));
    CHECK_THAT(error_of([&] { alice->put("acl:pump", {{"value", "3"}}); }), Catch::Contains("put denied by ASG(ops)"));
    // and back: the channel stays, and alice writes again
    site.srv.set_access_rules(rules(site_acf));
    alice->put("acl:pump", {{"value", "3"}});
    CHECK(alice->get("acl:pump").value["value"].as<double>() == 3);
}

TEST_CASE("acl: rules with an error are refused whole and the server keeps the old ones", "[e2e][acl]") {
    Site site;
    auto before = site.srv.access_rules();
    CHECK_THROWS_AS(rules("ASG(ops) { RULE(1, WRITE) { UAG(nobody) } }"), server::AccessRulesError);
    CHECK(site.srv.access_rules() == before);
    CHECK_THAT(error_of([&] { site.client("dave")->put("acl:pump", {{"value", "7"}}); }),
               Catch::Contains("put denied"));
}

TEST_CASE("acl: a UNIX socket client is the process's own account (SO_PEERCRED), with its groups", "[e2e][acl]") {
    auto cfg = net::ServerConfig::isolated();
    cfg.unix_path = local_socket_path();
    Site site(cfg);
    server::ClientIdentity seen;
    site.plain->on_put([&seen](Value&, const server::Peer& peer, server::PVHandler::Done done) {
        seen = peer.identity;
        done(wire::Status::ok());
    });
    const passwd* me = ::getpwuid(::getuid());
    REQUIRE(me);
    const group* my_group = ::getgrgid(::getgid());
    REQUIRE(my_group);
    // members of the process's group write: a role only a UNIX socket peer has
    site.srv.set_access_rules(rules(("UAG(local) { \"role/" + std::string(my_group->gr_name) + R"(" }
ASG(DEFAULT) {
    RULE(1, READ)
    RULE(1, WRITE) { UAG(local) }
}
)").c_str()));
    // the claimed user is ignored: the kernel says who the peer is
    auto ctx = site.client("somebody-else");
    ctx->put("acl:plain", {{"value", "2"}}, client::OpOptions{"", 5000ms, "pva+unix://" + cfg.unix_path});
    CHECK(seen.user == me->pw_name);
    CHECK(seen.method == "ca");
    CHECK(seen.address == "127.0.0.1");
    CHECK(std::find(seen.roles.begin(), seen.roles.end(), my_group->gr_name) != seen.roles.end());
    // over TCP the same client has no roles
    CHECK_THAT(error_of([&] { ctx->put("acl:plain", {{"value", "3"}}); }), Catch::Contains("put denied by ASG(DEFAULT)"));
}

TEST_CASE("acl: the msgpack protocol is refused alike", "[e2e][acl]") {
    auto cfg = net::ServerConfig::isolated();
    cfg.msgpack_port = 0;
    Site site(cfg);
    client::ClientOptions o;
    o.search = false;
    client::Context ctx(site.srv.client_config(), o);
    const std::string at = "msgpack+tcp://127.0.0.1:" + std::to_string(site.srv.msgpack_port());
    CHECK(ctx.get("acl:pump", client::OpOptions{"", 5000ms, at}).value["value"].as<double>() == 1.5);
    CHECK_THAT(error_of([&] { ctx.get("acl:vault", client::OpOptions{"", 5000ms, at}); }),
               Catch::Contains("read denied by ASG(secret)"));
    CHECK_THAT(error_of([&] { ctx.put("acl:pump", {{"value", "7"}}, client::OpOptions{"", 5000ms, at}); }),
               Catch::Contains("put denied by ASG(ops)"));
}

TEST_CASE("acl: a web connection is anonymous at its address, and the rules see it so", "[e2e][acl]") {
    auto cfg = net::ServerConfig::isolated();
    cfg.http_port = 0;
    cfg.web_write = true;
    server::Server srv(cfg);
    add_pv(srv, "acl:pump", "ops");
    // anonymous web clients from this host read; only "ca" users write
    srv.set_access_rules(rules(R"(HAG(here) { 127.0.0.1 }
ASG(DEFAULT) { RULE(1, READ) }
ASG(ops) {
    RULE(1, READ) { HAG(here) }
    RULE(1, WRITE) { METHOD("ca") }
}
)"));
    srv.start();
    client::ClientOptions o;
    o.search = false;
    o.user = "alice";  // claimed in a handshake the web endpoint does not trust
    client::Context ctx(srv.client_config(), o);
    const std::string at = "msgpack+ws://127.0.0.1:" + std::to_string(srv.http_port()) + "/msgpack";
    CHECK(ctx.get("acl:pump", client::OpOptions{"", 5000ms, at}).value["value"].as<double>() == 1.5);
    const std::string why = error_of([&] { ctx.put("acl:pump", {{"value", "7"}}, client::OpOptions{"", 5000ms, at}); });
    CHECK_THAT(why, Catch::Contains("put denied by ASG(ops)"));
    CHECK_THAT(why, Catch::Contains("anonymous client at 127.0.0.1"));
}
