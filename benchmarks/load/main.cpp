// pvwire-bench: the load programs of the benchmark suite (benchmarks/README.md).
//
//   flood    serve counter PVs, updated on demand as fast as each subscriber takes them
//   monitor  subscribe to counter PVs and measure updates/s, MB/s, gaps, squashes, CPU
//   get      GET (or PUT) round-trip latency percentiles and pipelined throughput
//   connect  time to search and connect N channels from one or M clients
//   notify   Redis pub/sub against streams for the store's change notices (issue 11)
//   soak     1,000 clients x 10 monitors on ticking PVs for minutes: RSS, errors, delay
//   wire     plain loopback TCP with the same payload sizes: the physical limit
//   ticker, fanout, wire-fanout   the fixed-rate fan-out of an IOC and its TCP limit (issue 13)
//   mixed    a beamline IOC's monitors, puts and gets at once, on a ticker (issue 13)
//   pvs      memory per served PV (issue 13)
//
// Clients and servers take their configuration from the EPICS_PVA_* / EPICS_PVAS_*
// environment, so they can be pointed at (or serve) any other pvAccess implementation. Every
// measurement ends with one "RESULT kind=... key=value ..." line for benchmarks/compare.py.
#include "programs.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

using namespace pvwire::bench;

int main(int argc, char** argv) {
    CLI::App app{"pvwire-bench: pvAccess load programs (see benchmarks/README.md)"};
    app.require_subcommand(1);

    FloodArgs fa;
    auto* flood = app.add_subcommand("flood", "serve PREFIX0..PREFIX(N-1): counters fed to every subscriber on demand");
    flood->add_option("--prefix", fa.prefix, "PV name prefix")->required();
    flood->add_option("--count", fa.count, "number of PVs")->required()->check(CLI::PositiveNumber);
    flood->add_option("--array-length", fa.array_length, "serve uint32 arrays of this length (0: scalars)");
    flood->add_flag("--idle", fa.idle, "serve plain PVs that change only when written (for get/put/connect)");
    flood->add_flag("--writable", fa.writable, "with --idle: accept puts");
    flood->add_option("--ham", fa.ham, "also serve this slow PV, posted every --ham-period seconds");
    flood->add_option("--ham-period", fa.ham_period, "seconds between posts of the ham PV")->check(CLI::PositiveNumber);
    flood->add_option("--skip-every", fa.skip_every, "test aid: never send every Nth counter value (gaps to detect)");
    flood->add_option("--seconds", fa.seconds, "run time (default: until Ctrl-C)");
    flood->add_flag("--isolated", fa.isolated, "loopback only, ephemeral ports (printed)");
    flood->add_option("--unix", fa.unix_path, "also serve on this UNIX socket path (pva+unix://PATH)");
    flood->add_option("--http", fa.http_port,
                      "also serve WebSockets (pva+ws://HOST:PORT/pva, msgpack+ws://HOST:PORT/msgpack) on this port, 0: any");
    flood->add_option("--msgpack", fa.msgpack_port, "also serve the msgpack protocol (msgpack+tcp://HOST:PORT), 0: any");

    MonitorArgs ma;
    auto* mon = app.add_subcommand("monitor", "monitor PREFIX0..PREFIX(N-1) and measure the update rate");
    mon->add_option("--prefix", ma.prefix, "PV name prefix")->required();
    mon->add_option("--count", ma.count, "number of PVs")->required()->check(CLI::PositiveNumber);
    mon->add_option("--queue", ma.queue, "monitor queue size")->check(CLI::Range(1u, 1u << 20));
    mon->add_flag("--pipeline", ma.pipeline, "flow control (record[pipeline=true])");
    mon->add_option("--seconds", ma.seconds, "measurement time after every PV delivered a value (default: Ctrl-C)");
    mon->add_option("--connect-timeout", ma.connect_timeout, "seconds to wait for the first values");
    mon->add_flag("--per-pv", ma.per_pv, "print one line per PV (default when --count <= 8)");
    mon->add_option("--server", ma.server, "connect to this server address without search (pva+unix://..., pva+ws://...)");

    RelayArgs ra;
    auto* relay = app.add_subcommand("relay", "latency from a put on one server to a monitor update on another (replicas)");
    relay->add_option("--pv", ra.pv, "PV name")->required();
    relay->add_option("--put-server", ra.put_server, "server address the puts go to")->required();
    relay->add_option("--monitor-server", ra.monitor_server, "server address the monitor is on")->required();
    relay->add_option("--also-monitor-server", ra.also_monitor_server,
                      "a second server to monitor the PV on (a gateway): both latencies and the added one per put");
    relay->add_option("--ops", ra.ops, "puts to measure (after one warm-up)")->check(CLI::PositiveNumber);
    relay->add_option("--connect-timeout", ra.connect_timeout, "seconds for the warm-up and for each update");

    GetArgs ga;
    auto* get = app.add_subcommand("get", "GET (or PUT) latency and throughput on one PV");
    get->add_option("--pv", ga.pv, "PV name")->required();
    get->add_flag("--put", ga.put, "measure PUT of the value field instead of GET");
    get->add_option("--ops", ga.ops, "operations to measure (after one warm-up)")->check(CLI::PositiveNumber);
    get->add_option("--inflight", ga.inflight, "operations kept in flight (1: sequential)")->check(CLI::Range(1u, 4096u));
    get->add_option("--seconds", ga.seconds, "stop after this time even if --ops is not reached");
    get->add_option("--connect-timeout", ga.connect_timeout, "seconds for the warm-up operation");
    get->add_option("--server", ga.server, "connect to this server address without search (pva+unix://..., pva+ws://...)");

    ConnectArgs ca;
    auto* conn = app.add_subcommand("connect", "time to search for and connect PREFIX0..PREFIX(N-1)");
    conn->add_option("--prefix", ca.prefix, "PV name prefix")->required();
    conn->add_option("--count", ca.count, "number of channels")->required()->check(CLI::PositiveNumber);
    conn->add_option("--clients", ca.clients, "client contexts sharing the channels round-robin")->check(CLI::Range(1u, 10000u));
    conn->add_option("--timeout", ca.timeout, "give up after this many seconds");
    conn->add_flag("--progress", ca.progress, "print the time at every tenth of the channels (stderr)");

    WireArgs wa;
    auto* wire = app.add_subcommand("wire", "loopback TCP with no pvAccess: the physical limit for a payload size");
    wire->add_option("--size", wa.size, "payload bytes per message")->check(CLI::Range(std::size_t(0), std::size_t(1) << 30));
    wire->add_option("--seconds", wa.seconds, "run time")->check(CLI::PositiveNumber);

    HostileArgs ha;
    auto* hostile = app.add_subcommand("hostile", "GET latency from 127.0.0.2 while 127.0.0.1 floods connections "
                                                  "past the per-address limit");
    hostile->add_option("--connections", ha.connections, "connections kept being attempted from 127.0.0.1")
        ->check(CLI::Range(1u, 60000u));
    hostile->add_option("--limit", ha.limit, "the server's connections per peer address")->check(CLI::Range(1u, 60000u));
    hostile->add_option("--gets", ha.gets, "sequential GETs in each phase (idle, attacked), at least")->check(CLI::PositiveNumber);
    hostile->add_option("--seconds", ha.seconds, "each phase lasts at least this long (GETs go on until both are reached)")
        ->check(CLI::PositiveNumber);
    hostile->add_option("--rounds", ha.rounds, "idle and attacked phases, interleaved")->check(CLI::Range(1u, 100u));
    hostile->add_option("--busy-poll-us", ha.busy_poll_us, "busy polling of the server and the client (default: the library's)")
        ->check(CLI::Range(0L, 10000L));
    hostile->add_option("--pin", ha.pin, "S,A,C: the CPUs of the server, the attacker and the client threads");

    SoakArgs sa;
    auto* soak = app.add_subcommand("soak", "many clients monitoring ticking PVs of a `pvwire serve` child for a long "
                                            "time: RSS over time, errors, delivered updates, update delay");
    soak->add_option("--clients", sa.clients, "client contexts (one connection each)")->check(CLI::Range(1u, 60000u));
    soak->add_option("--monitors", sa.monitors, "monitors per client")->check(CLI::Range(1u, 10000u));
    soak->add_option("--pvs", sa.pvs, "ticking PVs served")->check(CLI::Range(1u, 1000000u));
    soak->add_option("--rate", sa.rate, "ticks per second of every PV")->check(CLI::Range(0.001, 100.0));
    soak->add_option("--seconds", sa.seconds, "measured time after every monitor delivered a value")
        ->check(CLI::PositiveNumber);
    soak->add_option("--sample", sa.sample, "seconds between samples of RSS and delay")->check(CLI::PositiveNumber);
    soak->add_option("--queue", sa.queue, "monitor queue size")->check(CLI::Range(1u, 1u << 20));
    soak->add_option("--connect-timeout", sa.connect_timeout, "seconds for every monitor's first value");
    soak->add_option("--prefix", sa.prefix, "PV name prefix");
    soak->add_option("--server-program", sa.server_program, "the pvwire program (default: beside pvwire-bench)");
    soak->add_option("--out", sa.out, "directory of soak.csv, soak.gp (the chart), the PV file and server.log");
    soak->add_option("--min-delivered", sa.min_delivered, "fail below this fraction of the expected updates");
    soak->add_option("--max-growth", sa.max_growth, "fail if RSS grows more than this percent in the second half");

    NotifyArgs na;
    auto* notify = app.add_subcommand("notify", "Redis pub/sub or streams for RedisStore's change notices: latency, "
                                                "throughput, ordering, catch-up after a reconnect");
    notify->add_option("--redis", na.redis, "redis://HOST:PORT of a Redis to measure (its keys notify:* are overwritten)");
    notify->add_option("--ops", na.ops, "sequential writes for the latency")->check(CLI::PositiveNumber);
    notify->add_option("--seconds", na.seconds, "throughput run time")->check(CLI::PositiveNumber);
    notify->add_option("--inflight", na.inflight, "pipelined writes (throughput, catch-up)")->check(CLI::Range(1u, 65536u));
    notify->add_option("--catchup", na.catchup, "writes the reader misses while disconnected (several allowed)");
    notify->add_option("--repeat", na.repeat, "rounds (the transports interleaved)")->check(CLI::PositiveNumber);
    notify->add_option("--payload", na.payload, "bytes of each change")->check(CLI::Range(std::size_t(1), std::size_t(1) << 20));
    notify->add_option("--maxlen", na.maxlen, "the stream's approximate cap (XADD MAXLEN ~)")->check(CLI::PositiveNumber);
    notify->add_option("--transports", na.transports, "pubsub, stream or all");
    notify->add_option("--measures", na.measures,
                       "latency, throughput, catchup (comma-separated) or all; snapshot only when named");
    notify->add_option("--snapshot", na.snapshot, "channels read by the snapshot measurement (several allowed)");
    notify->add_option("--leaves", na.leaves, "leaves per channel in the snapshot measurement")->check(CLI::Range(1u, 3000u));
    notify->add_option("--print-script", na.print_script, "print the pubsub or stream write script and exit")
        ->check(CLI::IsMember({"pubsub", "stream"}));

    TickerArgs ta;
    auto* ticker = app.add_subcommand("ticker", "serve PREFIX0..PREFIX(N-1), NTScalars posted at a fixed rate (SharedPV)");
    ticker->add_option("--prefix", ta.prefix, "PV name prefix");
    ticker->add_option("--count", ta.count, "number of PVs")->check(CLI::PositiveNumber);
    ticker->add_option("--rate", ta.rate, "posts per second of each PV")->check(CLI::Range(0.1, 1e6));
    ticker->add_option("--type", ta.type, "value type")->check(CLI::IsMember({"uint32", "double"}));
    ticker->add_option("--seconds", ta.seconds, "run time (default: until Ctrl-C)");
    ticker->add_flag("--isolated", ta.isolated, "loopback only, ephemeral ports (printed)");
    ticker->add_option("--put-pv", ta.put_pv, "also serve this writable NTScalar, changed only by puts (mixed)");
    ticker->add_option("--threads", ta.threads, "the server's threads (0: one per CPU; default: PVWIRE_SERVER_THREADS or 1)")
        ->check(CLI::Range(0, 1024));
    ticker->add_option("--io", ta.io, "shared: one io_context for all threads; per-thread: one each (default: PVWIRE_SERVER_IO)")
        ->check(CLI::IsMember({"shared", "per-thread"}));
    ticker->add_option_function<std::string>(
        "--callgrind-ticks",
        [&ta](const std::string& s) {
            unsigned long long from = 0, to = 0;
            if (std::sscanf(s.c_str(), "%llu:%llu", &from, &to) != 2 || from == 0 || to <= from)
                throw CLI::ValidationError("--callgrind-ticks", "A:B with 0 < A < B");
            ta.callgrind_from = from, ta.callgrind_to = to;
        },
        "A:B: under callgrind (--instr-atstart=no), count the instructions of ticks A..B-1 only");

    FanoutArgs fo;
    auto* fanout = app.add_subcommand("fanout", "C clients (one process) monitor the PVs of a fixed-rate server: "
                                                "delivered/expected, post-to-receipt delay, server CPU per update");
    fanout->add_option("--prefix", fo.prefix, "PV name prefix");
    fanout->add_option("--count", fo.count, "PVs each client monitors")->check(CLI::PositiveNumber);
    fanout->add_option("--clients", fo.clients, "client contexts (one connection each)")->check(CLI::Range(1u, 5000u));
    fanout->add_option("--rate", fo.rate, "the server's posts per second of each PV")->check(CLI::PositiveNumber);
    fanout->add_option("--seconds", fo.seconds, "measurement time after every subscription delivered a value")
        ->check(CLI::PositiveNumber);
    fanout->add_option("--server-pid", fo.server_pid, "the server's PID: its CPU and RSS are read from /proc");
    fanout->add_option("--queue", fo.queue, "monitor queue size")->check(CLI::Range(1u, 1u << 20));
    fanout->add_option("--connect-timeout", fo.connect_timeout, "seconds to wait for the first values");
    fanout->add_flag("--one-thread", fo.one_thread,
                     "all client contexts on one io_context run by one thread (as wire-fanout's one reader), "
                     "not a thread each");
    fanout->add_option("--min-ratio", fo.min_ratio, "exit 1 when delivered/expected is below this");

    WireFanoutArgs wf;
    auto* wfan = app.add_subcommand("wire-fanout", "the TCP limit of the fan-out: one send() per client per tick");
    wfan->add_option("--count", wf.count, "PVs: messages per client per tick (one write)")->check(CLI::PositiveNumber);
    wfan->add_option("--clients", wf.clients, "connections")->check(CLI::Range(1u, 5000u));
    wfan->add_option("--rate", wf.rate, "ticks per second")->check(CLI::Range(0.1, 1e6));
    wfan->add_option("--seconds", wf.seconds, "measurement time")->check(CLI::PositiveNumber);
    wfan->add_option("--size", wf.size, "bytes per message")->check(CLI::Range(std::size_t(12), std::size_t(65536)));
    wfan->add_option("--min-ratio", wf.min_ratio, "exit 1 when delivered/expected is below this");
    wfan->add_option("--readers", wf.readers,
                     "receiving threads (1: one epoll reader for all; --clients: one per connection, as separate "
                     "client programs, whose wake-ups the sender's kernel time pays)")
        ->check(CLI::Range(1u, 5000u));

    MixedArgs mx;
    auto* mixed = app.add_subcommand("mixed", "a beamline IOC's load on a ticker --put-pv: C clients monitoring different "
                                              "subsets of its P PVs, paced puts, gets in a loop");
    mixed->add_option("--prefix", mx.prefix, "PV name prefix");
    mixed->add_option("--count", mx.count, "the server's PVs")->check(CLI::PositiveNumber);
    mixed->add_option("--clients", mx.clients, "monitor clients (one connection each)")->check(CLI::Range(1u, 5000u));
    mixed->add_option("--per-client", mx.per_client, "PVs each client monitors (a different subset each)")
        ->check(CLI::PositiveNumber);
    mixed->add_option("--rate", mx.rate, "the server's posts per second of each PV")->check(CLI::PositiveNumber);
    mixed->add_option("--put-pv", mx.put_pv, "the writable PV the puts go to");
    mixed->add_option("--put-rate", mx.put_rate, "puts per second (sequential, paced)")->check(CLI::PositiveNumber);
    mixed->add_option("--get-pv", mx.get_pv, "the PV of the gets (default PREFIX0)");
    mixed->add_option("--get-rate", mx.get_rate, "gets per second (0: back to back)")->check(CLI::NonNegativeNumber);
    mixed->add_option("--seconds", mx.seconds, "measurement time after every subscription delivered a value")
        ->check(CLI::PositiveNumber);
    mixed->add_option("--server-pid", mx.server_pid, "the server's PID: its CPU and RSS are read from /proc");
    mixed->add_option("--queue", mx.queue, "monitor queue size")->check(CLI::Range(1u, 1u << 20));
    mixed->add_option("--connect-timeout", mx.connect_timeout, "seconds to wait for the first values");
    mixed->add_option("--min-ratio", mx.min_ratio, "exit 1 when delivered/expected monitor updates is below this");

    PvsArgs pa;
    auto* pvs = app.add_subcommand("pvs", "memory per PV: a server's RSS before and after N NTScalar SharedPVs, then serve them");
    pvs->add_option("--prefix", pa.prefix, "PV name prefix");
    pvs->add_option("--count", pa.count, "PVs")->check(CLI::PositiveNumber);
    pvs->add_option("--seconds", pa.seconds, "serve this long after the measurement (default: until Ctrl-C)");
    pvs->add_flag("--isolated", pa.isolated, "loopback only, ephemeral ports (printed)");

    CLI11_PARSE(app, argc, argv);
    try {
        if (*flood) return run_flood(fa);
        if (*mon) return run_monitor(ma);
        if (*get) return run_get(ga);
        if (*relay) return run_relay(ra);
        if (*conn) return run_connect(ca);
        if (*notify) return run_notify(na);
        if (*hostile) return run_hostile(ha);
        if (*ticker) return run_ticker(ta);
        if (*fanout) return run_fanout(fo);
        if (*wfan) return run_wire_fanout(wf);
        if (*soak) return run_soak(sa);
        if (*mixed) return run_mixed(mx);
        if (*pvs) return run_pvs(pa);
        return run_wire(wa);
    } catch (const std::exception& e) {
        std::cerr << "pvwire-bench: " << e.what() << "\n";
        return 1;
    }
}
