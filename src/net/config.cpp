#include <pvwire/net/config.hpp>

#include <pvwire/net/interfaces.hpp>

#include "run_loop.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>
#include <string_view>

namespace pvwire::net {

namespace {

constexpr double max_seconds = 1e9;  // ~31 years; anything longer is taken as a typo

std::string_view trim(std::string_view s) {
    auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && sp(s.front())) s.remove_prefix(1);
    while (!s.empty() && sp(s.back())) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::optional<bool> parse_bool(std::string_view v) {
    v = trim(v);
    if (iequals(v, "YES") || iequals(v, "TRUE") || v == "1") return true;
    if (iequals(v, "NO") || iequals(v, "FALSE") || v == "0") return false;
    return std::nullopt;
}

std::optional<unsigned long long> parse_unsigned(std::string_view v) {
    v = trim(v);
    if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    unsigned long long x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc{} || p != v.data() + v.size()) return std::nullopt;
    return x;
}

std::optional<double> parse_double(std::string_view v) {
    v = trim(v);
    if (v.empty()) return std::nullopt;
    std::string s(v);
    char* end = nullptr;
    errno = 0;
    const double x = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(x)) return std::nullopt;
    return x;
}

std::string fmt_double(double d) {
    std::ostringstream o;
    o << d;
    return o.str();
}

std::string fmt_seconds(std::chrono::milliseconds ms) { return fmt_double(double(ms.count()) / 1000.0) + " s"; }

// Reads variables through the lookup and collects warnings.
class Env {
public:
    Env(const EnvLookup& lookup, std::vector<std::string>& warnings) : lookup_(lookup), warnings_(warnings) {}

    // The first of `names` that is set to a non-empty value.
    bool pick(std::initializer_list<const char*> names) {
        for (const char* n : names) {
            const char* v = lookup_ ? lookup_(n) : std::getenv(n);
            if (v && *v) {
                name = n;
                value = v;
                return true;
            }
        }
        return false;
    }

    void warn(const std::string& what, const std::string& fallback) {
        warnings_.push_back(name + "='" + value + "' " + what + "; using " + fallback);
    }

    void read_bool(std::initializer_list<const char*> names, bool& dest) {
        if (!pick(names)) return;
        if (auto b = parse_bool(value))
            dest = *b;
        else
            warn("is not a boolean (YES/NO/TRUE/FALSE/1/0)", dest ? "YES" : "NO");
    }

    void read_port(std::initializer_list<const char*> names, std::uint16_t& dest) {
        if (!pick(names)) return;
        auto p = parse_unsigned(value);
        if (p && *p <= 65535)
            dest = std::uint16_t(*p);
        else
            warn("is not a port number 0..65535", std::to_string(dest));
    }

    void read_seconds(std::initializer_list<const char*> names, double& dest) {
        if (!pick(names)) return;
        auto d = parse_double(value);
        if (d && *d > 0 && *d <= max_seconds)
            dest = *d;
        else
            warn("is not a positive number of seconds", fmt_double(dest));
    }

    void read_size(std::initializer_list<const char*> names, std::size_t& dest) {
        if (!pick(names)) return;
        auto p = parse_unsigned(value);
        if (p && *p > 0 && *p <= std::numeric_limits<std::size_t>::max())
            dest = std::size_t(*p);
        else
            warn("is not a positive integer", std::to_string(dest));
    }

    void read_int(std::initializer_list<const char*> names, int& dest) {
        if (!pick(names)) return;
        auto p = parse_unsigned(value);
        if (p && *p <= 1000000)
            dest = int(*p);
        else
            warn("is not a non-negative integer", std::to_string(dest));
    }

    void read_endpoints(std::initializer_list<const char*> names, std::uint16_t default_port,
                        std::vector<udp::endpoint>& dest, MulticastHops* hops = nullptr) {
        if (!pick(names)) return;
        std::vector<std::string> errors;
        dest = parse_address_list(value, default_port, &errors, Resolve::names, hops);
        for (const auto& e : errors) warnings_.push_back(name + ": " + e + "; entry ignored");
    }

    void read_host_ports(std::initializer_list<const char*> names, std::uint16_t default_port,
                         std::vector<HostPort>& dest) {
        if (!pick(names)) return;
        std::vector<std::string> errors;
        dest = parse_host_port_list(value, default_port, &errors);
        for (const auto& e : errors) warnings_.push_back(name + ": " + e + "; entry ignored");
    }

    void read_interfaces(std::initializer_list<const char*> names, std::vector<asio::ip::address>& dest) {
        if (!pick(names)) return;
        std::vector<std::string> errors;
        const auto eps = parse_address_list(value, 0, &errors, Resolve::names);
        for (const auto& e : errors) warnings_.push_back(name + ": " + e + "; entry ignored");
        dest.clear();
        for (const auto& ep : eps) {
            if (ep.port() != 0)
                warnings_.push_back(name + ": port of '" + to_string(ep) + "' ignored (ports come from the *_PORT variables)");
            if (std::find(dest.begin(), dest.end(), ep.address()) == dest.end()) dest.push_back(ep.address());
        }
    }

    std::string name;
    std::string value;

private:
    const EnvLookup& lookup_;
    std::vector<std::string>& warnings_;
};

std::string join(const std::vector<udp::endpoint>& v) {
    std::string out;
    for (const auto& ep : v) {
        if (!out.empty()) out += ' ';
        out += to_string(ep);
    }
    return out;
}

std::string join(const std::vector<HostPort>& v) {
    std::string out;
    for (const auto& hp : v) {
        if (!out.empty()) out += ' ';
        out += hp.to_string();
    }
    return out;
}

std::string join(const std::vector<asio::ip::address>& v, const char* if_empty) {
    if (v.empty()) return if_empty;
    std::string out;
    for (const auto& a : v) {
        if (!out.empty()) out += ' ';
        out += a.to_string();
    }
    return out;
}

// "[ff02::42:1%eth0]:5076 hops 3, ..." for the ",ttl" of multicast entries.
std::string join(const MulticastHops& hops) {
    std::string out;
    for (const auto& [ep, n] : hops) out += (out.empty() ? "" : ", ") + to_string(ep) + " hops " + std::to_string(n);
    return out;
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) {
        if (!out.empty()) out += ' ';
        out += s;
    }
    return out;
}

const char* yes_no(bool b) { return b ? "YES" : "NO"; }

void add_unique(std::vector<udp::endpoint>& v, const udp::endpoint& ep) {
    if (std::find(v.begin(), v.end(), ep) == v.end()) v.push_back(ep);
}

void describe_warnings(std::ostringstream& o, const std::vector<std::string>& warnings) {
    for (const auto& w : warnings) o << "  warning: " << w << '\n';
}

}  // namespace

std::chrono::milliseconds idle_timeout_for(double conn_tmo) {
    double s = conn_tmo * conn_tmo_scale;
    if (!std::isfinite(s) || s <= 0 || s > max_seconds) s = default_conn_tmo * conn_tmo_scale;
    s = std::max(s, 2.0);
    return std::chrono::milliseconds(std::llround(s * 1000.0));
}

std::chrono::milliseconds echo_period_for(double conn_tmo) {
    const double idle = double(idle_timeout_for(conn_tmo).count()) / 1000.0;
    const double s = std::min(15.0, std::max(1.0, idle * 3.0 / 8.0));
    return std::chrono::milliseconds(std::llround(s * 1000.0));
}

namespace {
// PVWIRE_BUSY_POLL_US: 0 .. 10000 microseconds
void read_busy_poll(Env& env, std::chrono::microseconds& dest) {
    int us = int(dest.count());
    env.read_int({"PVWIRE_BUSY_POLL_US"}, us);
    if (us > 10000) {
        env.warn("is above the maximum of 10000 microseconds", "10000");
        us = 10000;
    }
    dest = std::chrono::microseconds(us);
}
// PVWIRE_TCP_BUFFER_BYTES: 0 (autotuning) .. 1 GiB
void read_tcp_buffer(Env& env, std::size_t& dest) {
    constexpr std::uint64_t max = std::uint64_t(1) << 30;
    if (!env.pick({"PVWIRE_TCP_BUFFER_BYTES"})) return;
    auto p = parse_unsigned(env.value);
    if (p && *p <= max)
        dest = std::size_t(*p);
    else
        env.warn("is not a byte count 0..1073741824", std::to_string(dest));
}

// A rate per second: 0 (no limit) .. 1e9.
void read_rate(Env& env, const char* name, double& dest) {
    if (!env.pick({name})) return;
    auto d = parse_double(env.value);
    if (d && *d >= 0 && *d <= 1e9)
        dest = *d;
    else
        env.warn("is not a rate per second (0 = no limit)", fmt_double(dest));
}

// The HTTP port's web settings (docs/pvws.md).
void read_web_settings(Env& env, ServerConfig& s) {
    if (env.pick({"PVWIRE_WEB_ROOT"})) s.web_root = env.value;
    env.read_bool({"PVWIRE_WEB_WRITE"}, s.web_write);
    if (env.pick({"PVWIRE_HTTP_USER_HEADER"})) s.http_user_header = env.value;
    if (env.pick({"PVWIRE_PVWS_THROTTLE_MS", "PV_THROTTLE_MS"})) {
        auto p = parse_unsigned(env.value);
        if (p && *p <= 3600000)
            s.pvws_throttle_ms = std::uint32_t(*p);
        else
            env.warn("is not a number of milliseconds 0..3600000", std::to_string(s.pvws_throttle_ms));
    }
}

// PVWIRE_MAX_*: positive counts; PVWIRE_VALIDATION_TMO: seconds; PVWIRE_MAX_QUEUED_BYTES;
// PVWIRE_SEARCH_RATE*: rates.
void read_server_limits(Env& env, ServerConfig& s) {
    const std::pair<const char*, std::size_t*> counts[] = {
        {"PVWIRE_MAX_CONNECTIONS", &s.max_connections},
        {"PVWIRE_MAX_CONNECTIONS_PER_PEER", &s.max_connections_per_peer},
        {"PVWIRE_MAX_CHANNELS", &s.max_channels},
        {"PVWIRE_MAX_OPERATIONS", &s.max_operations},
    };
    for (const auto& [name, dest] : counts) {
        if (!env.pick({name})) continue;
        auto p = parse_unsigned(env.value);
        if (p && *p > 0 && *p <= (std::uint64_t(1) << 32))
            *dest = std::size_t(*p);
        else
            env.warn("is not a positive count", std::to_string(*dest));
    }
    env.read_seconds({"PVWIRE_VALIDATION_TMO"}, s.validation_timeout);
    if (env.pick({"PVWIRE_MAX_QUEUED_BYTES"})) {
        auto p = parse_unsigned(env.value);
        if (p && *p >= 4096 && *p <= (std::uint64_t(1) << 40))
            s.max_pending_output = std::size_t(*p);
        else
            env.warn("is not a byte count of at least 4096", std::to_string(s.max_pending_output));
    }
    read_rate(env, "PVWIRE_SEARCH_RATE", s.search_rate_per_source);
    read_rate(env, "PVWIRE_SEARCH_RATE_TOTAL", s.search_rate_total);
}

// PVWIRE_SERVER_THREADS (0 .. 1024) and PVWIRE_SERVER_IO (shared | per-thread)
void read_server_threads(Env& env, ServerConfig& s) {
    if (env.pick({"PVWIRE_SERVER_THREADS"})) {
        auto p = parse_unsigned(env.value);
        if (p && *p <= 1024)
            s.threads = unsigned(*p);
        else
            env.warn("is not a thread count (0 .. 1024; 0 = one per CPU less one)", std::to_string(s.threads));
    }
    if (env.pick({"PVWIRE_SERVER_IO"})) {
        if (env.value == "shared" || env.value == "per-thread")
            s.io_per_thread = env.value == "per-thread";
        else
            env.warn("is neither shared nor per-thread", s.io_per_thread ? "per-thread" : "shared");
    }
}

// What both sides do with pvwire's own settings.
TransportLimits limits_of(std::size_t max_message_size, std::size_t max_pending_output, std::size_t tcp_buffer_bytes) {
    TransportLimits l;
    l.max_message_bytes = max_message_size;
    l.max_pending_output = max_pending_output;
    l.socket_buffer_bytes = tcp_buffer_bytes;
    return l;
}
// Secure PVAccess (the SLAC PVXS fork's variables). `keychain_vars` in order of preference;
// the password file variable belongs to the keychain variable that was picked.
std::string default_keychain(Env& env, const char* file_name) {
    std::string config_home;
    if (env.pick({"XDG_CONFIG_HOME"}))
        config_home = env.value;
    else if (env.pick({"HOME"}))
        config_home = env.value + "/.config";
    else
        return {};
    for (const char* version : {"1.5", "1.3"}) {  // PVXS puts them under its own version
        const std::string path = config_home + "/pva/" + version + "/" + file_name;
        if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
            std::fclose(f);
            return path;
        }
    }
    return {};
}

std::string read_password_file(Env& env) {
    std::FILE* f = std::fopen(env.value.c_str(), "rb");
    if (!f) {
        env.warn("cannot be read", "no password");
        return {};
    }
    std::string text;
    char buf[512];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0 && text.size() < 65536;) text.append(buf, n);
    std::fclose(f);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

void read_tls_options(Env& env, TlsConfig& tls) {
    std::istringstream in(env.value);
    for (std::string opt; in >> opt;) {
        const auto eq = opt.find('=');
        const std::string key = opt.substr(0, eq), val = eq == std::string::npos ? "" : opt.substr(eq + 1);
        if (key == "client_cert" && (val == "require" || val == "optional"))
            tls.client_cert_required = val == "require";
        else if (key == "on_expiration" && (val == "shutdown" || val == "fallback-to-tcp" || val == "standby"))
            tls.stop_if_expired = val == "shutdown";
        else if ((key == "no_revocation_check" || key == "no_stapling") && val.empty())
            tls.ignored_options.push_back(opt);
        else
            env.warn("has an unknown option '" + opt + "'", "the others");
    }
}

void read_tls(Env& env, bool server, TlsConfig& tls) {
    const bool picked = server ? env.pick({"EPICS_PVAS_TLS_KEYCHAIN", "EPICS_PVA_TLS_KEYCHAIN"})
                               : env.pick({"EPICS_PVA_TLS_KEYCHAIN"});
    const bool server_names = picked && env.name == "EPICS_PVAS_TLS_KEYCHAIN";
    if (picked) {
        const auto semicolon = env.value.find(';');
        tls.keychain = env.value.substr(0, semicolon);
        if (semicolon != std::string::npos) tls.password = env.value.substr(semicolon + 1);
    } else {
        tls.keychain = default_keychain(env, server ? "server.p12" : "client.p12");
    }
    if (tls.password.empty() && env.pick({server_names ? "EPICS_PVAS_TLS_KEYCHAIN_PWD_FILE" : "EPICS_PVA_TLS_KEYCHAIN_PWD_FILE"}))
        tls.password = read_password_file(env);
    if (server ? env.pick({"EPICS_PVAS_TLS_OPTIONS", "EPICS_PVA_TLS_OPTIONS"}) : env.pick({"EPICS_PVA_TLS_OPTIONS"}))
        read_tls_options(env, tls);
}

void describe_tls(std::ostream& o, const char* prefix, const TlsConfig& tls) {
    o << "  " << prefix << "_TLS_KEYCHAIN=" << (tls.enabled() ? tls.keychain : "(none: TLS off)")
      << (tls.password.empty() ? "" : " (password given)") << '\n';
    o << "  " << prefix << "_TLS_OPTIONS=client_cert=" << (tls.client_cert_required ? "require" : "optional")
      << " on_expiration=" << (tls.stop_if_expired ? "shutdown" : "fallback-to-tcp");
    for (const auto& ignored : tls.ignored_options) o << ' ' << ignored << " (ignored: no PVACMS)";
    o << '\n';
}

void describe_pvwire_settings(std::ostream& o, std::chrono::microseconds busy_poll, std::size_t tcp_buffer_bytes) {
    o << "  PVWIRE_BUSY_POLL_US=" << busy_poll.count() << '\n';
    o << "  PVWIRE_TCP_BUFFER_BYTES=" << tcp_buffer_bytes << (tcp_buffer_bytes ? "" : " (kernel autotuning)") << '\n';
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// ClientConfig

TransportLimits ClientConfig::transport_limits() const {
    return limits_of(max_message_size, max_pending_output, tcp_buffer_bytes);
}

std::vector<udp::endpoint> ClientConfig::search_destinations() const {
    std::vector<udp::endpoint> out;
    for (const auto& ep : address_list) add_unique(out, ep);
    if (auto_address_list && broadcast_port != 0)
        for (const auto& b : broadcast_addresses(interfaces)) add_unique(out, udp::endpoint(b, broadcast_port));
    return out;
}

ClientConfig ClientConfig::from_env(const EnvLookup& lookup) {
    ClientConfig c;
    Env env(lookup, c.warnings);

    env.read_port({"EPICS_PVA_BROADCAST_PORT"}, c.broadcast_port);
    if (c.broadcast_port == 0) {
        env.warn("cannot be 0 for a client", std::to_string(default_broadcast_port));
        c.broadcast_port = default_broadcast_port;
    }
    env.read_port({"EPICS_PVA_SERVER_PORT"}, c.server_port);
    if (c.server_port == 0) {
        env.warn("cannot be 0 for a client", std::to_string(default_server_port));
        c.server_port = default_server_port;
    }
    env.read_endpoints({"EPICS_PVA_ADDR_LIST"}, c.broadcast_port, c.address_list, &c.multicast_hops);
    env.read_bool({"EPICS_PVA_AUTO_ADDR_LIST"}, c.auto_address_list);
    env.read_host_ports({"EPICS_PVA_NAME_SERVERS"}, c.server_port, c.name_servers);
    env.read_interfaces({"EPICS_PVA_INTF_ADDR_LIST"}, c.interfaces);
    env.read_seconds({"EPICS_PVA_CONN_TMO"}, c.conn_tmo);
    env.read_size({"EPICS_PVA_MAX_ARRAY_BYTES"}, c.max_array_bytes);
    env.read_int({"EPICS_PVA_DEBUG"}, c.debug);
    read_busy_poll(env, c.busy_poll);
    read_tcp_buffer(env, c.tcp_buffer_bytes);
    read_tls(env, false, c.tls);
    return c;
}

ClientConfig ClientConfig::isolated() {
    ClientConfig c;
    const auto lo = asio::ip::address_v4::loopback();
    c.address_list = {udp::endpoint(lo, 0)};
    c.auto_address_list = false;
    c.interfaces = {lo};
    c.broadcast_port = 0;
    return c;
}

std::string ClientConfig::describe() const {
    std::ostringstream o;
    o << "client configuration:\n";
    o << "  EPICS_PVA_ADDR_LIST=" << join(address_list) << '\n';
    o << "  EPICS_PVA_AUTO_ADDR_LIST=" << yes_no(auto_address_list) << '\n';
    o << "  EPICS_PVA_NAME_SERVERS=" << join(name_servers) << '\n';
    o << "  EPICS_PVA_SERVER_PORT=" << server_port << '\n';
    o << "  EPICS_PVA_BROADCAST_PORT=" << broadcast_port << '\n';
    o << "  EPICS_PVA_INTF_ADDR_LIST=" << join(interfaces, "0.0.0.0") << '\n';
    o << "  EPICS_PVA_CONN_TMO=" << fmt_double(conn_tmo) << '\n';
    o << "  EPICS_PVA_MAX_ARRAY_BYTES=" << max_array_bytes << " (not used by pvwire)\n";
    o << "  EPICS_PVA_DEBUG=" << debug << " (not used by pvwire)\n";
    describe_tls(o, "EPICS_PVA", tls);
    describe_pvwire_settings(o, busy_poll, tcp_buffer_bytes);
    o << "  idle timeout: " << fmt_seconds(idle_timeout()) << '\n';
    o << "  echo period: " << fmt_seconds(echo_period()) << '\n';
    o << "  search destinations: " << join(search_destinations()) << '\n';
    if (!multicast_hops.empty()) o << "  multicast hop limits: " << join(multicast_hops) << '\n';
    o << "  max message size: " << max_message_size << " bytes\n";
    o << "  max pending output: " << max_pending_output << " bytes\n";
    describe_warnings(o, warnings);
    return o.str();
}

// ---------------------------------------------------------------------------------------------
// ServerConfig

TransportLimits ServerConfig::transport_limits() const {
    return limits_of(max_message_size, max_pending_output, tcp_buffer_bytes);
}

std::chrono::milliseconds ServerConfig::beacon_interval(std::uint64_t n) const {
    const double s = n < beacon_burst ? beacon_period : beacon_period_slow;
    const double clamped = std::isfinite(s) ? std::clamp(s, 1.0, max_seconds) : default_beacon_period;
    return std::chrono::milliseconds(std::llround(clamped * 1000.0));
}

std::vector<udp::endpoint> ServerConfig::beacon_destinations() const {
    const auto port = effective_udp_port();
    std::vector<udp::endpoint> out;
    for (const auto& ep : beacon_address_list) {
        auto e = ep;
        if (e.port() == 0) e.port(port);
        if (e.port() != 0) add_unique(out, e);
    }
    if (auto_beacon_address_list && port != 0) {
        for (const auto& b : broadcast_addresses(interfaces)) add_unique(out, udp::endpoint(b, port));
        // the IPv6 groups the server listens on hear its beacons too (PVXS does the same)
        for (const auto& g : ipv6_groups(interfaces)) add_unique(out, udp::endpoint(g, port));
    }
    return out;
}

std::vector<asio::ip::address_v6> ClientConfig::beacon_groups() const {
    auto groups = ipv6_groups(interfaces);
    if (auto_address_list) {
        std::vector<asio::ip::address> searched;
        for (const auto& ep : address_list) searched.push_back(ep.address());
        for (const auto& g : ipv6_groups(searched))
            if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    }
    return groups;
}

std::vector<asio::ip::address> ServerConfig::tcp_interfaces() const {
    std::vector<asio::ip::address> out;
    auto add = [&](const asio::ip::address& a) {
        if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    };
    bool v4_group = false, v6_group = false, v6_any = false;
    for (const auto& a : interfaces) {
        if (a.is_multicast()) {
            (a.is_v4() ? v4_group : v6_group) = true;
            continue;
        }
        add(a);
        if (a.is_v6() && a.to_v6().is_unspecified()) v6_any = true;
    }
    if (out.empty() && v6_group && !v4_group) v6_any = true;
    if (out.empty() || v6_any) add(asio::ip::address_v4::any());
    if (v6_any) add(asio::ip::address_v6::any());
    return out;
}

bool ServerConfig::listens_on_ipv6() const {
    return std::any_of(interfaces.begin(), interfaces.end(), [](const asio::ip::address& a) {
        return a.is_v6() && !a.to_v6().is_v4_mapped();
    });
}

bool ServerConfig::is_ignored(const udp::endpoint& from) const {
    auto addr = from.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped()) addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    for (const auto& ig : ignore_address_list) {
        auto ia = ig.address();
        if (ia.is_v6() && ia.to_v6().is_v4_mapped()) ia = asio::ip::make_address_v4(asio::ip::v4_mapped, ia.to_v6());
        if (ia == addr && (ig.port() == 0 || ig.port() == from.port())) return true;
    }
    return false;
}

ClientConfig ServerConfig::client_config() const {
    ClientConfig c;
    const auto udp_port = effective_udp_port();
    c.address_list.clear();
    if (interfaces.empty()) {
        c.address_list.emplace_back(asio::ip::address_v4::loopback(), udp_port);
    } else {
        for (const auto& a : interfaces) {
            asio::ip::address target = a;
            if (is_unspecified(a)) target = a.is_v6() && !a.to_v6().is_v4_mapped()
                                                ? asio::ip::address(asio::ip::address_v6::loopback())
                                                : asio::ip::address(asio::ip::address_v4::loopback());
            add_unique(c.address_list, udp::endpoint(target, udp_port));
        }
    }
    c.auto_address_list = false;
    c.interfaces = interfaces;
    // The client's beacon listener takes an ephemeral port: on one host, a unicast datagram to
    // a port that several sockets share reaches only one of them, so a client sharing the
    // server's port could swallow the searches meant for the server. Point the server's
    // beacon list at the client's Context::beacon_port() to test beacons.
    c.broadcast_port = 0;
    c.server_port = effective_tcp_port();
    c.conn_tmo = conn_tmo;
    c.max_array_bytes = max_array_bytes;
    c.debug = debug;
    c.max_message_size = max_message_size;
    c.max_pending_output = max_pending_output;
    return c;
}

unsigned ServerConfig::thread_count() const {
    return threads != 0 ? threads : unsigned(std::max(1, detail::cpus_of_this_thread() - 1));
}

ServerConfig ServerConfig::from_env(const EnvLookup& lookup) {
    ServerConfig s;
    Env env(lookup, s.warnings);

    env.read_port({"EPICS_PVAS_SERVER_PORT", "EPICS_PVA_SERVER_PORT"}, s.server_port);
    env.read_port({"EPICS_PVAS_BROADCAST_PORT", "EPICS_PVA_BROADCAST_PORT"}, s.broadcast_port);
    env.read_interfaces({"EPICS_PVAS_INTF_ADDR_LIST"}, s.interfaces);
    env.read_endpoints({"EPICS_PVAS_BEACON_ADDR_LIST", "EPICS_PVA_ADDR_LIST"}, s.broadcast_port, s.beacon_address_list,
                       &s.multicast_hops);
    env.read_bool({"EPICS_PVAS_AUTO_BEACON_ADDR_LIST", "EPICS_PVA_AUTO_ADDR_LIST"}, s.auto_beacon_address_list);
    env.read_endpoints({"EPICS_PVAS_IGNORE_ADDR_LIST"}, 0, s.ignore_address_list);
    env.read_seconds({"EPICS_PVA_CONN_TMO"}, s.conn_tmo);
    if (env.pick({"EPICS_PVAS_BEACON_PERIOD", "EPICS_PVA_BEACON_PERIOD"})) {
        auto d = parse_double(env.value);
        if (!d || *d <= 0 || *d > max_seconds) {
            env.warn("is not a positive number of seconds", fmt_double(s.beacon_period));
        } else if (*d < 1.0) {
            env.warn("is below the minimum of 1 s", "1");
            s.beacon_period = 1.0;
        } else {
            s.beacon_period = *d;
        }
        s.beacon_period_slow = std::max(default_beacon_period_slow, s.beacon_period);
    }
    env.read_size({"EPICS_PVAS_MAX_ARRAY_BYTES", "EPICS_PVA_MAX_ARRAY_BYTES"}, s.max_array_bytes);
    if (env.pick({"EPICS_PVAS_PROVIDER_NAMES"})) {
        std::vector<std::string> names;
        std::istringstream in(env.value);
        for (std::string n; in >> n;) names.push_back(n);
        if (!names.empty()) s.provider_names = std::move(names);
    }
    env.read_int({"EPICS_PVA_DEBUG"}, s.debug);
    read_busy_poll(env, s.busy_poll);
    read_tcp_buffer(env, s.tcp_buffer_bytes);
    read_server_limits(env, s);
    read_server_threads(env, s);
    if (env.pick({"PVWIRE_UNIX_PATH"})) s.unix_path = env.value;
    if (env.pick({"PVWIRE_HTTP_PORT"})) {
        std::uint16_t port = 0;
        env.read_port({"PVWIRE_HTTP_PORT"}, port);
        s.http_port = port;
    }
    if (env.pick({"PVWIRE_MSGPACK_PORT"})) {
        std::uint16_t port = 0;
        env.read_port({"PVWIRE_MSGPACK_PORT"}, port);
        s.msgpack_port = port;
    }
    read_web_settings(env, s);
    if (env.pick({"PVWIRE_REPLICA", "HOSTNAME"})) s.replica = env.value;
    if (env.pick({"PVWIRE_STATUS_PREFIX"})) s.status_prefix = env.value;
    read_tls(env, true, s.tls);
    env.read_port({"EPICS_PVAS_TLS_PORT", "EPICS_PVA_TLS_PORT"}, s.tls_port);
    return s;
}

ServerConfig ServerConfig::isolated() {
    ServerConfig s;
    const auto lo = asio::ip::address_v4::loopback();
    s.interfaces = {lo};
    s.server_port = 0;
    s.broadcast_port = 0;
    s.beacon_address_list = {udp::endpoint(lo, 0)};
    s.auto_beacon_address_list = false;
    return s;
}

std::string ServerConfig::describe() const {
    std::ostringstream o;
    o << "server configuration:\n";
    o << "  EPICS_PVAS_INTF_ADDR_LIST=" << join(interfaces, "0.0.0.0") << '\n';
    o << "  EPICS_PVAS_SERVER_PORT=" << server_port;
    if (bound_tcp_port) o << " (bound " << bound_tcp_port << ')';
    o << '\n';
    o << "  EPICS_PVAS_BROADCAST_PORT=" << broadcast_port;
    if (bound_udp_port) o << " (bound " << bound_udp_port << ')';
    o << '\n';
    o << "  EPICS_PVAS_BEACON_ADDR_LIST=" << join(beacon_address_list) << '\n';
    o << "  EPICS_PVAS_AUTO_BEACON_ADDR_LIST=" << yes_no(auto_beacon_address_list) << '\n';
    o << "  EPICS_PVAS_IGNORE_ADDR_LIST=" << join(ignore_address_list) << '\n';
    o << "  EPICS_PVA_CONN_TMO=" << fmt_double(conn_tmo) << '\n';
    o << "  EPICS_PVAS_BEACON_PERIOD=" << fmt_double(beacon_period) << '\n';
    o << "  EPICS_PVAS_MAX_ARRAY_BYTES=" << max_array_bytes << " (not used by pvwire)\n";
    o << "  EPICS_PVAS_PROVIDER_NAMES=" << join(provider_names) << " (not used by pvwire)\n";
    o << "  EPICS_PVA_DEBUG=" << debug << " (not used by pvwire)\n";
    describe_tls(o, "EPICS_PVAS", tls);
    o << "  EPICS_PVAS_TLS_PORT=" << tls_port;
    if (bound_tls_port) o << " (bound " << bound_tls_port << ')';
    o << '\n';
    describe_pvwire_settings(o, busy_poll, tcp_buffer_bytes);
    o << "  PVWIRE_SERVER_THREADS=" << threads << (threads == 0 ? " (one per CPU less one: " + std::to_string(thread_count()) + ")" : "") << '\n';
    o << "  PVWIRE_SERVER_IO=" << (io_per_thread ? "per-thread" : "shared") << '\n';
    o << "  PVWIRE_MAX_CONNECTIONS=" << max_connections << '\n';
    o << "  PVWIRE_MAX_CONNECTIONS_PER_PEER=" << max_connections_per_peer << '\n';
    o << "  PVWIRE_MAX_CHANNELS=" << max_channels << " (per connection)\n";
    o << "  PVWIRE_MAX_OPERATIONS=" << max_operations << " (per channel)\n";
    o << "  PVWIRE_VALIDATION_TMO=" << fmt_double(validation_timeout) << '\n';
    o << "  PVWIRE_MAX_QUEUED_BYTES=" << max_pending_output << " (per connection)\n";
    o << "  PVWIRE_SEARCH_RATE=" << fmt_double(search_rate_per_source) << " (per source address, per second"
      << (search_rate_per_source > 0 ? ")" : "; no limit)") << '\n';
    o << "  PVWIRE_SEARCH_RATE_TOTAL=" << fmt_double(search_rate_total) << " (per second"
      << (search_rate_total > 0 ? ")" : "; no limit)") << '\n';
    o << "  PVWIRE_UNIX_PATH=" << (unix_path.empty() ? "(none)" : unix_path) << '\n';
    o << "  PVWIRE_HTTP_PORT=" << (http_port ? std::to_string(*http_port) : "(none)");
    if (bound_http_port) o << " (bound " << bound_http_port << ')';
    o << '\n';
    o << "  PVWIRE_MSGPACK_PORT=" << (msgpack_port ? std::to_string(*msgpack_port) : "(none)");
    if (bound_msgpack_port) o << " (bound " << bound_msgpack_port << ')';
    o << '\n';
    o << "  PVWIRE_WEB_ROOT=" << (web_root.empty() ? "(the installed page, if any)" : web_root) << '\n';
    o << "  PVWIRE_WEB_WRITE=" << yes_no(web_write) << '\n';
    o << "  PVWIRE_HTTP_USER_HEADER=" << (http_user_header.empty() ? "(none)" : http_user_header) << '\n';
    o << "  PVWIRE_PVWS_THROTTLE_MS=" << pvws_throttle_ms << '\n';
    o << "  PVWIRE_STATUS_PREFIX=" << (status_prefix.empty() ? "(none)" : status_prefix) << '\n';
    o << "  idle timeout: " << fmt_seconds(idle_timeout()) << '\n';
    o << "  beacons: first at start, " << beacon_burst << " x " << fmt_double(beacon_period) << " s, then every "
      << fmt_double(beacon_period_slow) << " s\n";
    o << "  beacon destinations: " << join(beacon_destinations()) << '\n';
    if (!multicast_hops.empty()) o << "  multicast hop limits: " << join(multicast_hops) << '\n';
    o << "  max message size: " << max_message_size << " bytes\n";
    o << "  max pending output: " << max_pending_output << " bytes\n";
    describe_warnings(o, warnings);
    return o.str();
}

}  // namespace pvwire::net
