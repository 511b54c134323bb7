/// @file
/// Address-list entries and the conversions between Asio addresses and the 16-byte wire form.
///
/// Address lists (EPICS_PVA_ADDR_LIST, EPICS_PVAS_BEACON_ADDR_LIST, EPICS_PVA_NAME_SERVERS, ...)
/// hold entries separated by white space or commas. One entry is
///
/// @code{.unparsed}
///     host[:port][,ttl][@iface]        host = IPv4 dotted quad or host name
///     [ipv6][:port][,ttl][@iface]      bare IPv6 (two or more ':') is accepted without a port
/// @endcode
///
/// The ",ttl" and "@iface" suffixes are PVXS's multicast options. For an IPv6 entry, resolve()
/// turns "@iface" (a name or an address of the interface) into the address's scope id, the
/// interface multicasts leave by and groups are joined on; ",ttl" is kept by
/// parse_address_list() in MulticastHops (the hop limit of datagrams sent there). An IPv4
/// entry's "@iface" is parsed and kept in HostPort but not used yet. A comma is a separator unless what follows
/// it is a plain number (then it is the TTL of the entry before it): "10.0.0.1,10.0.0.2" is two
/// entries, "239.1.1.1,8@eth0" is one.
///
/// Host names are only resolved (getaddrinfo) when the caller asks: parse_host_port() never
/// resolves, parse_address_list() resolves only with Resolve::names.
#pragma once

#include <pvwire/net/asio.hpp>
#include <pvwire/wire/basic_types.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvwire::net {

struct HostPort {
    std::string host;        ///< IP literal (IPv6 without brackets) or host name, as written
    std::uint16_t port = 0;  ///< the entry's port, or the default port given to the parser
    bool port_given = false; ///< true when the entry named a port explicitly
    /// PVXS multicast suffixes (see the file comment for what is honoured).
    std::optional<int> ttl;  ///< ",ttl"
    std::string iface;       ///< "@iface" (interface name or address)

    friend bool operator==(const HostPort&, const HostPort&) = default;
    /// "host:port" ("[v6]:port" for IPv6), suffixes omitted.
    std::string to_string() const;
};

/// Parses one entry without resolving anything. Returns nullopt (and sets *error, if given, to
/// a one-line reason) for a syntax error: empty host, bad characters, bad or out-of-range
/// port, unbalanced brackets, non-numeric TTL, empty interface name.
std::optional<HostPort> parse_host_port(std::string_view entry, std::uint16_t default_port,
                                        std::string* error = nullptr);

/// Splits a list into entries (white space and commas, see above) and parses each; bad entries
/// are described in *errors (if given) and skipped. Never resolves.
std::vector<HostPort> parse_host_port_list(std::string_view list, std::uint16_t default_port,
                                           std::vector<std::string>* errors = nullptr);

/// An IP literal: dotted IPv4 or IPv6 (brackets allowed). No name resolution.
std::optional<asio::ip::address> parse_ip(std::string_view text);

enum class Resolve {
    literal_only,  ///< a host name is an error ("... is not an IP address")
    names,         ///< host names are looked up with getaddrinfo (IPv4 answers preferred)
};

/// Resolves one parsed entry to an endpoint. Returns nullopt and sets *error on failure.
std::optional<udp::endpoint> resolve(const HostPort& hp, Resolve how, std::string* error = nullptr);

/// The ",ttl" of the multicast entries of an address list that gave one: the TTL / hop limit of
/// datagrams sent to that group (UdpTransport::send_to). Groups without an entry get 1.
using MulticastHops = std::map<udp::endpoint, int>;

/// Parses a whole address list into endpoints. Entries without a port get default_port.
/// Bad or unresolvable entries are reported by text in *errors (if given) and skipped; never
/// throws. Duplicates are kept in first-seen order only once. With `hops`, the TTLs of
/// multicast entries are added there.
std::vector<udp::endpoint> parse_address_list(std::string_view list, std::uint16_t default_port,
                                              std::vector<std::string>* errors,
                                              Resolve how = Resolve::literal_only,
                                              MulticastHops* hops = nullptr);

/// The hop limit for a send to `to`: its entry in `hops`, else -1 (the system default).
int hops_for(const MulticastHops& hops, const udp::endpoint& to);

/// "1.2.3.4:5076" / "[::1]:5076".
std::string to_string(const udp::endpoint& ep);
std::string to_string(const tcp::endpoint& ep);

/// IPv4 becomes \::ffff:a.b.c.d; IPv6 is copied (scope id dropped).
wire::Address to_wire(const asio::ip::address& a);
/// IPv4-mapped (including \::ffff:0.0.0.0) becomes IPv4; anything else IPv6.
asio::ip::address from_wire(const wire::Address& a);
/// The same for an address a datagram from `source` carried: a link-local IPv6 address takes
/// the scope id (interface) of `source`, without which it could not be reached.
asio::ip::address from_wire(const wire::Address& a, const asio::ip::address& source);

/// 0.0.0.0, ::, or \::ffff:0.0.0.0.
bool is_unspecified(const asio::ip::address& a);

}  // namespace pvwire::net
