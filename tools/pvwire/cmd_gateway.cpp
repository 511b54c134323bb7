// pvwire gateway: serves the PVs of other pvAccess servers (pvwire, PVXS, pvAccessCPP) to web
// clients over HTTP (WebSockets /pva and /msgpack, and what else the HTTP port offers), and
// optionally over pvAccess, through one upstream monitor per PV shared by every downstream
// client (server::ClientProxySource; docs/gateway.md).
#include "access_files.hpp"
#include "client_common.hpp"
#include "commands.hpp"

#include <pvwire/log.hpp>
#include <pvwire/server/proxy_source.hpp>
#include <pvwire/server/server.hpp>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <thread>

namespace pvwire::tool {

namespace {

struct GatewayArgs {
    std::vector<std::string> pvs;  // names and globs; none: "*"
    std::optional<int> http_port;  // -1 none; not given: PVWIRE_HTTP_PORT, else 8075
    bool pva = false;              // also serve pvAccess (TCP, UDP search, beacons)
    bool isolated = false;         // loopback only, ephemeral ports (tests)
    bool web_write = false;
    std::string status_prefix;
    std::string web_root;
    std::string server;            // upstream without search
    double idle = 30.0;            // seconds before an unused upstream name is dropped
    bool verbose = false, debug = false;
    AccessFiles access;            // --acf, --pvlist
};

// Without --pva the server's pvAccess side is unreachable by search: an ephemeral TCP port, a
// UDP port of its own (not the shared search port) and no beacons. The HTTP port is bound on
// the configured interface (all by default).
net::ServerConfig gateway_server_config(const GatewayArgs& a) {
    auto cfg = a.isolated ? net::ServerConfig::isolated() : net::ServerConfig::from_env();
    // given options replace PVWIRE_WEB_WRITE, PVWIRE_STATUS_PREFIX, PVWIRE_WEB_ROOT
    if (a.web_write) cfg.web_write = true;
    if (!a.status_prefix.empty()) cfg.status_prefix = a.status_prefix;
    if (!a.web_root.empty()) cfg.web_root = a.web_root;
    for (const auto& w : cfg.warnings) std::cerr << "warning: " << w << "\n";
    if (!a.pva) {
        cfg.server_port = 0;
        cfg.broadcast_port = 0;
        cfg.beacon_address_list.clear();
        cfg.auto_beacon_address_list = false;
    }
    if (a.http_port) cfg.http_port = *a.http_port < 0 ? std::nullopt : std::optional<std::uint16_t>(*a.http_port);
    else if (!cfg.http_port) cfg.http_port = a.isolated ? 0 : net::default_http_port;
    return cfg;
}

void print_started(const GatewayArgs& a, const server::Server& srv, const std::vector<std::string>& names) {
    const auto eff = srv.config();
    const std::string host = eff.interfaces.empty() || eff.interfaces.front().is_unspecified()
                                 ? std::string("127.0.0.1")
                                 : eff.interfaces.front().to_string();
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : " ") + n;
    std::cout << "pvwire gateway: forwarding " << list << " from "
              << (a.server.empty() ? std::string("the servers found by search") : a.server) << "\n";
    if (srv.http_port())
        std::cout << "pvwire gateway: WebSockets at --server pva+ws://" << host << ":" << srv.http_port()
                  << "/pva and msgpack+ws://" << host << ":" << srv.http_port() << "/msgpack; PVWS at ws://" << host
                  << ":" << srv.http_port() << "/pvws/pv; the page at http://" << host << ":" << srv.http_port()
                  << "/ (writes from the web " << (eff.web_write ? "enabled" : "disabled") << ")\n";
    if (a.pva)
        std::cout << "pvwire gateway: pvAccess on TCP " << srv.tcp_port() << ", UDP " << srv.udp_port()
                  << "; clients find it with EPICS_PVA_ADDR_LIST=" << host << ":" << srv.udp_port()
                  << " EPICS_PVA_AUTO_ADDR_LIST=NO EPICS_PVA_SERVER_PORT=" << srv.tcp_port() << "\n";
    if (a.verbose) std::cout << "Effective server configuration:\n" << eff.describe() << "\n";
    std::cout << "pvwire gateway: running, Ctrl-C to stop" << std::endl;
}

int run_gateway(const GatewayArgs& a) {
    if (a.debug) log::configure("pvwire.*=DEBUG");
    if (a.idle <= 0) {
        std::cerr << "pvwire gateway: --idle must be positive\n";
        return 2;
    }
    auto client_cfg = net::ClientConfig::from_env();
    for (const auto& w : client_cfg.warnings) std::cerr << "warning: " << w << "\n";
    auto upstream = std::make_shared<client::Context>(client_cfg);

    server::ProxyOptions options;
    if (!a.pvs.empty()) options.names = a.pvs;
    options.server = a.server;
    options.idle = std::chrono::milliseconds(static_cast<long long>(a.idle * 1000.0));
    auto proxy = server::ClientProxySource::create(upstream, options);

    const auto rules = access_rules_at_start(a.access, "pvwire gateway");
    if (!rules) return 2;
    server::Server srv(gateway_server_config(a));
    srv.set_access_rules(*rules);
    // upstream lost or retyped: downstream channels close and their clients search again
    proxy->on_close_channels([&srv](const std::string& name) { srv.remove_pv(name); });
    srv.add_source(proxy);
    try {
        srv.start();
    } catch (const std::exception& e) {
        std::cerr << "pvwire gateway: cannot start the server: " << e.what() << "\n";
        return 1;
    }
    print_started(a, srv, options.names);

    auto& interrupted = install_interrupt_handler();
    auto& hangup = hangup_flag();
    while (!interrupted) {
        if (hangup.exchange(false)) reload_access_rules(a.access, srv, "pvwire gateway");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    proxy->on_close_channels(nullptr);
    srv.stop();
    std::cerr << "pvwire gateway: stopped" << std::endl;
    return 0;
}

}  // namespace

void register_gateway(CLI::App& app) {
    auto a = std::make_shared<GatewayArgs>();
    auto* cmd = app.add_subcommand(
        "gateway", "Serve the PVs of other pvAccess servers (PVXS too) over HTTP/WebSockets, and pvAccess with --pva");
    cmd->add_option("--pvs", a->pvs,
                    "A PV name or glob (*, ?, [...]) to forward; may be repeated (default: * = any name upstream has)");
    cmd->add_option("--server", a->server,
                    "The upstream server, without search (host:port, pva+ws://HOST:PORT/pva, ...); default: "
                    "found by search (EPICS_PVA_ADDR_LIST etc.)");
    cmd->add_option("--http", a->http_port,
                    "The HTTP port of the WebSocket endpoints (default $PVWIRE_HTTP_PORT, else " +
                        std::to_string(net::default_http_port) + "; 0 = any, -1 = none)")
        ->check(CLI::Range(-1, 65535));
    cmd->add_flag("--pva,!--no-pva", a->pva,
                  "Also serve pvAccess (TCP 5075, searches on UDP 5076, beacons); default: no");
    cmd->add_flag("--web-write", a->web_write, "Let web clients write (forwarded upstream); default: read-only");
    cmd->add_option("--status-prefix", a->status_prefix, "Serve the gateway's status PVs under this prefix");
    cmd->add_option("--web-root", a->web_root, "Serve the web page from this directory (default: PVWIRE_WEB_ROOT, else the installed page)");
    cmd->add_option("--idle", a->idle,
                    "Seconds an upstream PV matched by a glob is kept without downstream clients (default 30)");
    cmd->add_flag("--isolated", a->isolated, "Loopback only, ephemeral ports (printed), no beacons beyond 127.0.0.1");
    add_access_options(cmd, a->access);
    cmd->add_flag("-v,--verbose", a->verbose, "Print the effective server configuration");
    cmd->add_flag("-d,--debug", a->debug, "pvwire's debug log on stderr");
    cmd->callback([a] {
        const int status = run_gateway(*a);
        if (status) throw CLI::RuntimeError(status);
    });
}

}  // namespace pvwire::tool
