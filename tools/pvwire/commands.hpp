// The subcommands of the `pvwire` program. Each lives in its own cmd_<name>.cpp and adds
// itself to the application through register_<name>(), called from main.cpp.
//
// Conventions for a subcommand:
//   * app.add_subcommand("<name>", "<one line>") and its options (pvxget-style flags where they
//     exist: -w timeout, -r pvRequest, -# max array elements, -q quiet, -v verbose, -d debug;
//     see docs/users.md section 2).
//   * Its work runs in the subcommand's callback. To end with a non-zero exit status without a
//     further message, throw CLI::RuntimeError(status); main() returns that status.
//   * Put the logic in a function that writes to std::ostream so that it can be tested
//     without running the binary (see decode.hpp).
#pragma once

namespace CLI {
class App;
}

namespace pvwire::tool {

void register_decode(CLI::App& app);   // cmd_decode.cpp: protocol dissector
void register_beacons(CLI::App& app);  // cmd_beacons.cpp: beacons and searches on the network
void register_get(CLI::App& app);      // cmd_get.cpp: read PVs (pvxget)
void register_put(CLI::App& app);      // cmd_put.cpp: write a PV (pvxput)
void register_monitor(CLI::App& app);  // cmd_monitor.cpp: subscribe to PVs (pvxmonitor)
void register_info(CLI::App& app);     // cmd_info.cpp: PV types (pvxinfo)
void register_call(CLI::App& app);     // cmd_call.cpp: RPC with NTURI arguments (pvxcall)
void register_list(CLI::App& app);     // cmd_list.cpp: servers, and the PVs of a server (pvxlist)
void register_serve(CLI::App& app);    // cmd_serve.cpp: serve PVs from a JSON file or the command line
void register_store(CLI::App& app);    // cmd_store.cpp: channels of a shared store (create, delete, list, show)
void register_top(CLI::App& app);      // cmd_top.cpp: terminal dashboard of PVs and of a server
void register_gateway(CLI::App& app);  // cmd_gateway.cpp: serve other servers' PVs over HTTP (and pvAccess)

}  // namespace pvwire::tool
