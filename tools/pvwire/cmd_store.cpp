// pvwire store: manages the channels of a shared store (docs/scale-out.md) from the command
// line. Every replica serving the store serves a channel created here within a second, and
// stops serving one deleted here, without a restart.
//   pvwire store [--store URL] create (--pvs FILE | --pv NAME=TYPE[:VALUE])...
//   pvwire store [--store URL] delete NAME...
//   pvwire store [--store URL] list
//   pvwire store [--store URL] show NAME...
#include "client_common.hpp"
#include "commands.hpp"
#include "pv_file.hpp"

#include <pvwire/data/nt.hpp>
#include <pvwire/store/redis_store.hpp>

#include <CLI/CLI.hpp>

#include <future>
#include <iostream>

namespace pvwire::tool {

namespace {

struct StoreArgs {
    std::string url;
    std::vector<std::string> files, pvs, names;
    int timeout_s = 5;
};

// The store, connected and synchronised within the timeout; throws with the reason.
std::shared_ptr<store::RedisStore> connect_store(const StoreArgs& a) {
    if (a.url.empty()) throw std::runtime_error("no store: give --store redis://HOST[:PORT][/DB] or set PVWIRE_STORE");
    auto s = std::make_shared<store::RedisStore>(store::RedisConfig::from_url(a.url));
    if (!s->wait_ready(std::chrono::seconds(a.timeout_s)))
        throw std::runtime_error("store " + s->config().url() + " unreachable: " + s->last_error());
    return s;
}

int create_channels(const StoreArgs& a) {
    std::vector<PvSpec> specs;
    for (const auto& f : a.files)
        for (auto& s : load_pv_file(f)) specs.push_back(std::move(s));
    for (const auto& p : a.pvs) specs.push_back(parse_pv_option(p));
    if (specs.empty()) throw std::runtime_error("nothing to create: give --pvs FILE and/or --pv NAME=TYPE[:VALUE]");
    auto s = connect_store(a);
    int failures = 0;
    for (const auto& spec : specs) {
        Value init = spec.initial.clone();
        if (auto ts = init.field("timeStamp")) nt::set_time_now(ts);
        std::promise<std::pair<store::Status, bool>> outcome;
        s->create(spec.name, init, [&](store::Status st, bool created) { outcome.set_value({std::move(st), created}); });
        const auto [st, created] = outcome.get_future().get();
        if (!st.success()) {
            std::cerr << spec.name << ": " << st.message() << "\n";
            ++failures;
        } else {
            std::cout << spec.name << (created ? ": created, " : ": exists already, ") << spec.summary() << "\n";
        }
    }
    return failures ? 1 : 0;
}

int delete_channels(const StoreArgs& a) {
    auto s = connect_store(a);
    int failures = 0;
    for (const auto& name : a.names) {
        std::promise<store::Status> outcome;
        s->remove(name, [&](store::Status st) { outcome.set_value(std::move(st)); });
        const auto st = outcome.get_future().get();
        std::cout << name << ": " << (st.success() ? std::string("deleted") : st.message()) << "\n";
        failures += !st.success();
    }
    return failures ? 1 : 0;
}

int list_channels(const StoreArgs& a) {
    for (const auto& name : connect_store(a)->names()) std::cout << name << "\n";
    return 0;
}

int show_channels(const StoreArgs& a) {
    auto s = connect_store(a);
    int failures = 0;
    for (const auto& name : a.names) {
        const Value v = s->read(name);
        if (!v) {
            std::cerr << name << ": no such channel in the store\n";
            ++failures;
            continue;
        }
        std::cout << name << "\n" << format_text(v, ValueFormat::Tree, 20);
    }
    return failures ? 1 : 0;
}

template <class F> void run_or_report(const char* what, F&& f, const StoreArgs& a) {
    int status = 0;
    try {
        status = f(a);
    } catch (const std::exception& e) {
        std::cerr << "pvwire store " << what << ": " << e.what() << "\n";
        status = 2;
    }
    if (status) throw CLI::RuntimeError(status);
}

}  // namespace

void register_store(CLI::App& app) {
    auto a = std::make_shared<StoreArgs>();
    if (const char* env = std::getenv("PVWIRE_STORE")) a->url = env;
    auto* cmd = app.add_subcommand("store", "Create, delete, list and show the channels of a shared store");
    cmd->require_subcommand(1);
    cmd->add_option("--store", a->url, "The store: redis://HOST[:PORT][/DB] (default: $PVWIRE_STORE)");
    cmd->add_option("-w,--timeout", a->timeout_s, "Seconds to wait for the store (default 5)");

    auto* create = cmd->add_subcommand("create", "Create channels (as pvwire serve would serve them); existing ones are kept");
    create->add_option("--pvs", a->files, "A JSON PV file (docs/pv-file.md); may be repeated");
    create->add_option("--pv", a->pvs, "A channel NAME=TYPE[:VALUE] as in pvwire serve; may be repeated");
    create->callback([a] { run_or_report("create", create_channels, *a); });

    auto* del = cmd->add_subcommand("delete", "Delete channels (every replica stops serving them)");
    del->add_option("names", a->names, "Channel names")->required();
    del->callback([a] { run_or_report("delete", delete_channels, *a); });

    auto* list = cmd->add_subcommand("list", "The names of every channel, one per line");
    list->callback([a] { run_or_report("list", list_channels, *a); });

    auto* show = cmd->add_subcommand("show", "Type and value of channels, as stored");
    show->add_option("names", a->names, "Channel names")->required();
    show->callback([a] { run_or_report("show", show_channels, *a); });
}

}  // namespace pvwire::tool
