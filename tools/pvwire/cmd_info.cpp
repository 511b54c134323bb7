// pvwire info: the type of PVs (GET_FIELD), like pvxinfo: "NAME from SERVER", then the type
// tree indented.
#include "client_common.hpp"
#include "commands.hpp"

#include <pvwire/data/type_desc.hpp>
#include <pvwire/data/type_text.hpp>

#include <CLI/CLI.hpp>

#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>

namespace pvwire::tool {

namespace {

struct InfoArgs : ClientArgs {
    std::string field;    // sub-field, "" for the whole PV
    bool pvtype = false;  // --pvtype: the compact text a PV file's "pvtype" takes
};

int run_info(const InfoArgs& a) {
    client::Context ctx(client_config(a));
    client::OpOptions opts = op_options(a);
    opts.request.clear();  // GET_FIELD takes no pvRequest
    std::vector<std::shared_ptr<client::Channel>> channels;  // to say which server answered
    for (const auto& name : a.names) channels.push_back(ctx.channel(name));
    return for_each_pv(
        a, ctx,
        [&](const std::string& name, client::Context::Completion done) {
            ctx.async_info(name, a.field, opts, std::move(done));
        },
        [&](std::size_t i, const client::Result& r) {
            std::cout << a.names[i];
            if (channels[i]->wait_connected(std::chrono::milliseconds(200)))
                if (auto ep = channels[i]->server())
                    std::cout << " from " << ep->address().to_string() << ":" << ep->port();
            std::cout << "\n";
            if (!r.type) std::cout << "    (no type)\n";
            else if (a.pvtype) std::cout << format_type_text(*r.type);  // unindented: ready to paste
            else std::cout << format_type(*r.type);
        });
}

}  // namespace

void register_info(CLI::App& app) {
    auto a = std::make_shared<InfoArgs>();
    auto* cmd = app.add_subcommand("info", "Print the type of PVs (GET_FIELD, like pvxinfo)");
    add_client_options(cmd, *a, opt_timeout);
    cmd->add_option("-f,--field", a->field, "Only this sub-field (e.g. 'alarm')");
    cmd->add_flag("--pvtype", a->pvtype,
                  "The type as compact text (PVXS's notation with union and structure array members), "
                  "as a PV file's \"pvtype\" takes it");
    cmd->add_option("pv", a->names, "PV names")->required();
    cmd->callback([a] {
        const int status = run_info(*a);
        if (status) throw CLI::RuntimeError(status);
    });
}

}  // namespace pvwire::tool
