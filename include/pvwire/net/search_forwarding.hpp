/// @file
/// Passing unicast searches on to the other pvAccess processes of this host (protocol.md §6.5).
///
/// Every process that listens on the broadcast port (servers, a client's beacon socket,
/// `pvwire list`, `pvwire beacons`) shares it with SO_REUSEPORT. Broadcasts and multicasts
/// reach all of those sockets, but Linux hands each unicast datagram to one of them only. A
/// SEARCH sent to 127.0.0.1:5076 may therefore land on a socket that is not a server's; that
/// socket must pass it on through the local fan-out group, prefixed with ORIGIN_TAG, or the
/// search is lost. PVXS's UDP collector does this for every socket it opens on the port.
///
/// Threading: plain functions; forward_unicast_search() calls UdpTransport::send_to(), which
/// may be called from any thread.
#pragma once

#include <pvwire/net/udp_transport.hpp>

namespace pvwire::net {

/// 224.0.0.128: the group, joined on loopback only, that carries forwarded searches.
asio::ip::address_v4 local_fanout_group();

/// True when `d` was sent to one of this host's own unicast addresses, IPv4 or IPv6 (not a
/// broadcast, a multicast group or the fan-out group), so that only one socket of the port got
/// it.
bool is_unicast_to_this_host(const Datagram& d);

/// For a socket on the shared broadcast port that does not answer searches itself: when `d`
/// is a SEARCH sent unicast to one of this host's IPv4 addresses, sends it to the fan-out group (ORIGIN_TAG, unicast
/// flag cleared, reply address set to the searcher) from `sock`, and returns true; the caller
/// then ignores the datagram, whose copy arrives through the group. Otherwise returns false.
bool forward_unicast_search(UdpTransport& sock, const Datagram& d);

}  // namespace pvwire::net
