// multi-client: starts N clients (default 100) against one server; each connects, validates
// and echoes concurrently. Prints per-client success and latency percentiles.
//
//   multi-client [-n CLIENTS] [-e ECHOES] [--server HOST:PORT]
// Without --server, each client finds the server by searching for "echo" (run echo-server).
#include <pvwire/client/context.hpp>
#include <pvwire/net/address.hpp>

#include <algorithm>
#include <chrono>
#include <future>
#include <iostream>
#include <string_view>
#include <thread>

namespace {
using Clock = std::chrono::steady_clock;

struct Result {
    bool ok = false;
    double connect_ms = 0;
    std::vector<double> echo_us;
    std::string error;
};

Result run_client(const pvwire::net::ClientConfig& cfg, const std::optional<pvwire::net::tcp::endpoint>& server,
                  std::size_t echoes) {
    Result r;
    const auto t0 = Clock::now();
    pvwire::client::Context ctx(cfg);
    std::shared_ptr<pvwire::client::ServerLink> link;
    std::shared_ptr<pvwire::client::Channel> ch;
    if (server) {
        link = ctx.link(*server);
    } else {
        ch = ctx.channel("echo");
        if (!ch->wait_connected(std::chrono::seconds(10))) {
            r.error = "not found";
            return r;
        }
        link = ch->link();
    }
    if (!link || !link->wait_validated(std::chrono::seconds(10))) {
        r.error = "not validated";
        return r;
    }
    r.connect_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    for (std::size_t i = 0; i < echoes; ++i) {
        std::vector<std::byte> payload(32, std::byte(i));
        std::promise<bool> done;
        const auto t = Clock::now();
        link->echo(payload, [&](std::error_code ec, std::vector<std::byte> back) { done.set_value(!ec && back == payload); });
        auto f = done.get_future();
        if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready || !f.get()) {
            r.error = "echo " + std::to_string(i) + " failed";
            return r;
        }
        r.echo_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    }
    r.ok = true;
    return r;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, std::size_t(p * double(v.size())))];
}
}  // namespace

int main(int argc, char** argv) {
    std::size_t clients = 100, echoes = 10;
    std::optional<pvwire::net::tcp::endpoint> server;
    const auto cfg = pvwire::net::ClientConfig::from_env();
    const char* const usage =
        "usage: multi-client [-n CLIENTS] [-e ECHOES] [--server HOST:PORT]\n"
        "Starts CLIENTS clients (default 100) at once; each connects to the server of the PV \"echo\"\n"
        "(found by search) or to HOST:PORT, validates and sends ECHOES echoes (default 10); prints\n"
        "connection and echo latency percentiles.\n";
    for (int i = 1; i < argc; ++i) {
        const std::string_view option = argv[i];
        if (option == "-h" || option == "--help") {
            std::cout << usage;
            return 0;
        }
        if (i + 1 == argc) {  // every other option takes a value
            std::cerr << usage;
            return 2;
        }
        const char* value = argv[++i];
        if (option == "-n") clients = std::stoul(value);
        else if (option == "-e") echoes = std::stoul(value);
        else if (option == "--server") {
            std::string err;
            auto hp = pvwire::net::parse_host_port(value, cfg.server_port, &err);
            auto ep = hp ? pvwire::net::resolve(*hp, pvwire::net::Resolve::names, &err) : std::nullopt;
            if (!ep) {
                std::cerr << "multi-client: bad server address: " << err << '\n';
                return 2;
            }
            server = pvwire::net::tcp::endpoint(ep->address(), ep->port());
        } else {
            std::cerr << usage;
            return 2;
        }
    }
    std::vector<std::future<Result>> futures;
    for (std::size_t i = 0; i < clients; ++i)
        futures.push_back(std::async(std::launch::async, run_client, cfg, server, echoes));
    std::vector<double> connects, lat;
    std::size_t ok = 0;
    for (std::size_t i = 0; i < futures.size(); ++i) {
        auto r = futures[i].get();
        if (r.ok) {
            ++ok;
            connects.push_back(r.connect_ms);
            lat.insert(lat.end(), r.echo_us.begin(), r.echo_us.end());
        } else {
            std::cout << "client " << i << ": FAILED (" << r.error << ")\n";
        }
    }
    std::cout << ok << " of " << clients << " clients connected, validated and echoed " << echoes << " times\n";
    std::cout << "connect+validate ms: p50 " << percentile(connects, 0.5) << "  p99 " << percentile(connects, 0.99)
              << "  max " << percentile(connects, 1.0) << '\n';
    std::cout << "echo round trip us:  p50 " << percentile(lat, 0.5) << "  p90 " << percentile(lat, 0.9) << "  p99 "
              << percentile(lat, 0.99) << "  max " << percentile(lat, 1.0) << '\n';
    return ok == clients ? 0 : 1;
}
