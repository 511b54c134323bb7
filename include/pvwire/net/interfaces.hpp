/// @file
/// Local network interfaces (getifaddrs), for the automatic search/beacon address lists and
/// for telling unicast from broadcast datagrams.
///
/// Every call enumerates afresh (interfaces come and go, e.g. in containers); nothing is cached.
#pragma once

#include <pvwire/net/asio.hpp>

#include <optional>
#include <string>
#include <vector>

namespace pvwire::net {

/// One IPv4 address of one interface (an interface with two IPv4 addresses appears twice).
struct InterfaceInfo {
    std::string name;                              ///< "lo", "eth0"
    unsigned index = 0;                            ///< if_nametoindex(), 0 if unknown
    asio::ip::address_v4 address;
    asio::ip::address_v4 netmask;
    std::optional<asio::ip::address_v4> broadcast; ///< set when the interface has IFF_BROADCAST
    bool up = false;                               ///< IFF_UP
    bool loopback = false;                         ///< IFF_LOOPBACK
    bool can_broadcast = false;                    ///< IFF_BROADCAST
    bool multicast = false;                        ///< IFF_MULTICAST
};

/// All IPv4 interface addresses, in getifaddrs order. Empty if getifaddrs fails.
std::vector<InterfaceInfo> list_interfaces();

/// Broadcast addresses of the interfaces that are up, not loopback, and have IFF_BROADCAST,
/// without duplicates.
std::vector<asio::ip::address_v4> broadcast_addresses();

/// The same, limited to the interfaces whose address is in `of` (0.0.0.0 in `of`, or an
/// empty `of`, means every interface): how EPICS_PVA(S)_INTF_ADDR_LIST narrows the automatic
/// address lists.
std::vector<asio::ip::address_v4> broadcast_addresses(const std::vector<asio::ip::address>& of);

/// True when `a` is an address of a local interface (IPv4, IPv4-mapped IPv6, or IPv6; the
/// interface may be down). Only exact interface addresses count: 127.0.0.2 is not local unless
/// an interface carries it.
bool is_local_address(const asio::ip::address& a);

/// The index of an interface named by name ("eth0") or by one of its addresses; 0 when no
/// interface matches. For the "@iface" of address-list entries.
unsigned interface_index(const std::string& name_or_address);

/// The IPv6 multicast groups among `addresses`, each once.
std::vector<asio::ip::address_v6> ipv6_groups(const std::vector<asio::ip::address>& addresses);

/// This host's name (gethostname); "" when it has none.
std::string host_name();

}  // namespace pvwire::net
