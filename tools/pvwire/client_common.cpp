// Shared pieces of the client subcommands: see client_common.hpp.
#include "client_common.hpp"

#include <chrono>

#include <mutex>

#include <condition_variable>

#include <pvwire/data/type_desc.hpp>
#include <pvwire/log.hpp>

#include <CLI/CLI.hpp>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace pvwire::tool {

void add_client_options(CLI::App* cmd, ClientArgs& a, unsigned flags) {
    if (flags & opt_timeout)
        cmd->add_option("-w,--timeout", a.timeout, "Operation timeout in seconds (default 5)")
            ->check(CLI::PositiveNumber);
    if (flags & opt_request) cmd->add_option("-r,--request", a.request, "pvRequest, e.g. 'field(value,alarm)'");
    if (flags & opt_max)
        cmd->add_option("-#,--max-elements", a.max_elements,
                        "Array elements printed per field (default 20, 0 = all; JSON is never cut)");
    if (flags & opt_json) cmd->add_flag("--json", a.json, "One JSON object per line instead of text");
    if (flags & opt_format)
        cmd->add_option("-F,--format", a.format,
                        "Text format: delta (the changed fields, default) or tree (the whole value) as PVXS's "
                        "tools print them, or pvget (the whole value as pvAccessCPP's pvget prints it)")
            ->check(CLI::IsMember({"tree", "delta", "pvget"}));
    cmd->add_option("--server", a.server,
                    "Use this server, without search: HOST[:PORT], pva+unix:///PATH or pva+ws://HOST:PORT/pva "
                    "(docs/transports.md)");
    cmd->add_flag("-v,--verbose", a.verbose, "Print the effective client configuration first");
    cmd->add_flag("-d,--debug", a.debug, "Print channel states, context statistics and pvwire's debug log on stderr");
}

client::OpOptions op_options(const ClientArgs& a) {
    client::OpOptions o;
    o.request = a.request;
    o.timeout = a.timeout_ms();
    o.server = a.server;
    return o;
}

net::ClientConfig client_config(const ClientArgs& a) {
    if (a.debug) log::configure("pvwire.*=DEBUG");
    auto cfg = net::ClientConfig::from_env();
    if (a.verbose) {
        const std::string d = cfg.describe();
        std::cerr << d << (d.empty() || d.back() != '\n' ? "\n" : "");
    } else {
        for (const auto& w : cfg.warnings) std::cerr << "warning: " << w << "\n";
    }
    return cfg;
}

void print_stats(const ClientArgs& a, const client::Context& ctx) {
    if (!a.debug) return;
    const auto s = ctx.stats();
    std::cerr << "debug: searches sent " << s.searches_sent << ", search responses " << s.search_responses
              << ", beacons " << s.beacons << ", servers noticed " << s.servers_noticed << ", connections opened "
              << s.connections_opened << ", lost " << s.connections_lost << ", echoes " << s.echoes_sent << "\n";
}

void report_outstanding(const std::vector<Outstanding>& left, bool interrupted) {
    if (left.empty()) return;
    for (const auto& o : left)
        std::cerr << o.name << ": " << (interrupted ? "Interrupted" : "Timeout") << (o.why.empty() ? "" : " (" + o.why + ")")
                  << "\n";
    std::cerr << (interrupted ? "Interrupted" : "Timeout") << " with " << left.size() << " outstanding\n";
}

// ---- text forms -------------------------------------------------------------------------------

namespace {

std::string join(const std::string& prefix, std::string_view name) {
    return prefix.empty() ? std::string(name) : prefix + "." + std::string(name);
}

// Changed leaves (and changed unions, variants and structure arrays, whole).
template <class F> void visit_changed(const Value& v, const std::string& path, F&& f) {
    if (!v.is_changed()) return;
    if (v.code() == TypeCode::Struct) {
        const TypeDesc& t = v.type();
        for (std::size_t i = 0; i < t.member_count(); ++i) visit_changed(v.member(i), join(path, t.member_name(i)), f);
        return;
    }
    f(v, path);
}

}  // namespace

ValueFormat text_format(const std::string& name) {
    if (name == "tree") return ValueFormat::Tree;
    if (name == "pvget") return ValueFormat::Pvget;
    return ValueFormat::Delta;
}

std::string format_text(Value v, ValueFormat format, std::size_t max_elements) {
    // a value nobody marked (a GET result, an RPC result) counts as changed as a whole
    if (format == ValueFormat::Delta && v && v.marks().empty()) {
        v = v.clone();
        v.mark_all();
    }
    return format_value(v, FormatOptions{format, max_elements, 1});
}

std::string format_type(const TypeDesc& t, int indent) {
    const std::string text = to_string(t);
    std::string res;
    const std::string pad(std::size_t(indent), ' ');
    std::size_t at = 0;
    while (at < text.size()) {
        auto nl = text.find('\n', at);
        if (nl == std::string::npos) nl = text.size();
        res += pad;
        res.append(text, at, nl - at);
        res += '\n';
        at = nl + 1;
    }
    return res;
}

// ---- JSON -------------------------------------------------------------------------------------

namespace {
template <class T> json array_json(const SharedArray& a) {
    json j = json::array();
    for (const auto& e : a.span<T>()) j.push_back(e);
    return j;
}
}  // namespace

json to_json(const Value& v) {
    if (!v) return nullptr;
    const TypeDesc& t = v.type();
    switch (t.code()) {
    case TypeCode::Struct: {
        json j = json::object();
        for (std::size_t i = 0; i < t.member_count(); ++i) j[t.member_name(i)] = to_json(v.member(i));
        return j;
    }
    case TypeCode::Union: {
        Value c = v.contained();
        if (!c) return nullptr;
        json j = json::object();
        j[std::string(v.selected_name())] = to_json(c);
        return j;
    }
    case TypeCode::Any: return to_json(v.contained());
    case TypeCode::Bool: return v.as<bool>();
    case TypeCode::Float32:
    case TypeCode::Float64: return v.as<double>();
    case TypeCode::String:
    case TypeCode::BoundedString: return v.as<std::string>();
    default: break;
    }
    if (type_code::is_integer(t.code()))
        return type_code::is_unsigned(t.code()) ? json(v.as<std::uint64_t>()) : json(v.as<std::int64_t>());
    if (type_code::is_array(t.code())) {
        const SharedArray a = v.array();
        switch (a.element_code()) {
        case TypeCode::Bool: return array_json<bool>(a);
        case TypeCode::Int8: return array_json<std::int8_t>(a);
        case TypeCode::Int16: return array_json<std::int16_t>(a);
        case TypeCode::Int32: return array_json<std::int32_t>(a);
        case TypeCode::Int64: return array_json<std::int64_t>(a);
        case TypeCode::UInt8: return array_json<std::uint8_t>(a);
        case TypeCode::UInt16: return array_json<std::uint16_t>(a);
        case TypeCode::UInt32: return array_json<std::uint32_t>(a);
        case TypeCode::UInt64: return array_json<std::uint64_t>(a);
        case TypeCode::Float32: return array_json<float>(a);
        case TypeCode::Float64: return array_json<double>(a);
        case TypeCode::String: return array_json<std::string>(a);
        case TypeCode::Struct:
        case TypeCode::Union:
        case TypeCode::Any: {
            json j = json::array();
            for (const auto& e : a.span<Value>()) j.push_back(to_json(e));
            return j;
        }
        default: return json::array();
        }
    }
    return nullptr;
}

std::vector<std::string> changed_paths(const Value& v) {
    std::vector<std::string> out;
    if (!v) return out;
    visit_changed(v, std::string(), [&](const Value&, const std::string& path) { out.push_back(path); });
    return out;
}

// ---- input ------------------------------------------------------------------------------------

namespace {

[[noreturn]] void bad(const std::string& path, const std::string& why) {
    throw std::runtime_error("field '" + (path.empty() ? std::string("(top)") : path) + "': " + why);
}

bool is_enum(const Value& f) {
    if (f.code() != TypeCode::Struct) return false;
    auto i = f.field("index"), c = f.field("choices");
    return i && c && c.code() == TypeCode::StringA && f.member_count() == 2;
}

// Text of a JSON scalar as Value::set would accept it.
std::string scalar_text(const json& j, const std::string& path) {
    if (j.is_string()) return j.get<std::string>();
    if (j.is_boolean()) return j.get<bool>() ? "true" : "false";
    if (j.is_number()) return j.dump();
    if (j.is_null()) bad(path, "null is not a value");
    bad(path, "expected a scalar, got " + j.dump());
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

void set_enum(Value f, const std::string& text, const std::string& path) {
    if (f.try_set(text)) return;  // a choice name
    std::int64_t idx = 0;
    const std::string t = trim(text);
    const auto r = std::from_chars(t.data(), t.data() + t.size(), idx);
    if (r.ec == std::errc() && r.ptr == t.data() + t.size()) {
        const auto n = f["choices"].array().size();
        if (idx < 0 || (n && std::size_t(idx) >= n))
            bad(path, "index " + t + " is not a choice (there are " + std::to_string(n) + ")");
        f["index"].set(idx);
        return;
    }
    std::string choices;
    for (const auto& c : f["choices"].array().span<std::string>()) choices += (choices.empty() ? "" : ", ") + c;
    bad(path, "\"" + text + "\" is not a choice (choices: " + (choices.empty() ? "none" : choices) + ")");
}

// A union from {"member": value}, or null for no selection: what to_json() writes.
void set_union(Value f, const json& j, const std::string& path) {
    if (j.is_null()) return f.clear_selection();
    if (!j.is_object() || j.size() != 1) bad(path, "a union needs {\"member\": value} or null, got " + j.dump());
    const auto it = j.begin();
    if (!f.type().member_index(it.key())) bad(join(path, it.key()), "not a member of the union");
    set_from_json(f.select(it.key()), it.value(), join(path, it.key()));
}

// A structure, union or any array from a JSON array of elements (null: an empty element).
void set_element_array(Value f, const json& j, const std::string& path) {
    if (!j.is_array()) bad(path, "an array field needs a JSON array, got " + j.dump());
    const TypeCode element = type_code::element_of(f.code());
    const TypePtr element_type = element == TypeCode::Any ? TypeDesc::any() : f.type().element();
    std::vector<Value> items;
    for (std::size_t i = 0; i < j.size(); ++i) {
        if (j[i].is_null()) {
            items.emplace_back();
            continue;
        }
        Value e(element_type);
        set_from_json(e, j[i], path + "[" + std::to_string(i) + "]");
        items.push_back(element == TypeCode::Any ? e.contained() : e);  // an any array holds the contents
    }
    f.set_array(SharedArray::from(std::move(items), element));
}

}  // namespace

void set_from_json(Value f, const json& j, const std::string& path) {
    const TypeDesc& t = f.type();
    if (t.code() == TypeCode::Union) return set_union(f, j, path);
    if (t.code() == TypeCode::Any && j.is_null()) return f.clear_selection();
    if (t.code() == TypeCode::StructA || t.code() == TypeCode::UnionA || t.code() == TypeCode::AnyA)
        return set_element_array(f, j, path);
    if (is_enum(f)) {
        if (j.is_object()) {
            for (auto it = j.begin(); it != j.end(); ++it) {
                Value m = f.field(it.key());
                if (!m) bad(join(path, it.key()), "no such field");
                set_from_json(m, it.value(), join(path, it.key()));
            }
            return;
        }
        set_enum(f, scalar_text(j, path), path);
        return;
    }
    if (t.code() == TypeCode::Struct) {
        if (!j.is_object()) {
            // NT-like structure given a scalar: its value field
            if (Value v = f.field("value")) return set_from_json(v, j, join(path, "value"));
            bad(path, "a structure needs a JSON object, got " + j.dump());
        }
        for (auto it = j.begin(); it != j.end(); ++it) {
            Value m = f.field(it.key());
            if (!m) bad(join(path, it.key()), "no such field");
            set_from_json(m, it.value(), join(path, it.key()));
        }
        return;
    }
    if (type_code::is_array(t.code()) && type_code::is_scalar(type_code::element_of(t.code()))) {
        if (!j.is_array()) bad(path, "an array field needs a JSON array, got " + j.dump());
        std::vector<std::string> items;
        for (const auto& e : j) items.push_back(scalar_text(e, path));
        try {
            f.set(items);
        } catch (const std::exception& e) {
            bad(path, e.what());
        }
        return;
    }
    if (type_code::is_scalar(t.code()) || t.code() == TypeCode::Any) {
        const std::string s = scalar_text(j, path);
        try {
            if (t.code() == TypeCode::Any && j.is_number_integer()) f.set(j.get<std::int64_t>());
            else if (t.code() == TypeCode::Any && j.is_number()) f.set(j.get<double>());
            else if (t.code() == TypeCode::Any && j.is_boolean()) f.set(j.get<bool>());
            else f.set(s);
        } catch (const std::exception& e) {
            bad(path, e.what());
        }
        return;
    }
    bad(path, "cannot set a field of type " + t.type_name() + " from the command line");
}

void set_from_text(Value f, const std::string& text, const std::string& path) {
    const TypeDesc& t = f.type();
    const std::string tt = trim(text);
    // JSON first for structures and arrays ("[1,2]", "{...}")
    if (!tt.empty() && (tt.front() == '[' || tt.front() == '{') &&
        (t.code() == TypeCode::Struct || t.code() == TypeCode::Union || type_code::is_array(t.code()))) {
        json j = json::parse(tt, nullptr, false);
        if (!j.is_discarded()) return set_from_json(f, j, path);
        if (tt.front() == '{') bad(path, "not valid JSON: " + text);
    }
    if (is_enum(f)) return set_enum(f, text, path);
    if (type_code::is_array(t.code()) && type_code::is_scalar(type_code::element_of(t.code()))) {
        // "[a, b]" that is not JSON, or "1,2,3", or "1 2 3"
        std::string s = tt;
        if (!s.empty() && s.front() == '[') s.erase(0, 1);
        if (!s.empty() && s.back() == ']') s.pop_back();
        std::vector<std::string> items;
        std::string cur;
        bool any = false;
        for (char c : s) {
            if (c == ',' || c == ' ' || c == '\t') {
                if (any) items.push_back(cur);
                cur.clear();
                any = false;
                continue;
            }
            cur += c;
            any = true;
        }
        if (any) items.push_back(cur);
        try {
            f.set(items);
        } catch (const std::exception& e) {
            bad(path, e.what());
        }
        return;
    }
    if (t.code() == TypeCode::Struct) {
        if (Value v = f.field("value")) return set_from_text(v, text, join(path, "value"));
        bad(path, "a structure needs a JSON object, got '" + text + "'");
    }
    if (type_code::is_scalar(t.code()) || t.code() == TypeCode::Any) {
        try {
            if (t.code() == TypeCode::Bool) {
                std::string l;
                for (char c : tt) l += char(std::tolower(static_cast<unsigned char>(c)));
                if (l == "true" || l == "yes" || l == "on" || l == "1") return f.set(true);
                if (l == "false" || l == "no" || l == "off" || l == "0") return f.set(false);
                bad(path, "'" + text + "' is not a boolean (true/false)");
            }
            double number;
            if ((type_code::is_integer(t.code()) || type_code::is_float(t.code())) && !detail::parse_number(tt, number))
                bad(path, "\"" + text + "\" is not a number (" + t.type_name() + ")");
            f.set(type_code::is_string(t.code()) ? text : tt);
        } catch (const ValueError& e) {
            // the library's text names the field already: say it once, without its prefix
            std::string_view why = e.what();
            if (why.starts_with("pvwire: ")) why.remove_prefix(8);
            throw std::runtime_error(std::string(why));
        }
        return;
    }
    bad(path, "cannot set a field of type " + t.type_name() + " from the command line");
}

// ---- put and call -----------------------------------------------------------------------------

namespace {
class PrefixCommandFormatter : public CLI::Formatter {
public:
    PrefixCommandFormatter(std::string usage, std::vector<std::pair<std::string, std::string>> positionals)
        : usage_(std::move(usage)), positionals_(std::move(positionals)) {}
    std::string make_usage(const CLI::App*, std::string name) const override {
        return "Usage: " + name + " " + usage_ + "\n";
    }
    std::string make_positionals(const CLI::App*) const override {
        std::ostringstream out;
        out << "\nPositionals:\n";
        for (const auto& [name, what] : positionals_) CLI::detail::format_help(out, name, what, get_column_width());
        return out.str();
    }

private:
    std::string usage_;
    std::vector<std::pair<std::string, std::string>> positionals_;
};
}  // namespace

void set_usage(CLI::App* cmd, const std::string& usage, const std::vector<std::pair<std::string, std::string>>& positionals) {
    cmd->formatter(std::make_shared<PrefixCommandFormatter>(usage, positionals));
}

std::string misplaced_option(const CLI::App* cmd, const std::vector<std::string>& after_pv) {
    for (const auto& word : after_pv) {
        if (word == "--") break;
        double number;
        if (word.size() < 2 || word[0] != '-' || detail::parse_number(word, number)) continue;
        const std::string name = word.substr(0, word.find('='));
        for (const CLI::Option* o : cmd->get_options())
            if (o->check_name(name)) return word;
    }
    return {};
}

std::string local_time_text() {
    const auto now = std::chrono::system_clock::now();
    const auto t = std::chrono::system_clock::to_time_t(now);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() % 1000000000;
    std::tm tm{};
    localtime_r(&t, &tm);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%09lld", date, static_cast<long long>(ns));
    return out;
}

// ---- Ctrl-C ------------------------------------------------------------------------------------

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int sig) {
    if (g_interrupted.exchange(true)) std::signal(sig, SIG_DFL);
}
}  // namespace

std::atomic<bool>& install_interrupt_handler() {
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    return g_interrupted;
}

int for_each_pv(const ClientArgs& a, client::Context& ctx,
                const std::function<void(const std::string&, client::Context::Completion)>& start,
                const std::function<void(std::size_t, const client::Result&)>& print) {
    struct Slot {
        bool done = false;
        std::error_code ec;
        client::Result result;
    };
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Slot> slots(a.names.size());
    std::size_t remaining = a.names.size();
    auto& interrupted = install_interrupt_handler();
    for (std::size_t i = 0; i < a.names.size(); ++i) {
        start(a.names[i], [&, i](std::error_code ec, client::Result r) {
            std::lock_guard lock(mu);
            if (slots[i].done) return;
            slots[i] = Slot{true, ec, std::move(r)};
            --remaining;
            cv.notify_all();
        });
    }
    ctx.hurry();
    // the operations time out by themselves; the margin only guards against a lost completion
    const auto deadline = std::chrono::steady_clock::now() + a.timeout_ms() + std::chrono::milliseconds(500);
    {
        std::unique_lock lock(mu);
        while (remaining && !interrupted && std::chrono::steady_clock::now() < deadline)
            cv.wait_for(lock, std::chrono::milliseconds(100));
    }
    int status = 0;
    std::vector<Outstanding> left;
    {
        std::lock_guard lock(mu);
        for (std::size_t i = 0; i < slots.size(); ++i) {
            const auto& s = slots[i];
            if (!s.done || s.ec == client::errc::timeout) {
                left.push_back({a.names[i], s.result.status.message});
                continue;
            }
            if (s.ec) {
                std::cerr << a.names[i] << ": Error: " << client::describe(s.ec, s.result) << "\n";
                status = 1;
                continue;
            }
            print(i, s.result);
        }
    }
    std::cout.flush();
    print_stats(a, ctx);
    report_outstanding(left, interrupted);
    return left.empty() ? status : 1;
}

}  // namespace pvwire::tool
