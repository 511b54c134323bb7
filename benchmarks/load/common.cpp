#include "common.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>

namespace pvwire::bench {

std::atomic<bool> interrupted{false};

namespace {
void on_signal(int) { interrupted = true; }
}  // namespace

void install_signals() {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
}

double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto tv = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
    return tv(ru.ru_utime) + tv(ru.ru_stime);
}

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

namespace {
long vmrss_kb(const std::string& status_path) {
    std::ifstream in(status_path);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    return 0;
}
}  // namespace

long rss_kb() { return vmrss_kb("/proc/self/status"); }

long process_rss_kb(int pid) { return vmrss_kb("/proc/" + std::to_string(pid) + "/status"); }

void raise_file_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

Percentiles percentiles(std::vector<double>& s) {
    Percentiles p;
    if (s.empty()) return p;
    auto rank = [&](double q) {
        // nearest rank: the smallest sample with at least q of all samples at or below it
        auto k = static_cast<std::size_t>(std::ceil(q * double(s.size())));
        k = std::clamp<std::size_t>(k, 1, s.size()) - 1;
        std::nth_element(s.begin(), s.begin() + std::ptrdiff_t(k), s.end());
        return s[k];
    };
    p.p50 = rank(0.50);
    p.p99 = rank(0.99);
    p.p999 = rank(0.999);
    return p;
}

ResultLine::ResultLine(std::string_view kind) : text_("RESULT kind=") { text_ += kind; }

ResultLine& ResultLine::add(std::string_view key, double value, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, std::isfinite(value) ? value : 0.0);
    return add(key, std::string_view(buf));
}

ResultLine& ResultLine::add(std::string_view key, std::uint64_t value) { return add(key, std::to_string(value)); }

ResultLine& ResultLine::add(std::string_view key, std::string_view value) {
    text_ += ' ';
    text_ += key;
    text_ += '=';
    text_ += value;
    return *this;
}

void ResultLine::print() const {
    std::printf("%s\n", text_.c_str());
    std::fflush(stdout);
}

}  // namespace pvwire::bench
