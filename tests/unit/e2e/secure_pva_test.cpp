// Secure PVAccess: PKCS#12 keychains, the TLS port beside the plain one, "tls" in searches,
// certificate names in the peer facts, and the refusals (expired, wrong CA, missing).
#include "support/every_operation.hpp"
#include "support/test_certificates.hpp"

#include <pvwire/data/nt.hpp>
#include <pvwire/net/tls.hpp>
#include <pvwire/protocol/search_responder.hpp>
#include <pvwire/server/access_rules.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <openssl/ssl.h>

#include <fstream>
#include <map>
#include <mutex>
#include <thread>

using namespace pvwire;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using test::TestIdentity;

namespace {

// A lab: a CA, the server's and a client's certificates, their keychains.
struct Lab {
    test::TempDir dir;
    TestIdentity ca = TestIdentity::ca("Test Lab CA");
    TestIdentity other_ca = TestIdentity::ca("Other CA");
    TestIdentity server_id = TestIdentity::signed_by(ca, "pvwire test server");
    TestIdentity alice = TestIdentity::signed_by(ca, "alice");
    std::string server_keychain = test::write_keychain(dir.file("server.p12"), &server_id, {&ca}, "s3cret");
    std::string alice_keychain = test::write_keychain(dir.file("alice.p12"), &alice, {&ca});
    std::string trust_only_keychain = test::write_keychain(dir.file("trust.p12"), nullptr, {&ca});

    net::TlsConfig server_tls(bool require_client_cert = false) const {
        net::TlsConfig t;
        t.keychain = server_keychain;
        t.password = "s3cret";
        t.client_cert_required = require_client_cert;
        return t;
    }
    // An isolated server with a TLS port (ephemeral) beside the plain one.
    net::ServerConfig server_config() const {
        auto cfg = net::ServerConfig::isolated();
        cfg.tls = server_tls();
        cfg.tls_port = 0;
        return cfg;
    }
    static net::TlsConfig client_tls(const std::string& keychain) {
        net::TlsConfig t;
        t.keychain = keychain;
        return t;
    }
};

// Records the peer facts of every connection its inner listener hands over.
class FactsListener final : public net::Listener {
public:
    explicit FactsListener(std::shared_ptr<net::Listener> inner) : inner_(std::move(inner)) {}
    void start(Accepted accepted) override {
        inner_->start([this, accepted](std::shared_ptr<net::StreamTransport> t, net::Protocol p) {
            {
                std::lock_guard lock(mu_);
                facts_.push_back(t->peer_facts());
            }
            accepted(std::move(t), p);
        });
    }
    void stop() override { inner_->stop(); }
    std::string describe() const override { return inner_->describe(); }
    std::vector<net::PeerFacts> facts() const {
        std::lock_guard lock(mu_);
        return facts_;
    }

private:
    std::shared_ptr<net::Listener> inner_;
    mutable std::mutex mu_;
    std::vector<net::PeerFacts> facts_;
};

// Refusals a TLS listener reported.
struct Refusals {
    std::mutex mu;
    std::vector<std::string> why;
    net::TlsRefused callback() {
        return [this](const std::string& w) {
            std::lock_guard lock(mu);
            why.push_back(w);
        };
    }
    // Waits (up to 5 s) for a refusal whose text contains `text`.
    bool saw(const std::string& text) {
        for (int i = 0; i < 500; ++i) {
            {
                std::lock_guard lock(mu);
                for (const auto& w : why)
                    if (w.find(text) != std::string::npos) return true;
            }
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }
};

// A TLS listener of `context` on 127.0.0.1 (ephemeral port), added to `srv`.
std::uint16_t add_tls_listener(server::Server& srv, std::shared_ptr<net::ssl::context> context,
                               std::shared_ptr<FactsListener>* facts = nullptr, net::TlsRefused refused = {}) {
    net::tcp::acceptor acceptor(srv.executor(), net::tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
    const auto port = acceptor.local_endpoint().port();
    auto tls = net::tls_listener(std::move(acceptor), std::move(context), {}, std::move(refused));
    if (facts) {
        *facts = std::make_shared<FactsListener>(tls);
        srv.add_listener(*facts);
    } else {
        srv.add_listener(tls);
    }
    return port;
}

// A server TLS context made by hand: `who` presented whatever its dates (the library refuses to
// load an expired certificate of its own).
std::shared_ptr<net::ssl::context> raw_context(net::ssl::context::method method, const TestIdentity& who,
                                               const TestIdentity& trusted) {
    auto ctx = std::make_shared<net::ssl::context>(method);
    REQUIRE(SSL_CTX_use_certificate(ctx->native_handle(), who.cert()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(ctx->native_handle(), who.key()) == 1);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx->native_handle()), trusted.cert());
    ctx->set_verify_mode(net::ssl::verify_peer);
    return ctx;
}

client::OpOptions at(const std::string& server, std::chrono::milliseconds timeout = 5000ms) {
    client::OpOptions o;
    o.server = server;
    o.timeout = timeout;
    return o;
}

std::string pvas(std::uint16_t port) { return "pvas://127.0.0.1:" + std::to_string(port); }

}  // namespace

TEST_CASE("a TLS client's certificate names reach the server's peer facts", "[e2e][tls]") {
    Lab lab;
    server::Server srv(net::ServerConfig::isolated());
    test::add_test_pvs(srv);
    srv.start();
    std::shared_ptr<FactsListener> facts;
    const auto port = add_tls_listener(srv, net::make_server_tls_context(lab.server_tls(true)), &facts);

    auto cfg = net::ClientConfig::isolated();
    cfg.tls = Lab::client_tls(lab.alice_keychain);
    client::ClientOptions options;
    options.search = false;
    client::Context ctx(cfg, options);
    test::check_every_operation(ctx, pvas(port));

    const auto seen = facts->facts();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].tls);
    CHECK(seen[0].ip == "127.0.0.1");
    CHECK(seen[0].cert_subject == "alice");
    CHECK(seen[0].cert_issuer == "Test Lab CA");
    ctx.stop();
    srv.stop();
}

TEST_CASE("a TLS client without a certificate is served when client certificates are optional",
          "[e2e][tls]") {
    Lab lab;
    server::Server srv(net::ServerConfig::isolated());
    test::add_test_pvs(srv);
    srv.start();
    std::shared_ptr<FactsListener> facts;
    const auto port = add_tls_listener(srv, net::make_server_tls_context(lab.server_tls(false)), &facts);

    auto cfg = net::ClientConfig::isolated();
    cfg.tls = Lab::client_tls(lab.trust_only_keychain);
    client::Context ctx(cfg, client::ClientOptions{.search = false});
    CHECK(ctx.get("t:dbl", at(pvas(port))).value["value"].as<double>() == 1.5);
    const auto seen = facts->facts();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].tls);
    CHECK(seen[0].cert_subject.empty());
    CHECK(seen[0].cert_issuer.empty());
    ctx.stop();
    srv.stop();
}

TEST_CASE("plain and TLS clients find the same server by search, each over its own port", "[e2e][tls]") {
    Lab lab;
    auto scfg = lab.server_config();
    server::Server srv(scfg);
    test::add_test_pvs(srv);
    srv.start();
    REQUIRE(srv.tls_port() != 0);
    CHECK(srv.tls_port() != srv.tcp_port());

    auto plain_cfg = srv.config().client_config();
    auto tls_cfg = plain_cfg;
    tls_cfg.tls = Lab::client_tls(lab.alice_keychain);
    client::Context plain(plain_cfg), secure(tls_cfg);
    auto plain_ch = plain.channel("t:dbl");
    auto secure_ch = secure.channel("t:dbl");
    REQUIRE(plain_ch->wait_connected(5s));
    REQUIRE(secure_ch->wait_connected(5s));
    CHECK(plain_ch->server()->port() == srv.tcp_port());
    CHECK(secure_ch->server()->port() == srv.tls_port());
    // both connected at once, both served
    CHECK(plain.get("t:dbl").value["value"].as<double>() == 1.5);
    CHECK(secure.get("t:dbl").value["value"].as<double>() == 1.5);
    secure.put("t:dbl", {{"value", "7"}});
    CHECK(plain.get("t:dbl").value["value"].as<double>() == 7.0);
    plain.stop();
    secure.stop();
    srv.stop();
}

TEST_CASE("search replies offer the TLS port to clients that list tls", "[tls][search]") {
    protocol::SearchResponder responder(wire::Guid{}, 5075, [](std::string_view) { return true; });
    wire::Search search;
    search.channels = {wire::SearchChannel{7, "pv"}};
    auto reply_to = [&](std::vector<std::string> protocols) {
        search.protocols = std::move(protocols);
        auto r = responder.answer(search);
        REQUIRE(r);
        return std::get<wire::SearchResponse>(r->response.body);
    };
    // a server without TLS answers a TLS client with its plain port
    CHECK(reply_to({"tls", "tcp"}).protocol == "tcp");
    responder.set_tls_port(5076);
    auto secure = reply_to({"tls", "tcp"});
    CHECK(secure.protocol == "tls");
    CHECK(secure.server_port == 5076);
    CHECK(secure.cids == std::vector<std::uint32_t>{7});
    auto plain = reply_to({"tcp"});
    CHECK(plain.protocol == "tcp");
    CHECK(plain.server_port == 5075);
}

TEST_CASE("the client refuses a server certificate that has expired or that its CA did not sign",
          "[e2e][tls]") {
    Lab lab;
    server::Server srv(net::ServerConfig::isolated());
    test::add_test_pvs(srv);
    srv.start();
    const auto expired = TestIdentity::signed_by(lab.ca, "old server", -7200, -3600);
    const auto expired_port = add_tls_listener(srv, raw_context(net::ssl::context::tls_server, expired, lab.ca));
    const auto stranger = TestIdentity::signed_by(lab.other_ca, "stranger");
    const auto stranger_port = add_tls_listener(srv, raw_context(net::ssl::context::tls_server, stranger, lab.other_ca));

    auto cfg = net::ClientConfig::isolated();
    cfg.tls = Lab::client_tls(lab.alice_keychain);
    client::Context ctx(cfg, client::ClientOptions{.search = false});
    const auto where = [](std::uint16_t p) { return "TLS handshake with 127.0.0.1:" + std::to_string(p) + " failed: "; };
    CHECK_THROWS_WITH(ctx.get("t:dbl", at(pvas(expired_port), 1500ms)),
                      Contains(where(expired_port) + "certificate has expired"));
    CHECK_THROWS_WITH(ctx.get("t:dbl", at(pvas(stranger_port), 1500ms)),
                      Contains(where(stranger_port) + "self-signed certificate in certificate chain"));
    ctx.stop();
    srv.stop();
}

TEST_CASE("the server refuses a client certificate that has expired, from another CA, or missing when required",
          "[e2e][tls]") {
    Lab lab;
    server::Server srv(net::ServerConfig::isolated());
    test::add_test_pvs(srv);
    srv.start();
    Refusals refusals;
    const auto port = add_tls_listener(srv, net::make_server_tls_context(lab.server_tls(true)), nullptr,
                                       refusals.callback());
    auto cfg = net::ClientConfig::isolated();
    auto get_with = [&](net::Connector connector) {
        client::ClientOptions o;
        o.search = false;
        o.connectors["tls"] = std::move(connector);
        client::Context ctx(cfg, o);
        CHECK_THROWS(ctx.get("t:dbl", at(pvas(port), 1000ms)));
        ctx.stop();
    };
    const auto expired = TestIdentity::signed_by(lab.ca, "bob", -7200, -3600);
    get_with(net::tls_connector(raw_context(net::ssl::context::tls_client, expired, lab.ca)));
    const auto stranger = TestIdentity::signed_by(lab.other_ca, "mallory");
    get_with(net::tls_connector(raw_context(net::ssl::context::tls_client, stranger, lab.ca)));
    get_with(net::tls_connector(net::make_client_tls_context(Lab::client_tls(lab.trust_only_keychain))));

    // (a client retries a direct server while its operation waits: one refusal or more each)
    CHECK(refusals.saw("failed: certificate has expired"));
    CHECK(refusals.saw("failed: unable to get local issuer certificate"));
    CHECK(refusals.saw("failed: peer did not return a certificate"));
    std::lock_guard lock(refusals.mu);
    for (const auto& w : refusals.why) CHECK_THAT(w, Contains("TLS handshake from 127.0.0.1:") && Contains(" failed: "));
    srv.stop();
}

TEST_CASE("keychains that cannot be used are refused with the file and the reason", "[tls]") {
    Lab lab;
    auto tls = lab.server_tls();
    tls.password = "wrong";
    CHECK_THROWS_WITH(net::make_server_tls_context(tls), Contains(lab.server_keychain) && Contains("wrong password"));
    CHECK_THROWS_WITH(net::make_server_tls_context(Lab::client_tls(lab.trust_only_keychain)),
                      Contains("has no certificate with its private key"));
    CHECK_THROWS_WITH(net::make_client_tls_context(Lab::client_tls(lab.dir.file("missing.p12"))),
                      Contains("missing.p12 cannot be opened"));
    const auto old = TestIdentity::signed_by(lab.ca, "old", -7200, -3600);
    const auto old_keychain = test::write_keychain(lab.dir.file("old.p12"), &old, {&lab.ca});
    CHECK_THROWS_WITH(net::make_client_tls_context(Lab::client_tls(old_keychain)), Contains("has expired"));
}

TEST_CASE("the EPICS_PVA(S)_TLS_* variables configure keychains, passwords, options and the TLS port",
          "[tls][config]") {
    test::TempDir dir;
    std::filesystem::create_directories(dir.file("pva/1.5"));
    std::ofstream(dir.file("pva/1.5/client.p12")) << "x";
    std::ofstream(dir.file("pwd")) << "secret\n";
    std::map<std::string, std::string> vars;
    auto lookup = [&](const char* n) -> const char* {
        auto it = vars.find(n);
        return it == vars.end() ? nullptr : it->second.c_str();
    };

    auto plain = net::ServerConfig::from_env(lookup);
    CHECK_FALSE(plain.tls.enabled());
    CHECK(plain.tls_port == 5076);

    vars = {{"EPICS_PVAS_TLS_KEYCHAIN", "/etc/pva/server.p12;pw"},
            {"EPICS_PVAS_TLS_OPTIONS", "client_cert=require no_revocation_check bogus=1"},
            {"EPICS_PVAS_TLS_PORT", "15076"}};
    auto s = net::ServerConfig::from_env(lookup);
    CHECK(s.tls.keychain == "/etc/pva/server.p12");
    CHECK(s.tls.password == "pw");
    CHECK(s.tls.client_cert_required);
    CHECK(s.tls.ignored_options == std::vector<std::string>{"no_revocation_check"});
    CHECK(s.tls_port == 15076);
    REQUIRE(s.warnings.size() == 1);
    CHECK_THAT(s.warnings[0], Contains("bogus=1"));
    CHECK_THAT(s.describe(), Contains("EPICS_PVAS_TLS_KEYCHAIN=/etc/pva/server.p12 (password given)"));

    // the server falls back to EPICS_PVA_TLS_KEYCHAIN; a client reads only the EPICS_PVA_ ones
    vars = {{"EPICS_PVA_TLS_KEYCHAIN", "/k.p12"}, {"EPICS_PVAS_TLS_OPTIONS", "client_cert=require"}};
    CHECK(net::ServerConfig::from_env(lookup).tls.keychain == "/k.p12");
    CHECK_FALSE(net::ClientConfig::from_env(lookup).tls.client_cert_required);

    // the client's default keychain under $XDG_CONFIG_HOME/pva/1.5, its password from a file
    vars = {{"XDG_CONFIG_HOME", dir.path()}, {"EPICS_PVA_TLS_KEYCHAIN_PWD_FILE", dir.file("pwd")}};
    auto c = net::ClientConfig::from_env(lookup);
    CHECK(c.tls.keychain == dir.file("pva/1.5/client.p12"));
    CHECK(c.tls.password == "secret");
    CHECK_FALSE(net::ServerConfig::from_env(lookup).tls.enabled());  // no server.p12 there
}

// The identity access rules see under TLS is the certificate's (method x509, user its CN,
// authority its issuer's CN), never what a client claims: alice's certificate may put, the same
// name claimed over plain TCP ("ca") may not, nor may another certificate of the same CA; a
// PROTOCOL(TLS) group hides its value from the plain client.
TEST_CASE("access rules see the client certificate: one rule allows it, others deny", "[e2e][tls][access]") {
    Lab lab;
    TestIdentity mallory = TestIdentity::signed_by(lab.ca, "mallory");
    const std::string mallory_keychain = test::write_keychain(lab.dir.file("mallory.p12"), &mallory, {&lab.ca});
    constexpr const char* acf = R"(UAG(ops) { alice }
ASG(DEFAULT) { RULE(1, READ) }
ASG(ops) {
    RULE(1, READ)
    RULE(1, WRITE) { UAG(ops) METHOD("x509") AUTHORITY("Test Lab CA") }
}
ASG(sealed) {
    RULE(1, READ) { PROTOCOL(TLS) }
}
)";
    server::AccessRulesOptions ro;
    ro.acf_name = "tls.acf";
    auto scfg = lab.server_config();
    server::Server srv(scfg);
    for (const auto& [name, asg] : {std::pair{"sec:valve", "ops"}, std::pair{"sec:key", "sealed"}}) {
        Value v = nt::NTScalar{TypeCode::Float64, true}.create();
        v["value"] = 1.5;
        auto pv = server::SharedPV::create(name, v);
        pv->set_access_group(asg, 0);
        srv.add_pv(name, pv);
    }
    srv.set_access_rules(server::AccessRules::parse(acf, ro));
    srv.start();

    auto tls_client = [&](const std::string& keychain) {
        auto cfg = srv.config().client_config();
        cfg.tls = Lab::client_tls(keychain);
        return std::make_unique<client::Context>(cfg);
    };
    auto put_error = [](client::Context& c) {
        try {
            c.put("sec:valve", {{"value", "7"}});
        } catch (const client::Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    auto alice = tls_client(lab.alice_keychain);
    CHECK(put_error(*alice).empty());
    CHECK(alice->get("sec:valve").value["value"].as<double>() == 7.0);
    CHECK(alice->get("sec:key").value["value"].as<double>() == 1.5);

    auto impostor = tls_client(mallory_keychain);
    CHECK_THAT(put_error(*impostor), Contains("put denied by ASG(ops) at tls.acf:3") && Contains("mallory"));

    client::ClientOptions claim;
    claim.user = "alice";  // "ca": a claim, not a certificate
    client::Context plain(srv.config().client_config(), claim);
    CHECK_THAT(put_error(plain), Contains("put denied by ASG(ops)") && Contains("TCP"));
    CHECK(plain.get("sec:valve").value["value"].as<double>() == 7.0);
    std::string hidden;
    try {
        plain.get("sec:key");
    } catch (const client::Error& e) {
        hidden = e.what();
    }
    CHECK_THAT(hidden, Contains("read denied by ASG(sealed)"));

    alice->stop();
    impostor->stop();
    plain.stop();
    srv.stop();
}

// The connection limits screen TLS peers before the handshake, as they do plain ones: over the
// per-address limit, a second TLS client gets no session (it is held, then reset) while the
// first one keeps being served.
TEST_CASE("a TLS peer over the per-address limit gets no handshake, the admitted one is served", "[e2e][tls]") {
    Lab lab;
    auto scfg = lab.server_config();
    scfg.max_connections_per_peer = 1;
    server::Server srv(scfg);
    test::add_test_pvs(srv);
    srv.start();
    auto cfg = srv.config().client_config();
    cfg.tls = Lab::client_tls(lab.alice_keychain);
    client::Context first(cfg), second(cfg);
    CHECK(first.get("t:dbl", at(pvas(srv.tls_port()))).value["value"].as<double>() == 1.5);
    CHECK_THROWS_AS(second.get("t:dbl", at(pvas(srv.tls_port()), 1500ms)), client::Error);
    CHECK(srv.stats().connections_refused >= 1);
    CHECK(first.get("t:dbl", at(pvas(srv.tls_port()))).value["value"].as<double>() == 1.5);
    first.stop();
    second.stop();
    srv.stop();
}
