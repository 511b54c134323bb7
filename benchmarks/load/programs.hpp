// The programs of pvwire-bench, one per file; main.cpp parses the command line.
#pragma once

#include "common.hpp"

#include <cstddef>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pvwire::bench {

struct FloodArgs {
    std::string prefix = "bench:";
    unsigned count = 1;
    std::size_t array_length = 0;  // 0: NTScalar uint32
    bool idle = false;             // serve plain PVs that change only when written
    bool writable = false;         // with idle: accept puts
    std::string ham;               // optional slow PV, posted every ham_period seconds
    double ham_period = 1.0;
    std::uint32_t skip_every = 0;  // test aid: every Nth counter value is never sent (a gap)
    double seconds = 0;            // 0: until Ctrl-C
    bool isolated = false;
    std::string unix_path;         // also serve on this UNIX socket
    int http_port = -1;            // also serve WebSockets on this HTTP port (0: any; -1: none)
    int msgpack_port = -1;         // also serve the msgpack protocol on this TCP port (0: any; -1: none)
};
int run_flood(const FloodArgs& a);

struct MonitorArgs {
    std::string prefix = "bench:";
    unsigned count = 1;
    std::uint32_t queue = 4;
    bool pipeline = false;
    double seconds = 0;  // 0: until Ctrl-C
    double connect_timeout = 10;
    bool per_pv = false;
    std::string server;  // a chosen server address (no search), e.g. pva+unix:///path
};
int run_monitor(const MonitorArgs& a);

struct GetArgs {
    std::string pv;
    bool put = false;
    std::uint64_t ops = 2000;
    unsigned inflight = 1;
    double seconds = 0;  // 0: no cap
    double connect_timeout = 10;
    std::string server;  // a chosen server address (no search)
};
int run_get(const GetArgs& a);

struct ConnectArgs {
    std::string prefix = "bench:";
    unsigned count = 1000;
    unsigned clients = 1;
    double timeout = 30;
    bool progress = false;  // print the time at every tenth of the channels
};
int run_connect(const ConnectArgs& a);

struct RelayArgs {
    std::string pv;
    std::string put_server, monitor_server;  // server addresses (no search)
    std::string also_monitor_server;         // a second monitor, compared per put (optional)
    std::uint64_t ops = 2000;
    double connect_timeout = 10;
};
int run_relay(const RelayArgs& a);

struct WireArgs {
    std::size_t size = 8;  // payload bytes per message
    double seconds = 2;
};
int run_wire(const WireArgs& a);

struct HostileArgs {
    unsigned connections = 2000;  // attempted from 127.0.0.1 at once, each reopened when lost
    unsigned limit = 100;         // the server's connections per peer address
    std::uint64_t gets = 5000;    // sequential GETs from 127.0.0.2 in each phase, at least
    double seconds = 3;           // each phase lasts at least this long: whole hold periods of the refusals
    unsigned rounds = 1;          // idle and attacked phases, interleaved
    std::string pin;              // "S,A,C": CPUs of the server, the attacker, the client; empty: unpinned
    long busy_poll_us = -1;       // the server's and the client's busy polling; -1: the library's default
};
int run_hostile(const HostileArgs& a);

struct SoakArgs {
    unsigned clients = 1000;       // client contexts in this process, one connection each
    unsigned monitors = 10;        // monitors per client
    unsigned pvs = 1000;           // ticking uint32 counters served by `pvwire serve`
    double rate = 2;               // ticks per second of every PV
    double seconds = 600;          // measured time, after every monitor delivered a value
    double sample = 5;             // seconds between samples of the time series
    std::uint32_t queue = 4;       // monitor queue size
    double connect_timeout = 120;  // seconds for every monitor's first value
    std::string prefix = "soak:";
    std::string server_program;    // `pvwire` (default: beside pvwire-bench)
    std::string out;               // CSV, gnuplot script, PV file, server log (default: a temp dir)
    double min_delivered = 0.95;   // fail below this fraction of the expected updates
    double max_growth = -1;        // fail past this RSS growth in the second half, percent (<0: no check)
};
int run_soak(const SoakArgs& a);

struct NotifyArgs {
    std::string redis = "redis://127.0.0.1:6379";
    std::uint64_t ops = 5000;      // sequential writes for the latency
    double seconds = 5;            // throughput run time
    unsigned inflight = 64;        // pipelined writes for the throughput and the catch-up
    std::vector<std::uint64_t> catchup{1000, 100000};  // writes missed by the reader
    unsigned repeat = 3;           // rounds, the transports interleaved in each
    std::size_t payload = 16;      // bytes of the change and of the leaf
    unsigned maxlen = 10000;       // the stream's MAXLEN ~
    std::vector<std::uint64_t> snapshot{1000, 10000};  // channels in the snapshot measurement
    unsigned leaves = 10;          // leaves per channel in the snapshot measurement
    std::string transports = "all", measures = "all";
    std::string print_script;      // pubsub|stream: print that script and exit
};
int run_notify(const NotifyArgs& a);

// The fixed-rate fan-out of an IOC (issue 13): fanout.cpp, wire_fanout.cpp.
struct TickerArgs {
    std::string prefix = "tick:";
    unsigned count = 1;            // PVs
    double rate = 1000;            // posts per second of each PV
    std::string type = "uint32";   // or double
    double seconds = 0;            // 0: until Ctrl-C
    bool isolated = false;
    std::string put_pv;            // also serve this writable NTScalar, never posted (mixed's puts)
    int threads = -1;              // the server's threads (ServerConfig::threads); -1: the environment's
    std::string io;                // "shared" or "per-thread" (ServerConfig::io_per_thread); "": the environment's
    // Under valgrind --tool=callgrind --instr-atstart=no: instructions are counted from just
    // before tick A's post to just before tick B's, then dumped (0:0: not at all).
    std::uint64_t callgrind_from = 0, callgrind_to = 0;
};
int run_ticker(const TickerArgs& a);

struct FanoutArgs {
    std::string prefix = "tick:";
    unsigned count = 1;            // PVs each client monitors
    unsigned clients = 20;         // client contexts, one connection each
    double rate = 1000;            // the server's posts per second of each PV (for the expected count)
    double seconds = 5;
    int server_pid = 0;            // the server's process, for its CPU and RSS (0: not measured)
    std::uint32_t queue = 4;
    double connect_timeout = 20;
    double min_ratio = 0;          // exit 1 when delivered/expected is below this
    bool one_thread = false;       // all contexts on one io_context and thread (MonitorFleet)
};
int run_fanout(const FanoutArgs& a);

struct WireFanoutArgs {
    unsigned count = 1;            // PVs: messages per client per tick, sent in one write
    unsigned clients = 20;
    double rate = 1000;
    double seconds = 5;
    std::size_t size = 60;         // bytes per message
    double min_ratio = 0;
    unsigned readers = 1;          // receiving threads, the connections dealt among them
};
int run_wire_fanout(const WireFanoutArgs& a);

// What both fan-out programs count, and their common report (the RESULT line).
struct FanoutShape {
    unsigned pvs, clients;
    double rate;
};
struct FanoutTally {
    std::uint64_t delivered = 0, gaps = 0, squashed = 0, errors = 0;
    double seconds = 0, client_cpu_s = 0;
    double server_cpu_s = -1;  // < 0: unknown
    long server_rss_kb = 0;
};
// Prints the summary and the RESULT line; the exit status: 1 on errors, nothing delivered or
// delivered/expected below min_ratio.
// `more` adds a program's own figures to the RESULT line (mixed: its puts and gets).
int report_fanout(const char* kind, const FanoutShape& shape, const FanoutTally& t, std::vector<float>& delays_us,
                  double min_ratio, const std::function<void(ResultLine&)>& more = {});

// CPU seconds (its CPU-time clock, all threads) and resident KiB (VmRSS) of another process;
// zeros when it cannot be read.
struct ProcReading {
    double cpu_s = 0;
    long rss_kb = 0;
};
ProcReading read_proc(int pid);

// The monitor side of fanout and mixed: one client context (one connection) per entry of
// `names`, each monitoring its PVs. Counts deliveries, counter gaps and post-to-receipt delays
// (up to `delay_room` of them) once counting started. Subscription callbacks only mark a ready
// list; drain() does the counting, on the caller's thread.
class MonitorFleet {
public:
    // `one_thread`: every client context on one io_context run by one thread (the receivers
    // of wire-fanout's single reader); else a thread per context, as separate programs have.
    MonitorFleet(const std::vector<std::vector<std::string>>& names, std::uint32_t queue, std::size_t delay_room,
                 bool one_thread = false);
    ~MonitorFleet();
    // Drains until every subscription delivered a value; false (and a message) after `timeout` s.
    bool await_first_values(double timeout, const char* kind);
    void start_counting();
    void drain(std::chrono::milliseconds wait);
    FanoutTally totals() const;  // delivered, gaps, squashed, errors of the counting window
    std::vector<float>& delays();

private:
    struct State;
    std::unique_ptr<State> s_;
};

// The shape of a beamline IOC (issue 13): monitors spread over a ticker's PVs, puts and gets.
struct MixedArgs {
    std::string prefix = "tick:";
    unsigned count = 1000;         // the server's PVs
    unsigned clients = 50;         // monitor clients, one connection each
    unsigned per_client = 100;     // PVs each monitors: a different subset per client
    double rate = 10;              // the server's posts per second of each PV
    std::string put_pv = "tick:put";
    double put_rate = 1000;        // puts per second (paced; sequential)
    std::string get_pv;            // empty: PREFIX0
    double get_rate = 0;           // 0: back to back
    double seconds = 5;
    int server_pid = 0;
    std::uint32_t queue = 4;
    double connect_timeout = 20;
    double min_ratio = 0;
};
int run_mixed(const MixedArgs& a);

// Memory per PV (issue 13): RSS of a server before and after creating N NTScalar SharedPVs.
struct PvsArgs {
    std::string prefix = "pvs:";
    unsigned count = 100000;
    double seconds = 0;            // keep serving after the measurement (0: until Ctrl-C)
    bool isolated = false;
};
int run_pvs(const PvsArgs& a);

}  // namespace pvwire::bench
