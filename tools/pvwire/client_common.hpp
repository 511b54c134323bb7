// Shared pieces of the client subcommands (get, put, monitor, info, call, list): the common
// pvxget-style options, the client configuration, and the text and JSON forms of values and
// types. Everything writes to strings or streams so that it can be tested without a network.
#pragma once

#include <pvwire/client/context.hpp>
#include <pvwire/data/value.hpp>
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
    std::string format;              // -F: tree or delta (empty: the subcommand's default)
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

// The whole value as an indented tree (the library's Value::to_string style:
// `double value 3.25`), every line prefixed by `indent` spaces; scalar arrays with more than
// `max_elements` elements (0: no limit) are cut: `[1, 2, 3, ...] (10 elements)`.
std::string format_tree(const Value& v, std::size_t max_elements, int indent = 4);
// Only the changed (marked) leaf fields, one per line with their dotted path:
// `uint value 7`, `long timeStamp.secondsPastEpoch 1795788028`.
std::string format_delta(const Value& v, std::size_t max_elements, int indent = 4);
// The type tree (GET_FIELD), as pvxinfo prints it, indented.
std::string format_type(const TypeDesc& t, int indent = 4);
// One scalar or scalar array as text (arrays cut as in format_tree).
std::string format_scalar(const Value& v, std::size_t max_elements);

// ---- JSON -------------------------------------------------------------------------------------

// Structures become objects (members in order), scalar and structure arrays arrays, unions
// {"member": value} (null when none), variants their content (null when empty). Never cut.
json to_json(const Value& v);
// The dotted paths of the changed leaf fields (as format_delta prints them).
std::vector<std::string> changed_paths(const Value& v);

// ---- input ------------------------------------------------------------------------------------

// Sets field `f` from command line text: scalars by conversion ("3.5", "true", "-2");
// enumerations (index/choices structures) by choice name or index; scalar arrays from a
// JSON array ("[1,2,3]", "[\"a\",\"b\"]") or a comma/space separated list ("1,2,3");
// structures from a JSON object of member values. Marks what it writes. Throws
// std::runtime_error with a message naming the field on failure.
void set_from_text(Value f, const std::string& text, const std::string& path);
// Same from a parsed JSON value.
void set_from_json(Value f, const json& j, const std::string& path);

// ---- put and call: everything after the PV name is literal ------------------------------------

// CLI11 shows no positionals for a prefix command: give `cmd` a usage line ("[OPTIONS] PV
// VALUE...") and a Positionals section for --help.
void set_usage(CLI::App* cmd, const std::string& usage, const std::vector<std::pair<std::string, std::string>>& positionals);
// The first word after the PV name (before a "--") that is an option of `cmd`, such as "-q"
// in `put PV 3 -q`: options go before the PV name, and a value that merely starts with '-'
// (-3.25) is not one. Empty when there is none.
std::string misplaced_option(const CLI::App* cmd, const std::vector<std::string>& after_pv);

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
