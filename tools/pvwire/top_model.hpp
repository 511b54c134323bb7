// The pure parts of `pvwire top` (cmd_top.cpp draws them with ncurses): what a monitor update
// shows (value text with precision, choice names, arrays as "[n] a, b, ..."), sparklines,
// update rates, the rows' filter and sort, and which columns fit a terminal's width. Nothing
// here knows the terminal or the network, so tests/tools/top_model_test.cpp checks it all.
#pragma once

#include <pvwire/data/value.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pvwire::tool::top {

using Clock = std::chrono::steady_clock;

// ---- one update ----------------------------------------------------------------------------

// What the dashboard keeps of one monitor update. Made on the client's thread from the
// update's Value (which the client reuses), so that the UI thread never reads a Value.
struct Reading {
    std::string value;                 // formatted (format_value)
    std::optional<double> number;      // a numeric scalar (enum: its index) for the sparkline
    int severity = 0;                  // alarm.severity (0 none, 1 MINOR, 2 MAJOR, 3 INVALID)
    std::string units;                 // display.units
    std::chrono::system_clock::time_point stamp;  // timeStamp, or when it arrived when unset
};

// The value field of an NT structure (the structure itself when it has none) as one line:
// numbers with display.precision when given, enumerations as the choice name, strings as they
// are, arrays as "[n] a, b, c, ..." (the first `max_elements`), other structures as "{id}".
std::string format_value(const Value& top, std::size_t max_elements = 4);
// Everything the dashboard shows of `top` (an update's full value).
Reading read_update(const Value& top, std::chrono::system_clock::time_point arrived);

// "MINOR", "MAJOR", "INVALID", "" for none, "UNDEF(n)" for an unknown severity.
std::string severity_name(int severity);
// Local time of day, "HH:MM:SS.mmm".
std::string time_of_day(std::chrono::system_clock::time_point t);

// ---- trends ---------------------------------------------------------------------------------

// The last `width` values as a sparkline scaled between their minimum and maximum: one of
// ▁▂▃▄▅▆▇█ per value (UTF-8), or of _.-=*# (ASCII). Flat data draws the lowest level; empty
// data an empty string.
std::string sparkline(std::span<const double> values, std::size_t width, bool utf8);

// Updates per second over the last `window` (bounded memory: at most `max_kept` arrival times;
// past that the rate is counted over the times kept).
class RateMeter {
public:
    explicit RateMeter(Clock::duration window = std::chrono::seconds(5), std::size_t max_kept = 4096)
        : window_(window), max_kept_(max_kept) {}
    // Counts an update arriving at `t` (times must not go backwards).
    void add(Clock::time_point t);
    // Updates per second up to `now`: over the window, or since the first update when that is
    // more recent. 0 before two updates.
    double rate(Clock::time_point now);

private:
    Clock::duration window_;
    std::size_t max_kept_;
    std::deque<Clock::time_point> times_;
    std::optional<Clock::time_point> first_;
};

// ---- rows -------------------------------------------------------------------------------------

// One line of the PV view, as the UI thread copies it out of the shared table.
struct Row {
    std::string name;
    bool connected = false;
    bool has_data = false;
    Reading reading;
    double rate = 0;              // updates per second (PV view) or change per second (server view)
    std::vector<double> history;  // recent numbers, oldest first
};

// The sortable columns, in the order of the keys 1..6.
enum class Column { Name, Value, Severity, Units, Rate, Time };
inline constexpr int column_count = 6;
const char* column_title(Column c);

// Whether `name` matches the glob `pattern` (* any run, ? one character, the rest literal).
bool glob_match(std::string_view pattern, std::string_view name);
// Whether a PV name argument is a glob (has * or ?).
bool is_glob(std::string_view name);
// The filter typed after '/': a glob when it has * or ?, else a case-insensitive substring of
// the name. Empty matches everything.
bool filter_matches(std::string_view filter, std::string_view name);

// The indices of `rows` that pass `filter`, ordered by `by` (ties by name; numbers compare as
// numbers, rows without data last), reversed when `reverse`.
std::vector<std::size_t> visible_rows(const std::vector<Row>& rows, std::string_view filter, Column by, bool reverse);

// ---- layout ------------------------------------------------------------------------------------

// The columns' widths for a terminal `width` cells wide (0: the column is not shown). The
// sparkline goes first when space is short, then the units, then the time and the rate; name
// and value share what is left.
struct Layout {
    int name = 0, value = 0, severity = 0, units = 0, rate = 0, spark = 0, time = 0;
};
Layout layout_for(int width, std::size_t longest_name);

// Cells `text` takes (UTF-8 code points; every character the dashboard draws is one cell wide).
std::size_t cell_width(std::string_view text);
// `text` cut or padded with spaces to exactly `width` cells; a cut ends in '~'. Right-aligned
// when `right`.
std::string fit(std::string_view text, int width, bool right = false);

// "12.3" for rates; "" below 0.05/s.
std::string rate_text(double per_second);

}  // namespace pvwire::tool::top
