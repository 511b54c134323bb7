// pvwire top: a terminal dashboard (ncurses). The PV view shows PVs (names, globs over a
// server's list, or all of a server's PVs) with their value, alarm severity in colour, units,
// update rate, a sparkline and the last update's time; the server view shows the status PVs a
// pvwire server publishes under a prefix. Keys filter, sort, pause and put (see help_lines).
//
// The monitors fill a LiveTable on the client's thread (top_live.hpp); this thread redraws
// from a copy of it ten times a second (getch's timeout) and after every key.
#include "client_common.hpp"
#include "commands.hpp"
#include "server_query.hpp"
#include "top_live.hpp"
#include "top_model.hpp"

#include <pvwire/net/interfaces.hpp>

#include <CLI/CLI.hpp>

#include <curses.h>
#include <langinfo.h>

#include <fmt/format.h>

#include <algorithm>
#include <clocale>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>

namespace pvwire::tool {

namespace {

using namespace top;

struct TopArgs : ClientArgs {
    std::vector<std::string> globs;
    std::string status_prefix;
    std::string view = "pvs";
    bool ascii = false;
};

// The status PVs a pvwire server publishes under its prefix (docs/metrics.md), in the order
// the server view lists them.
const std::vector<std::string>& status_names() {
    static const std::vector<std::string> names{
        "connections", "channels", "operations", "bytes_in_rate", "bytes_out_rate", "bytes_in", "bytes_out",
        "updates_sent", "updates_squashed", "queue_fill", "errors", "ops:get", "ops:put", "ops:put_get",
        "ops:monitor", "ops:array", "ops:process", "ops:rpc", "store_latency_us"};
    return names;
}

// ---- which PVs ------------------------------------------------------------------------------

// The server --server names, as an endpoint for its "server" PV; nullopt with a message.
std::optional<net::tcp::endpoint> listed_server(const TopArgs& a, const net::ClientConfig& cfg, std::string& err) {
    if (a.server.empty()) {
        err = "globs and \"all PVs\" need the server to list: --server HOST[:PORT]";
        return std::nullopt;
    }
    const auto ep = resolve_server(a.server, cfg.server_port, err);
    if (!ep) return std::nullopt;
    return net::tcp::endpoint(ep->address(), ep->port());
}

// The PV names to watch: the plain names given, then the server's names matching the globs
// (all of them when neither is given). Throws std::runtime_error with the reason.
std::vector<std::string> pv_names(const TopArgs& a, const net::ClientConfig& cfg) {
    std::vector<std::string> names, globs = a.globs;
    for (const auto& n : a.names) (is_glob(n) ? globs : names).push_back(n);
    if (!names.empty() && globs.empty()) return names;
    if (globs.empty()) globs.push_back("*");
    std::string err;
    const auto ep = listed_server(a, cfg, err);
    std::optional<Value> result;
    if (ep) result = query_server(*ep, a.timeout_ms(), "channels", err);
    const auto listed = result ? channel_names(*result, true) : std::nullopt;
    if (!listed) throw std::runtime_error(result ? "the server's list is not a string[]" : err);
    for (const auto& n : *listed)
        for (const auto& g : globs)
            if (glob_match(g, n) && std::find(names.begin(), names.end(), n) == names.end()) {
                names.push_back(n);
                break;
            }
    if (names.empty()) throw std::runtime_error("no PV of " + a.server + " matches");
    return names;
}

// --status, else "pvwire:<replica>" as `pvwire serve` names its status PVs: the replica the
// server's op=info answers, else PVWIRE_REPLICA, HOSTNAME or this host's name.
std::string status_prefix(const TopArgs& a, const net::ClientConfig& cfg) {
    if (!a.status_prefix.empty()) return a.status_prefix;
    std::string err;
    if (const auto ep = a.server.empty() ? std::nullopt : listed_server(a, cfg, err))
        if (const auto info = query_server(*ep, a.timeout_ms(), "info", err))
            if (Value r = info->field("replica"); r && !r.as<std::string>().empty())
                return "pvwire:" + r.as<std::string>();
    for (const char* var : {"PVWIRE_REPLICA", "HOSTNAME"})
        if (const char* v = std::getenv(var); v && *v) return std::string("pvwire:") + v;
    return "pvwire:" + net::host_name();
}

// ---- the screen --------------------------------------------------------------------------------

enum ColorPair : short { pair_minor = 1, pair_major, pair_invalid, pair_grey, pair_title };

// ncurses for the life of the object: raw keys, no echo, getch waiting at most 100 ms.
class Terminal {
public:
    Terminal() {
        std::setlocale(LC_ALL, "");
        utf8_ = std::strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
        set_escdelay(25);
        initscr();
        cbreak();
        noecho();
        nonl();
        keypad(stdscr, TRUE);
        curs_set(0);
        timeout(100);
        if (has_colors()) {
            start_color();
            use_default_colors();
            init_pair(pair_minor, COLOR_YELLOW, -1);
            init_pair(pair_major, COLOR_RED, -1);
            init_pair(pair_invalid, COLOR_MAGENTA, -1);
            init_pair(pair_grey, COLORS > 8 ? 8 : COLOR_WHITE, -1);
            init_pair(pair_title, COLOR_BLACK, COLOR_CYAN);
        }
    }
    ~Terminal() { endwin(); }
    Terminal(const Terminal&) = delete;
    Terminal& operator=(const Terminal&) = delete;
    bool utf8() const { return utf8_; }

private:
    bool utf8_ = false;
};

// The colour of a row's alarm: by severity, grey when disconnected.
attr_t alarm_attr(const Row& r) {
    if (!r.connected) return COLOR_PAIR(pair_grey) | A_DIM;
    switch (r.reading.severity) {
    case 0: return A_NORMAL;
    case 1: return COLOR_PAIR(pair_minor) | A_BOLD;
    case 2: return COLOR_PAIR(pair_major) | A_BOLD;
    default: return COLOR_PAIR(pair_invalid) | A_BOLD;
    }
}

// Writes `text` at (y, x) in `attr`, never past the screen's last column.
void put_text(int y, int x, const std::string& text, attr_t attr = A_NORMAL) {
    if (x >= COLS || y >= LINES) return;
    attron(attr);
    mvaddnstr(y, x, text.c_str(), int(text.size()));
    attroff(attr);
}

// What the keys change, and what the dashboard shows.
struct UiState {
    enum class View { Pvs, Server } view = View::Pvs;
    enum class Mode { Normal, Filter, PutValue, PutConfirm, Help } mode = Mode::Normal;
    std::string filter;
    Column sort = Column::Name;
    bool reverse = false;
    bool paused = false;
    std::size_t selected = 0;  // among the visible rows
    std::size_t first = 0;     // the first visible row on screen
    std::string input;         // the put's value being typed
    std::string put_pv;        // the PV the put goes to
    std::string message;       // the bottom line
};

// ---- drawing ---------------------------------------------------------------------------------

const std::vector<std::string>& help_lines() {
    static const std::vector<std::string> lines{
        "pvwire top keys",
        "",
        "  Up/Down j/k      select a row (PgUp/PgDn, Home/End)",
        "  /                filter names (text, or a glob with * ?)",
        "  1..6  < >        sort by name, value, alarm, units, rate, time",
        "  r                reverse the order",
        "  p  Space         pause / resume the display",
        "  Enter  e         put a value to the selected PV (y/n to confirm)",
        "  Tab  s           switch between the PV view and the server view",
        "  h  ?             this help (any key closes it)",
        "  q                quit",
    };
    return lines;
}

void draw_header(const UiState& s, const std::string& prefix, std::size_t shown, std::size_t total) {
    std::string text = "pvwire top | ";
    if (s.view == UiState::View::Pvs) text += fmt::format("PVs {}/{}", shown, total);
    else text += "server " + prefix;
    text += fmt::format(" | sort {}{}", column_title(s.sort), s.reverse ? " (rev)" : "");
    if (!s.filter.empty()) text += " | filter " + s.filter;
    if (s.paused) text += " | PAUSED";
    text += " | h help";
    put_text(0, 0, fit(text, COLS), COLOR_PAIR(pair_title) | A_BOLD);
}

// The cells of one line, in column order, with their widths (0: not shown) and alignment.
struct Cell {
    std::string text;
    int width;
    bool right;
    attr_t attr;
};

std::vector<Cell> column_cells(const Layout& l, const UiState& s) {
    auto title = [&](Column c, const char* text = nullptr) {
        std::string t = text ? text : column_title(c);
        if (c == s.sort) t += s.reverse ? "-" : "+";
        return t;
    };
    const bool server = s.view == UiState::View::Server;
    return {{title(Column::Name), l.name, false, 0},
            {title(Column::Value), l.value, false, 0},
            {title(Column::Severity), l.severity, false, 0},
            {title(Column::Units), l.units, false, 0},
            {title(Column::Rate, server ? "/S" : "HZ"), l.rate, true, 0},
            {"TREND", l.spark, false, 0},
            {title(Column::Time), l.time, false, 0}};
}

std::vector<Cell> row_cells(const Row& r, const Layout& l, bool utf8) {
    const attr_t alarm = alarm_attr(r);
    const std::string severity = r.connected ? severity_name(r.reading.severity) : "DISCONN";
    const bool fresh = r.has_data && r.connected;
    return {{r.name, l.name, false, r.connected ? A_NORMAL : alarm},
            {r.reading.value, l.value, false, alarm},
            {severity, l.severity, false, alarm},
            {fresh ? r.reading.units : "", l.units, false, 0},
            {fresh ? rate_text(r.rate) : "", l.rate, true, 0},
            {sparkline(r.history, std::size_t(std::max(l.spark, 0)), utf8), l.spark, false, 0},
            {r.has_data ? time_of_day(r.reading.stamp) : "", l.time, false, 0}};
}

// One line of cells separated by one space; `extra` is added to every cell's attribute.
void draw_cells(int y, const std::vector<Cell>& cells, attr_t extra) {
    int x = 0;
    for (const auto& c : cells) {
        if (c.width <= 0) continue;
        if (x > 0) put_text(y, x++, " ", extra);
        put_text(y, x, fit(c.text, c.width, c.right), c.attr | extra);
        x += c.width;
    }
}

void draw_footer(const UiState& s) {
    std::string text;
    switch (s.mode) {
    case UiState::Mode::Filter: text = "filter: " + s.filter + "_   (Enter: keep, Esc: clear)"; break;
    case UiState::Mode::PutValue: text = "put " + s.put_pv + " = " + s.input + "_   (Enter: put, Esc: cancel)"; break;
    case UiState::Mode::PutConfirm: text = "put " + s.input + " to " + s.put_pv + "? (y/n)"; break;
    default:
        text = s.message.empty() ? "q quit  / filter  1-6 sort  r reverse  p pause  Enter put  Tab view  h help"
                                 : s.message;
    }
    put_text(LINES - 1, 0, fit(text, COLS - 1), s.mode == UiState::Mode::Normal ? A_NORMAL : A_BOLD);
}

void draw_help() {
    const auto& lines = help_lines();
    const int w = std::min(COLS, 70), h = std::min(LINES, int(lines.size()) + 2);
    const int y0 = std::max(0, (LINES - h) / 2), x0 = std::max(0, (COLS - w) / 2);
    for (int i = 0; i < h; ++i) {
        const std::string& line = i > 0 && std::size_t(i - 1) < lines.size() ? lines[std::size_t(i - 1)] : "";
        put_text(y0 + i, x0, fit(" " + line, w), A_REVERSE);
    }
}

// The rows area: lines 2 .. LINES-2. Keeps the selection on screen.
int rows_height() { return std::max(0, LINES - 3); }

void draw(UiState& s, const std::vector<Row>& rows, const std::vector<std::size_t>& order, const std::string& prefix,
          bool utf8) {
    erase();
    std::size_t longest = 4;
    for (const auto& r : rows) longest = std::max(longest, cell_width(r.name));
    const Layout l = layout_for(COLS, longest);
    draw_header(s, prefix, order.size(), rows.size());
    if (LINES > 1) draw_cells(1, column_cells(l, s), A_BOLD | A_UNDERLINE);
    const auto height = std::size_t(rows_height());
    if (s.selected < s.first) s.first = s.selected;
    if (height && s.selected >= s.first + height) s.first = s.selected + 1 - height;
    for (std::size_t i = s.first; i < order.size() && i < s.first + height; ++i)
        draw_cells(2 + int(i - s.first), row_cells(rows[order[i]], l, utf8), i == s.selected ? A_REVERSE : A_NORMAL);
    if (LINES > 2) draw_footer(s);
    if (s.mode == UiState::Mode::Help) draw_help();
    refresh();
}

// ---- keys ----------------------------------------------------------------------------------------

bool is_enter(int ch) { return ch == '\n' || ch == '\r' || ch == KEY_ENTER; }
bool is_backspace(int ch) { return ch == KEY_BACKSPACE || ch == 127 || ch == 8; }
constexpr int key_escape = 27;

// Typing into `text`: printable characters, backspace. True when the key was one of those.
bool edit_line(std::string& text, int ch) {
    if (is_backspace(ch)) {
        if (!text.empty()) text.pop_back();
        return true;
    }
    if (ch >= 32 && ch < 127 && text.size() < 200) {
        text += char(ch);
        return true;
    }
    return false;
}

void move_selection(UiState& s, int ch, std::size_t count) {
    const std::size_t page = std::size_t(std::max(1, rows_height()));
    std::size_t& sel = s.selected;
    if (ch == KEY_UP || ch == 'k') sel = sel ? sel - 1 : 0;
    else if (ch == KEY_DOWN || ch == 'j') ++sel;
    else if (ch == KEY_PPAGE) sel = sel > page ? sel - page : 0;
    else if (ch == KEY_NPAGE) sel += page;
    else if (ch == KEY_HOME || ch == 'g') sel = 0;
    else if (ch == KEY_END || ch == 'G') sel = count;
    if (count == 0) sel = 0;
    else if (sel >= count) sel = count - 1;
}

void sort_key(UiState& s, int ch) {
    int c = int(s.sort);
    if (ch >= '1' && ch < '1' + column_count) c = ch - '1';
    else if (ch == '<') c = (c + column_count - 1) % column_count;
    else if (ch == '>') c = (c + 1) % column_count;
    else if (ch == 'r') s.reverse = !s.reverse;
    s.sort = Column(c);
}

// A key in the normal mode; false to quit. `selected_pv` is the selected row's PV ("" if none).
bool normal_key(UiState& s, int ch, const std::string& selected_pv, std::size_t count) {
    s.message.clear();
    if (ch == 'q' || ch == 'Q') return false;
    if (ch == '/') s.mode = UiState::Mode::Filter;
    else if (ch == 'h' || ch == '?') s.mode = UiState::Mode::Help;
    else if (ch == 'p' || ch == ' ') s.paused = !s.paused;
    else if (ch == '\t' || ch == 's') {
        s.view = s.view == UiState::View::Pvs ? UiState::View::Server : UiState::View::Pvs;
        s.selected = s.first = 0;
    } else if (is_enter(ch) || ch == 'e') {
        if (s.view == UiState::View::Server) s.message = "puts go to PVs: Tab to the PV view";
        else if (selected_pv.empty()) s.message = "no PV selected";
        else {
            s.put_pv = selected_pv;
            s.input.clear();
            s.mode = UiState::Mode::PutValue;
        }
    } else if (ch == key_escape) s.filter.clear();
    else if ((ch >= '1' && ch <= '9') || ch == '<' || ch == '>' || ch == 'r') sort_key(s, ch);
    else move_selection(s, ch, count);
    return true;
}

// A key in any mode; false to quit. A confirmed put starts through `put`.
bool handle_key(UiState& s, int ch, const std::string& selected_pv, std::size_t count,
                const std::function<void(const std::string& pv, const std::string& text)>& put) {
    using M = UiState::Mode;
    switch (s.mode) {
    case M::Help: s.mode = M::Normal; return true;
    case M::Filter:
        if (is_enter(ch)) s.mode = M::Normal;
        else if (ch == key_escape) s.filter.clear(), s.mode = M::Normal;
        else if (edit_line(s.filter, ch)) s.selected = s.first = 0;
        return true;
    case M::PutValue:
        if (is_enter(ch) && !s.input.empty()) s.mode = M::PutConfirm;
        else if (ch == key_escape) s.mode = M::Normal, s.message = "put cancelled";
        else edit_line(s.input, ch);
        return true;
    case M::PutConfirm:
        s.mode = M::Normal;
        if (ch == 'y' || ch == 'Y') put(s.put_pv, s.input);
        else s.message = "put cancelled";
        return true;
    case M::Normal: break;
    }
    return normal_key(s, ch, selected_pv, count);
}

// ---- the loop ------------------------------------------------------------------------------------

// The dashboard until q: redraws from the tables' copies ten times a second and after a key.
void run_screen(const TopArgs& a, client::Context& ctx, LiveTable& pvs, LiveTable& server, const std::string& prefix) {
    Terminal term;
    UiState s;
    if (a.view == "server") s.view = UiState::View::Server;
    const bool utf8 = term.utf8() && !a.ascii;
    auto put = [&](const std::string& pv, const std::string& text) { pvs.put(ctx, pv, text, a.server); };
    std::vector<Row> rows;
    auto shown_view = s.view;
    for (;;) {
        LiveTable& table = s.view == UiState::View::Pvs ? pvs : server;
        if (!s.paused || shown_view != s.view || rows.empty()) rows = table.rows(Clock::now());
        shown_view = s.view;
        if (auto outcome = pvs.take_outcome(); !outcome.empty()) s.message = outcome;
        const auto order = visible_rows(rows, s.filter, s.sort, s.reverse);
        move_selection(s, 0, order.size());
        draw(s, rows, order, prefix, utf8);
        const int ch = getch();
        if (ch == ERR) continue;
        if (ch == KEY_RESIZE) {
            clearok(curscr, TRUE);  // the next refresh repaints every cell: no leftovers
            continue;
        }
        const std::string selected = order.empty() ? "" : rows[order[s.selected]].name;
        if (!handle_key(s, ch, selected, order.size(), put)) return;
    }
}

int run_top(const TopArgs& a) {
    const auto cfg = client_config(a);
    std::vector<std::string> names;
    try {
        names = pv_names(a, cfg);
    } catch (const std::exception& e) {
        std::cerr << "pvwire top: " << e.what() << "\n";
        return 1;
    }
    const std::string prefix = status_prefix(a, cfg);
    std::vector<std::string> status_pvs;
    for (const auto& n : status_names()) status_pvs.push_back(prefix + ":" + n);

    client::Context ctx(cfg);
    LiveTable pvs(ctx, names, {}, a.server, LiveTable::RateKind::Updates);
    LiveTable server(ctx, status_pvs, status_names(), a.server, LiveTable::RateKind::Change);
    // Destroyed before the tables (declared after them), also on an exception: no callback
    // may run into a table that is gone.
    struct StopFirst {
        client::Context& ctx;
        ~StopFirst() { ctx.stop(); }
    } stop_first{ctx};
    ctx.hurry();
    run_screen(a, ctx, pvs, server, prefix);
    return 0;
}

}  // namespace

void register_top(CLI::App& app) {
    auto a = std::make_shared<TopArgs>();
    auto* cmd = app.add_subcommand("top", "A terminal dashboard of PVs and of a server's status PVs");
    cmd->add_option("pv", a->names, "PV names; names with * or ? are globs over the --server's PVs");
    cmd->add_option("-g,--glob", a->globs, "Watch the PVs of --server whose names match (repeatable)");
    cmd->add_option("--status", a->status_prefix,
                    "Prefix of the server view's status PVs (default: pvwire:<replica>, the replica "
                    "--server names in op=info, else PVWIRE_REPLICA, HOSTNAME or this host's name)");
    cmd->add_option("--view", a->view, "The view shown first: pvs (default) or server")
        ->check(CLI::IsMember({"pvs", "server"}));
    cmd->add_flag("--ascii", a->ascii, "Draw sparklines in ASCII even when the locale is UTF-8");
    add_client_options(cmd, *a, opt_timeout);
    cmd->footer("Without PV names or globs: every PV of --server. Keys: h in the dashboard.");
    cmd->callback([a] {
        const int status = run_top(*a);
        if (status) throw CLI::RuntimeError(status);
    });
}

}  // namespace pvwire::tool
