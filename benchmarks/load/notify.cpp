// pvwire-bench notify: how RedisStore's replicas should hear of each other's writes, pub/sub or
// a stream (issue 11, docs/scale-out.md). Both transports run the write script of
// src/store/redis_store.cpp (HSET the leaf, HINCRBY the version); "pubsub" then PUBLISHes the
// change, as the store does, and "stream" XADDs it to a capped stream instead. A reader
// connection (SUBSCRIBE, or a loop of XREAD BLOCK 0 from the last id) checks that every version
// arrives once and in order, and the program measures latency, throughput and the catch-up
// after the reader lost its connection; on request (--measures snapshot) also the time of
// pub/sub's remedy for a lost connection, a snapshot of many channels. Results and how to
// run it: benchmarks/RESULTS.md ("Scale out: pub/sub or streams"), benchmarks/notify.sh.
//
// Everything runs on one thread: the main thread runs the io_context's handlers until the
// awaited condition holds (run_until), so a timestamp taken in a handler is the moment the
// reply was parsed, with no hand-over between threads in the measurement.
#include "programs.hpp"

#include "../../src/store/redis_scripts.hpp"
#include "../../src/store/resp_connection.hpp"

#include <pvwire/store/redis_store.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <functional>
#include <optional>
#include <stdexcept>

namespace pvwire::bench {

namespace {

using store::detail::parse_u64;
using store::detail::RespConnection;
using store::detail::RespResult;
using store::detail::text_of;
namespace asio = boost::asio;

// The store's write script (src/store/redis_scripts.hpp), announcing on pub/sub as the store
// does, or appending the change to a stream (KEYS[2]) capped near `maxlen` entries: a stream
// has to be trimmed or it grows by every write for ever.
std::string stream_script(unsigned maxlen) {
    return store::detail::write_script(fmt::format(
        "redis.call('XADD', KEYS[2], 'MAXLEN', '~', '{}', '*', 'n', ARGV[1], 'v', v, 'p', ARGV[3])", maxlen));
}

constexpr std::string_view channel_name = "bench:ch0";
constexpr std::string_view incarnation = "0123456789abcdef";

double us_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count();
}

// The main thread's loop: handlers run here until `done()`; a stall throws rather than hangs.
void run_until(asio::io_context& io, const std::function<bool()>& done, double timeout_s, std::string_view what) {
    const auto limit = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
    while (!done()) {
        if (Clock::now() > limit) throw std::runtime_error(fmt::format("{}: no progress within {} s", what, timeout_s));
        io.run_one_for(std::chrono::milliseconds(50));
    }
}

std::shared_ptr<RespConnection> open_connection(asio::io_context& io, const store::RedisConfig& cfg) {
    auto c = std::make_shared<RespConnection>(io.get_executor(), std::size_t(1) << 20);
    std::optional<std::string> error;
    c->connect(cfg.host, cfg.port, std::chrono::seconds(5), [&error](const std::string& e) { error = e; });
    run_until(io, [&] { return error.has_value(); }, 10, "connect");
    if (!error->empty()) throw std::runtime_error(*error);
    return c;
}

// One command, waited for: its integer or text reply (errors throw).
struct Reply {
    long long integer = 0;
    std::string text;
};
Reply call(asio::io_context& io, RespConnection& c, const std::vector<std::string_view>& args) {
    bool answered = false;
    Reply out;
    std::string error;
    const bool sent = c.send(args, [&](const RespResult& r) {
        answered = true;
        if (r.failed() || !r.error_text().empty()) error = r.error_text().empty() ? "failed" : std::string(r.error_text());
        else if (r.reply->type == REDIS_REPLY_INTEGER) out.integer = r.reply->integer;
        else out.text = std::string(text_of(*r.reply));
    });
    if (!sent) throw std::runtime_error(fmt::format("{}: not sent", args.front()));
    run_until(io, [&] { return answered; }, 30, args.front());
    if (!error.empty()) throw std::runtime_error(fmt::format("{}: {}", args.front(), error));
    return out;
}

enum class Transport { pubsub, stream };
const char* name_of(Transport t) { return t == Transport::pubsub ? "pubsub" : "stream"; }

// The keys of one transport, so the two never see each other's data.
struct Keys {
    std::string hash, updates;
    explicit Keys(Transport t) : hash(fmt::format("notify:{}:ch", name_of(t))), updates(fmt::format("notify:{}:updates", name_of(t))) {}
};

// The replica's side: receives the changes and checks their versions.
struct Reader {
    Transport transport;
    const Keys& keys;
    asio::io_context& io;
    std::shared_ptr<RespConnection> conn;
    bool reading = false;
    std::string last_id = "0";  // stream: the id of the last entry read
    std::uint64_t last = 0;     // the last version received
    std::uint64_t received = 0, out_of_order = 0, missed = 0;
    Clock::time_point last_arrival;
    std::string error;

    Reader(Transport t, const Keys& k, asio::io_context& context) : transport(t), keys(k), io(context) {}

    void on_version(std::uint64_t v) {
        last_arrival = Clock::now();
        ++received;
        if (v <= last) {  // a duplicate or an older version: what a replica must never see
            ++out_of_order;
            return;
        }
        missed += v - last - 1;  // a gap: versions that never came
        last = v;
    }
    void reset_counts() { received = out_of_order = missed = 0; }

    void start(const store::RedisConfig& cfg) {
        conn = open_connection(io, cfg);
        reading = true;
        conn->on_closed([this](const std::string& why) {
            if (reading) error = "reader connection lost: " + why;
        });
        if (transport == Transport::stream) return read_more();
        conn->on_push([this](const redisReply& r) { on_message(r); });
        call(io, *conn, {"SUBSCRIBE", keys.updates});  // answered once Redis registered it
    }
    void stop() {
        reading = false;
        conn->close("the reader disconnects");
        conn.reset();
    }
    // pubsub: ["message", channel, "name\0inc\0version\0change"]
    void on_message(const redisReply& r) {
        if (r.type != REDIS_REPLY_ARRAY || r.elements != 3 || text_of(*r.element[0]) != "message") return;
        const auto p = text_of(*r.element[2]);
        const auto a = p.find('\0');
        const auto b = p.find('\0', a + 1);
        const auto c = p.find('\0', b + 1);
        const auto v = c == std::string_view::npos ? std::nullopt : parse_u64(p.substr(b + 1, c - b - 1));
        if (!v) error = "a malformed change message";
        else on_version(*v);
    }
    // stream: one XREAD at a time, from the last id read; BLOCK 0 waits for the next append.
    void read_more() {
        conn->send({"XREAD", "BLOCK", "0", "COUNT", "1000", "STREAMS", keys.updates, last_id}, [this](const RespResult& r) {
            if (r.failed() || !reading) return;
            if (!r.error_text().empty()) {
                error = std::string(r.error_text());
                return;
            }
            on_entries(*r.reply);
            read_more();
        });
    }
    // [[key, [[id, [field, value, ...]], ...]]]
    void on_entries(const redisReply& r) {
        if (r.type != REDIS_REPLY_ARRAY || r.elements == 0) return;
        const auto& entries = *r.element[0]->element[1];
        for (std::size_t i = 0; i < entries.elements; ++i) {
            const auto& e = *entries.element[i];
            last_id = std::string(text_of(*e.element[0]));
            const auto& f = *e.element[1];
            std::optional<std::uint64_t> v;
            for (std::size_t j = 0; j + 1 < f.elements; j += 2)
                if (text_of(*f.element[j]) == "v") v = parse_u64(text_of(*f.element[j + 1]));
            if (!v) error = "a stream entry without a version";
            else on_version(*v);
        }
    }
};

// The replica that writes: EVALSHA of the transport's script on its own connection.
struct Writer {
    const Keys& keys;
    std::string sha;
    std::string payload;
    std::shared_ptr<RespConnection> conn;
    std::uint64_t acked = 0, last_version = 0;
    Clock::time_point last_ack;
    std::string error;

    Writer(const Keys& k, std::string p) : keys(k), payload(std::move(p)) {}

    void write(std::function<void()> then) {
        const std::vector<std::string_view> args{"EVALSHA", sha, "2", keys.hash, keys.updates, channel_name,
                                                 incarnation, payload, "value", payload};
        const bool sent = conn->send(args, [this, then = std::move(then)](const RespResult& r) {
            if (r.failed() || !r.error_text().empty() || r.reply->type != REDIS_REPLY_INTEGER) {
                error = fmt::format("write failed: {}", r.error_text());
                return;
            }
            last_ack = Clock::now();
            ++acked;
            last_version = std::max(last_version, std::uint64_t(r.reply->integer));
            if (then) then();
        });
        if (!sent) error = "write not sent";
    }
};

// A fresh channel (version 0) and an empty stream for one measurement, with a reader on it.
struct Session {
    asio::io_context& io;
    const NotifyArgs& args;
    const store::RedisConfig& cfg;
    Transport transport;
    Keys keys{transport};
    Reader reader{transport, keys, io};
    Writer writer{keys, std::string(args.payload, 'x')};

    // The connections outlive this object in their pending reads: close them, or the next
    // session's keys would get a second, stale reader.
    ~Session() {
        if (reader.conn) reader.stop();
        if (writer.conn) writer.conn->close("the session ends");
    }
    void open(const std::string& sha) {
        writer.sha = sha;
        writer.conn = open_connection(io, cfg);
        call(io, *writer.conn, {"DEL", keys.hash, keys.updates});
        call(io, *writer.conn, {"HSET", keys.hash, "#inc", incarnation, "#ver", "0"});
        reader.start(cfg);
    }
    void check() const {
        if (!reader.error.empty()) throw std::runtime_error(reader.error);
        if (!writer.error.empty()) throw std::runtime_error(writer.error);
    }
    // Runs until the reader has every acknowledged version (or a newer one).
    void drain(double timeout_s) {
        run_until(io, [&] { check(); return reader.last >= writer.last_version; }, timeout_s, "reader drain");
    }
    // `n` writes with `inflight` in flight, until `n` are acknowledged (n == 0: until `end`).
    void pump(std::uint64_t n, unsigned inflight, Clock::time_point end) {
        unsigned in_flight = 0;
        std::uint64_t sent = 0;
        std::function<void()> more = [&] {
            while (in_flight < inflight && (n ? sent < n : Clock::now() < end)) {
                ++in_flight;
                ++sent;
                writer.write([&] { --in_flight; more(); });
            }
        };
        more();
        run_until(io, [&] { check(); return in_flight == 0 && (n ? sent >= n : Clock::now() >= end); },
                  n ? 600.0 : 600.0 + args.seconds, "writes");
    }
    ResultLine result(std::string_view measure, unsigned run) const {
        ResultLine line("notify");
        line.add("transport", name_of(transport)).add("measure", measure).add("run", std::uint64_t(run));
        return line;
    }
};

// 1 and 3: one write at a time; the next starts when the reader had the previous and its
// acknowledgement came. A sample is EVALSHA sent -> change parsed by the reader.
void measure_latency(Session& s, unsigned run) {
    std::vector<double> notify_us, ack_us;
    notify_us.reserve(s.args.ops);
    ack_us.reserve(s.args.ops);
    const std::uint64_t warmup = 100;
    for (std::uint64_t i = 0; i < warmup + s.args.ops; ++i) {
        if (i == warmup) s.reader.reset_counts();
        const auto expected = s.writer.last_version + 1;
        const auto acked = s.writer.acked;
        const auto t0 = Clock::now();
        s.writer.write(nullptr);
        run_until(s.io, [&] { s.check(); return s.reader.last >= expected && s.writer.acked > acked; }, 10, "latency");
        if (i < warmup) continue;
        notify_us.push_back(us_between(t0, s.reader.last_arrival));
        ack_us.push_back(us_between(t0, s.writer.last_ack));
    }
    const auto p = percentiles(notify_us);
    const auto a = percentiles(ack_us);
    s.result("latency", run).add("ops", s.args.ops).add("p50_us", p.p50, 1).add("p99_us", p.p99, 1)
        .add("p999_us", p.p999, 1).add("ack_p50_us", a.p50, 1).add("ack_p99_us", a.p99, 1)
        .add("out_of_order", s.reader.out_of_order).add("missed", s.reader.missed).print();
}

// 2 and 3: `inflight` writes pipelined for `seconds`; then the reader is drained.
void measure_throughput(Session& s, unsigned run) {
    s.reader.reset_counts();
    const auto acked0 = s.writer.acked;
    const auto t0 = Clock::now();
    s.pump(0, s.args.inflight, t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.args.seconds)));
    s.drain(120);
    const auto writes = s.writer.acked - acked0;
    const double write_s = us_between(t0, s.writer.last_ack) / 1e6;
    const double read_s = us_between(t0, s.reader.last_arrival) / 1e6;
    auto line = s.result("throughput", run);
    line.add("inflight", std::uint64_t(s.args.inflight)).add("writes", writes).add("writes_per_s", double(writes) / write_s, 0)
        .add("changes", s.reader.received).add("changes_per_s", double(s.reader.received) / read_s, 0)
        .add("drain_ms", (read_s - write_s) * 1e3, 1).add("out_of_order", s.reader.out_of_order).add("missed", s.reader.missed);
    if (s.transport == Transport::stream)  // what the capped stream holds in Redis's memory
        line.add("stream_bytes", std::uint64_t(call(s.io, *s.writer.conn, {"MEMORY", "USAGE", s.keys.updates}).integer));
    line.print();
}

// 4: the reader disconnects, `k` writes happen, the reader reconnects. pubsub: the changes are
// gone; a marker write shows how many, and the replica's remedy, a snapshot of the channel
// (HGETALL), is timed. stream: XREAD from the last id read until the reader has every version.
void measure_catchup(Session& s, std::uint64_t k, unsigned run) {
    s.pump(10, 1, {});
    s.drain(10);
    s.reader.stop();
    s.pump(k, s.args.inflight, {});
    s.reader.reset_counts();
    const auto t0 = Clock::now();
    s.reader.start(s.cfg);
    auto line = s.result("catchup", run);
    line.add("k", k);
    if (s.transport == Transport::pubsub) {
        const auto t1 = Clock::now();
        call(s.io, *s.writer.conn, {"HGETALL", s.keys.hash});
        const auto t2 = Clock::now();
        s.pump(1, 1, {});  // the marker: its version shows the gap
        s.drain(10);
        line.add("lost", s.reader.missed).add("resync_ms", us_between(t0, t2) / 1e3, 3).add("hgetall_us", us_between(t1, t2), 1);
    } else {
        s.drain(120);
        line.add("lost", s.reader.missed).add("received", s.reader.received)
            .add("catchup_ms", us_between(t0, s.reader.last_arrival) / 1e3, 3);
    }
    line.add("out_of_order", s.reader.out_of_order).print();
}

// The pubsub remedy at scale: a replica's snapshot is one HGETALL per channel, all pipelined
// (docs/scale-out.md). `n` channel hashes of `leaves` leaves plus #type, #inc and #ver are
// written first; only the HGETALLs are timed (not the SMEMBERS that lists them).
void measure_snapshot(asio::io_context& io, const store::RedisConfig& cfg, const NotifyArgs& a, std::uint64_t n, unsigned run) {
    auto c = open_connection(io, cfg);
    const std::string value(a.payload, 'x');
    std::vector<std::string> keys, fields;
    for (std::uint64_t i = 0; i < n; ++i) keys.push_back(fmt::format("notify:snap:ch:{}", i));
    for (unsigned l = 0; l < a.leaves; ++l) fields.push_back(fmt::format("leaf{}", l));
    std::uint64_t done = 0;
    for (const auto& key : keys) {
        std::vector<std::string_view> args{"HSET", key, "#type", value, "#inc", incarnation, "#ver", "1"};
        for (const auto& f : fields) args.insert(args.end(), {f, value});
        c->send(args, [&done](const RespResult&) { ++done; });
    }
    run_until(io, [&] { return done == n; }, 120, "snapshot setup");
    done = 0;
    std::uint64_t bad = 0;
    const auto t0 = Clock::now();
    for (const auto& key : keys)
        c->send({"HGETALL", key}, [&](const RespResult& r) {
            ++done;
            if (r.failed() || r.reply->type != REDIS_REPLY_ARRAY || r.reply->elements != 2 * (3 + fields.size())) ++bad;
        });
    run_until(io, [&] { return done == n; }, 120, "snapshot");
    const double ms = us_between(t0, Clock::now()) / 1e3;
    c->close("done");
    ResultLine line("notify");
    line.add("transport", "pubsub").add("measure", "snapshot").add("run", std::uint64_t(run)).add("channels", n)
        .add("leaves", std::uint64_t(a.leaves)).add("snapshot_ms", ms, 3).add("per_channel_us", ms * 1e3 / double(n), 2)
        .add("bad_replies", bad).print();
}

std::string load_script(asio::io_context& io, const store::RedisConfig& cfg, std::string_view text) {
    auto c = open_connection(io, cfg);
    auto sha = call(io, *c, {"SCRIPT", "LOAD", text}).text;
    c->close("done");
    return sha;
}

bool wanted(const std::string& list, std::string_view item) {
    // "all" is the comparison of the transports; the snapshot is asked for by name
    return (list == "all" && item != "snapshot") || list.find(item) != std::string::npos;
}

}  // namespace

int run_notify(const NotifyArgs& a) {
    const auto stream_text = stream_script(a.maxlen);
    const auto pubsub_text = store::detail::write_script();
    if (!a.print_script.empty()) {  // for redis-cli SCRIPT LOAD and redis-benchmark
        std::printf("%s", (a.print_script == "stream" ? stream_text : pubsub_text).c_str());
        return 0;
    }
    const auto cfg = store::RedisConfig::from_url(a.redis);
    asio::io_context io;
    auto guard = asio::make_work_guard(io);  // run_one_for must wait, not return at once
    const std::string sha[2] = {load_script(io, cfg, pubsub_text), load_script(io, cfg, stream_text)};
    std::printf("pvwire-bench notify: %s, pubsub script %s, stream script %s (MAXLEN ~ %u)\n", cfg.url().c_str(),
                sha[0].c_str(), sha[1].c_str(), a.maxlen);
    // interleaved, pubsub then stream, so that the machine's drift hits both alike
    for (unsigned run = 1; run <= a.repeat; ++run) {
        for (auto t : {Transport::pubsub, Transport::stream}) {
            if (!wanted(a.transports, name_of(t))) continue;
            if (wanted(a.measures, "latency")) {
                Session s{io, a, cfg, t};
                s.open(sha[int(t)]);
                measure_latency(s, run);
            }
        }
        for (auto t : {Transport::pubsub, Transport::stream}) {
            if (!wanted(a.transports, name_of(t)) || !wanted(a.measures, "throughput")) continue;
            Session s{io, a, cfg, t};
            s.open(sha[int(t)]);
            measure_throughput(s, run);
        }
        for (auto k : a.catchup)
            for (auto t : {Transport::pubsub, Transport::stream}) {
                if (!wanted(a.transports, name_of(t)) || !wanted(a.measures, "catchup")) continue;
                Session s{io, a, cfg, t};
                s.open(sha[int(t)]);
                measure_catchup(s, k, run);
            }
        if (wanted(a.measures, "snapshot"))
            for (auto n : a.snapshot) measure_snapshot(io, cfg, a, n, run);
    }
    return 0;
}

}  // namespace pvwire::bench
