/// @file
/// UdpTransport: one UDP socket for search requests, search responses and beacons.
///
/// Datagrams are delivered whole, with the sender and (where the OS tells, via IP_PKTINFO or
/// IPV6_PKTINFO) the local address the datagram was sent to, so a server can tell unicast from broadcast and
/// reply from the right interface. The socket can share its port with other processes
/// (SO_REUSEADDR + SO_REUSEPORT), send broadcasts, and join multicast groups. Sends are
/// queued up to a bound; past it datagrams are dropped and counted (UDP gives no delivery
/// promise anyway).
///
/// Threading: the handler runs on the transport's strand; send_to() and close() may be called
/// from any thread.
#pragma once

#include <pvwire/net/asio.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace pvwire::net {

struct UdpOptions {
    bool reuse_port = true;           ///< share the port with other pvAccess processes on the host
    bool broadcast = true;            ///< allow sending to broadcast addresses
    std::vector<asio::ip::address_v4> multicast_groups;  ///< joined on every interface that allows it,
                                                         ///< or only on multicast_interface
    /// When set: groups are joined on this interface only, and multicasts leave through it.
    /// pvAccess's local fan-out group (224.0.0.128) lives on loopback: set 127.0.0.1 so that
    /// nothing of it ever leaves the host.
    std::optional<asio::ip::address_v4> multicast_interface;
    bool multicast_loopback = true;   ///< receive our own multicasts (local fan-out needs it)
    /// IPv6 groups for a socket bound to an IPv6 address, each joined on the interface whose
    /// index is the address's scope id (0: the interface the kernel routes the group to).
    std::vector<asio::ip::address_v6> multicast_groups_v6;
    /// A socket bound to [::] takes IPv6 only (IPV6_V6ONLY), so that IPv4 stays with the IPv4
    /// socket of the same port and no datagram is answered twice.
    bool v6_only = true;
    std::size_t receive_buffer_bytes = 1 << 20;  ///< SO_RCVBUF asked for
    std::size_t max_queued_sends = 1024;         ///< datagrams waiting to be sent
};

struct Datagram {
    std::span<const std::byte> bytes;
    udp::endpoint from;
    std::optional<asio::ip::address> to;  ///< the destination address, when known
};

class UdpTransport : public std::enable_shared_from_this<UdpTransport> {
public:
    using Handler = std::function<void(const Datagram&)>;

    /// Opens and binds. Throws boost::system::system_error if the bind fails.
    static std::shared_ptr<UdpTransport> open(asio::any_io_executor ex, const udp::endpoint& bind,
                                              const UdpOptions& options = {});
    virtual ~UdpTransport() = default;

    virtual void start(Handler handler) = 0;
    /// Queues one datagram (the bytes are copied). Returns false when dropped (queue full or closed).
    /// To an IPv6 multicast group with a scope id, the datagram leaves through that interface
    /// (IPV6_MULTICAST_IF); `multicast_hops` >= 0 sets the TTL / hop limit of a multicast
    /// (PVXS's ",ttl"), -1 leaves the system's default (1).
    virtual bool send_to(std::span<const std::byte> bytes, const udp::endpoint& to, int multicast_hops) = 0;
    bool send_to(std::span<const std::byte> bytes, const udp::endpoint& to) { return send_to(bytes, to, -1); }
    virtual void close() = 0;

    virtual udp::endpoint local_endpoint() const = 0;
    virtual std::size_t dropped_sends() const = 0;
    virtual asio::any_io_executor executor() const = 0;
};

}  // namespace pvwire::net
