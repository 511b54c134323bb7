#include <pvwire/log.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <vector>

namespace pvwire::log {
namespace {

struct Rule {
    std::string pattern;
    Level level;
};

bool matches(std::string_view pattern, std::string_view name) {
    if (!pattern.empty() && pattern.back() == '*') return name.starts_with(pattern.substr(0, pattern.size() - 1));
    return pattern == name;
}

std::optional<Level> parse_level(std::string_view text) {
    std::string up(text);
    std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return char(std::toupper(c)); });
    if (up == "DEBUG") return Level::debug;
    if (up == "INFO") return Level::info;
    if (up == "WARN" || up == "WARNING") return Level::warn;
    if (up == "ERR" || up == "ERROR") return Level::error;
    if (up == "CRIT") return Level::crit;
    if (up == "OFF") return Level::off;
    return std::nullopt;
}

// Every logger and every rule, so that a rule reaches loggers made after it.
struct Registry {
    std::mutex mu;
    std::vector<Logger*> loggers;
    std::vector<Rule> rules;  // applied in order: later rules win
    Sink sink;
    bool env_read = false;

    Level level_for(std::string_view name) const {
        Level level = Level::warn;
        for (const auto& r : rules)
            if (matches(r.pattern, name)) level = r.level;
        return level;
    }
    void read_env() {
        if (env_read) return;
        env_read = true;
        const char* spec = std::getenv("PVWIRE_LOG");
        std::vector<Rule> parsed;
        std::string err;
        if (spec && !parse_rules(spec, parsed, &err))
            std::fprintf(stderr, "pvwire: PVWIRE_LOG ignored: %s\n", err.c_str());
        else
            rules.insert(rules.end(), parsed.begin(), parsed.end());
    }
    static bool parse_rules(std::string_view spec, std::vector<Rule>& out, std::string* error) {
        while (!spec.empty()) {
            const auto comma = spec.find(',');
            std::string_view entry = spec.substr(0, comma);
            spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
            while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
            while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
            if (entry.empty()) continue;
            const auto eq = entry.find('=');
            const auto level = eq == std::string_view::npos ? std::nullopt : parse_level(entry.substr(eq + 1));
            if (!level || eq == 0) {
                if (error) *error = fmt::format("\"{}\" is not NAME=LEVEL (DEBUG, INFO, WARN, ERR, CRIT, OFF)", entry);
                return false;
            }
            out.push_back(Rule{std::string(entry.substr(0, eq)), *level});
        }
        return true;
    }
};

Registry& registry() {
    static Registry r;
    return r;
}

void default_sink(const std::string& logger, Level level, std::string_view text) {
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    // one fwrite per line, so that lines of different threads do not interleave
    const std::string line = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {} {} {}\n", tm.tm_year + 1900,
                                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms,
                                         level_name(level), logger, text);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

std::string_view level_name(Level level) {
    switch (level) {
    case Level::debug: return "DEBUG";
    case Level::info: return "INFO";
    case Level::warn: return "WARN";
    case Level::error: return "ERR";
    case Level::crit: return "CRIT";
    case Level::off: return "OFF";
    }
    return "?";
}

Logger::Logger(std::string name) : name_(std::move(name)), level_(int(Level::warn)) {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    r.read_env();
    level_.store(int(r.level_for(name_)), std::memory_order_relaxed);
    r.loggers.push_back(this);
}

Logger::~Logger() {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    std::erase(r.loggers, this);
}

void Logger::write(Level level, std::string_view text) const {
    Sink sink;
    {
        auto& r = registry();
        std::lock_guard lock(r.mu);
        sink = r.sink;
    }
    if (sink)
        sink(name_, level, text);
    else
        default_sink(name_, level, text);
}

void set_sink(Sink sink) {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    r.sink = std::move(sink);
}

void set_level(std::string_view pattern, Level level) {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    r.read_env();
    r.rules.push_back(Rule{std::string(pattern), level});
    for (auto* l : r.loggers)
        if (matches(pattern, l->name())) l->set_level(level);
}

bool configure(std::string_view spec, std::string* error) {
    std::vector<Rule> rules;
    if (!Registry::parse_rules(spec, rules, error)) return false;
    for (const auto& rule : rules) set_level(rule.pattern, rule.level);
    return true;
}

Logger& server() {
    static Logger l("pvwire.server");
    return l;
}
Logger& search() {
    static Logger l("pvwire.server.search");
    return l;
}
Logger& client() {
    static Logger l("pvwire.client");
    return l;
}
Logger& net() {
    static Logger l("pvwire.net");
    return l;
}
Logger& store() {
    static Logger l("pvwire.store");
    return l;
}

}  // namespace pvwire::log
