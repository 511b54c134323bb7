// StatusPVs: the server's numbers as NTScalar PVs under a prefix (P:connections, P:bytes_in,
// P:ops:get ... docs/metrics.md), so that `pvwire top`, PVXS tools and the web page read
// them like any PV. They hold their values in a MemoryStore of their own, never in the
// server's shared store: each replica publishes its own. Read-only for clients.
//
// Threading: publish() from one thread at a time (the server's status timer); the PVs serve
// clients from any thread, as SharedPVs do.
#pragma once

#include <pvwire/server/metrics.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace pvwire::server::detail {

class StatusPVs {
public:
    explicit StatusPVs(const std::string& prefix);

    // Every PV with its full name, in the order publish() fills them.
    const std::vector<std::pair<std::string, std::shared_ptr<SharedPV>>>& pvs() const noexcept { return pvs_; }
    // Posts `stats`; rates are per second since the previous call (0 on the first).
    void publish(const ServerStats& stats, std::chrono::steady_clock::time_point now);

private:
    struct Last {
        std::chrono::steady_clock::time_point at{};
        std::uint64_t bytes_in = 0, bytes_out = 0;
    };
    std::shared_ptr<SharedPV> add(const std::string& name, bool integer, std::string units, std::string description);
    static void post(SharedPV& pv, double value);

    std::string prefix_;
    std::vector<std::pair<std::string, std::shared_ptr<SharedPV>>> pvs_;
    Last last_;
};

}  // namespace pvwire::server::detail
