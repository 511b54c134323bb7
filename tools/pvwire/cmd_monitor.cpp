// pvwire monitor: subscribe to PVs (like pvxmonitor) and print every update until Ctrl-C or
// the -w run time: the PV name, then the fields that changed (-F tree: the whole value), and
// connection events. --json prints one object per event.
#include "client_common.hpp"
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>

namespace pvwire::tool {

namespace {

struct MonitorArgs : ClientArgs {
    double run_time = 0;  // -w: seconds, 0 = until Ctrl-C
    std::uint32_t queue = 4;
};

std::string endpoint_text(const std::optional<net::tcp::endpoint>& ep) {
    if (!ep) return {};
    return ep->address().to_string() + ":" + std::to_string(ep->port());
}

int run_monitor(const MonitorArgs& a) {
    std::mutex mu;
    std::condition_variable cv;
    bool pending = false;
    auto& interrupted = install_interrupt_handler();

    client::Context ctx(client_config(a));
    struct Watch {
        std::string name;
        std::shared_ptr<client::Subscription> sub;
        std::shared_ptr<client::Channel> channel;  // only to say which server serves it
        bool ended = false, failed = false;
    };
    std::vector<Watch> watches;
    for (const auto& name : a.names) {
        client::MonitorOptions mo;
        mo.request = a.request;
        mo.queue_size = a.queue;
        mo.server = a.server;
        Watch w;
        w.name = name;
        w.channel = ctx.channel(name, a.server);
        if (a.debug)
            w.channel->on_state([name](client::Channel::State s) {
                static const char* names[] = {"searching", "connecting", "connected", "closed"};
                std::cerr << "debug: " << name << " channel " << names[int(s)] << "\n";
            });
        w.sub = ctx.monitor(name, mo, [&] {
            std::lock_guard lock(mu);
            pending = true;
            cv.notify_all();
        });
        watches.push_back(std::move(w));
    }
    ctx.hurry();

    const bool bounded = a.run_time > 0;
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(static_cast<long long>(a.run_time * 1000.0));
    const ValueFormat format = text_format(a.format);
    while (!interrupted && (!bounded || std::chrono::steady_clock::now() < deadline)) {
        {
            std::unique_lock lock(mu);
            cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return pending; });
            pending = false;
        }
        bool all_ended = true;
        for (auto& w : watches) {
            for (auto& e : w.sub->pop()) {
                using K = client::MonitorEvent::Kind;
                json j;
                if (a.json) {
                    j = json::object();
                    j["name"] = w.name;
                }
                switch (e.kind) {
                case K::Connected: {
                    const std::string server = a.server.empty() ? endpoint_text(w.channel->server()) : a.server;
                    if (a.json) {
                        j["event"] = "connected";
                        if (!server.empty()) j["server"] = server;
                    } else {
                        std::cerr << local_time_text() << " " << w.name << " Connected"
                                  << (server.empty() ? "" : " to " + server) << "\n";
                    }
                    break;
                }
                case K::Disconnected:
                    if (a.json) j["event"] = "disconnected";
                    else std::cerr << local_time_text() << " " << w.name << " Disconnected\n";
                    break;
                case K::Finished:
                    w.ended = true;
                    if (a.json) {
                        j["event"] = "finished";
                        if (!e.message.empty()) j["message"] = e.message;
                    } else {
                        std::cout << w.name << " Finished" << (e.message.empty() ? "" : ": " + e.message) << "\n";
                    }
                    break;
                case K::Error:
                    w.ended = w.failed = true;
                    if (a.json) {
                        j["event"] = "error";
                        j["message"] = e.message;
                    } else {
                        std::cerr << w.name << " Error: " << e.message << "\n";
                    }
                    break;
                case K::Data:
                    if (a.json) {
                        j["value"] = to_json(e.value);
                        j["changed"] = changed_paths(e.value);
                    } else {
                        std::cout << w.name << "\n" << format_text(e.value, format, a.max_elements);
                        if (a.verbose && e.overrun.count())
                            std::cout << "    (" << e.overrun.count() << " fields overrun)\n";
                    }
                    break;
                }
                if (a.json && j.size() > 1) std::cout << j.dump() << "\n";
            }
            if (!w.ended) all_ended = false;
        }
        std::cout.flush();
        if (all_ended) break;
    }
    print_stats(a, ctx);
    for (const auto& w : watches)
        if (w.failed) return 1;
    return 0;
}

}  // namespace

void register_monitor(CLI::App& app) {
    auto a = std::make_shared<MonitorArgs>();
    auto* cmd = app.add_subcommand("monitor", "Print every update of PVs until Ctrl-C (like pvxmonitor)");
    cmd->add_option("-w,--wait", a->run_time, "Stop after this many seconds (default: run until Ctrl-C)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("-Q,--queue", a->queue, "Monitor queue size when the pvRequest names none (default 4)");
    add_client_options(cmd, *a, opt_request | opt_max | opt_json | opt_format);
    cmd->add_option("pv", a->names, "PV names")->required();
    cmd->callback([a] {
        const int status = run_monitor(*a);
        if (status) throw CLI::RuntimeError(status);
    });
}

}  // namespace pvwire::tool
