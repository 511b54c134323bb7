// Shared pieces of the client subcommands (get, put, monitor, info, call, list): the common
// pvxget-style options, the client configuration, and the text and JSON forms of values and
// types. Everything writes to strings or streams so that it can be tested without a network.
#pragma once

#include <pvwire/client/context.hpp>
#include <pvwire/data/value.hpp>
#include <pvwire/data/value_format.hpp>
#include <pvwire/net/config.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <string>
#include <system_error>
#include <vector>

namespace CLI {
class App;
}

namespace pvwire::tool {

using json = nlohmann::ordered_json;

// The options most client subcommands share (docs/cli.md, "Common options").
struct ClientArgs {
    double timeout = 5.0;            // -w: seconds per operation
    std::string request;             // -r: pvRequest
    bool verbose = false;            // -v: print the effective configuration
    bool debug = false;              // -d: channel states and context statistics on stderr
    std::size_t max_elements = 20;   // -#: array elements printed (0: all)
    bool json = false;               // --json
    std::string format;              // -F: delta (default), tree or pvget
    std::string server;              // --server: this server, without search
    std::vector<std::string> names;  // PV names

    std::chrono::milliseconds timeout_ms() const {
        return std::chrono::milliseconds(static_cast<long long>(timeout * 1000.0 + 0.5));
    }
};

// Which of the shared options a subcommand takes.
enum ClientFlags : unsigned {
    opt_timeout = 1, opt_request = 2, opt_max = 4, opt_json = 8, opt_format = 16,
};
void add_client_options(CLI::App* cmd, ClientArgs& args, unsigned flags);
// The operation options the arguments give: pvRequest, timeout, server.
client::OpOptions op_options(const ClientArgs& a);

// ClientConfig::from_env(), its warnings on stderr, and with -v its description.
net::ClientConfig client_config(const ClientArgs& args);

// With -d, prints the context's statistics to stderr.
void print_stats(const ClientArgs& args, const client::Context& ctx);

// An operation that did not finish: the PV name and why ("not connected", or empty).
struct Outstanding {
    std::string name;
    std::string why;
};
// "NAME: Timeout (WHY)" for each, then "Timeout with N outstanding" as pvxget prints it (or
// "Interrupted with N outstanding" after Ctrl-C), on stderr. Every client subcommand ends a
// timeout this way.
void report_outstanding(const std::vector<Outstanding>& left, bool interrupted);

// ---- text forms -------------------------------------------------------------------------------

// -F NAME: "delta" (and ""), "tree" or "pvget" (see data/value_format.hpp).
ValueFormat text_format(const std::string& name);
// `v` one level indented under its PV name's line, as PVXS's tools print it; arrays cut
// after `max_elements` (0: no limit). Delta prints the marked fields, or all of an unmarked value.
std::string format_text(Value v, ValueFormat format, std::size_t max_elements);
// The type tree (GET_FIELD), as pvxinfo prints it, indented.
std::string format_type(const TypeDesc& t, int indent = 4);

// ---- JSON -------------------------------------------------------------------------------------

// Structures become objects (members in order), scalar and structure arrays arrays, unions
// {"member": value} (null when none), variants their content (null when empty). Never cut.
json to_json(const Value& v);
// The dotted paths of the changed leaf fields.
std::vector<std::string> changed_paths(const Value& v);

// ---- input ------------------------------------------------------------------------------------

// Sets field `f` from command line text: scalars by conversion ("3.5", "true", "-2");
// enumerations (index/choices structures) by choice name or index; scalar arrays from a
// JSON array ("[1,2,3]", "[\"a\",\"b\"]") or a comma/space separated list ("1,2,3");
// structures from a JSON object of member values; unions from {"member": value}. Marks what
// it writes. Throws
// std::runtime_error with a message naming the field on failure.
void set_from_text(Value f, const std::string& text, const std::string& path);
// Same from a parsed JSON value, in the forms to_json() writes (structure and union arrays from
// arrays of their elements' JSON, null for an empty element). The PV file's "value" too.
void set_from_json(Value f, const json& j, const std::string& path);

// ---- put and call: everything after the PV name is literal ------------------------------------

// CLI11 shows no positionals for a prefix command: give `cmd` a usage line ("[OPTIONS] PV
// VALUE...") and a Positionals section for --help.
void set_usage(CLI::App* cmd, const std::string& usage, const std::vector<std::pair<std::string, std::string>>& positionals);
// The first word after the PV name (before a "--") that is an option of `cmd`, such as "-q"
// in `put PV 3 -q`: options go before the PV name, and a value that merely starts with '-'
// (-3.25) is not one. Empty when there is none.
std::string misplaced_option(const CLI::App* cmd, const std::vector<std::string>& after_pv);

// The local time as PVXS's tools print an event's time (EPICS epicsTime's form):
// "2026-12-04 07:45:01.123456789".
std::string local_time_text();

// ---- Ctrl-C ------------------------------------------------------------------------------------

// Installs SIGINT/SIGTERM handlers that set the returned flag (and restore the defaults on a
// second signal, so that a stuck program can still be killed).
std::atomic<bool>& install_interrupt_handler();

// Runs one operation per PV name of `args`, all in flight at once: start(name, completion)
// begins it. Waits until all complete, the timeout (plus a margin) passes, or Ctrl-C. Then,
// in name order, prints "NAME: Error: ..." for failures and calls print(index, result) for
// successes; prints stats, then report_outstanding() for the operations left. Returns the exit status: 0, or 1 on any error or outstanding operation.
int for_each_pv(const ClientArgs& args, client::Context& ctx,
                const std::function<void(const std::string& name, client::Context::Completion)>& start,
                const std::function<void(std::size_t index, const client::Result&)>& print);

}  // namespace pvwire::tool
