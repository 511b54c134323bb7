// pvwire put: write a PV (like pvxput). `pvwire put PV VALUE` sets the `value` field;
// `pvwire put PV FIELD=VALUE ...` sets fields by path; a bare JSON object sets the whole
// structure. The current value is read first (so enumerations can be set by choice name and
// fields not written keep their content), the marked fields are written, and the value read
// back afterwards is printed (-q: nothing).
#include "client_common.hpp"
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <future>
#include <iostream>
#include <memory>

namespace pvwire::tool {

namespace {

struct PutArgs : ClientArgs {
    std::string pv;
    std::vector<std::string> values;
    bool quiet = false;
};

using Outcome = std::pair<std::error_code, client::Result>;

// Waits for a completion (the operation times out by itself; the margin guards against a
// lost completion).
template <class Start> Outcome wait_for(Start start, std::chrono::milliseconds timeout) {
    auto p = std::make_shared<std::promise<Outcome>>();
    auto f = p->get_future();
    start([p](std::error_code ec, client::Result r) {
        try {
            p->set_value({ec, std::move(r)});
        } catch (const std::future_error&) {
        }
    });
    if (f.wait_for(timeout + std::chrono::milliseconds(500)) != std::future_status::ready)
        return {client::errc::timeout, {}};
    return f.get();
}

// The (path, text) pairs from the command line; path "" means the whole structure.
std::vector<std::pair<std::string, std::string>> assignments(const std::vector<std::string>& values) {
    std::vector<std::pair<std::string, std::string>> out;
    if (values.size() == 1) {
        const std::string& v = values[0];
        if (!v.empty() && v.front() == '{') return {{"", v}};
        if (v.find('=') == std::string::npos || (!v.empty() && (v.front() == '[' || v.front() == '"')))
            return {{"value", v}};
    }
    for (const auto& fv : values) {
        const auto eq = fv.find('=');
        if (eq == std::string::npos || eq == 0)
            throw std::runtime_error("expected <field>=<value>, not \"" + fv + "\"");
        out.emplace_back(fv.substr(0, eq), fv.substr(eq + 1));
    }
    return out;
}

int run_put(const PutArgs& a) {
    std::vector<std::pair<std::string, std::string>> fields;
    try {
        fields = assignments(a.values);
    } catch (const std::exception& e) {
        std::cerr << "pvwire put: " << e.what() << "\n";
        return 2;
    }
    client::Context ctx(client_config(a));
    const client::OpOptions opts = op_options(a);
    auto fail = [&](const Outcome& o) {
        if (o.first == client::errc::timeout) report_outstanding({{a.pv, o.second.status.message}}, false);
        else std::cerr << a.pv << ": Error: " << client::describe(o.first, o.second) << "\n";
        print_stats(a, ctx);
        return 1;
    };

    // 1. the current value: its type, and the enumeration choices
    auto cur = wait_for([&](auto done) { ctx.async_get(a.pv, opts, std::move(done)); }, a.timeout_ms());
    if (cur.first) return fail(cur);
    Value v = cur.second.value ? cur.second.value.clone() : Value();
    if (!v) {
        std::cerr << a.pv << ": Error: the server sent no value\n";
        return 1;
    }
    v.unmark();
    try {
        for (const auto& [path, text] : fields) {
            Value f = path.empty() ? v : v.field(path);
            if (!f) throw std::runtime_error("field '" + path + "': the PV has no such field");
            set_from_text(f, text, path);
        }
    } catch (const std::exception& e) {
        std::cerr << a.pv << ": cannot put: " << e.what() << "\n";
        return 1;
    }
    if (a.verbose) std::cerr << "Writing fields:\n" << format_text(v, ValueFormat::Delta, a.max_elements);

    // 2. the put
    auto put = wait_for([&](auto done) { ctx.async_put(a.pv, v, opts, std::move(done)); }, a.timeout_ms());
    if (put.first) return fail(put);
    if (!put.second.status.message.empty()) std::cerr << a.pv << ": Warning: " << put.second.status.message << "\n";

    // 3. what the PV holds now
    if (!a.quiet) {
        auto now = wait_for([&](auto done) { ctx.async_get(a.pv, opts, std::move(done)); }, a.timeout_ms());
        if (now.first) return fail(now);
        if (a.json) {
            json j = json::object();
            j["name"] = a.pv;
            j["value"] = to_json(now.second.value);
            std::cout << j.dump() << "\n";
        } else {
            std::cout << a.pv << "\n" << format_text(now.second.value, ValueFormat::Delta, a.max_elements);
        }
    }
    print_stats(a, ctx);
    return 0;
}

}  // namespace

void register_put(CLI::App& app) {
    auto a = std::make_shared<PutArgs>();
    auto* cmd = app.add_subcommand("put", "Write a PV (like pvxput), then print its new value");
    add_client_options(cmd, *a, opt_timeout | opt_request | opt_max | opt_json);
    cmd->add_flag("-q,--quiet", a->quiet, "Do not read back and print the value after the put");
    // Everything from the PV name on is taken literally (prefix command): negative numbers,
    // "[1,2,3]" (CLI11 would split it) and words that are subcommand names stay values.
    cmd->prefix_command();
    cmd->fallthrough(false);
    cmd->positionals_at_end(false);
    cmd->footer("Options go before the PV name; everything after it is a value: VALUE for the value field, "
                "FIELD=VALUE pairs, or a JSON object for the whole structure. Negative numbers need nothing "
                "special: pvwire put PV -3.25 (pvwire put PV -- -3.25 also works).");
    set_usage(cmd, "[OPTIONS] PV VALUE | PV FIELD=VALUE... | PV '{JSON}'",
              {{"PV", "The PV name"},
               {"VALUE", "The new value of the value field (a number, text, choice name, [array])"},
               {"FIELD=VALUE", "Fields by path, e.g. value=3 alarm.message=hi"},
               {"{JSON}", "A JSON object for the whole structure"}});
    cmd->callback([a, cmd] {
        auto rest = cmd->remaining();
        if (rest.empty()) {
            std::cerr << "pvwire put: expected a PV name and a value (see pvwire put --help)\n";
            throw CLI::RuntimeError(2);
        }
        a->pv = rest.front();
        a->values.assign(rest.begin() + 1, rest.end());
        if (const auto o = misplaced_option(cmd, a->values); !o.empty()) {
            std::cerr << "pvwire put: options go before the PV name (" << o << " after " << a->pv
                      << "): pvwire put [OPTIONS] PV VALUE...\n";
            throw CLI::RuntimeError(2);
        }
        if (!a->values.empty() && a->values.front() == "--") a->values.erase(a->values.begin());
        if (a->values.empty()) {
            std::cerr << "pvwire put: expected a value after the PV name (see pvwire put --help)\n";
            throw CLI::RuntimeError(2);
        }
        const int status = run_put(*a);
        if (status) throw CLI::RuntimeError(status);
    });
}

}  // namespace pvwire::tool
