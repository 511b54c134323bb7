#include <pvwire/net/server_address.hpp>

#include <charconv>

namespace pvwire::net {
namespace {

bool fail(std::string* error, std::string text) {
    if (error) *error = std::move(text);
    return false;
}

// "host", "host:port", "[v6]", "[v6]:port" -> host and port.
bool split_host_port(std::string_view text, std::uint16_t default_port, ServerAddress& out, std::string* error) {
    std::string_view host = text, port;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos) return fail(error, "'[' without ']' in \"" + std::string(text) + "\"");
        host = text.substr(1, close - 1);
        const auto rest = text.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(':'))
            return fail(error, "unexpected text after ']' in \"" + std::string(text) + "\"");
        if (!rest.empty()) port = rest.substr(1);
    } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
        if (text.find(':') != colon) return fail(error, "an IPv6 address needs brackets: \"" + std::string(text) + "\"");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (host.empty()) return fail(error, "no host in \"" + std::string(text) + "\"");
    out.host = std::string(host);
    out.port = default_port;
    if (!port.empty()) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
            return fail(error, "bad port \"" + std::string(port) + "\" in \"" + std::string(text) + "\"");
        out.port = std::uint16_t(value);
    }
    return true;
}

bool read_scheme(std::string_view scheme, ServerAddress& out, std::string* error) {
    if (scheme == "pvas") scheme = "pva+tls";  // PVXS's name for Secure PVAccess
    const auto plus = scheme.find('+');
    const auto proto = scheme.substr(0, plus);
    if (proto == "pva")
        out.protocol = Protocol::pva;
    else if (proto == "msgpack")
        out.protocol = Protocol::msgpack;
    else
        return fail(error, "unknown protocol \"" + std::string(proto) + "\" (pva or msgpack)");
    out.transport = plus == std::string_view::npos ? "tcp" : std::string(scheme.substr(plus + 1));
    if (out.transport.empty()) return fail(error, "no transport after '+' in \"" + std::string(scheme) + "\"");
    return true;
}

}  // namespace

std::string_view protocol_name(Protocol p) { return p == Protocol::msgpack ? "msgpack" : "pva"; }

std::string ServerAddress::scheme() const {
    std::string s(protocol_name(protocol));
    if (!(protocol == Protocol::pva && transport == "tcp")) s += "+" + transport;
    return s;
}

std::string ServerAddress::to_string() const {
    const bool v6 = host.find(':') != std::string::npos;
    const std::string host_port = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
    if (transport == "unix") return scheme() + "://" + path;
    if (protocol == Protocol::pva && transport == "tcp") return host_port;
    return scheme() + "://" + host_port + path;
}

std::optional<ServerAddress> ServerAddress::parse(std::string_view text, std::uint16_t default_port,
                                                  std::string* error) {
    ServerAddress a;
    const auto sep = text.find("://");
    if (sep == std::string_view::npos) {
        if (!split_host_port(text, default_port, a, error)) return std::nullopt;
        return a;
    }
    if (!read_scheme(text.substr(0, sep), a, error)) return std::nullopt;
    std::string_view rest = text.substr(sep + 3);
    if (a.transport == "unix") {
        if (!rest.starts_with('/')) {
            fail(error, "a UNIX socket address needs an absolute path: pva+unix:///run/pv.sock");
            return std::nullopt;
        }
        a.path = std::string(rest);
        return a;
    }
    const auto slash = rest.find('/');
    if (slash != std::string_view::npos) {
        a.path = std::string(rest.substr(slash));
        rest = rest.substr(0, slash);
    }
    if (a.transport == "ws" && a.path.empty()) a.path = a.protocol == Protocol::msgpack ? "/msgpack" : "/pva";
    const std::uint16_t port = a.transport == "ws"                                 ? default_http_port
                               : a.transport == "tls"                                ? default_tls_port
                               : a.protocol == Protocol::msgpack && a.transport == "tcp" ? default_msgpack_port
                                                                                     : default_port;
    if (!split_host_port(rest, port, a, error))
        return std::nullopt;
    return a;
}

}  // namespace pvwire::net
