#include <pvwire/net/address.hpp>

#include <pvwire/net/interfaces.hpp>

#include <fmt/format.h>

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace pvwire::net {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Unsigned decimal, at most `max`.
std::optional<unsigned long> parse_uint(std::string_view s, unsigned long max) {
    if (!all_digits(s) || s.size() > 10) return std::nullopt;
    unsigned long v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v > max) return std::nullopt;
    return v;
}

bool set_error(std::string* error, std::string text) {
    if (error) *error = std::move(text);
    return false;
}

std::string quoted(std::string_view s) { return fmt::format("'{}'", s); }

// A host name: letters, digits, '-', '_' and '.'; labels not empty. Something made only of
// digits and dots must be a valid dotted quad instead.
bool valid_host(std::string_view host, std::string* error, std::string_view entry) {
    if (host.empty()) return set_error(error, quoted(entry) + ": empty host");
    const bool numeric = std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
    if (numeric) {
        boost::system::error_code ec;
        asio::ip::make_address_v4(std::string(host), ec);
        if (ec) return set_error(error, quoted(entry) + ": " + quoted(host) + " is not a valid IPv4 address");
        return true;
    }
    for (char c : host) {
        const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        if (!ok) return set_error(error, quoted(entry) + ": bad character '" + std::string(1, c) + "' in host name");
    }
    if (host.front() == '.' || host.find("..") != std::string_view::npos)
        return set_error(error, quoted(entry) + ": empty label in host name");
    return true;
}

}  // namespace

std::string HostPort::to_string() const {
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

std::optional<HostPort> parse_host_port(std::string_view entry_in, std::uint16_t default_port, std::string* error) {
    const std::string_view entry = trim(entry_in);
    if (entry.empty()) {
        set_error(error, "empty address entry");
        return std::nullopt;
    }
    HostPort hp;
    hp.port = default_port;
    std::string_view rest = entry;

    if (auto at = rest.find('@'); at != std::string_view::npos) {
        hp.iface = std::string(rest.substr(at + 1));
        rest = rest.substr(0, at);
        if (hp.iface.empty() || hp.iface.find('@') != std::string::npos) {
            set_error(error, quoted(entry) + ": bad interface after '@'");
            return std::nullopt;
        }
    }
    if (auto comma = rest.find(','); comma != std::string_view::npos) {
        const auto ttl = parse_uint(rest.substr(comma + 1), 255);
        if (!ttl) {
            set_error(error, quoted(entry) + ": TTL after ',' must be a number 0..255");
            return std::nullopt;
        }
        hp.ttl = int(*ttl);
        rest = rest.substr(0, comma);
    }

    std::string_view host;
    std::string_view port;
    bool has_port = false;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) {
            set_error(error, quoted(entry) + ": missing ']'");
            return std::nullopt;
        }
        host = rest.substr(1, close - 1);
        const auto after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                set_error(error, quoted(entry) + ": expected ':port' after ']'");
                return std::nullopt;
            }
            port = after.substr(1);
            has_port = true;
        }
        boost::system::error_code ec;
        asio::ip::make_address_v6(std::string(host), ec);
        if (host.empty() || ec) {
            set_error(error, quoted(entry) + ": " + quoted(host) + " is not a valid IPv6 address");
            return std::nullopt;
        }
    } else if (std::count(rest.begin(), rest.end(), ':') >= 2) {
        host = rest;  // bare IPv6, no port possible
        boost::system::error_code ec;
        asio::ip::make_address_v6(std::string(host), ec);
        if (ec) {
            set_error(error, quoted(entry) + ": " + quoted(host) + " is not a valid IPv6 address (use [addr]:port)");
            return std::nullopt;
        }
    } else {
        const auto colon = rest.find(':');
        host = rest.substr(0, colon);
        if (colon != std::string_view::npos) {
            port = rest.substr(colon + 1);
            has_port = true;
        }
        if (!valid_host(host, error, entry)) return std::nullopt;
    }
    if (has_port) {
        const auto p = parse_uint(port, 65535);
        if (!p) {
            set_error(error, quoted(entry) + ": port " + quoted(port) + " is not a number 0..65535");
            return std::nullopt;
        }
        hp.port = std::uint16_t(*p);
        hp.port_given = true;
    }
    hp.host = std::string(host);
    return hp;
}

namespace {

// White space separates entries; so does a comma, unless what follows it is a TTL
// ("8" or "8@iface"), which stays attached to the entry before it.
std::vector<std::string> split_entries(std::string_view list) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < list.size()) {
        while (pos < list.size() && is_space(list[pos])) ++pos;
        std::size_t end = pos;
        while (end < list.size() && !is_space(list[end])) ++end;
        const std::string_view token = list.substr(pos, end - pos);
        pos = end;
        if (token.empty()) continue;

        std::size_t start = 0;
        bool first = true;
        while (start <= token.size()) {
            auto comma = token.find(',', start);
            if (comma == std::string_view::npos) comma = token.size();
            const std::string_view piece = token.substr(start, comma - start);
            const auto at = piece.find('@');
            const bool is_ttl = !first && !out.empty() && all_digits(piece.substr(0, at));
            if (is_ttl) {
                out.back() += ",";
                out.back() += piece;
            } else if (!piece.empty()) {
                out.emplace_back(piece);
            }
            first = false;
            start = comma + 1;
        }
    }
    return out;
}

}  // namespace

std::vector<HostPort> parse_host_port_list(std::string_view list, std::uint16_t default_port,
                                           std::vector<std::string>* errors) {
    std::vector<HostPort> out;
    for (const auto& entry : split_entries(list)) {
        std::string err;
        auto hp = parse_host_port(entry, default_port, &err);
        if (!hp) {
            if (errors) errors->push_back(std::move(err));
            continue;
        }
        if (std::find(out.begin(), out.end(), *hp) == out.end()) out.push_back(std::move(*hp));
    }
    return out;
}

std::optional<asio::ip::address> parse_ip(std::string_view text) {
    text = trim(text);
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    if (text.empty()) return std::nullopt;
    boost::system::error_code ec;
    auto a = asio::ip::make_address(std::string(text), ec);
    if (ec) return std::nullopt;
    return a;
}

namespace {
// An IPv6 entry's "@iface" becomes the address's scope id (the interface index), which is how
// a socket call names the interface of a link-local address or multicast group. IPv4 entries
// keep theirs unused (HostPort::iface).
std::optional<asio::ip::address> with_interface(asio::ip::address a, const HostPort& hp, std::string* error) {
    if (hp.iface.empty() || !a.is_v6()) return a;
    const unsigned index = interface_index(hp.iface);
    if (index == 0) {
        set_error(error, quoted(hp.host + "@" + hp.iface) + ": no interface " + quoted(hp.iface));
        return std::nullopt;
    }
    auto v6 = a.to_v6();
    v6.scope_id(index);
    return asio::ip::address(v6);
}
}  // namespace

std::optional<udp::endpoint> resolve(const HostPort& hp, Resolve how, std::string* error) {
    if (auto ip = parse_ip(hp.host)) {
        auto scoped = with_interface(*ip, hp, error);
        if (!scoped) return std::nullopt;
        return udp::endpoint(*scoped, hp.port);
    }
    if (how == Resolve::literal_only) {
        set_error(error, quoted(hp.host) + " is not an IP address (host names are not resolved here)");
        return std::nullopt;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    const int rc = ::getaddrinfo(hp.host.c_str(), nullptr, &hints, &res);
    if (rc != 0 || !res) {
        set_error(error, quoted(hp.host) + ": cannot resolve host name (" + std::string(::gai_strerror(rc)) + ")");
        if (res) ::freeaddrinfo(res);
        return std::nullopt;
    }
    std::optional<asio::ip::address> v4, v6;
    for (auto* ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET && !v4) {
            const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
            asio::ip::address_v4::bytes_type b;
            std::memcpy(b.data(), &sin->sin_addr, 4);
            v4 = asio::ip::address_v4(b);
        } else if (ai->ai_family == AF_INET6 && !v6) {
            const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
            asio::ip::address_v6::bytes_type b;
            std::memcpy(b.data(), &sin6->sin6_addr, 16);
            v6 = asio::ip::address_v6(b, sin6->sin6_scope_id);
        }
    }
    ::freeaddrinfo(res);
    if (v4) return udp::endpoint(*v4, hp.port);
    if (v6) return udp::endpoint(*v6, hp.port);
    set_error(error, quoted(hp.host) + ": no IPv4 or IPv6 address");
    return std::nullopt;
}

std::vector<udp::endpoint> parse_address_list(std::string_view list, std::uint16_t default_port,
                                              std::vector<std::string>* errors, Resolve how, MulticastHops* hops) {
    std::vector<udp::endpoint> out;
    for (const auto& hp : parse_host_port_list(list, default_port, errors)) {
        std::string err;
        auto ep = resolve(hp, how, &err);
        if (!ep) {
            if (errors) errors->push_back(std::move(err));
            continue;
        }
        if (hops && hp.ttl && ep->address().is_multicast()) hops->emplace(*ep, *hp.ttl);
        if (std::find(out.begin(), out.end(), *ep) == out.end()) out.push_back(*ep);
    }
    return out;
}

int hops_for(const MulticastHops& hops, const udp::endpoint& to) {
    const auto it = hops.find(to);
    return it == hops.end() ? -1 : it->second;
}

std::string to_string(const udp::endpoint& ep) {
    const auto a = ep.address();
    if (a.is_v6()) return fmt::format("[{}]:{}", a.to_string(), ep.port());
    return fmt::format("{}:{}", a.to_string(), ep.port());
}

std::string to_string(const tcp::endpoint& ep) { return to_string(udp::endpoint(ep.address(), ep.port())); }

wire::Address to_wire(const asio::ip::address& a) {
    if (a.is_v4()) {
        const auto b = a.to_v4().to_bytes();
        return wire::Address::ipv4(b[0], b[1], b[2], b[3]);
    }
    wire::Address out;
    const auto b = a.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), out.bytes.begin());
    return out;
}

asio::ip::address from_wire(const wire::Address& a) {
    if (a.is_ipv4_mapped())
        return asio::ip::address_v4(asio::ip::address_v4::bytes_type{a.bytes[12], a.bytes[13], a.bytes[14], a.bytes[15]});
    asio::ip::address_v6::bytes_type b;
    std::copy(a.bytes.begin(), a.bytes.end(), b.begin());
    return asio::ip::address_v6(b);
}

asio::ip::address from_wire(const wire::Address& a, const asio::ip::address& source) {
    auto out = from_wire(a);
    if (out.is_v6() && out.to_v6().is_link_local() && source.is_v6()) {
        auto v6 = out.to_v6();
        v6.scope_id(source.to_v6().scope_id());
        out = v6;
    }
    return out;
}

bool is_unspecified(const asio::ip::address& a) {
    if (a.is_v4()) return a.to_v4().is_unspecified();
    const auto v6 = a.to_v6();
    if (v6.is_unspecified()) return true;
    return v6.is_v4_mapped() && asio::ip::make_address_v4(asio::ip::v4_mapped, v6).is_unspecified();
}

}  // namespace pvwire::net
