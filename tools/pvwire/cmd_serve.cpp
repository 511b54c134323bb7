// pvwire serve: a channel server for the PVs of a JSON PV file (docs/pv-file.md) and/or
// --pv NAME=TYPE:VALUE options, on the embedded memory store. Prints the bound ports and the
// served names, applies the file's rules to puts (read-only, limits, enumeration index),
// stamps every accepted put and every tick with the time, enforces access rules (--acf,
// --pvlist; SIGHUP reads them again) and stops cleanly on Ctrl-C.
#include "access_files.hpp"
#include "client_common.hpp"
#include "commands.hpp"
#include "pv_file.hpp"

#include <pvwire/data/nt.hpp>
#include <pvwire/log.hpp>
#include <pvwire/net/interfaces.hpp>
#include <pvwire/server/access_rules.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>
#include <pvwire/server/store_source.hpp>
#include <pvwire/store/redis_store.hpp>

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace pvwire::tool {

namespace {

struct ServeArgs {
    std::vector<std::string> files;
    std::vector<std::string> pvs;
    bool verbose = false;
    bool isolated = false;
    bool debug = false;
    std::string unix_path;  // also on this UNIX socket
    // Also the msgpack protocol on this TCP port, and WebSockets (/pva, /msgpack) on this HTTP
    // port: 0 any, -1 none; not given: PVWIRE_MSGPACK_PORT / PVWIRE_HTTP_PORT, else the
    // default ports (--isolated: any).
    std::optional<int> msgpack_port, http_port;
    // Where the channels live: "memory:" (default) or redis://HOST:PORT/DB, shared with every
    // other replica of the same store (default: PVWIRE_STORE).
    std::string store_url;
    // The HTTP port's web settings (given: they replace PVWIRE_WEB_ROOT, PVWIRE_WEB_WRITE,
    // PVWIRE_HTTP_USER_HEADER, PVWIRE_PVWS_THROTTLE_MS).
    std::optional<std::string> web_root, http_user_header;
    bool web_write = false;
    std::optional<std::uint32_t> pvws_throttle_ms;
    // The status PVs' prefix ("" = none); not given: PVWIRE_STATUS_PREFIX, else "pvwire:<replica>".
    std::optional<std::string> status_prefix;
    AccessFiles access;  // --acf, --pvlist
};

std::mutex out_mu;  // put logs come from the server's threads


// The status PVs' prefix: the option, else the environment's (already in `prefix`), else
// "pvwire:" and the replica's name (the host's when there is none).
void apply_status_prefix(const std::optional<std::string>& given, const std::string& replica, std::string& prefix) {
    if (given) {
        prefix = *given;
        return;
    }
    if (const char* env = std::getenv("PVWIRE_STATUS_PREFIX")) {  // --isolated reads no environment
        prefix = env;
        return;
    }
    const std::string who = replica.empty() ? net::host_name() : replica;
    prefix = who.empty() ? "pvwire" : "pvwire:" + who;
}

// A port option: given (-1 none), else the environment's (already in `port`), else `fallback`
// (--isolated: any).
void apply_port(const std::optional<int>& given, bool isolated, std::uint16_t fallback,
                std::optional<std::uint16_t>& port) {
    if (given) {
        port = *given < 0 ? std::nullopt : std::optional<std::uint16_t>(std::uint16_t(*given));
        return;
    }
    if (!port) port = isolated ? 0 : fallback;
}

struct Ticker {
    std::shared_ptr<server::SharedPV> pv;
    std::shared_ptr<const PvSpec> spec;
    std::chrono::steady_clock::time_point next;
};

__extension__ typedef __int128 i128;  // exact sums of any int64/uint64 and step


// value + step, wrapping to the opposite limit (or the initial value when there is none, or
// when the type's range would be passed).
void tick(const Ticker& t) {
    const PvSpec& s = *t.spec;
    const Value cur = t.pv->current();
    Value v(t.pv->type());
    Value f = v["value"];
    const Value initial = s.initial["value"];
    const double step = s.tick_step;
    bool ok = false;
    if (type_code::is_float(s.element)) {
        double x = cur["value"].as<double>() + step;
        if (s.high && x > *s.high) x = s.low ? *s.low : initial.as<double>();
        else if (s.low && x < *s.low) x = s.high ? *s.high : initial.as<double>();
        ok = std::isfinite(x) && f.try_set(x);
    } else {
        i128 x = type_code::is_unsigned(s.element) ? i128(cur["value"].as<std::uint64_t>())
                                                       : i128(cur["value"].as<std::int64_t>());
        x += i128(std::llround(step));
        const bool above = s.high && double(x) > *s.high, below = s.low && double(x) < *s.low;
        if (above || below) {
            const auto& other = above ? s.low : s.high;
            if (other) x = i128(std::llround(*other));
            else x = type_code::is_unsigned(s.element) ? i128(initial.as<std::uint64_t>())
                                                       : i128(initial.as<std::int64_t>());
        }
        if (x >= 0 && x <= i128(std::numeric_limits<std::uint64_t>::max())) ok = f.try_set(std::uint64_t(x));
        else if (x >= i128(std::numeric_limits<std::int64_t>::min()) && x < 0) ok = f.try_set(std::int64_t(x));
    }
    if (!ok) f.set(initial);  // passed the type's range
    nt::set_time_now(v["timeStamp"]);
    v["timeStamp"].mark_all();
    t.pv->post(v);
}

std::string join_addresses(const std::vector<net::asio::ip::address>& as) {
    if (as.empty()) return "0.0.0.0";
    std::string s;
    for (const auto& a : as) s += (s.empty() ? "" : ",") + a.to_string();
    return s;
}

// The PVs of every --pvs file and --pv option, and where each was given ("demo.json: pvs[2]",
// "--pv x=double"), so that a name given twice can be traced to both places.
struct GivenPvs {
    std::vector<PvSpec> specs;
    std::vector<std::string> origins;
};

GivenPvs load_given_pvs(const ServeArgs& a) {
    GivenPvs g;
    for (const auto& f : a.files) {
        auto more = load_pv_file(f);
        for (std::size_t i = 0; i < more.size(); ++i) {
            g.origins.push_back(f + ": pvs[" + std::to_string(i) + "]");
            g.specs.push_back(std::move(more[i]));
        }
    }
    for (const auto& p : a.pvs) {
        g.specs.push_back(parse_pv_option(p));
        g.origins.push_back("--pv " + p);
    }
    return g;
}

// "the PV name "x" is given twice: a.json: pvs[0] and --pv x=double", or "".
std::string duplicate_name(const GivenPvs& g) {
    std::map<std::string, std::size_t> first;
    for (std::size_t i = 0; i < g.specs.size(); ++i) {
        auto [at, fresh] = first.emplace(g.specs[i].name, i);
        if (!fresh)
            return "the PV name \"" + g.specs[i].name + "\" is given twice: " + g.origins[at->second] + " and " +
                   g.origins[i];
    }
    return {};
}

// The thread a replica of a shared store runs on: the RedisStore and the server share it, so
// that a put and a change reach the store and the clients without a hand-over between threads.
struct ReplicaThread {
    net::asio::io_context io;
    net::asio::executor_work_guard<net::asio::io_context::executor_type> work = net::asio::make_work_guard(io);
    std::thread thread{[this] { io.run(); }};
    ~ReplicaThread() {
        work.reset();  // returns once the server and the store have closed their sockets
        thread.join();
    }
};

// The store `url` names, connected and synchronised (a shared one on `replica`'s thread): it is
// waited for, printing why it is not reachable yet, until it is, or until Ctrl-C (then null).
// Throws on a bad URL.
std::shared_ptr<store::Store> open_ready_store(const std::string& url, const std::string& replica_name,
                                              ReplicaThread* replica) {
    if (!replica) return store::open_store(url);
    auto config = store::RedisConfig::from_url(url);
    config.replica = replica_name;
    auto redis = std::make_shared<store::RedisStore>(std::move(config), replica->io.get_executor());
    auto& interrupted = install_interrupt_handler();
    while (!redis->wait_ready(std::chrono::seconds(2))) {
        if (interrupted) return nullptr;
        std::lock_guard lock(out_mu);
        std::cerr << "pvwire serve: waiting for the store " << redis->config().url() << ": " << redis->last_error()
                  << std::endl;
    }
    return redis;
}

int run_serve(const ServeArgs& a) {
    GivenPvs given;
    try {
        given = load_given_pvs(a);
    } catch (const PvFileError& e) {
        std::cerr << "pvwire serve: " << e.what() << "\n";
        return 2;
    }
    if (const auto dup = duplicate_name(given); !dup.empty()) {
        std::cerr << "pvwire serve: " << dup << "\n";
        return 2;
    }
    const auto rules = access_rules_at_start(a.access, "pvwire serve");
    if (!rules) return 2;
    std::vector<PvSpec>& specs = given.specs;
    const bool shared_store = !a.store_url.empty() && a.store_url != "memory:";
    if (specs.empty() && !shared_store) {
        std::cerr << "pvwire serve: nothing to serve: give --pvs FILE and/or --pv NAME=TYPE:VALUE (or --store URL)\n";
        return 2;
    }
    std::unique_ptr<ReplicaThread> replica = shared_store ? std::make_unique<ReplicaThread>() : nullptr;
    std::shared_ptr<store::Store> store;
    try {
        store = open_ready_store(a.store_url, net::ServerConfig::from_env().replica, replica.get());
    } catch (const std::exception& e) {
        std::cerr << "pvwire serve: " << e.what() << "\n";
        return 2;
    }
    if (!store) return 1;  // interrupted while waiting
    auto store_source = shared_store ? std::make_shared<server::StoreSource>(store) : nullptr;
    if (store_source)  // channels made elsewhere (pvwire store create): a put stamps the time
        store_source->on_put([](Value& v, const server::Peer&, server::PVHandler::Done done) {
            if (auto ts = v.field("timeStamp"); ts && !ts.is_marked()) {
                nt::set_time_now(ts);
                ts.mark_all();
            }
            done(wire::Status::ok());
        });

    if (a.debug) log::configure("pvwire.*=DEBUG");
    auto cfg = a.isolated ? net::ServerConfig::isolated() : net::ServerConfig::from_env();
    for (const auto& w : cfg.warnings) std::cerr << "warning: " << w << "\n";
    if (!a.unix_path.empty()) cfg.unix_path = a.unix_path;
    apply_port(a.msgpack_port, a.isolated, net::default_msgpack_port, cfg.msgpack_port);
    apply_port(a.http_port, a.isolated, net::default_http_port, cfg.http_port);
    if (a.web_root) cfg.web_root = *a.web_root;
    if (a.http_user_header) cfg.http_user_header = *a.http_user_header;
    if (a.web_write) cfg.web_write = true;
    if (a.pvws_throttle_ms) cfg.pvws_throttle_ms = *a.pvws_throttle_ms;
    apply_status_prefix(a.status_prefix, cfg.replica.empty() ? net::ServerConfig::from_env().replica : cfg.replica,
                        cfg.status_prefix);
    auto server = replica ? std::make_unique<server::Server>(cfg, replica->io.get_executor())
                          : std::make_unique<server::Server>(cfg);
    server::Server& srv = *server;
    srv.set_access_rules(*rules);
    std::vector<Ticker> tickers;
    std::vector<std::pair<std::string, std::string>> listing;  // name, summary
    std::size_t width = 0;
    for (const auto& s : specs) width = std::max(width, s.name.size());

    for (auto& s : specs) {
        auto spec = std::make_shared<const PvSpec>(std::move(s));
        Value init = spec->initial.clone();
        if (auto ts = init.field("timeStamp")) nt::set_time_now(ts);
        init.mark_all();
        std::shared_ptr<server::SharedPV> pv;
        try {
            pv = server::SharedPV::create(spec->name, init, shared_store ? store : nullptr);
        } catch (const std::exception& e) {
            std::cerr << "pvwire serve: " << e.what() << "\n";
            return 2;
        }
        pv->set_read_only(spec->read_only);
        if (!spec->asg.empty() || spec->asl != 0) pv->set_access_group(spec->asg.empty() ? "DEFAULT" : spec->asg, spec->asl);
        if (!spec->read_only) {
            std::weak_ptr<server::SharedPV> weak = pv;
            const bool verbose = a.verbose;
            pv->on_put([spec, weak, verbose](Value& v, const server::Peer& peer, server::PVHandler::Done done) {
                auto self = weak.lock();
                const std::string bad = self ? check_put(*spec, self->current(), v) : std::string("the PV is gone");
                const std::string who = (peer.credentials.user.empty() ? std::string() : peer.credentials.user + "@") + peer.address;
                if (!bad.empty()) {
                    if (verbose) {
                        std::lock_guard lock(out_mu);
                        std::cout << who << " put " << spec->name << " refused: " << bad << std::endl;
                    }
                    done(wire::Status::error(bad));
                    return;
                }
                if (auto ts = v.field("timeStamp")) {
                    nt::set_time_now(ts);
                    ts.mark_all();
                }
                if (verbose) {
                    std::lock_guard lock(out_mu);
                    std::cout << who << " put " << spec->name << "\n" << format_text(v, ValueFormat::Delta, 20) << std::flush;
                }
                done(wire::Status::ok());
            });
        }
        // RPC: the NTURI query fields are written like a put (same rules), then the value is
        // returned; without arguments it only returns the value (docs/cli.md, "serve").
        {
            std::weak_ptr<server::SharedPV> weak = pv;
            const bool verbose = a.verbose;
            pv->on_rpc([spec, weak, verbose](Value arg, const server::Peer& peer, server::PVHandler::ResultDone done) {
                auto self = weak.lock();
                if (!self) return done(wire::Status::error("the PV is gone"), Value());
                Value query = arg ? arg.field("query") : Value();
                if (!query && arg && arg.code() == TypeCode::Struct && !arg.field("path")) query = arg;
                const bool writes = query && query.code() == TypeCode::Struct && query.member_count() > 0;
                if (!writes) return done(wire::Status::ok(), self->current());
                if (spec->read_only) return done(wire::Status::error("PV '" + spec->name + "' is read-only"), Value());
                Value cur = self->current();
                Value v = cur.clone();
                v.unmark();
                try {
                    for (std::size_t i = 0; i < query.member_count(); ++i) {
                        const std::string path(query.member_name(i));
                        Value f = v.field(path);
                        if (!f) throw std::runtime_error("field '" + path + "': the PV has no such field");
                        set_from_text(f, query.member(i).as<std::string>(), path);
                    }
                } catch (const std::exception& e) {
                    return done(wire::Status::error(e.what()), Value());
                }
                if (const std::string bad = check_put(*spec, cur, v); !bad.empty())
                    return done(wire::Status::error(bad), Value());
                if (auto ts = v.field("timeStamp")) {
                    nt::set_time_now(ts);
                    ts.mark_all();
                }
                if (verbose) {
                    std::lock_guard lock(out_mu);
                    std::cout << peer.address << " rpc " << spec->name << "\n" << format_text(v, ValueFormat::Delta, 20) << std::flush;
                }
                self->post(v, [self, done](wire::Status st) mutable {
                    done(st, st.success() ? self->current() : Value());
                });
            });
        }
        if (store_source) store_source->adopt(pv);
        else srv.add_pv(spec->name, pv);
        if (spec->tick_period > 0)
            tickers.push_back(Ticker{pv, spec,
                                     std::chrono::steady_clock::now() +
                                         std::chrono::milliseconds(std::llround(spec->tick_period * 1000))});
        listing.emplace_back(spec->name, spec->summary());
    }

    if (store_source) {
        srv.add_source(store_source);
        // one answer per broadcast search: the replica owning the name (name servers' TCP
        // searches are answered by whichever replica they reach)
        if (auto redis = std::dynamic_pointer_cast<store::RedisStore>(store))
            srv.set_udp_search_filter([redis](std::string_view name, bool to_all) { return redis->owns(name, to_all); });
        for (const auto& name : store->names())
            if (std::none_of(listing.begin(), listing.end(), [&](const auto& l) { return l.first == name; }))
                listing.emplace_back(name, "from the store");
    }
    try {
        srv.start();
    } catch (const std::exception& e) {
        std::cerr << "pvwire serve: cannot start the server: " << e.what() << "\n";
        return 1;
    }
    const auto eff = srv.config();
    const std::string addr = join_addresses(eff.interfaces);
    // where a client on this host reaches it: the first address TCP listens on (IPv6 in
    // brackets, so that the port after it is not read as part of the address)
    const auto first = eff.tcp_interfaces().front();
    const std::string client_addr = first.is_unspecified() ? std::string("127.0.0.1")
                                    : first.is_v6()        ? "[" + first.to_string() + "]"
                                                           : first.to_string();
    {
        std::lock_guard lock(out_mu);
        std::cout << "pvwire serve: " << listing.size() << " PVs on TCP " << addr << ":" << srv.tcp_port();
        if (srv.tls_port()) std::cout << ", TLS " << addr << ":" << srv.tls_port();
        std::cout << ", UDP " << addr << ":" << srv.udp_port() << ", GUID " << srv.guid().to_string() << "\n";
        for (const auto& [name, summary] : listing)
            std::cout << "  " << std::left << std::setw(int(width)) << name << "  " << summary << "\n";
        std::cout << "pvwire serve: clients find it with EPICS_PVA_ADDR_LIST=" << client_addr << ":" << srv.udp_port()
                  << " EPICS_PVA_AUTO_ADDR_LIST=NO EPICS_PVA_SERVER_PORT=" << srv.tcp_port() << "\n";
        if (!eff.unix_path.empty())
            std::cout << "pvwire serve: and without search at --server pva+unix://" << eff.unix_path << "\n";
        if (srv.msgpack_port())
            std::cout << "pvwire serve: msgpack protocol at --server msgpack+tcp://" << client_addr << ":"
                      << srv.msgpack_port() << "\n";
        if (srv.http_port())
            std::cout << "pvwire serve: WebSockets at --server pva+ws://" << client_addr << ":" << srv.http_port()
                      << "/pva and msgpack+ws://" << client_addr << ":" << srv.http_port() << "/msgpack; PVWS at ws://"
                      << client_addr << ":" << srv.http_port() << "/pvws/pv; the page at http://" << client_addr << ":"
                      << srv.http_port() << "/ (writes from the web " << (eff.web_write ? "enabled" : "disabled")
                      << ")\n";
        if (!eff.status_prefix.empty())
            std::cout << "pvwire serve: its own numbers as PVs " << eff.status_prefix << ":connections, "
                      << eff.status_prefix << ":bytes_in_rate ... (docs/metrics.md)\n";
        if (*rules)
            std::cout << "pvwire serve: access rules from " << a.access.acf
                      << (a.access.pvlist.empty() ? "" : " and " + a.access.pvlist)
                      << " (SIGHUP reads them again)\n";
        if (a.verbose) std::cout << "Effective server configuration:\n" << eff.describe() << "\n";
        std::cout << "pvwire serve: running, Ctrl-C to stop" << std::endl;
    }

    auto& interrupted = install_interrupt_handler();
    auto& hangup = hangup_flag();
    while (!interrupted) {
        if (hangup.exchange(false)) reload_access_rules(a.access, srv, "pvwire serve");
        auto wake = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
        const auto now = std::chrono::steady_clock::now();
        for (auto& t : tickers) {
            if (now >= t.next) {
                try {
                    tick(t);
                } catch (const std::exception& e) {
                    std::lock_guard lock(out_mu);
                    std::cerr << "pvwire serve: tick of " << t.spec->name << " failed: " << e.what() << "\n";
                }
                const auto period = std::chrono::milliseconds(std::llround(t.spec->tick_period * 1000));
                t.next += period;
                if (t.next < now) t.next = now + period;  // fell behind: do not burst
            }
            wake = std::min(wake, t.next);
        }
        std::this_thread::sleep_until(wake);
    }
    srv.stop();
    std::cerr << "pvwire serve: stopped" << std::endl;
    return 0;
}

}  // namespace

void register_serve(CLI::App& app) {
    auto a = std::make_shared<ServeArgs>();
    auto* cmd = app.add_subcommand("serve", "Serve PVs from a JSON PV file and/or --pv options until Ctrl-C");
    cmd->add_option("--pvs", a->files, "JSON PV file (docs/pv-file.md); may be repeated");
    cmd->add_option("--pv", a->pvs,
                    "A PV NAME=TYPE[:VALUE]: TYPE an element (double, int32, string, ...), an element with [] "
                    "for an array (VALUE [1,2,3] or 1,2,3), or enum (VALUE the choices A,B,C); may be repeated");
    cmd->add_flag("--isolated", a->isolated,
                  "Loopback only, ephemeral TCP and UDP ports (printed), no beacons beyond 127.0.0.1");
    cmd->add_option("--unix", a->unix_path, "Also serve on this UNIX socket path (clients: --server pva+unix://PATH)");
    cmd->add_option("--msgpack", a->msgpack_port,
                    "The msgpack protocol's TCP port (default " + std::to_string(net::default_msgpack_port) +
                        ", 0 = any, -1 = none; clients: --server msgpack+tcp://HOST:PORT)")
        ->check(CLI::Range(-1, 65535));
    cmd->add_option("--http", a->http_port,
                    "The HTTP port of the WebSocket endpoints /pva and /msgpack (default " +
                        std::to_string(net::default_http_port) +
                        ", 0 = any, -1 = none; clients: --server pva+ws://HOST:PORT/pva or msgpack+ws://HOST:PORT/msgpack)")
        ->check(CLI::Range(-1, 65535));
    cmd->add_option("--web-root", a->web_root,
                    "The directory served at / on the HTTP port (default: $PVWIRE_WEB_ROOT, else the installed page)");
    cmd->add_flag("--web-write", a->web_write,
                  "Allow writes from the web endpoints /msgpack and /pvws/pv (default: $PVWIRE_WEB_WRITE, else off)");
    cmd->add_option("--http-user-header", a->http_user_header,
                    "An HTTP header, set by a trusted reverse proxy, naming the user of a web connection "
                    "(default: $PVWIRE_HTTP_USER_HEADER, else none: web connections are anonymous)");
    cmd->add_option("--pvws-throttle-ms", a->pvws_throttle_ms,
                    "At most one /pvws/pv update per PV and this many ms, the newest value winning (default: "
                    "$PVWIRE_PVWS_THROTTLE_MS or $PV_THROTTLE_MS, else 1000; 0 = none)");
    if (const char* env = std::getenv("PVWIRE_STORE")) a->store_url = env;
    cmd->add_option("--store", a->store_url,
                    "Where the channels live: memory: (default) or redis://HOST[:PORT][/DB], shared by every "
                    "replica serving the same store (default: $PVWIRE_STORE)");
    cmd->add_option("--status-prefix", a->status_prefix,
                    "Serve the server's own numbers as PVs PREFIX:connections, PREFIX:bytes_in_rate ... "
                    "(docs/metrics.md; default: $PVWIRE_STATUS_PREFIX, else pvwire:<replica>; \"\" = none)");
    add_access_options(cmd, a->access);
    cmd->add_flag("-v,--verbose", a->verbose, "Print the effective configuration and every put");
    cmd->add_flag("-d,--debug", a->debug, "pvwire's debug log on stderr (connections, limits)");
    cmd->callback([a] {
        const int status = run_serve(*a);
        if (status) throw CLI::RuntimeError(status);
    });
}

}  // namespace pvwire::tool
