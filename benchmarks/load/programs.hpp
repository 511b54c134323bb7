// The programs of pvwire-bench, one per file; main.cpp parses the command line.
#pragma once

#include "common.hpp"

#include <cstddef>
#include <cstdint>
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
    std::uint64_t gets = 5000;    // sequential GETs from 127.0.0.2 in each phase
    unsigned rounds = 1;          // idle and attacked phases, interleaved
    std::string pin;              // "S,A,C": CPUs of the server, the attacker, the client; empty: unpinned
};
int run_hostile(const HostileArgs& a);

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

}  // namespace pvwire::bench
