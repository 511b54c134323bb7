// libFuzzer target: AccessRules::parse(), the ACF reader and the pattern list reader
// (include/pvwire/server/access_rules.hpp).
//
// Input: the ACF text, then optionally a 0x00 byte and a pattern list. Host names resolve
// without DNS ("h1" to 10.0.0.1, nothing else). AccessRulesError is the expected refusal and
// must name a line inside the text; any other exception, a crash or a hang is a finding. Rules
// that were read are asked about every ASG and a few names, and must keep their promises:
// write implies read, and a denial text exactly when an operation is denied.
#include <pvwire/server/access_rules.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace pvwire::server;

namespace {

[[noreturn]] void fail(const char* what, std::string_view text) {
    std::fprintf(stderr, "fuzz_acf: %s\n%.*s\n", what, static_cast<int>(text.size()), text.data());
    std::abort();
}

std::vector<std::string> no_dns(const std::string& host) {
    if (host == "h1") return {"10.0.0.1"};
    return {};
}

void check_promises(const AccessRules& rules, std::string_view text) {
    ClientIdentity who;
    who.user = "u";
    who.address = "10.0.0.1";
    who.method = "ca";
    const Operation ops[] = {Operation::read, Operation::write, Operation::rpc};
    for (std::string_view asg : {"DEFAULT", "a", "ops", "x"})
        for (int asl : {0, 1, 5}) {
            const AccessDecision d = rules.check(asg, asl, who);
            if (d.rights.write && !d.rights.read) fail("write without read", text);
            for (Operation op : ops)
                if (d.allows(op) == !d.denial(op).empty() || d.allows(op) != (d.granted_by(op) > 0))
                    fail("denial text or granting line disagrees with the rights", text);
        }
    for (std::string_view pv : {"a", "ops:x", "", "DEFAULT"}) rules.asg_for(pv);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto split = input.find('\0');
    AccessRulesOptions options;
    options.resolve = no_dns;
    const std::string_view acf = input.substr(0, split);
    if (split != std::string_view::npos) options.pvlist = std::string(input.substr(split + 1));
    try {
        const auto rules = AccessRules::parse(acf, options);
        check_promises(*rules, input);
    } catch (const AccessRulesError& e) {
        const std::string_view text = e.source() == options.acf_name ? acf : std::string_view(*options.pvlist);
        const auto lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
        if (e.line() < 1 || e.line() > lines) fail("the error's line is outside the text", input);
    }
    return 0;
}
