// AccessRules on its own (no server): a realistic ACF with every construct, the rights it gives
// to clients by user, host address, ASL, method, authority and protocol; each kind of error
// refused with its line and column; the pattern list's ASG assignment; loading from files.
#include <catch2/catch.hpp>

#include <pvwire/server/access_rules.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

using namespace pvwire::server;

namespace {

// Host names for HAGs without DNS: "cr-ws1" and "dual" resolve, anything else does not.
std::vector<std::string> test_resolve(const std::string& host) {
    static const std::map<std::string, std::vector<std::string>> hosts{
        {"cr-ws1", {"10.0.0.6"}},
        {"dual", {"10.0.0.7", "fd00::7"}},
    };
    const auto it = hosts.find(host);
    return it == hosts.end() ? std::vector<std::string>{} : it->second;
}

std::shared_ptr<const AccessRules> rules_of(std::string_view acf, std::optional<std::string> pvlist = std::nullopt) {
    AccessRulesOptions options;
    options.acf_name = "site.acf";
    options.pvlist = std::move(pvlist);
    options.pvlist_name = "site.pvlist";
    options.resolve = test_resolve;
    return AccessRules::parse(acf, options);
}

// A realistic file: comments, quoted and unquoted names, groups used before and after their
// definition, TRAPWRITE, INP and CALC, and the Secure PVAccess predicates.
constexpr std::string_view site_acf = R"(# Access rules of the test site
UAG(ops) { alice, "bob" }   # operators
UAG(eng)
{
    carol,
    "role/wheel"
}
HAG(console) { 10.0.0.5, "cr-ws1", dual }
HAG( remote ) { nowhere-host }

ASG(DEFAULT) {
    RULE(1, READ)
}

ASG(ops) {
    INPA("ops:enable")
    RULE(1, READ)
    RULE(0, WRITE, TRAPWRITE) { UAG(ops) HAG(console) }
    RULE(1, WRITE, NOTRAPWRITE) { UAG(eng) }
    RULE(1, WRITE) { UAG(ops) CALC("A=1") }
}

ASG("secure") {
    RULE(0, NONE)
    RULE(1, READ) { PROTOCOL(tls) }
    RULE(1, WRITE) {
        UAG(ops), METHOD("x509")
        AUTHORITY("Lab CA", "Other CA")
    }
    RULE(1, RPC) { UAG(eng) METHOD(ca, x509) }
}
ASG(remote) { RULE(1, WRITE) { HAG(remote) } }
)";

ClientIdentity ca_user(std::string user, std::string address) {
    ClientIdentity who;
    who.user = std::move(user);
    who.address = std::move(address);
    who.method = "ca";
    return who;
}

ClientIdentity x509_user(std::string user, std::string authority) {
    ClientIdentity who;
    who.user = std::move(user);
    who.address = "10.9.9.9";
    who.method = "x509";
    who.authority = std::move(authority);
    who.protocol = Protocol::tls;
    return who;
}

std::string rights(const AccessDecision& d) {
    std::string s;
    s += d.rights.read ? 'R' : '-';
    s += d.rights.write ? 'W' : '-';
    s += d.rights.rpc ? 'X' : '-';
    return s;
}

// The error `acf` is refused with.
AccessRulesError error_of(std::string_view acf) {
    try {
        rules_of(acf);
    } catch (const AccessRulesError& e) {
        return e;
    }
    FAIL("accepted: " << acf);
    throw;
}

AccessRulesError pvlist_error_of(const std::string& pvlist) {
    try {
        rules_of("ASG(DEFAULT) { RULE(1, READ) }", pvlist);
    } catch (const AccessRulesError& e) {
        return e;
    }
    FAIL("accepted: " << pvlist);
    throw;
}

bool has_warning(const AccessRules& r, std::string_view text) {
    for (const auto& w : r.warnings())
        if (w.find(text) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("A realistic ACF is read with its groups, rules and warnings", "[access_rules]") {
    const auto r = rules_of(site_acf);
    CHECK(r->source() == "site.acf");
    CHECK(r->has_asg("DEFAULT"));
    CHECK(r->has_asg("ops"));
    CHECK(r->has_asg("secure"));
    CHECK_FALSE(r->has_asg("Ops"));
    CHECK(has_warning(*r, "site.acf:16:5: INPA(ops:enable) is not read"));
    CHECK(has_warning(*r, "site.acf:20:5: RULE(1, WRITE) with CALC(\"A=1\") never grants"));
    CHECK(has_warning(*r, "site.acf:9:17: host \"nowhere-host\" in HAG(remote) does not resolve"));
    CHECK(r->warnings().size() == 3);
}

TEST_CASE("Users get the rights of the rules whose UAG lists them", "[access_rules]") {
    const auto r = rules_of(site_acf);
    // ASG(ops) at ASL 1: everyone reads, eng writes; ops would write only through the CALC rule.
    CHECK(rights(r->check("ops", 1, ca_user("alice", "10.0.0.5"))) == "R--");
    CHECK(rights(r->check("ops", 1, ca_user("carol", "10.1.1.1"))) == "RWX");
    CHECK(rights(r->check("ops", 1, ca_user("dave", "10.0.0.5"))) == "R--");
    // User names are case-sensitive, as in asLib.
    CHECK(rights(r->check("ops", 1, ca_user("Carol", "10.1.1.1"))) == "R--");
    // A role given by the server matches a "role/NAME" entry.
    ClientIdentity admin = ca_user("erin", "10.1.1.1");
    admin.roles = {"users", "wheel"};
    CHECK(rights(r->check("ops", 1, admin)) == "RWX");
}

TEST_CASE("HAGs match the client's address, literal or resolved when loaded", "[access_rules]") {
    const auto r = rules_of(site_acf);
    // ASG(ops) at ASL 0: ops from the console write (with TRAPWRITE).
    const auto row = GENERATE(table<std::string, std::string>({
        {"10.0.0.5", "RWX"},           // literal entry
        {"10.0.0.5:40222", "RWX"},     // a port suffix is ignored
        {"::ffff:10.0.0.5", "RWX"},    // IPv4-mapped form of the same address
        {"10.0.0.6", "RWX"},           // "cr-ws1", resolved when loaded
        {"10.0.0.7", "RWX"},           // "dual", both of its addresses
        {"[fd00::7]:5075", "RWX"},
        {"10.0.0.8", "R--"},
        {"cr-ws1", "R--"},             // a name from the client is not an address
        {"", "R--"},
    }));
    const auto d = r->check("ops", 0, ca_user("alice", std::get<0>(row)));
    INFO(std::get<0>(row));
    CHECK(rights(d) == std::get<1>(row));
    CHECK(d.trap_write == (std::get<1>(row) == "RWX"));
}

TEST_CASE("A client's claimed host name never matches a HAG", "[access_rules]") {
    const auto r = rules_of(site_acf);
    ClientIdentity who = ca_user("alice", "10.0.0.8");
    who.host_name = "cr-ws1";  // even a resolved name: HAGs match addresses only
    CHECK(rights(r->check("ops", 0, who)) == "R--");
    // A HAG whose only host does not resolve matches nobody.
    CHECK(rights(r->check("remote", 0, ca_user("alice", "10.0.0.5"))) == "---");
}

TEST_CASE("A rule applies to PVs whose ASL is at most its level", "[access_rules]") {
    const auto r = rules_of(site_acf);
    const ClientIdentity alice = ca_user("alice", "10.0.0.5");
    CHECK(rights(r->check("ops", 0, alice)) == "RWX");  // RULE(0, WRITE) applies
    CHECK(rights(r->check("ops", 1, alice)) == "R--");  // it does not at ASL 1
    CHECK(rights(r->check("ops", 2, alice)) == "---");  // no rule has level 2
    CHECK(rights(r->check("ops", -1, alice)) == "RWX");  // a negative ASL counts as 0
}

TEST_CASE("NONE, READ, WRITE and RPC grant what p4p's gateway grants", "[access_rules]") {
    const auto r = rules_of(R"(
        UAG(u) { u }
        ASG(none)  { RULE(1, NONE) }
        ASG(read)  { RULE(1, READ) }
        ASG(write) { RULE(1, WRITE) }
        ASG(rpc)   { RULE(1, RPC) }
        ASG(put)   { RULE(1, PUT) }
        ASG(mixed) { RULE(1, READ) RULE(1, NONE) RULE(1, RPC) { UAG(u) } }
    )");
    const ClientIdentity u = ca_user("u", "127.0.0.1");
    CHECK(rights(r->check("none", 0, u)) == "---");
    CHECK(rights(r->check("read", 0, u)) == "R--");
    CHECK(rights(r->check("write", 0, u)) == "RWX");
    CHECK(rights(r->check("rpc", 0, u)) == "--X");
    CHECK(rights(r->check("put", 0, u)) == "RW-");
    // The union of the matching rules: NONE takes nothing away.
    CHECK(rights(r->check("mixed", 0, u)) == "R-X");
    CHECK(rights(r->check("mixed", 0, ca_user("v", "127.0.0.1"))) == "R--");
    CHECK(has_warning(*r, "no ASG(DEFAULT)"));
}

TEST_CASE("METHOD, AUTHORITY and PROTOCOL match x509 clients over TLS", "[access_rules]") {
    const auto r = rules_of(site_acf);
    // ASG(secure): TLS reads; ops with an x509 certificate from a listed CA write; eng with
    // "ca" or "x509" call RPC.
    CHECK(rights(r->check("secure", 1, x509_user("alice", "Lab CA"))) == "RWX");
    CHECK(rights(r->check("secure", 1, x509_user("bob", "Other CA"))) == "RWX");
    CHECK(rights(r->check("secure", 1, x509_user("alice", "Rogue CA"))) == "R--");
    CHECK(rights(r->check("secure", 1, x509_user("alice", "lab ca"))) == "R--");  // issuer CNs are exact
    // "ca" clients claiming the authority do not pass AUTHORITY, even over TLS.
    ClientIdentity claimed = ca_user("alice", "10.9.9.9");
    claimed.authority = "Lab CA";
    claimed.protocol = Protocol::tls;
    CHECK(rights(r->check("secure", 1, claimed)) == "R--");
    claimed.protocol = Protocol::tcp;
    CHECK(rights(r->check("secure", 1, claimed)) == "---");
    CHECK(rights(r->check("secure", 1, ca_user("carol", "10.9.9.9"))) == "--X");
    ClientIdentity anonymous_eng = ca_user("carol", "10.9.9.9");
    anonymous_eng.method = "anonymous";
    CHECK(rights(r->check("secure", 1, anonymous_eng)) == "---");
    CHECK(rights(r->check("secure", 1, x509_user("carol", "Any CA"))) == "R-X");
}

TEST_CASE("An undefined ASG gets DEFAULT's rules, and no DEFAULT grants nothing", "[access_rules]") {
    const auto r = rules_of(site_acf);
    const auto d = r->check("nonesuch", 1, ca_user("carol", "10.1.1.1"));
    CHECK(d.asg == "DEFAULT");
    CHECK(d.requested == "nonesuch");
    CHECK(rights(d) == "R--");
    CHECK(d.asg_line == 11);
    CHECK(d.denial(Operation::write) ==
          "put denied by ASG(DEFAULT) at site.acf:11 as ASG(nonesuch) is not defined: no RULE grants WRITE at "
          "ASL 1 to user \"carol\" at 10.1.1.1 (ca, TCP)");

    const auto bare = rules_of("UAG(x) { y }");
    const auto none = bare->check("DEFAULT", 0, ca_user("y", "127.0.0.1"));
    CHECK(rights(none) == "---");
    CHECK(none.denial(Operation::read) ==
          "read denied by ASG(DEFAULT) (not defined in site.acf, so it grants nothing): no RULE grants READ at ASL "
          "0 to user \"y\" at 127.0.0.1 (ca, TCP)");
}

TEST_CASE("A decision names the rule that granted and, for a denial, the ASG and the client", "[access_rules]") {
    const auto r = rules_of(site_acf);
    const auto d = r->check("ops", 0, ca_user("alice", "10.0.0.5"));
    CHECK(d.granted_by(Operation::read) == 17);
    CHECK(d.granted_by(Operation::write) == 18);
    CHECK(d.granted_by(Operation::rpc) == 18);
    CHECK(d.denial(Operation::write).empty());

    ClientIdentity who = ca_user("dave", "10.0.0.9");
    who.host_name = "laptop.example";
    const auto denied = r->check("ops", 0, who);
    CHECK(denied.allows(Operation::read));
    CHECK_FALSE(denied.allows(Operation::write));
    CHECK(denied.granted_by(Operation::write) == 0);
    CHECK(denied.denial(Operation::write) ==
          "put denied by ASG(ops) at site.acf:15: no RULE grants WRITE at ASL 0 to user \"dave\" at 10.0.0.9 "
          "(laptop.example) (ca, TCP)");
    CHECK(denied.denial(Operation::rpc).rfind("rpc denied by ASG(ops) at site.acf:15: no RULE grants RPC", 0) == 0);

    ClientIdentity anonymous;
    anonymous.address = "10.0.0.9";
    CHECK(r->check("remote", 0, anonymous).denial(Operation::read) ==
          "read denied by ASG(remote) at site.acf:32: no RULE grants READ at ASL 0 to anonymous client at "
          "10.0.0.9 (TCP)");
    CHECK(r->check("secure", 0, x509_user("z", "Lab CA")).denial(Operation::write).find(
              "to user \"z\" at 10.9.9.9 (x509 from \"Lab CA\", TLS)") != std::string::npos);
}

namespace {

// A text that must be refused, and where and why.
struct ErrorCase {
    std::string text;
    int line, column;
    std::string message;  // how the message starts
};

void check_error(const AccessRulesError& e, const std::string& source, const ErrorCase& c) {
    CHECK(e.source() == source);
    CHECK(e.line() == c.line);
    CHECK(e.column() == c.column);
    CHECK_THAT(e.message(), Catch::StartsWith(c.message));
    CHECK(std::string(e.what()) ==
          source + ":" + std::to_string(c.line) + ":" + std::to_string(c.column) + ": " + e.message());
}

}  // namespace

TEST_CASE("Each error refuses the whole file and names its line and column", "[access_rules]") {
    const auto c = GENERATE(values<ErrorCase>({
        {"UAG(ops) { alice }\nASG(a) {\n    RULE(1, WRITE) { UAG(opz) }\n}", 3, 26,
         "unknown UAG opz (no UAG(opz) in this file)"},
        {"ASG(a) {\n  RULE(1, READ) { HAG(\"x\") }\n}", 2, 23, "unknown HAG \"x\" (no HAG(x) in this file)"},
        {"ASG(a) { RULE(x, READ) }", 1, 15, "bad level x: RULE's first argument is an access security level, a number from 0"},
        {"ASG(a) { RULE(-1, READ) }", 1, 15, "bad level -1"},
        {"ASG(a) { RULE(99999999999, READ) }", 1, 15, "bad level 99999999999"},
        {"ASG(a) {\n RULE(1, READWRITE)\n}", 2, 10, "unknown access READWRITE (NONE, READ, WRITE or RPC"},
        {"ASG(a) { RULE(1, read) }", 1, 18, "unknown access read"},
        {"ASG(a) { RULE(1, WRITE, LOG) }", 1, 25, "expected TRAPWRITE or NOTRAPWRITE, got LOG"},
        {"UAG(a) {\n  \"bob, carol }\n", 2, 3, "unterminated string: the closing quote is missing on this line"},
        {"UAG(a) { \"bob", 1, 10, "unterminated string"},
        {"UAG(a) { bob@site }", 1, 13, "invalid character '@'"},
        {"UAG(a) { b\x01 }", 1, 11, "invalid byte 0x01"},
        {"UAG(a) { x }\n# again\nUAG(a) { y }", 3, 5, "duplicate UAG(a) (first at line 1)"},
        {"HAG(h) { x }\nHAG(h)", 2, 5, "duplicate HAG(h) (first at line 1)"},
        {"ASG(DEFAULT) { RULE(1, READ) }\nASG(DEFAULT) { RULE(1, WRITE) }", 2, 5, "duplicate ASG(DEFAULT)"},
        {"ASG(a) {}\nGROUP(b) {}", 2, 1, "expected UAG, HAG or ASG, got GROUP"},
        {"ASG(a) { RULE(1, READ) { USER(x) } }", 1, 26, "expected UAG, HAG, CALC, METHOD, AUTHORITY, PROTOCOL or '}' in RULE, got USER"},
        {"ASG(a) { RULE(1, READ) { PROTOCOL(udp) } }", 1, 35, "unknown PROTOCOL udp (TCP or TLS)"},
        {"ASG(a) { RULE(1, READ) { METHOD() } }", 1, 33, "METHOD() needs at least one name"},
        {"ASG(a) { RULE(1, READ) { CALC(\"A:=1\") } }", 1, 31, "assignment (:=) in CALC is not allowed"},
        {"ASG(a) { RULE(1, READ) { CALC(A) } }", 1, 31, "CALC takes a quoted expression, got A"},
        {"ASG(a) { RULE(1, READ) { CALC(\"(A\") } }", 1, 31, "unbalanced parentheses in CALC(\"(A\")"},
        {"ASG(a) { INPM(\"pv\") }", 1, 10, "expected RULE, INPA..INPL or '}' in ASG(a), got INPM"},
        {"ASG(x {", 1, 7, "expected ')' after ASG(x, got '{'"},
        {"ASG(x) {\n  RULE(1, READ)\n", 3, 1, "expected RULE, INPA..INPL or '}' in ASG(x), got the end of the file"},
        {"UAG(a) { x y }", 1, 12, "expected ',' or '}' after x, got y"},
        {"HAG(h) { \"\" }", 1, 10, "empty host name in HAG(h)"},
        {"ASG(a) { RULE(1 READ) }", 1, 17, "expected ',' after RULE's level, got READ"},
    }));
    INFO(c.text);
    check_error(error_of(c.text), "site.acf", c);
}

TEST_CASE("The pattern list assigns ASG and ASL as the CA gateway's pvlist does", "[access_rules]") {
    const auto r = rules_of(site_acf, R"(# last match wins; a DENY beats an ALLOW
.*              ALLOW
ops:.*          allow ops 0
ops:secret.*    DENY
tls:.*          ALLOW   secure
tls:x[0-9]+     ALLOW   nosuch   1
)");
    const auto check = [&](std::string_view pv, bool allowed, std::string asg, int asl, int line) {
        const AsgAssignment a = r->asg_for(pv);
        INFO(pv);
        CHECK(a.allowed == allowed);
        if (allowed) {
            CHECK(a.asg == asg);
            CHECK(a.asl == asl);
        }
        CHECK(a.line == line);
    };
    check("anything", true, "DEFAULT", 1, 2);  // ALLOW without an ASL: level 1, as in the CA gateway
    check("ops:pump", true, "ops", 0, 3);
    check("ops:secret:key", false, "", 0, 4);
    check("tls:a", true, "secure", 1, 5);
    check("tls:x12", true, "nosuch", 1, 6);
    check("tls:x12y", true, "secure", 1, 5);  // patterns match whole names
    check(std::string(100000, 'o'), true, "DEFAULT", 1, 2);
    check(std::string("ops:\0x", 6), false, "", 0, 0);
    // glibc reads an unmatched ')' as itself; the pattern still has to match the whole name.
    const auto paren = rules_of(site_acf, "a)|b ALLOW\n");
    CHECK(paren->asg_for("a)").allowed);
    CHECK(paren->asg_for("b").allowed);
    CHECK_FALSE(paren->asg_for("ab").allowed);
    CHECK_FALSE(paren->asg_for("b)").allowed);
    // Bounds and bracket expressions within the limits.
    const auto bounded = rules_of(site_acf, "[[:alpha:]]{2}:[0-9]{1,3}(:x){0,2} ALLOW\n");
    CHECK(bounded->asg_for("ab:123:x:x").allowed);
    CHECK_FALSE(bounded->asg_for("ab:1234").allowed);
    CHECK(has_warning(*r, "site.pvlist:6:25: ASG(nosuch) is not in the ACF: DEFAULT's rules apply"));
    // An ASG the ACF does not define gets DEFAULT's rules.
    CHECK(r->check(r->asg_for("tls:x1").asg, 1, ca_user("x", "1.2.3.4")).asg == "DEFAULT");
}

TEST_CASE("A name no ALLOW line matches is not allowed; DENY, ALLOW lets an ALLOW win", "[access_rules]") {
    const auto strict = rules_of(site_acf, "ops:.* ALLOW ops\nops:secret.* DENY\n");
    CHECK_FALSE(strict->asg_for("other").allowed);
    CHECK(strict->asg_for("other").line == 0);
    CHECK_FALSE(strict->asg_for("ops:secret").allowed);

    const auto lenient = rules_of(site_acf, "EVALUATION ORDER DENY, ALLOW\nops:secret.* DENY\nops:.* ALLOW ops\n");
    CHECK(lenient->asg_for("ops:secret").allowed);
    CHECK(lenient->asg_for("ops:secret").asg == "ops");
    CHECK_FALSE(lenient->asg_for("other").allowed);

    CHECK_FALSE(rules_of(site_acf, "")->asg_for("x").allowed);  // an empty list allows nothing
    const AsgAssignment no_list = rules_of(site_acf)->asg_for("x");
    CHECK(no_list.allowed);
    CHECK(no_list.asg == "DEFAULT");
    CHECK(no_list.asl == 0);
    CHECK(no_list.line == 0);
}

TEST_CASE("A pattern list with an error is refused with its line", "[access_rules]") {
    const auto c = GENERATE(values<ErrorCase>({
        {".* ALLOW\nops:( ALLOW ops", 2, 1, "bad regular expression \"ops:(\""},
        {"[z-a] ALLOW", 1, 1, "bad regular expression \"[z-a]\""},
        {"x PERMIT", 1, 3, "unknown command \"PERMIT\" (ALLOW or DENY)"},
        {"x", 1, 1, "expected PATTERN ALLOW [ASG [ASL]] or PATTERN DENY"},
        {"\n\n  x DENY FROM host", 3, 10, "DENY FROM is not supported"},
        {"x DENY y", 1, 8, "unexpected \"y\" after PATTERN DENY"},
        {"x ALIAS y", 1, 3, "ALIAS is not supported"},
        {"x ALLOW DEFAULT one", 1, 17, "bad level \"one\""},
        {"x ALLOW DEFAULT 1 2", 1, 19, "unexpected \"2\""},
        {"EVALUATION ORDER ALLOW DENY NOW", 1, 1, "expected EVALUATION ORDER ALLOW, DENY"},
        {"a{255}{255}{255} ALLOW", 1, 1, "pattern too large: its bounds ({n,m} and +) expand it beyond 1000 elements"},
        {"x" + std::string(60, '+') + " ALLOW", 1, 1, "pattern too large"},
        {std::string("a\0b ALLOW", 9), 1, 1, "a NUL byte in a pattern"},
        {"(x[a{]{2,9}){20}(y){900} ALLOW", 1, 1, "pattern too large"},
        {"(a)\\1 ALLOW", 1, 1, "back-references (\\1..\\9) are not supported in patterns"},
        {std::string(40, '(') + "a" + std::string(40, ')') + " ALLOW", 1, 1, "pattern nests groups more than 32 deep"},
    }));
    INFO(c.text);
    check_error(pvlist_error_of(c.text), "site.pvlist", c);
}

TEST_CASE("load_file reads the ACF and the pattern list, and names an unreadable file", "[access_rules]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("pvwire-acf-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const auto write = [&](const char* name, std::string_view text) {
        std::ofstream(dir / name) << text;
        return (dir / name).string();
    };
    const std::string acf = write("pv.acf", site_acf);
    const std::string pvlist = write("pv.pvlist", ".* ALLOW\nops:.* ALLOW ops 0\n");
    const std::string bad = write("bad.acf", "ASG(a) {\n  RULE(1, WRITE) { UAG(nobody) }\n}\n");

    const auto r = AccessRules::load_file(acf, pvlist, test_resolve);
    CHECK(r->source() == acf);
    CHECK(r->asg_for("ops:x").asg == "ops");
    CHECK(r->check("ops", 0, ca_user("alice", "10.0.0.6")).denial(Operation::write).empty());
    CHECK(r->check("ops", 0, ca_user("zed", "10.0.0.6")).denial(Operation::write).find("at " + acf + ":15") !=
          std::string::npos);

    try {
        AccessRules::load_file(bad, {}, test_resolve);
        FAIL("accepted");
    } catch (const AccessRulesError& e) {
        CHECK(std::string(e.what()) == bad + ":2:24: unknown UAG nobody (no UAG(nobody) in this file)");
    }
    try {
        AccessRules::load_file((dir / "missing.acf").string());
        FAIL("accepted");
    } catch (const AccessRulesError& e) {
        CHECK(e.line() == 0);
        CHECK_THAT(e.what(), Catch::Contains("missing.acf: cannot read: No such file or directory"));
    }
    fs::remove_all(dir);
}

TEST_CASE("Without a resolver, HAG names go through the system's: localhost is 127.0.0.1", "[access_rules]") {
    const auto r = AccessRules::parse("HAG(local) { localhost }\nASG(DEFAULT) { RULE(1, WRITE) { HAG(local) } }");
    CHECK(r->check("DEFAULT", 0, ca_user("u", "127.0.0.1")).rights.write);
    CHECK_FALSE(r->check("DEFAULT", 0, ca_user("u", "127.0.0.2")).rights.write);
}

namespace {

// The text of every block fenced as ```LANG in docs/security.md.
std::vector<std::string> doc_blocks(std::string_view lang) {
    std::ifstream in(std::string(PVWIRE_SOURCE_DIR) + "/docs/security.md");
    REQUIRE(in);
    std::vector<std::string> blocks;
    std::string line, fence = "```" + std::string(lang);
    std::optional<std::string> block;
    while (std::getline(in, line)) {
        const auto start = line.find_first_not_of(' ');
        const std::string_view text = start == std::string::npos ? std::string_view() : std::string_view(line).substr(start);
        if (block && text == "```") {
            blocks.push_back(*block);
            block.reset();
        } else if (block) {
            *block += line + "\n";
        } else if (text == fence) {
            block.emplace();
        }
    }
    return blocks;
}

}  // namespace

TEST_CASE("The examples of docs/security.md mean what the page says", "[access_rules]") {
    const auto acf = doc_blocks("acf");
    const auto pvlist = doc_blocks("pvlist");
    REQUIRE(acf.size() == 1);
    REQUIRE(pvlist.size() == 1);
    AccessRulesOptions options;
    options.acf_name = "/etc/pvwire/site.acf";
    options.pvlist = pvlist[0];
    options.resolve = test_resolve;
    const auto r = AccessRules::parse(acf[0], options);
    CHECK(r->warnings().empty());

    const auto alice = r->check("ops", 0, ca_user("alice", "10.0.0.5"));
    CHECK(rights(alice) == "RWX");
    CHECK(alice.trap_write);
    CHECK(rights(r->check("ops", 1, ca_user("alice", "10.0.0.5"))) == "R--");
    CHECK(rights(r->check("ops", 1, ca_user("carol", "10.7.7.7"))) == "RWX");
    CHECK(rights(r->check("secure", 1, x509_user("bob", "Lab CA"))) == "RWX");
    CHECK(rights(r->check("secure", 1, ca_user("carol", "10.7.7.7"))) == "--X");
    CHECK(r->check("ops", 0, ca_user("dave", "10.0.0.9")).denial(Operation::write) ==
          "put denied by ASG(ops) at /etc/pvwire/site.acf:12: no RULE grants WRITE at ASL 0 to user \"dave\" at "
          "10.0.0.9 (ca, TCP)");

    CHECK(r->asg_for("anything").asg == "DEFAULT");
    CHECK(r->asg_for("ops:pump").asg == "ops");
    CHECK(r->asg_for("ops:pump").asl == 0);
    CHECK_FALSE(r->asg_for("ops:secret1").allowed);
    CHECK(r->asg_for("tls:x").asg == "secure");

    // The page's example of a pattern list error.
    CHECK_THAT(pvlist_error_of(".* ALLOW\nops:( ALLOW ops\n").what(),
               Catch::Equals("site.pvlist:2:1: bad regular expression \"ops:(\": Unmatched ( or \\("));
}
