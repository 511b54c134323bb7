// pvwire-bench pvs: memory per PV (issue 13). A server's RSS once it runs with no PV, then
// after N NTScalar SharedPVs (one each, in one MemoryStore, as pvwire serve makes them) were
// added: (after - before) / N is the cost of a served PV. It keeps serving afterwards, so
// that a client (pvwire-bench connect) can open a channel to every PV and the server's RSS
// with the channels can be read from outside (benchmarks/compare.py, scenario pvs); its
// channels-per-connection limit (PVWIRE_MAX_CHANNELS, 65,536 by default) is raised to N for that.
#include "programs.hpp"

#include <pvwire/data/nt.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <algorithm>
#include <iostream>
#include <thread>

namespace pvwire::bench {

int run_pvs(const PvsArgs& a) {
    auto cfg = a.isolated ? net::ServerConfig::isolated() : net::ServerConfig::from_env();
    // one client may open a channel to every PV (the second figure of compare.py's pvs)
    cfg.max_channels = std::max<std::size_t>(cfg.max_channels, a.count);
    server::Server srv(cfg);
    srv.start();
    const long rss0 = rss_kb();
    Value initial = nt::NTScalar{TypeCode::Float64}.create();
    initial["value"] = 0.0;
    auto store = std::make_shared<store::MemoryStore>();
    const auto t0 = Clock::now();
    for (unsigned i = 0; i < a.count; ++i) {
        const std::string name = a.prefix + std::to_string(i);
        srv.add_pv(name, server::SharedPV::create(name, initial, store));
    }
    const double create_s = since(t0);
    const long rss1 = rss_kb();
    const double per_pv = double(rss1 - rss0) * 1024.0 / a.count;
    std::cout << "pvwire-bench pvs: " << a.count << " NTScalar PVs " << a.prefix << "0.. on TCP " << srv.tcp_port()
              << ": RSS " << rss0 << " -> " << rss1 << " KiB, " << per_pv << " bytes per PV\n";
    ResultLine("pvs").add("pvs", std::uint64_t(a.count)).add("rss0_kb", std::uint64_t(rss0))
        .add("rss1_kb", std::uint64_t(rss1)).add("bytes_per_pv", per_pv, 1).add("create_s", create_s).print();

    install_signals();
    const auto t1 = Clock::now();
    while (!interrupted && (a.seconds <= 0 || since(t1) < a.seconds))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    srv.stop();
    return 0;
}

}  // namespace pvwire::bench
