// echo-server: a pvwire server that a pvAccess echo reaches.
//
// It listens on the EPICS ports (TCP 5075, UDP 5076, from the EPICS_PVAS_* / EPICS_PVA_*
// environment), serves a PV named "echo" (so clients can find it by search), sends beacons,
// and answers ECHO requests with their payload. Ctrl-C stops it.
//
//   echo-server                 # EPICS configuration from the environment
//   echo-server --isolated      # loopback only, ephemeral ports (printed)
#include <pvwire/data/nt.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <csignal>
#include <iostream>
#include <string_view>
#include <thread>

namespace {
volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }
}  // namespace

int main(int argc, char** argv) {
    const std::string_view option = argc > 1 ? argv[1] : "";
    const char* const usage =
        "usage: echo-server [--isolated]\n"
        "Serves the PV \"echo\" and answers pvAccess echoes, until Ctrl-C.\n"
        "  --isolated  loopback only, ephemeral ports (printed); default: the EPICS_PVAS_* /\n"
        "              EPICS_PVA_* environment\n";
    if (option == "-h" || option == "--help") {
        std::cout << usage;
        return 0;
    }
    if (argc > 2 || (argc == 2 && option != "--isolated")) {
        std::cerr << usage;
        return 2;
    }
    const bool isolated = option == "--isolated";
    auto config = isolated ? pvwire::net::ServerConfig::isolated() : pvwire::net::ServerConfig::from_env();
    for (const auto& w : config.warnings) std::cerr << "warning: " << w << '\n';

    pvwire::server::Server server(config);
    // a PV named "echo" lets clients find this server by search and open a channel to it
    auto pv = pvwire::nt::NTScalar{pvwire::TypeCode::String}.create();
    pv["value"] = "echo server";
    server.add_pv("echo", pvwire::server::SharedPV::create("echo", pv));
    try {
        server.start();
    } catch (const std::exception& e) {
        std::cerr << "echo-server: " << e.what() << '\n';
        return 1;
    }
    std::cout << "echo-server: TCP port " << server.tcp_port() << ", UDP port " << server.udp_port()
              << ", GUID " << server.guid().to_string() << std::endl;

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(100));

    const auto s = server.stats();
    server.stop();
    std::cout << "echo-server: " << s.connections_accepted << " connections, " << s.echoes << " echoes, "
              << s.searches << " searches, " << s.beacons << " beacons" << std::endl;
    return 0;
}
