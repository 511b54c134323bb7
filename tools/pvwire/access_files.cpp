#include "access_files.hpp"

#include <pvwire/log.hpp>

#include <csignal>
#include <iostream>

namespace pvwire::tool {

void add_access_options(CLI::App* cmd, AccessFiles& files) {
    cmd->add_option("--acf", files.acf,
                    "Enforce the access rules of this EPICS Access Security File (docs/security.md); SIGHUP "
                    "reads it again (a file with an error is refused, the rules in use stay)");
    cmd->add_option("--pvlist", files.pvlist,
                    "A pattern list (CA gateway .pvlist) giving PV names their ASG and ASL, and denying names; "
                    "needs --acf");
}

std::shared_ptr<const server::AccessRules> load_access_rules(const AccessFiles& files, const std::string& program) {
    if (!files.pvlist.empty() && files.acf.empty())
        throw server::AccessRulesError(files.pvlist, 0, 0, "--pvlist needs --acf (the pattern list names its ASGs)");
    if (files.acf.empty()) return nullptr;
    auto rules = server::AccessRules::load_file(files.acf, files.pvlist);
    for (const auto& w : rules->warnings()) std::cerr << program << ": warning: " << w << "\n";
    return rules;
}

std::optional<std::shared_ptr<const server::AccessRules>> access_rules_at_start(const AccessFiles& files,
                                                                                const std::string& program) {
    try {
        return load_access_rules(files, program);
    } catch (const server::AccessRulesError& e) {
        std::cerr << program << ": " << e.what() << "\n";
        return std::nullopt;
    }
}

namespace {
std::atomic<bool> g_hangup{false};
}

std::atomic<bool>& hangup_flag() {
    static const bool installed = [] {
        std::signal(SIGHUP, [](int) { g_hangup = true; });
        return true;
    }();
    (void)installed;
    return g_hangup;
}

void reload_access_rules(const AccessFiles& files, server::Server& srv, const std::string& program) {
    if (files.acf.empty()) {
        log::server().warn("SIGHUP: no --acf given, no access rules to read again");
        return;
    }
    try {
        srv.set_access_rules(load_access_rules(files, program));
        std::cerr << program << ": SIGHUP: access rules read again from " << files.acf
                  << (files.pvlist.empty() ? "" : " and " + files.pvlist) << std::endl;
    } catch (const server::AccessRulesError& e) {
        log::server().error("SIGHUP: access rules not changed: {}", e.what());
    }
}

}  // namespace pvwire::tool
