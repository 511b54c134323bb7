// Shared pieces of the pvwire-bench programs: clocks, CPU and memory readings, percentiles,
// Ctrl-C handling and the one-line machine-readable result every measurement prints.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pvwire::bench {

using Clock = std::chrono::steady_clock;

// Set by SIGINT/SIGTERM once install_signals() ran: every program stops and reports.
extern std::atomic<bool> interrupted;
void install_signals();

// User + system CPU seconds of this process (all threads) so far.
double cpu_seconds();
// Seconds since t0.
double since(Clock::time_point t0);
// Resident memory of this process (VmRSS), in KiB; 0 when unknown.
long rss_kb();
// The same of another process (VmRSS in /proc/PID/status); 0 when unknown or gone.
long process_rss_kb(int pid);
// Many clients need many sockets: raise the soft limit on open files to the hard one.
void raise_file_limit();

struct Percentiles {
    double p50 = 0, p99 = 0, p999 = 0;
};
// Nearest-rank percentiles of `samples` (reordered in place).
Percentiles percentiles(std::vector<double>& samples);

// "RESULT kind=monitor key=value ...": one line, single spaces, plain numbers, so that the
// compare runner (benchmarks/compare.py) parses every program, and any other
// implementation's adapter, the same way.
class ResultLine {
public:
    explicit ResultLine(std::string_view kind);
    ResultLine& add(std::string_view key, double value, int decimals = 3);
    ResultLine& add(std::string_view key, std::uint64_t value);
    ResultLine& add(std::string_view key, std::string_view value);
    void print() const;  // to stdout, flushed

private:
    std::string text_;
};

}  // namespace pvwire::bench
