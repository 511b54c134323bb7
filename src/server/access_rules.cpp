// AccessRules: loading (the ACF parser in acf_parser.cpp, the pattern list in
// pv_pattern_list.cpp, HAG hosts resolved here) and answering. The semantics are asLib's
// (epics-base modules/libcom/src/as/asLibRoutines.c, asComputePvt): a rule applies to PVs whose
// ASL is at most its level, every kind of condition it has must match (any entry within a kind),
// and the rights are the union of the matching rules' grants, so a NONE rule never takes
// anything away.
#include "access_rules_model.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace pvwire::server {

AccessRulesError::AccessRulesError(std::string source, int line, int column, const std::string& message)
    : std::runtime_error(place_text(source, line, column, message)),
      source_(std::move(source)),
      line_(line),
      column_(column),
      message_(message) {}

std::string place_text(const std::string& source, int line, int column, const std::string& text) {
    if (line <= 0) return fmt::format("{}: {}", source, text);
    if (column <= 0) return fmt::format("{}:{}: {}", source, line, text);
    return fmt::format("{}:{}:{}: {}", source, line, column, text);
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::optional<IpAddress> parse_ip_address(std::string_view text) {
    std::string s(text);
    if (!s.empty() && s.front() == '[') {
        const auto close = s.find(']');
        if (close == std::string::npos) return std::nullopt;
        s = s.substr(1, close - 1);
    } else if (std::count(s.begin(), s.end(), ':') == 1) {
        s.erase(s.find(':'));  // "10.0.0.5:5075"
    }
    if (const auto zone = s.find('%'); zone != std::string::npos) s.erase(zone);
    IpAddress out{};
    in_addr v4{};
    if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
        out[10] = out[11] = 0xff;
        std::memcpy(out.data() + 12, &v4, 4);
        return out;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
        std::memcpy(out.data(), &v6, 16);
        return out;
    }
    return std::nullopt;
}

namespace {

using Model = AccessRules::Model;

std::vector<std::string> system_resolve(const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    std::vector<std::string> out;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return out;
    for (const addrinfo* a = found; a; a = a->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        const void* raw = a->ai_family == AF_INET
                              ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr)
                              : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr);
        if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) && inet_ntop(a->ai_family, raw, text, sizeof text))
            out.emplace_back(text);
    }
    freeaddrinfo(found);
    return out;
}

// HAG entries become addresses now, once: a literal address as it is, a name through
// `resolve` (each name once per load). A name that does not resolve matches no client.
void resolve_hosts(Model& m, const HostResolver& resolve) {
    std::map<std::string, std::vector<IpAddress>> cache;
    for (Model::Hag& hag : m.hags)
        for (const Model::HostEntry& entry : hag.hosts) {
            if (const auto literal = parse_ip_address(entry.host)) {
                hag.addresses.push_back(*literal);
                continue;
            }
            auto [it, fresh] = cache.try_emplace(entry.host);
            if (fresh)
                for (const std::string& text : resolve(entry.host))
                    if (const auto a = parse_ip_address(text)) it->second.push_back(*a);
            if (it->second.empty())
                m.warn(entry.at, "host \"" + entry.host + "\" in HAG(" + hag.name + ") does not resolve: it matches no client");
            hag.addresses.insert(hag.addresses.end(), it->second.begin(), it->second.end());
        }
}

bool user_matches(const Model& m, const Model::Rule& r, const ClientIdentity& who) {
    if (r.uags.empty()) return true;
    for (std::size_t i : r.uags) {
        const auto& users = m.uags[i].users;
        if (users.count(who.user)) return true;
        for (const std::string& role : who.roles)
            if (users.count("role/" + role)) return true;
    }
    return false;
}

bool host_matches(const Model& m, const Model::Rule& r, const std::optional<IpAddress>& address) {
    if (r.hags.empty()) return true;
    if (!address) return false;
    for (std::size_t i : r.hags) {
        const auto& addresses = m.hags[i].addresses;
        if (std::find(addresses.begin(), addresses.end(), *address) != addresses.end()) return true;
    }
    return false;
}

// METHOD, AUTHORITY (x509 clients only: the issuer's CN) and PROTOCOL, as the Secure
// PVAccess ACF extensions define them.
bool transport_matches(const Model::Rule& r, const ClientIdentity& who) {
    const auto method = [&](const std::string& m) { return equal_ignoring_case(m, who.method); };
    if (!r.methods.empty() && std::none_of(r.methods.begin(), r.methods.end(), method)) return false;
    if (!r.authorities.empty() &&
        (who.method != "x509" ||
         std::find(r.authorities.begin(), r.authorities.end(), who.authority) == r.authorities.end()))
        return false;
    return r.protocols.empty() || std::find(r.protocols.begin(), r.protocols.end(), who.protocol) != r.protocols.end();
}

void grant(AccessDecision& d, const Model::Rule& r) {
    const auto add = [&](bool granted, bool& have, int& line) {
        if (granted && !have) {
            have = true;
            line = r.at.line;
        }
    };
    add(r.grants.read, d.rights.read, d.read_line);
    add(r.grants.write, d.rights.write, d.write_line);
    add(r.grants.rpc, d.rights.rpc, d.rpc_line);
    d.trap_write = d.trap_write || (r.trap_write && r.grants.write);
}

std::string describe(const ClientIdentity& who) {
    std::string host = who.address.empty() ? "an unknown address" : who.address;
    if (!who.host_name.empty()) host += " (" + who.host_name + ")";
    const char* protocol = who.protocol == Protocol::tls ? "TLS" : "TCP";
    const std::string issuer = who.method == "x509" ? fmt::format(" from \"{}\"", who.authority) : std::string();
    if (who.user.empty()) return fmt::format("{} client at {} ({})", who.method, host, protocol);
    return fmt::format("user \"{}\" at {} ({}{}, {})", who.user, host, who.method, issuer, protocol);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw AccessRulesError(path, 0, 0, std::string("cannot read: ") + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw AccessRulesError(path, 0, 0, "read error");
    return text.str();
}

}  // namespace

bool AccessDecision::allows(Operation op) const noexcept {
    switch (op) {
    case Operation::read: return rights.read;
    case Operation::write: return rights.write;
    case Operation::rpc: return rights.rpc;
    }
    return false;
}

int AccessDecision::granted_by(Operation op) const noexcept {
    switch (op) {
    case Operation::read: return read_line;
    case Operation::write: return write_line;
    case Operation::rpc: return rpc_line;
    }
    return 0;
}

std::string AccessDecision::denial(Operation op) const {
    if (allows(op)) return {};
    static constexpr const char* verb[] = {"read", "put", "rpc"};
    static constexpr const char* keyword[] = {"READ", "WRITE", "RPC"};
    const auto i = static_cast<std::size_t>(op);
    std::string where = asg_line > 0 ? fmt::format("at {}:{}", source, asg_line)
                                     : fmt::format("(not defined in {}, so it grants nothing)", source);
    if (requested != asg) where += fmt::format(" as ASG({}) is not defined", requested);
    return fmt::format("{} denied by ASG({}) {}: no RULE grants {} at ASL {} to {}", verb[i], asg, where,
                       keyword[i], asl, client);
}

AccessRules::AccessRules(std::unique_ptr<const Model> model) : model_(std::move(model)) {}
AccessRules::~AccessRules() = default;

std::shared_ptr<const AccessRules> AccessRules::parse(std::string_view acf_text, const AccessRulesOptions& options) {
    auto model = std::make_unique<Model>();
    model->source = options.acf_name;
    parse_acf(acf_text, model->source, *model);
    resolve_hosts(*model, options.resolve ? options.resolve : HostResolver(system_resolve));
    if (options.pvlist) {
        const auto defined = [&m = *model](std::string_view asg) { return m.asg_index.find(asg) != m.asg_index.end(); };
        model->patterns = PvPatternList::parse(*options.pvlist, options.pvlist_name, defined, model->warnings);
    }
    return std::make_shared<const AccessRules>(std::move(model));
}

std::shared_ptr<const AccessRules> AccessRules::load_file(const std::string& acf_path, const std::string& pvlist_path,
                                                          HostResolver resolve) {
    AccessRulesOptions options;
    options.acf_name = acf_path;
    if (!pvlist_path.empty()) {
        options.pvlist = read_file(pvlist_path);
        options.pvlist_name = pvlist_path;
    }
    options.resolve = std::move(resolve);
    return parse(read_file(acf_path), options);
}

AccessDecision AccessRules::check(std::string_view asg, int asl, const ClientIdentity& who) const {
    const Model& m = *model_;
    const auto found = m.asg_index.find(asg);
    const Model::Asg& group = m.asgs[found == m.asg_index.end() ? m.default_asg : found->second];
    AccessDecision d;
    d.asg = group.name;
    d.requested = std::string(asg);
    d.asl = std::max(asl, 0);
    d.source = m.source;
    d.asg_line = group.at.line;
    d.client = describe(who);
    const auto address = parse_ip_address(who.address);
    for (const Model::Rule& r : group.rules)
        if (d.asl <= r.level && !r.calc && user_matches(m, r, who) && host_matches(m, r, address) &&
            transport_matches(r, who))
            grant(d, r);
    return d;
}

AsgAssignment AccessRules::asg_for(std::string_view pv_name) const {
    if (!model_->patterns) return {};
    return model_->patterns->lookup(pv_name);
}

bool AccessRules::has_asg(std::string_view name) const {
    return model_->asg_index.find(name) != model_->asg_index.end();
}

const std::vector<std::string>& AccessRules::warnings() const noexcept { return model_->warnings; }

const std::string& AccessRules::source() const noexcept { return model_->source; }

}  // namespace pvwire::server
