// The access rules of `pvwire serve` and `pvwire gateway`: --acf FILE and --pvlist FILE, read
// at start and again on SIGHUP (docs/security.md, "Access rules"; docs/cli.md).
#pragma once

#include <pvwire/server/access_rules.hpp>
#include <pvwire/server/server.hpp>

#include <CLI/CLI.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <string>

namespace pvwire::tool {

struct AccessFiles {
    std::string acf;     // an EPICS Access Security File; "": no rules
    std::string pvlist;  // a CA gateway pattern list; "": none
};

// Adds --acf and --pvlist to `cmd`.
void add_access_options(CLI::App* cmd, AccessFiles& files);

// The rules of `files`, their warnings printed as "PROGRAM: warning: ..."; null without --acf.
// Throws AccessRulesError ("FILE:LINE:COL: ...") for a file with an error, and for --pvlist
// without --acf.
std::shared_ptr<const server::AccessRules> load_access_rules(const AccessFiles& files, const std::string& program);

// load_access_rules() for a program starting: an error is printed as "PROGRAM: FILE:LINE:COL:
// ..." and gives nullopt (the program then exits with status 2).
std::optional<std::shared_ptr<const server::AccessRules>> access_rules_at_start(const AccessFiles& files,
                                                                                const std::string& program);

// Set by SIGHUP from now on (the handler is installed by the first call).
std::atomic<bool>& hangup_flag();

// After a SIGHUP: reads `files` again into `srv`. A file with an error is refused whole (logged
// with its place, pvwire.server ERROR) and the rules in use stay.
void reload_access_rules(const AccessFiles& files, server::Server& srv, const std::string& program);

}  // namespace pvwire::tool
