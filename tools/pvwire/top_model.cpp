// The pure parts of `pvwire top` (see top_model.hpp).
#include "top_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <ctime>

namespace pvwire::tool::top {

// ---- one update ----------------------------------------------------------------------------

namespace {

using namespace type_code;

// display.precision for floating point values, when the PV gives one (0..17).
std::optional<int> precision_of(const Value& top) {
    Value p = top.field("display.precision");
    if (!p) return std::nullopt;
    auto n = p.try_as<int>();
    if (!n || *n < 0) return std::nullopt;
    return std::min(*n, 17);
}

template <class T> std::string number_text(T x, std::optional<int> precision) {
    if constexpr (std::is_same_v<T, bool>) {
        return x ? "true" : "false";
    } else if constexpr (std::is_floating_point_v<T>) {
        if (precision && std::isfinite(x)) return fmt::format("{:.{}f}", x, *precision);
        return fmt::format("{}", x);
    } else {
        return fmt::format("{}", x);
    }
}

// One scalar field (numeric or string) as text.
std::string scalar_text(const Value& f, std::optional<int> precision) {
    return visit_scalar_type(f.code(), [&](auto tag) -> std::string {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_void_v<T>) return "?";
        else if constexpr (std::is_same_v<T, std::string>) return f.as<std::string>();
        else return number_text(f.as<T>(), precision);
    });
}

std::string array_text(const Value& f, std::size_t max_elements, std::optional<int> precision) {
    const SharedArray a = f.array();
    std::string out = fmt::format("[{}]", a.size());
    const std::size_t shown = std::min(a.size(), max_elements);
    visit_scalar_type(element_of(f.code()), [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_void_v<T>) {
            if (a.size()) out += " {...}";
        } else {
            const auto elements = a.span<T>();
            for (std::size_t i = 0; i < shown; ++i) {
                out += i ? ", " : " ";
                if constexpr (std::is_same_v<T, std::string>) out += elements[i];
                else out += number_text(elements[i], precision);
            }
            if (shown < a.size()) out += ", ...";
        }
    });
    return out;
}

// An enum_t-like structure (index and choices): the choice's name, or the index when it has none.
std::optional<std::string> choice_text(const Value& f) {
    Value index = f.field("index"), choices = f.field("choices");
    if (!index || !choices || choices.code() != TypeCode::StringA) return std::nullopt;
    const auto i = index.try_as<std::int64_t>().value_or(-1);
    const auto names = choices.array().span<std::string>();
    if (i >= 0 && std::size_t(i) < names.size()) return names[std::size_t(i)];
    return fmt::format("{}", i);
}

// A structure of arrays (an NTTable's value): "[rows] column, column, ...".
std::optional<std::string> table_text(const Value& f) {
    if (f.member_count() == 0) return std::nullopt;
    std::string columns;
    std::size_t rows = 0;
    for (std::size_t i = 0; i < f.member_count(); ++i) {
        const Value column = f.member(i);
        if (!is_array(column.code())) return std::nullopt;
        rows = std::max(rows, column.array_size());
        columns += (i ? ", " : " ") + std::string(f.member_name(i));
    }
    return fmt::format("[{} rows]{}", rows, columns);
}

// The field the dashboard shows: `value`, or the structure itself when it has none.
Value shown_field(const Value& top) {
    if (top.code() == TypeCode::Struct)
        if (Value v = top.field("value")) return v;
    return top;
}

std::optional<double> number_of(const Value& f) {
    if (is_numeric(f.code())) return f.try_as<double>();
    if (f.code() == TypeCode::Struct)
        if (Value index = f.field("index"); index && f.field("choices")) return index.try_as<double>();
    return std::nullopt;
}

}  // namespace

std::string format_value(const Value& top, std::size_t max_elements) {
    if (!top) return "";
    const Value f = shown_field(top);
    const auto precision = precision_of(top);
    const TypeCode c = f.code();
    if (is_array(c)) return array_text(f, max_elements, precision);
    if (is_scalar(c)) return scalar_text(f, precision);
    if (c == TypeCode::Struct) {
        if (auto choice = choice_text(f)) return *choice;
        if (auto table = table_text(f)) return *table;
        return "{" + f.type().id() + "}";
    }
    if (c == TypeCode::Union || c == TypeCode::Any) {
        Value inner = f.contained();
        return inner ? format_value(inner, max_elements) : "(empty)";
    }
    return "?";
}

Reading read_update(const Value& top, std::chrono::system_clock::time_point arrived) {
    Reading r;
    r.value = format_value(top);
    // a control character (a newline in a string PV) would move the terminal's cursor
    for (char& ch : r.value)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
    r.number = number_of(shown_field(top));
    if (Value s = top.field("alarm.severity")) r.severity = s.try_as<int>().value_or(0);
    if (Value u = top.field("display.units")) r.units = u.try_as<std::string>().value_or("");
    r.stamp = arrived;
    Value secs = top.field("timeStamp.secondsPastEpoch"), nanos = top.field("timeStamp.nanoseconds");
    if (secs && nanos) {
        const auto s = secs.try_as<std::int64_t>().value_or(0);
        const auto ns = nanos.try_as<std::int64_t>().value_or(0);
        if (s > 0)
            r.stamp = std::chrono::system_clock::time_point(
                std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::seconds(s) +
                                                                                 std::chrono::nanoseconds(ns)));
    }
    return r;
}

std::string severity_name(int severity) {
    switch (severity) {
    case 0: return "";
    case 1: return "MINOR";
    case 2: return "MAJOR";
    case 3: return "INVALID";
    default: return fmt::format("UNDEF({})", severity);
    }
}

std::string time_of_day(std::chrono::system_clock::time_point t) {
    const auto since = t.time_since_epoch();
    const std::time_t secs = std::chrono::duration_cast<std::chrono::seconds>(since).count();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since).count() % 1000;
    std::tm local{};
    localtime_r(&secs, &local);
    return fmt::format("{:02}:{:02}:{:02}.{:03}", local.tm_hour, local.tm_min, local.tm_sec, ms);
}

// ---- trends ---------------------------------------------------------------------------------

std::string sparkline(std::span<const double> values, std::size_t width, bool utf8) {
    static constexpr std::array<const char*, 8> blocks{"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static constexpr std::array<const char*, 6> ascii{"_", ".", "-", "=", "*", "#"};
    if (values.size() > width) values = values.subspan(values.size() - width);
    double lo = 0, hi = 0;
    bool any = false;
    for (double x : values) {
        if (!std::isfinite(x)) continue;
        lo = any ? std::min(lo, x) : x;
        hi = any ? std::max(hi, x) : x;
        any = true;
    }
    const std::size_t levels = utf8 ? blocks.size() : ascii.size();
    std::string out;
    for (double x : values) {
        if (!std::isfinite(x)) {
            out += ' ';
            continue;
        }
        std::size_t level = 0;
        if (hi > lo) level = std::min(levels - 1, std::size_t((x - lo) / (hi - lo) * double(levels)));
        out += utf8 ? blocks[level] : ascii[level];
    }
    return out;
}

void RateMeter::add(Clock::time_point t) {
    if (!first_) first_ = t;
    times_.push_back(t);
    if (times_.size() > max_kept_) times_.pop_front();
}

double RateMeter::rate(Clock::time_point now) {
    while (!times_.empty() && times_.front() < now - window_) times_.pop_front();
    if (!first_ || times_.empty()) return 0;
    // Counting from the first update, not from when top started, keeps a PV that updates once
    // a second from reading 2/s one second after it connected.
    Clock::time_point from = std::max(now - window_, *first_);
    if (times_.size() == max_kept_) from = times_.front();
    const double span = std::chrono::duration<double>(now - from).count();
    if (span <= 0 || (times_.size() < 2 && from == *first_)) return 0;
    return double(times_.size() - (from == *first_ ? 1 : 0)) / span;
}

// ---- rows -------------------------------------------------------------------------------------

const char* column_title(Column c) {
    switch (c) {
    case Column::Name: return "NAME";
    case Column::Value: return "VALUE";
    case Column::Severity: return "ALARM";
    case Column::Units: return "UNITS";
    case Column::Rate: return "HZ";
    case Column::Time: return "UPDATED";
    }
    return "?";
}

bool glob_match(std::string_view pattern, std::string_view name) {
    // Iterative matching with one backtrack point (the last '*'): linear in practice.
    std::size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
    while (n < name.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
            ++p;
            ++n;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            resume = n;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            n = ++resume;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

bool is_glob(std::string_view name) { return name.find_first_of("*?") != std::string_view::npos; }

bool filter_matches(std::string_view filter, std::string_view name) {
    if (filter.empty()) return true;
    if (is_glob(filter)) return glob_match(filter, name);
    auto lower = [](char c) { return char(std::tolower(static_cast<unsigned char>(c))); };
    return std::search(name.begin(), name.end(), filter.begin(), filter.end(),
                       [&](char a, char b) { return lower(a) == lower(b); }) != name.end();
}

namespace {

// <0, 0, >0 as row a sorts before, with, after row b by column `by` (rows without data last).
int compare_by(const Row& a, const Row& b, Column by) {
    if (by != Column::Name && a.has_data != b.has_data) return a.has_data ? -1 : 1;
    auto three_way = [](const auto& x, const auto& y) { return x < y ? -1 : (y < x ? 1 : 0); };
    switch (by) {
    case Column::Name: return 0;
    case Column::Value:
        if (a.reading.number && b.reading.number) return three_way(*a.reading.number, *b.reading.number);
        return three_way(a.reading.value, b.reading.value);
    case Column::Severity: return three_way(b.reading.severity, a.reading.severity);  // worst first
    case Column::Units: return three_way(a.reading.units, b.reading.units);
    case Column::Rate: return three_way(b.rate, a.rate);                               // busiest first
    case Column::Time: return three_way(b.reading.stamp, a.reading.stamp);             // newest first
    }
    return 0;
}

}  // namespace

std::vector<std::size_t> visible_rows(const std::vector<Row>& rows, std::string_view filter, Column by, bool reverse) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < rows.size(); ++i)
        if (filter_matches(filter, rows[i].name)) out.push_back(i);
    std::stable_sort(out.begin(), out.end(), [&](std::size_t a, std::size_t b) {
        int c = compare_by(rows[a], rows[b], by);
        if (c == 0) c = rows[a].name < rows[b].name ? -1 : (rows[b].name < rows[a].name ? 1 : 0);
        return reverse ? c > 0 : c < 0;
    });
    return out;
}

// ---- layout ------------------------------------------------------------------------------------

Layout layout_for(int width, std::size_t longest_name) {
    Layout l{0, 0, 7, 6, 6, 16, 12};
    // One space between columns; name and value want at least this much before others go.
    auto fixed = [&] {
        int sum = 0, shown = 2;
        for (int w : {l.severity, l.units, l.rate, l.spark, l.time})
            if (w) sum += w, ++shown;
        return sum + shown - 1;
    };
    constexpr int wanted = 30;  // name + value
    for (int* drop : {&l.spark, &l.units, &l.time, &l.rate, &l.severity})
        if (width - fixed() < wanted) *drop = 0;
    const int rest = std::max(2, width - fixed());
    l.name = std::clamp(int(longest_name), std::min(12, rest / 2), std::max(rest / 2, std::min(rest * 3 / 5, 32)));
    l.name = std::min(l.name, rest - 1);
    l.value = rest - l.name;
    return l;
}

std::size_t cell_width(std::string_view text) {
    std::size_t n = 0;
    for (char c : text)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

std::string fit(std::string_view text, int width, bool right) {
    if (width <= 0) return "";
    const std::size_t w = std::size_t(width);
    std::size_t cells = cell_width(text);
    std::string out;
    if (cells > w) {
        // cut at the start of the w-th code point, leaving room for the '~'
        std::size_t seen = 0, i = 0;
        for (; i < text.size(); ++i) {
            if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && seen++ == w - 1) break;
        }
        out.assign(text.substr(0, i));
        out += '~';
        return out;
    }
    const std::string pad(w - cells, ' ');
    return right ? pad + std::string(text) : std::string(text) + pad;
}

std::string rate_text(double per_second) {
    if (per_second < 0.05) return "";
    if (per_second >= 1000) return fmt::format("{:.0f}", per_second);
    return fmt::format("{:.1f}", per_second);
}

}  // namespace pvwire::tool::top
