/// @file
/// SearchResponder: a server's answer to a SEARCH (protocol.md §4.6-4.7, §6.4-6.5), without I/O.
///
/// Given the messages of one datagram (an optional ORIGIN_TAG, then a SEARCH), it decides
/// whether to answer, with which cids, and whether the datagram must be forwarded to the other
/// servers of this host through the local multicast group (a unicast search reaches only one of
/// the sockets sharing the port). Like PVXS it answers once per search with all claimed names
/// (found = 1), answers a search that requires a reply and claims nothing with found = 0, and
/// otherwise stays silent.
#pragma once

#include <pvwire/wire/message.hpp>

#include <functional>
#include <optional>
#include <span>
#include <string_view>

namespace pvwire::protocol {

class SearchResponder {
public:
    /// Does this server serve `name`?
    using Claim = std::function<bool(std::string_view name)>;

    struct Reply {
        wire::Message response;                 ///< the SEARCH_RESPONSE to send
        std::optional<wire::Address> to;        ///< where: the search's reply address, or none =
                                                ///< the datagram's source address
        std::uint16_t port = 0;                 ///< the search's reply port
    };

    SearchResponder(wire::Guid guid, std::uint16_t tcp_port, Claim claim)
        : guid_(guid), port_(tcp_port), claim_(std::move(claim)) {}

    void set_tcp_port(std::uint16_t p) noexcept { port_ = p; }
    /// The TLS port (0 = no TLS): a search listing "tls" is answered with protocol "tls" and
    /// this port (Secure PVAccess, as the PVXS fork).
    void set_tls_port(std::uint16_t p) noexcept { tls_port_ = p; }

    /// Answers a SEARCH. `over_tcp`: it came on a TCP connection (name server use): the reply
    /// goes back on that connection, and the server address/port fields say "use this
    /// connection's peer" as PVXS does.
    std::optional<Reply> answer(const wire::Search& search, bool over_tcp = false) const;

    /// The datagram to forward to the local multicast group for a unicast search: ORIGIN_TAG
    /// (the address the search was sent to) + the SEARCH with the unicast flag cleared and the
    /// reply address set to the original sender, so receivers reply to the client directly.
    static std::vector<std::byte> forward(const wire::Search& search, const wire::Address& received_on,
                                          const wire::Address& sender, std::uint16_t sender_port,
                                          wire::ByteOrder order);

private:
    wire::Guid guid_;
    std::uint16_t port_;
    std::uint16_t tls_port_ = 0;
    Claim claim_;
};

}  // namespace pvwire::protocol
