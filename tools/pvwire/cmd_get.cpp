// pvwire get: read PVs (like pvxget). Prints each PV name, then its value indented (a tree,
// or with -F delta the fields the server sent), or with --json one object per line.
#include "client_common.hpp"
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>

namespace pvwire::tool {

namespace {

int run_get(const ClientArgs& a) {
    client::Context ctx(client_config(a));
    const client::OpOptions opts = op_options(a);
    return for_each_pv(
        a, ctx,
        [&](const std::string& name, client::Context::Completion done) { ctx.async_get(name, opts, std::move(done)); },
        [&](std::size_t i, const client::Result& r) {
            const auto& name = a.names[i];
            if (!r.status.message.empty()) std::cerr << name << ": Warning: " << r.status.message << "\n";
            if (a.json) {
                json j = json::object();
                j["name"] = name;
                j["value"] = to_json(r.value);
                std::cout << j.dump() << "\n";
            } else {
                std::cout << name << "\n" << format_text(r.value, text_format(a.format), a.max_elements);
            }
        });
}

}  // namespace

void register_get(CLI::App& app) {
    auto a = std::make_shared<ClientArgs>();
    auto* cmd = app.add_subcommand("get", "Read PVs and print their values (like pvxget)");
    add_client_options(cmd, *a, opt_timeout | opt_request | opt_max | opt_json | opt_format);
    cmd->add_option("pv", a->names, "PV names")->required();
    cmd->callback([a] {
        const int status = run_get(*a);
        if (status) throw CLI::RuntimeError(status);
    });
}

}  // namespace pvwire::tool
