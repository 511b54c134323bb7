// pvwire-bench soak: many clients monitoring ticking PVs for a long time, to see whether the
// server's and the clients' memory stays flat, whether any update is lost or late, and how late
// updates are. The server is `pvwire serve` in a child process, serving a generated PV file of
// uint32 counters that tick (add 1, stamp timeStamp, post) at a fixed rate; the clients are
// client::Context objects in this process (each with its own connection and thread), so the
// two memory figures are separate. An update's delay is the receipt time (system clock, when
// the consumer takes it from its subscription) minus the timeStamp the server set at the tick:
// both clocks are this host's.
#include "programs.hpp"

#include <pvwire/client/context.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

namespace pvwire::bench {

namespace {

namespace fs = std::filesystem;

// Delays in a fixed set of logarithmic buckets (1 % wide, 1 us to ~20 min), so that a run of
// hours costs the same memory as a run of seconds: storing every sample would grow the
// clients' RSS, the very figure the soak watches. Percentiles are the bucket's upper bound.
class DelayHistogram {
public:
    void add(double us) {
        ++count_;
        max_ = std::max(max_, us);
        ++buckets_[index(us)];
    }
    void merge(const DelayHistogram& o) {
        count_ += o.count_;
        max_ = std::max(max_, o.max_);
        for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += o.buckets_[i];
    }
    void clear() { *this = DelayHistogram(); }
    std::uint64_t count() const { return count_; }
    double max() const { return max_; }
    double percentile(double q) const {
        if (count_ == 0) return 0;
        const auto rank = std::max<std::uint64_t>(1, std::uint64_t(std::ceil(q * double(count_))));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < buckets_.size(); ++i)
            if ((seen += buckets_[i]) >= rank) return std::min(max_, std::pow(growth, double(i)));
        return max_;
    }

private:
    static constexpr double growth = 1.01;
    static constexpr std::size_t bucket_count = 2100;  // 1.01^2100 us: about 20 minutes
    static std::size_t index(double us) {
        if (!(us > 1)) return 0;
        return std::min(bucket_count - 1, std::size_t(std::ceil(std::log(us) / std::log(growth))));
    }
    std::array<std::uint64_t, bucket_count> buckets_{};
    std::uint64_t count_ = 0;
    double max_ = 0;
};

// /proc/PID/stat: user + system CPU seconds of a process (0 when it is gone).
double process_cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto paren = text.rfind(')');  // the command name may hold spaces
    if (paren == std::string::npos) return 0;
    std::istringstream fields(text.substr(paren + 2));
    std::string skip;
    for (int i = 3; i < 14; ++i) fields >> skip;  // state .. cmajflt: fields 3 to 13
    double utime = 0, stime = 0;
    fields >> utime >> stime;
    return (utime + stime) / double(sysconf(_SC_CLK_TCK));
}

// The 1-minute load average, for the record (the machine may be shared).
double load_average() {
    std::ifstream in("/proc/loadavg");
    double l = 0;
    in >> l;
    return l;
}

// A JSON PV file of `count` uint32 counters PREFIX0.. ticking every `period` seconds.
void write_pv_file(const fs::path& path, const std::string& prefix, unsigned count, double period) {
    std::ofstream out(path);
    out << "{\"pvs\": [\n";
    for (unsigned i = 0; i < count; ++i)
        out << (i ? ",\n" : "") << "  {\"name\": \"" << prefix << i
            << "\", \"type\": \"NTScalar\", \"element\": \"uint32\", \"value\": 0, \"readonly\": true, "
               "\"tick\": {\"period\": "
            << period << ", \"step\": 1}}";
    out << "\n]}\n";
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

// `pvwire serve --isolated --pvs FILE` as a child process; stopped (SIGINT, then SIGKILL) when
// this object goes, so no server outlives the program.
class ServerProcess {
public:
    ServerProcess(const std::string& program, const fs::path& pv_file, const fs::path& log, unsigned clients) {
        // loopback clients all come from 127.0.0.1: the per-address limit must admit them all
        const std::string per_peer = std::to_string(std::max(4096u, clients + 64));
        // a log left by an earlier run in the same directory would be read before the child
        // truncates it: its "running" line would send the clients to that run's dead port
        fs::remove(log);
        std::fflush(nullptr);  // or the child's exit would print what is buffered here once more
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) exec_server(program, pv_file, log, per_peer);
        log_ = log;
    }
    ~ServerProcess() { stop(); }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    pid_t pid() const { return pid_; }
    // Waits for "running" in the server's output; returns the client environment it printed
    // ("EPICS_PVA_ADDR_LIST=... EPICS_PVA_SERVER_PORT=...").
    std::string wait_ready(double timeout_s) {
        const auto t0 = Clock::now();
        while (since(t0) < timeout_s && !interrupted) {
            std::ifstream in(log_);
            std::string line, env;
            while (std::getline(in, line)) {
                if (auto p = line.find("EPICS_PVA_ADDR_LIST="); p != std::string::npos) env = line.substr(p);
                if (line.find("running") != std::string::npos && !env.empty()) return env;
            }
            if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("the server exited; its output is in " + log_.string());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        throw std::runtime_error("the server did not start within " + std::to_string(timeout_s) + " s");
    }
    void stop() {
        if (pid_ <= 0) return;
        kill(pid_, SIGINT);
        for (int i = 0; i < 50; ++i) {
            if (waitpid(pid_, nullptr, WNOHANG) == pid_) return void(pid_ = -1);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    [[noreturn]] static void exec_server(const std::string& program, const fs::path& pv_file, const fs::path& log,
                                         const std::string& per_peer) {
        if (FILE* f = std::freopen(log.c_str(), "w", stdout)) (void)f;
        dup2(STDOUT_FILENO, STDERR_FILENO);
        setenv("PVWIRE_MAX_CONNECTIONS_PER_PEER", per_peer.c_str(), 0);  // the caller's setting wins
        execl(program.c_str(), program.c_str(), "serve", "--isolated", "--pvs", pv_file.c_str(), "--http", "-1",
              "--msgpack", "-1", "--status-prefix", "", static_cast<char*>(nullptr));
        std::perror(("pvwire-bench soak: cannot run " + program).c_str());
        _exit(127);
    }
    pid_t pid_ = -1;
    fs::path log_;
};

// Points this process's clients at the server: the variables the server printed, the rest of
// the environment that could send searches elsewhere cleared.
void use_client_environment(const std::string& printed) {
    for (const char* v : {"EPICS_PVA_NAME_SERVERS", "EPICS_PVA_INTF_ADDR_LIST", "EPICS_PVA_ADDR_LIST",
                          "EPICS_PVA_SERVER_PORT", "EPICS_PVA_BROADCAST_PORT"})
        unsetenv(v);
    std::istringstream words(printed);
    std::string w;
    while (words >> w)
        if (auto eq = w.find('='); eq != std::string::npos) setenv(w.substr(0, eq).c_str(), w.substr(eq + 1).c_str(), 1);
    setenv("EPICS_PVA_BROADCAST_PORT", "0", 0);
}

// One monitor's bookkeeping: the counter it saw last and what went wrong with it.
struct Watch {
    std::shared_ptr<client::Subscription> sub;
    bool have_last = false;
    std::uint32_t last = 0;
    std::uint64_t delivered = 0;   // data events while counting
    std::uint64_t missing = 0;     // counter values skipped by events without an overrun mark
    std::uint64_t overruns = 0;    // events whose overrun mark says the server squashed
    std::uint64_t backwards = 0;   // a counter that did not increase (out of order, repeated)
    std::uint64_t squashed0 = 0;   // the subscription's squash count when counting began
    // counter values lost and not explained by the client's squashes (each hides one update)
    std::uint64_t unexplained() const {
        const std::uint64_t squashed = sub->squashed() - squashed0;
        return missing > squashed ? missing - squashed : 0;
    }
};

// The monitors of every client and the one consumer thread's view of them (as `monitor`
// does: each subscription with news is listed once until the consumer pops it).
class Watches {
public:
    explicit Watches(std::size_t n) : watches_(n), listed_(n, 0) {}
    std::function<void()> notifier(std::size_t i) {
        return [this, i] {
            bool wake = false;
            {
                std::lock_guard lock(mu_);
                if (listed_[i]) return;
                listed_[i] = 1;
                wake = ready_.empty();
                ready_.push_back(i);
            }
            if (wake) cv_.notify_one();
        };
    }
    Watch& operator[](std::size_t i) { return watches_[i]; }
    std::vector<Watch>& all() { return watches_; }
    void wait(std::chrono::milliseconds t) {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, t, [&] { return !ready_.empty(); });
    }
    void start_counting() {
        counting_ = true;
        for (auto& w : watches_) w.squashed0 = w.sub->squashed();
    }
    void drain();
    unsigned with_value() const {
        return unsigned(std::count_if(watches_.begin(), watches_.end(), [](const Watch& w) { return w.have_last; }));
    }

    DelayHistogram interval, total;  // delays in us: since the last sample, since counting began
    std::uint64_t interval_updates = 0;
    std::uint64_t disconnects = 0, failures = 0;  // channel lost; Error or Finished events

private:
    void take(Watch& w, const client::MonitorEvent& ev, double now_us);

    std::vector<Watch> watches_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::size_t> ready_, with_news_;
    std::vector<char> listed_;  // guarded by mu_
    std::vector<client::MonitorEvent> batch_;
    bool counting_ = false;
};

double system_now_us() {
    return std::chrono::duration<double, std::micro>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void Watches::drain() {
    {
        std::lock_guard lock(mu_);
        with_news_.swap(ready_);
        for (auto i : with_news_) listed_[i] = 0;
    }
    for (auto i : with_news_) {
        watches_[i].sub->pop(batch_);
        const double now_us = system_now_us();  // one receipt time per batch of one PV
        for (auto& ev : batch_) take(watches_[i], ev, now_us);
    }
    with_news_.clear();
    batch_.clear();
}

void Watches::take(Watch& w, const client::MonitorEvent& ev, double now_us) {
    using Kind = client::MonitorEvent::Kind;
    if (ev.kind == Kind::Disconnected) {
        w.have_last = false;
        ++disconnects;
        std::cerr << "pvwire-bench soak: " << w.sub->name() << ": disconnected\n";
        return;
    }
    if (ev.kind == Kind::Error || ev.kind == Kind::Finished) {
        ++failures;
        std::cerr << "pvwire-bench soak: " << w.sub->name() << ": " << ev.message << "\n";
        return;
    }
    if (ev.kind != Kind::Data) return;
    const Value v = ev.value.field("value"), ts = ev.value.field("timeStamp");
    const auto counter = v ? v.try_as<std::uint32_t>() : std::nullopt;
    if (!counter || !ts) return void(++failures);  // not the counters this program serves
    if (counting_) {
        ++w.delivered;
        ++interval_updates;
        const double stamp_us = double(ts["secondsPastEpoch"].as<std::int64_t>()) * 1e6 +
                                double(ts["nanoseconds"].as<std::int64_t>()) * 1e-3;
        interval.add(now_us - stamp_us);
        if (w.have_last) {
            if (*counter <= w.last) ++w.backwards;
            else if (*counter > w.last + 1 && ev.overrun.empty()) w.missing += *counter - w.last - 1;
        }
        if (!ev.overrun.empty()) ++w.overruns;
    }
    w.last = *counter;
    w.have_last = true;
}

// One line of the time series.
struct Sample {
    double t = 0;                   // seconds since counting began
    long server_rss_kb = 0, clients_rss_kb = 0;
    std::uint64_t updates = 0;      // in this interval
    double interval_s = 0;
    double p50_ms = 0, p99_ms = 0, max_ms = 0;
    std::uint64_t errors = 0;       // so far
    double server_cpu_s = 0, clients_cpu_s = 0, load1 = 0;
};

const char* const csv_header =
    "seconds,server_rss_mib,clients_rss_mib,updates,updates_per_s,delay_p50_ms,delay_p99_ms,delay_max_ms,errors,"
    "server_cpu_s,clients_cpu_s,load1";

void write_csv_row(std::ostream& out, const Sample& s) {
    char line[256];
    std::snprintf(line, sizeof line, "%.1f,%.2f,%.2f,%llu,%.0f,%.3f,%.3f,%.3f,%llu,%.2f,%.2f,%.2f", s.t,
                  double(s.server_rss_kb) / 1024, double(s.clients_rss_kb) / 1024,
                  static_cast<unsigned long long>(s.updates), s.interval_s > 0 ? double(s.updates) / s.interval_s : 0.0,
                  s.p50_ms, s.p99_ms, s.max_ms, static_cast<unsigned long long>(s.errors), s.server_cpu_s,
                  s.clients_cpu_s, s.load1);
    out << line << "\n" << std::flush;
}

// A gnuplot script drawing the CSV: RSS of server and clients over time (left axis) and the
// delay p99 per interval (right axis), into soak.png. Its paths are relative, so that the
// directory can be moved (into benchmarks/results/) and drawn again: `cd DIR && gnuplot soak.gp`.
void write_gnuplot(const fs::path& dir, const std::string& title) {
    std::ofstream out(dir / "soak.gp");
    out << "# cd to this directory, then: gnuplot soak.gp (draws soak.csv into soak.png)\n"
        << "set terminal pngcairo size 1000,560 noenhanced\n"
        << "set output 'soak.png'\n"
        << "set datafile separator ','\n"
        << "set key below\n"
        << "set title '" << title << "'\n"
        << "set xlabel 'seconds'\nset ylabel 'RSS (MiB)'\nset y2label 'delay p99 per interval (ms)'\n"
        << "set yrange [0:*]\nset y2range [0:*]\nset ytics nomirror\nset y2tics\nset grid\n"
        << "plot 'soak.csv' skip 1 using 1:2 with lines lw 2 title 'server RSS', \\\n"
        << "     '' skip 1 using 1:3 with lines lw 2 title 'clients RSS', \\\n"
        << "     '' skip 1 using 1:($4 > 0 ? $7 : NaN) axes x1y2 with linespoints pt 7 ps 0.5 title 'delay p99 per interval (right)'\n";
}

// Draws the chart when gnuplot is installed (scripts/setup installs it); says how otherwise.
void draw_chart(const fs::path& dir) {
    const std::string cmd = "cd '" + dir.string() + "' && gnuplot soak.gp 2>/dev/null";
    if (std::system(cmd.c_str()) == 0) std::printf("pvwire-bench soak: chart %s\n", (dir / "soak.png").c_str());
    else std::printf("pvwire-bench soak: no chart (gnuplot failed): cd %s && gnuplot soak.gp\n", dir.c_str());
}

// The clients: `clients` contexts, each monitoring `monitors` PVs; client c's k-th monitor is
// on PV (c * monitors + k) mod pvs, so every PV has about the same number of subscribers.
struct Clients {
    std::unique_ptr<Watches> watches;  // declared first: the contexts, whose threads notify it, go first
    std::vector<std::unique_ptr<client::Context>> contexts;
};

Clients start_clients(const SoakArgs& a) {
    Clients c;
    c.watches = std::make_unique<Watches>(std::size_t(a.clients) * a.monitors);
    c.contexts.reserve(a.clients);
    client::MonitorOptions o;
    o.queue_size = a.queue;
    for (unsigned i = 0; i < a.clients; ++i) {
        c.contexts.push_back(std::make_unique<client::Context>(net::ClientConfig::from_env()));
        for (unsigned k = 0; k < a.monitors; ++k) {
            const std::size_t n = std::size_t(i) * a.monitors + k;
            (*c.watches)[n].sub =
                c.contexts.back()->monitor(a.prefix + std::to_string(n % a.pvs), o, c.watches->notifier(n));
        }
    }
    return c;
}

// Until every monitor delivered its first value; false (and a message) past the timeout.
bool wait_first_values(Watches& w, std::size_t total, double timeout_s) {
    const auto t0 = Clock::now();
    for (;;) {
        w.drain();
        const unsigned have = w.with_value();
        if (have == total) {
            std::printf("pvwire-bench soak: %zu monitors delivered their first value in %.2f s\n", total, since(t0));
            return true;
        }
        if (interrupted || since(t0) > timeout_s) {
            std::cerr << "pvwire-bench soak: only " << have << " of " << total << " monitors delivered a value within "
                      << timeout_s << " s\n";
            return false;
        }
        w.wait(std::chrono::milliseconds(100));
    }
}

std::uint64_t error_count(Watches& w) {
    std::uint64_t n = w.disconnects + w.failures;
    for (auto& x : w.all()) n += x.unexplained() + x.backwards;
    return n;
}

// Counts for `seconds`, taking a sample every `every` seconds (and one at the start).
std::vector<Sample> measure(const SoakArgs& a, Watches& w, pid_t server, std::ostream& csv) {
    std::vector<Sample> samples;
    w.start_counting();
    const auto t0 = Clock::now();
    auto take_sample = [&](double interval_s) {
        Sample s;
        s.t = since(t0);
        s.interval_s = interval_s;
        s.server_rss_kb = process_rss_kb(server);
        s.clients_rss_kb = rss_kb();
        s.updates = w.interval_updates;
        s.p50_ms = w.interval.percentile(0.50) / 1e3;
        s.p99_ms = w.interval.percentile(0.99) / 1e3;
        s.max_ms = w.interval.max() / 1e3;
        s.errors = error_count(w);
        s.server_cpu_s = process_cpu_seconds(server);
        s.clients_cpu_s = cpu_seconds();
        s.load1 = load_average();
        w.total.merge(w.interval);
        w.interval.clear();
        w.interval_updates = 0;
        write_csv_row(csv, s);
        std::printf("  %7.1f s  server %8.1f MiB  clients %8.1f MiB  %8.0f updates/s  delay p50 %7.2f p99 %7.2f max "
                    "%8.2f ms  errors %llu  load %.2f\n",
                    s.t, double(s.server_rss_kb) / 1024, double(s.clients_rss_kb) / 1024,
                    interval_s > 0 ? double(s.updates) / interval_s : 0.0, s.p50_ms, s.p99_ms, s.max_ms,
                    static_cast<unsigned long long>(s.errors), s.load1);
        std::fflush(stdout);
        samples.push_back(s);
    };
    take_sample(0);
    double next = a.sample;
    while (!interrupted && since(t0) < a.seconds) {
        w.wait(std::chrono::milliseconds(20));
        w.drain();
        if (since(t0) >= next) {
            take_sample(since(t0) - samples.back().t);
            next += a.sample;
        }
    }
    w.drain();
    if (since(t0) - samples.back().t > 0.5) take_sample(since(t0) - samples.back().t);
    return samples;
}

// RSS growth over the second half of the run: the last sample against the first one at or
// after the middle (the first half holds the allocators' warm-up).
struct Growth {
    long server_kb = 0, clients_kb = 0;
    double server_pct = 0, clients_pct = 0;
};
Growth second_half_growth(const std::vector<Sample>& s) {
    Growth g;
    if (s.size() < 2) return g;
    const double middle = s.back().t / 2;
    const Sample& m = *std::find_if(s.begin(), s.end(), [&](const Sample& x) { return x.t >= middle; });
    g.server_kb = s.back().server_rss_kb - m.server_rss_kb;
    g.clients_kb = s.back().clients_rss_kb - m.clients_rss_kb;
    g.server_pct = m.server_rss_kb ? 100.0 * double(g.server_kb) / double(m.server_rss_kb) : 0;
    g.clients_pct = m.clients_rss_kb ? 100.0 * double(g.clients_kb) / double(m.clients_rss_kb) : 0;
    return g;
}

}  // namespace

namespace {

struct Totals {
    std::uint64_t delivered = 0, unexplained = 0, backwards = 0, overruns = 0, squashed = 0;
};
Totals totals(Watches& w) {
    Totals t;
    for (auto& x : w.all()) {
        t.delivered += x.delivered;
        t.unexplained += x.unexplained();
        t.backwards += x.backwards;
        t.overruns += x.overruns;
        t.squashed += x.sub->squashed() - x.squashed0;
    }
    return t;
}

// The summary, the RESULT line and the verdict (0: no error, enough updates, flat memory).
int report(const SoakArgs& a, Watches& w, const std::vector<Sample>& s) {
    const Totals t = totals(w);
    const double dt = s.back().t;
    const double expected = double(a.clients) * a.monitors * a.rate * dt;
    const double ratio = expected > 0 ? double(t.delivered) / expected : 0;
    const std::uint64_t errors = error_count(w);
    const Growth g = second_half_growth(s);
    const DelayHistogram& d = w.total;
    std::printf("pvwire-bench soak: %u clients x %u monitors on %u PVs ticking at %g Hz, %.1f s: delivered %llu of "
                "%.0f expected (%.4f); errors %llu (disconnects %llu, failed monitors %llu, unexplained gaps %llu, "
                "out of order %llu); explained losses: server overruns %llu, client squashes %llu; delay p50 %.2f "
                "p99 %.2f p99.9 %.2f max %.2f ms; RSS server %.1f -> %.1f MiB, clients %.1f -> %.1f MiB; second "
                "half growth server %+ld KiB (%+.2f %%), clients %+ld KiB (%+.2f %%); CPU server %.1f s, clients "
                "%.1f s; load %.2f -> %.2f\n",
                a.clients, a.monitors, a.pvs, a.rate, dt, static_cast<unsigned long long>(t.delivered), expected, ratio,
                static_cast<unsigned long long>(errors), static_cast<unsigned long long>(w.disconnects),
                static_cast<unsigned long long>(w.failures), static_cast<unsigned long long>(t.unexplained),
                static_cast<unsigned long long>(t.backwards), static_cast<unsigned long long>(t.overruns),
                static_cast<unsigned long long>(t.squashed), d.percentile(0.5) / 1e3, d.percentile(0.99) / 1e3,
                d.percentile(0.999) / 1e3, d.max() / 1e3, double(s.front().server_rss_kb) / 1024,
                double(s.back().server_rss_kb) / 1024, double(s.front().clients_rss_kb) / 1024,
                double(s.back().clients_rss_kb) / 1024, g.server_kb, g.server_pct, g.clients_kb, g.clients_pct,
                s.back().server_cpu_s - s.front().server_cpu_s, s.back().clients_cpu_s - s.front().clients_cpu_s,
                s.front().load1, s.back().load1);
    ResultLine("soak")
        .add("clients", std::uint64_t(a.clients)).add("monitors", std::uint64_t(a.monitors))
        .add("pvs", std::uint64_t(a.pvs)).add("rate_hz", a.rate, 2).add("seconds", dt, 1)
        .add("delivered", t.delivered).add("expected", expected, 0).add("delivered_ratio", ratio, 4)
        .add("errors", errors).add("overruns", t.overruns).add("squashed", t.squashed)
        .add("p50_ms", d.percentile(0.5) / 1e3).add("p99_ms", d.percentile(0.99) / 1e3)
        .add("max_ms", d.max() / 1e3)
        .add("server_rss0_kb", std::uint64_t(s.front().server_rss_kb))
        .add("server_rss_kb", std::uint64_t(s.back().server_rss_kb))
        .add("clients_rss0_kb", std::uint64_t(s.front().clients_rss_kb))
        .add("clients_rss_kb", std::uint64_t(s.back().clients_rss_kb))
        .add("server_growth_pct", g.server_pct, 2).add("clients_growth_pct", g.clients_pct, 2)
        .print();
    int status = 0;
    auto fail = [&](const std::string& why) {
        std::cerr << "pvwire-bench soak: FAIL: " << why << "\n";
        status = 1;
    };
    if (errors) fail(std::to_string(errors) + " errors");
    if (ratio < a.min_delivered) fail("delivered " + std::to_string(ratio) + " of the expected updates");
    if (a.max_growth >= 0 && std::max(g.server_pct, g.clients_pct) > a.max_growth)
        fail("RSS grew more than " + std::to_string(a.max_growth) + " % in the second half");
    return status;
}

fs::path output_directory(const SoakArgs& a) {
    fs::path dir = a.out.empty() ? fs::temp_directory_path() / ("pvwire-soak-" + std::to_string(getpid())) : fs::path(a.out);
    fs::create_directories(dir);
    return dir;
}

// `pvwire` beside this program (both are built into bin/).
std::string default_server_program() {
    std::error_code ec;
    const auto self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? "pvwire" : (self.parent_path() / "pvwire").string();
}

}  // namespace

int run_soak(const SoakArgs& a) {
    raise_file_limit();
    install_signals();
    const fs::path dir = output_directory(a);
    const fs::path pv_file = dir / "soak-pvs.json", csv_path = dir / "soak.csv";
    write_pv_file(pv_file, a.prefix, a.pvs, 1.0 / a.rate);
    std::printf("pvwire-bench soak: %u clients x %u monitors, %u PVs at %g Hz, %g s; output in %s; load %.2f\n",
                a.clients, a.monitors, a.pvs, a.rate, a.seconds, dir.c_str(), load_average());
    ServerProcess server(a.server_program.empty() ? default_server_program() : a.server_program, pv_file,
                         dir / "server.log", a.clients);
    use_client_environment(server.wait_ready(30));
    Clients clients = start_clients(a);
    if (!wait_first_values(*clients.watches, std::size_t(a.clients) * a.monitors, a.connect_timeout)) return 1;

    std::ofstream csv(csv_path);
    csv << csv_header << "\n";
    const auto samples = measure(a, *clients.watches, server.pid(), csv);
    const int status = report(a, *clients.watches, samples);
    char title[160];
    std::snprintf(title, sizeof title, "pvwire soak: %u clients x %u monitors, %u PVs at %g Hz", a.clients, a.monitors,
                  a.pvs, a.rate);
    clients.contexts.clear();  // the clients go before the server, so no disconnect is seen as an error
    server.stop();
    write_gnuplot(dir, title);
    std::printf("pvwire-bench soak: time series %s\n", csv_path.c_str());
    draw_chart(dir);
    return status;
}

}  // namespace pvwire::bench
