// pvwire call: an RPC (like pvxcall). The argument is an NTURI (scheme "pva", path = the PV
// name) whose query holds the NAME=VALUE arguments, as strings (PVXS's pvxcall does the same)
// or, with --typed, as int64/double/boolean/string guessed from the text.
#include "client_common.hpp"
#include "commands.hpp"

#include <pvwire/data/nt.hpp>

#include <CLI/CLI.hpp>

#include <charconv>
#include <future>
#include <iostream>
#include <memory>

namespace pvwire::tool {

namespace {

struct CallArgs : ClientArgs {
    std::string pv;
    std::vector<std::string> args;
    bool typed = false;
};

TypeCode guess(const std::string& s) {
    if (s == "true" || s == "false") return TypeCode::Bool;
    std::int64_t i;
    auto r = std::from_chars(s.data(), s.data() + s.size(), i);
    if (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) return TypeCode::Int64;
    double d;
    if (!s.empty() && detail::parse_number(s, d)) return TypeCode::Float64;
    return TypeCode::String;
}

// Every server has a "server" PV, so no server claims it in a search (PVXS's neither): a call
// to it can only time out. Say what works instead.
void explain_server_pv() {
    std::cerr << "The \"server\" PV of a server is never found by search. Ask one server directly:\n"
                 "  pvwire call --server HOST[:PORT] server op=channels   its PVs\n"
                 "  pvwire list HOST[:PORT]       the same\n"
                 "  pvwire list -i HOST[:PORT]    its implementation and version (op=info)\n";
}

int run_call(const CallArgs& a) {
    nt::NTURI uri;
    std::vector<std::pair<std::string, std::string>> query;
    try {
        for (const auto& nv : a.args) {
            const auto eq = nv.find('=');
            if (eq == std::string::npos || eq == 0)
                throw std::runtime_error("expected <name>=<value>, not \"" + nv + "\"");
            query.emplace_back(nv.substr(0, eq), nv.substr(eq + 1));
            uri.add_arg(a.typed ? guess(query.back().second) : TypeCode::String, query.back().first);
        }
    } catch (const std::exception& e) {
        std::cerr << "pvwire call: " << e.what() << "\n";
        return 2;
    }
    Value arg = uri.create();
    arg["scheme"] = "pva";
    arg["path"] = a.pv;
    for (std::size_t i = 0; i < query.size(); ++i) {  // by position: names may hold dots
        try {
            arg["query"].member(i).set(query[i].second);
        } catch (const std::exception& e) {
            std::cerr << "pvwire call: argument " << query[i].first << ": " << e.what() << "\n";
            return 2;
        }
    }
    arg.mark_all();
    if (a.verbose) std::cerr << "Argument:\n" << format_text(arg, ValueFormat::Tree, 0);

    client::Context ctx(client_config(a));
    using Outcome = std::pair<std::error_code, client::Result>;
    auto p = std::make_shared<std::promise<Outcome>>();
    auto f = p->get_future();
    ctx.async_rpc(a.pv, arg, op_options(a),
                  [p](std::error_code ec, client::Result r) { p->set_value({ec, std::move(r)}); });
    ctx.hurry();
    if (f.wait_for(a.timeout_ms() + std::chrono::milliseconds(500)) != std::future_status::ready) {
        report_outstanding({{a.pv, {}}}, false);
        if (a.pv == "server" && a.server.empty()) explain_server_pv();
        return 1;
    }
    auto [ec, r] = f.get();
    print_stats(a, ctx);
    if (ec == client::errc::timeout) {
        report_outstanding({{a.pv, r.status.message}}, false);
        if (a.pv == "server" && a.server.empty()) explain_server_pv();
        return 1;
    }
    if (ec) {
        std::cerr << a.pv << ": Error: " << client::describe(ec, r) << "\n";
        return 1;
    }
    if (!r.status.message.empty()) std::cerr << a.pv << ": Warning: " << r.status.message << "\n";
    if (a.json) {
        json j = json::object();
        j["name"] = a.pv;
        j["value"] = to_json(r.value);
        std::cout << j.dump() << "\n";
    } else {
        std::cout << a.pv << "\n" << format_text(r.value, ValueFormat::Tree, a.max_elements);
    }
    return 0;
}

}  // namespace

void register_call(CLI::App& app) {
    auto a = std::make_shared<CallArgs>();
    auto* cmd = app.add_subcommand("call", "Call an RPC and print the result (like pvxcall)");
    add_client_options(cmd, *a, opt_timeout | opt_request | opt_max | opt_json);
    cmd->add_flag("-t,--typed", a->typed, "Send arguments as int64/double/boolean when they look like one");
    cmd->prefix_command();  // everything from the PV name on is taken literally (see put)
    cmd->fallthrough(false);
    cmd->footer("Options go before the PV name; the arguments NAME=VALUE after it form the NTURI query.");
    set_usage(cmd, "[OPTIONS] PV [NAME=VALUE...]",
              {{"PV", "The PV name"}, {"NAME=VALUE", "Arguments: the query of the NTURI sent"}});
    cmd->callback([a, cmd] {
        auto rest = cmd->remaining();
        if (rest.empty()) {
            std::cerr << "pvwire call: expected a PV name (see pvwire call --help)\n";
            throw CLI::RuntimeError(2);
        }
        a->pv = rest.front();
        a->args.assign(rest.begin() + 1, rest.end());
        if (const auto o = misplaced_option(cmd, a->args); !o.empty()) {
            std::cerr << "pvwire call: options go before the PV name (" << o << " after " << a->pv
                      << "): pvwire call [OPTIONS] PV [NAME=VALUE...]\n";
            throw CLI::RuntimeError(2);
        }
        if (!a->args.empty() && a->args.front() == "--") a->args.erase(a->args.begin());
        const int status = run_call(*a);
        if (status) throw CLI::RuntimeError(status);
    });
}

}  // namespace pvwire::tool
