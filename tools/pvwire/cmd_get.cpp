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

struct Slot {
    bool done = false;
    std::error_code ec;
    client::Result result;
};

int run_get(const ClientArgs& a) {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Slot> slots(a.names.size());
    std::size_t remaining = a.names.size();
    auto& interrupted = install_interrupt_handler();

    client::Context ctx(client_config(a));
    const client::OpOptions opts{a.request, a.timeout_ms()};
    for (std::size_t i = 0; i < a.names.size(); ++i) {
        ctx.async_get(a.names[i], opts, [&, i](std::error_code ec, client::Result r) {
            std::lock_guard lock(mu);
            if (slots[i].done) return;
            slots[i] = Slot{true, ec, std::move(r)};
            --remaining;
            cv.notify_all();
        });
    }
    ctx.hurry();

    // the operations time out by themselves; the margin only guards against a lost completion
    const auto deadline = std::chrono::steady_clock::now() + a.timeout_ms() + std::chrono::milliseconds(500);
    {
        std::unique_lock lock(mu);
        while (remaining && !interrupted && std::chrono::steady_clock::now() < deadline)
            cv.wait_for(lock, std::chrono::milliseconds(100));
    }

    int status = 0;
    std::size_t outstanding = 0;
    {
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
            if (!s.result.status.message.empty())
                std::cerr << name << ": Warning: " << s.result.status.message << "\n";
            if (a.json) {
                json j = json::object();
                j["name"] = name;
                j["value"] = to_json(s.result.value);
                std::cout << j.dump() << "\n";
            } else {
                std::cout << name << "\n";
                if (a.format == "delta") {
                    Value v = s.result.value;
                    if (v && v.marks().empty()) v.mark_all();
                    std::cout << format_delta(v, a.max_elements);
                } else {
                    std::cout << format_tree(s.result.value, a.max_elements);
                }
            }
        }
    }
    std::cout.flush();
    print_stats(a, ctx);
    if (interrupted && outstanding) {
        std::cerr << "Interrupted with " << outstanding << " outstanding\n";
        return 1;
    }
    if (outstanding) {
        std::cerr << "Timeout with " << outstanding << " outstanding\n";
        return 1;
    }
    return status;
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
