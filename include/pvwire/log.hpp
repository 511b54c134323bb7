/// @file
/// Logging: named loggers with levels, formatted with fmt, written to a replaceable sink.
///
/// @code{.unparsed}
///   pvwire.server        connections accepted and closed (with the reason), limits hit
///   pvwire.server.search searches answered and refused
///   pvwire.client        links opened, validated and lost
///   pvwire.net           transports and listeners
/// @endcode
///
/// Levels come from PVWIRE_LOG the first time a logger is used, as PVXS users set PVXS_LOG:
/// a comma-separated list of NAME=LEVEL where NAME may end in '*' ("pvwire.server.*=DEBUG",
/// "pvwire.*=WARN"), LEVEL one of DEBUG, INFO, WARN, ERR (or ERROR), CRIT, OFF. The default is
/// WARN. configure() and set_level() change them at run time, set_sink() sends the lines to the
/// application's own logger (the default sink writes one line to stderr).
///
/// Cost: a disabled level is one relaxed atomic load; nothing is formatted.
/// Threading: every function may be called from any thread; the sink is called from the thread
/// that logs, under no lock of pvwire's, and must be thread-safe itself.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <functional>
#include <string>
#include <string_view>

namespace pvwire::log {

enum class Level : int { debug = 10, info = 20, warn = 30, error = 40, crit = 50, off = 100 };

std::string_view level_name(Level level);

class Logger {
public:
    /// Usually a function-local static; a shorter-lived one leaves the registry when destroyed.
    explicit Logger(std::string name);
    ~Logger();
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    bool enabled(Level level) const noexcept { return int(level) >= level_.load(std::memory_order_relaxed); }
    const std::string& name() const noexcept { return name_; }
    void set_level(Level level) noexcept { level_.store(int(level), std::memory_order_relaxed); }

    template <class... Args> void log(Level level, fmt::format_string<Args...> format, Args&&... args) {
        if (enabled(level)) write(level, fmt::format(format, std::forward<Args>(args)...));
    }
    template <class... Args> void debug(fmt::format_string<Args...> f, Args&&... a) { log(Level::debug, f, std::forward<Args>(a)...); }
    template <class... Args> void info(fmt::format_string<Args...> f, Args&&... a) { log(Level::info, f, std::forward<Args>(a)...); }
    template <class... Args> void warn(fmt::format_string<Args...> f, Args&&... a) { log(Level::warn, f, std::forward<Args>(a)...); }
    template <class... Args> void error(fmt::format_string<Args...> f, Args&&... a) { log(Level::error, f, std::forward<Args>(a)...); }

    /// Hands a formatted line to the sink.
    void write(Level level, std::string_view text) const;

private:
    std::string name_;
    std::atomic<int> level_;
};

using Sink = std::function<void(const std::string& logger, Level level, std::string_view text)>;
/// Replaces the sink; an empty one restores the default (stderr).
void set_sink(Sink sink);

/// Sets the level of every logger whose name matches `pattern` (exact, or a prefix ending in
/// '*'), now and for loggers made later.
void set_level(std::string_view pattern, Level level);
/// Applies a PVWIRE_LOG-style list. Returns false (and applies nothing) when it does not parse;
/// `error` then names the entry.
bool configure(std::string_view spec, std::string* error = nullptr);

/// The loggers of the library.
Logger& server();
Logger& search();
Logger& client();
Logger& net();
/// The stores (pvwire.store): connections to Redis, resynchronisation, bad stored data.
Logger& store();

}  // namespace pvwire::log
