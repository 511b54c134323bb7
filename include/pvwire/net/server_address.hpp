/// @file
/// ServerAddress: where a client connects directly, and which protocol it speaks there, written
/// as a URL-like text (docs/transports.md has the table):
/// @code{.unparsed}
///   host, host:port, [v6]:port, pva://host:port, pva+tcp://...   pvAccess over TCP
///   pva+unix:///run/pv.sock                                       pvAccess over a UNIX socket
///   pva+ws://host:port/pva                                        pvAccess over WebSockets
///   pva+tls://host:port                                           pvAccess over TLS
///   msgpack+tcp://host:port, msgpack+ws://host:port/msgpack       the msgpack protocol
/// @endcode
/// Any other "<protocol>+<transport>://" names a transport a user registered a connector for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pvwire::net {

/// The message set spoken over a connection. A listener decides it (port, WebSocket path),
/// a client's address scheme names it; nothing sniffs bytes.
enum class Protocol { pva, msgpack };

std::string_view protocol_name(Protocol p);

/// The ports an address without one means, and the ones `pvwire serve` uses by default:
/// the msgpack protocol over TCP, and the HTTP port of the WebSocket endpoints.
inline constexpr std::uint16_t default_msgpack_port = 5085;
inline constexpr std::uint16_t default_http_port = 8075;
inline constexpr std::uint16_t default_tls_port = 5076;  ///< EPICS_PVAS_TLS_PORT (TCP), as PVXS

struct ServerAddress {
    Protocol protocol = Protocol::pva;
    std::string transport = "tcp";  ///< "tcp", "unix", "ws", "tls", or a registered name
    std::string host;               ///< IP sockets: name or address (no brackets)
    std::uint16_t port = 0;
    std::string path;               ///< unix: the socket path; ws: the HTTP target

    /// "pva+unix", "msgpack+ws", ...; plain "pva" for pvAccess over TCP.
    std::string scheme() const;
    /// The canonical text, which parse() reads back: "127.0.0.1:5075", "pva+unix:///p", ...
    std::string to_string() const;

    /// Reads `text`; a missing port is `default_port` (pvAccess over TCP), default_msgpack_port
    /// (msgpack over TCP), default_http_port (WebSockets) or default_tls_port (pva+tls, also
    /// written "pvas://" as PVXS does). nullopt and `error` set when the text is not an address.
    static std::optional<ServerAddress> parse(std::string_view text, std::uint16_t default_port,
                                              std::string* error = nullptr);
};

}  // namespace pvwire::net
