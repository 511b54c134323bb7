// pvwire info: the type of PVs (GET_FIELD), like pvxinfo: "NAME from SERVER", then the type
// tree indented.
#include "client_common.hpp"
#include "commands.hpp"

#include <pvwire/data/type_desc.hpp>

#include <CLI/CLI.hpp>

#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>

namespace pvwire::tool {

namespace {

struct InfoArgs : ClientArgs {
    std::string field;  // sub-field, "" for the whole PV
};

int run_info(const InfoArgs& a) {
    std::mutex mu;
    std::condition_variable cv;
    struct Slot {
        bool done = false;
        std::error_code ec;
        client::Result result;
    };
    std::vector<Slot> slots(a.names.size());
    std::size_t remaining = a.names.size();
    auto& interrupted = install_interrupt_handler();

    client::Context ctx(client_config(a));
    const client::OpOptions opts{{}, a.timeout_ms()};
    std::vector<std::shared_ptr<client::Channel>> channels;  // to say which server answered
    for (std::size_t i = 0; i < a.names.size(); ++i) {
        channels.push_back(ctx.channel(a.names[i]));
        ctx.async_info(a.names[i], a.field, opts, [&, i](std::error_code ec, client::Result r) {
            std::lock_guard lock(mu);
            if (slots[i].done) return;
            slots[i] = Slot{true, ec, std::move(r)};
            --remaining;
            cv.notify_all();
        });
    }
    ctx.hurry();
    const auto deadline = std::chrono::steady_clock::now() + a.timeout_ms() + std::chrono::milliseconds(500);
    {
        std::unique_lock lock(mu);
        while (remaining && !interrupted && std::chrono::steady_clock::now() < deadline)
            cv.wait_for(lock, std::chrono::milliseconds(100));
    }
    int status = 0;
    std::size_t outstanding = 0;
    std::lock_guard lock(mu);
    for (std::size_t i = 0; i < slots.size(); ++i) {
        const auto& s = slots[i];
        const auto& name = a.names[i];
        if (!s.done || s.ec == client::errc::timeout) {
            ++outstanding;
            continue;
        }
        if (s.ec) {
            std::cerr << name << ": Error: " << error_text(s.ec, s.result) << "\n";
            status = 1;
            continue;
        }
        std::cout << name;
        if (channels[i]->wait_connected(std::chrono::milliseconds(200)))
            if (auto ep = channels[i]->server())
                std::cout << " from " << ep->address().to_string() << ":" << ep->port();
        std::cout << "\n";
        if (s.result.type) std::cout << format_type(*s.result.type);
        else std::cout << "    (no type)\n";
    }
    std::cout.flush();
    print_stats(a, ctx);
    if (outstanding) {
        std::cerr << (interrupted ? "Interrupted" : "Timeout") << " with " << outstanding << " outstanding\n";
        return 1;
    }
    return status;
}

}  // namespace

void register_info(CLI::App& app) {
    auto a = std::make_shared<InfoArgs>();
    auto* cmd = app.add_subcommand("info", "Print the type of PVs (GET_FIELD, like pvxinfo)");
    add_client_options(cmd, *a, opt_timeout);
    cmd->add_option("-f,--field", a->field, "Only this sub-field (e.g. 'alarm')");
    cmd->add_option("pv", a->names, "PV names")->required();
    cmd->callback([a] {
        const int status = run_info(*a);
        if (status) throw CLI::RuntimeError(status);
    });
}

}  // namespace pvwire::tool
