// The identity the access rules see, made from what the socket established and what the
// handshake claimed (docs/security.md, "Identity"); TLS facts are filled by hand here.
#include <catch2/catch.hpp>

#include "../../../src/server/client_identity.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

using namespace pvwire;
using server::detail::client_identity;
using server::detail::web_identity;

namespace {
std::string my_user() {
    const passwd* pw = ::getpwuid(::getuid());
    REQUIRE(pw);
    return pw->pw_name;
}
std::string my_group() {
    const group* g = ::getgrgid(::getgid());
    REQUIRE(g);
    return g->gr_name;
}
}  // namespace

TEST_CASE("a TCP client is who its handshake says, at its socket's address, never at its claimed host", "[acl]") {
    net::PeerFacts tcp;
    tcp.ip = "10.0.0.9";
    auto ca = client_identity(tcp, {"ca", "dave", "console-1"});
    CHECK(ca.method == "ca");
    CHECK(ca.user == "dave");
    CHECK(ca.address == "10.0.0.9");
    CHECK(ca.host_name.empty());
    CHECK(ca.protocol == server::Protocol::tcp);
    CHECK(ca.roles.empty());
    auto anon = client_identity(tcp, {"anonymous", "dave", "h"});
    CHECK(anon.method == "anonymous");
    CHECK(anon.user.empty());
}

TEST_CASE("a method the socket cannot back (x509 without a certificate) is anonymous", "[acl]") {
    net::PeerFacts tcp;
    tcp.ip = "10.0.0.9";
    auto id = client_identity(tcp, {"x509", "alice", "h"});
    CHECK(id.method == "anonymous");
    CHECK(id.user.empty());
}

TEST_CASE("TLS with a client certificate is x509: the subject's CN, the issuer's CN, protocol TLS", "[acl]") {
    net::PeerFacts tls;
    tls.ip = "10.0.0.5";
    tls.tls = true;
    tls.cert_subject = "alice";
    tls.cert_issuer = "Lab CA";
    auto id = client_identity(tls, {"ca", "mallory", "h"});
    CHECK(id.method == "x509");
    CHECK(id.user == "alice");
    CHECK(id.authority == "Lab CA");
    CHECK(id.protocol == server::Protocol::tls);
    CHECK(id.address == "10.0.0.5");
}

TEST_CASE("TLS without a client certificate keeps the handshake's method, over TLS", "[acl]") {
    net::PeerFacts tls;
    tls.ip = "10.0.0.5";
    tls.tls = true;
    auto id = client_identity(tls, {"ca", "bob", "h"});
    CHECK(id.method == "ca");
    CHECK(id.user == "bob");
    CHECK(id.authority.empty());
    CHECK(id.protocol == server::Protocol::tls);
}

TEST_CASE("a UNIX socket client is the account of its uid, with its groups as roles, on the local host", "[acl]") {
    net::PeerFacts local;
    local.local = true;
    local.uid = unsigned(::getuid());
    local.gid = unsigned(::getgid());
    auto id = client_identity(local, {"ca", "somebody-else", "h"});
    CHECK(id.user == my_user());
    CHECK(id.method == "ca");
    CHECK(id.address == "127.0.0.1");
    CHECK(std::find(id.roles.begin(), id.roles.end(), my_group()) != id.roles.end());
    // a uid without an account is its number
    local.uid = 4000000000u;
    CHECK(client_identity(local, {}).user == "4000000000");
}

TEST_CASE("a web client is the trusted header's user, or anonymous, at the peer's address", "[acl]") {
    net::HttpIdentity who;
    who.peer_host = "10.1.2.3";
    who.peer = "ws:10.1.2.3:40000";
    auto anon = web_identity(who);
    CHECK(anon.method == "anonymous");
    CHECK(anon.user.empty());
    CHECK(anon.address == "10.1.2.3");
    who.user = "carol";
    auto named = web_identity(who);
    CHECK(named.method == "ca");
    CHECK(named.user == "carol");
}
