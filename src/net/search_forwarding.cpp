// Passing unicast searches on through the local fan-out group: see search_forwarding.hpp.
#include <pvwire/net/search_forwarding.hpp>

#include <pvwire/net/address.hpp>
#include <pvwire/net/interfaces.hpp>
#include <pvwire/protocol/search_responder.hpp>
#include <pvwire/wire/header.hpp>
#include <pvwire/wire/message.hpp>

namespace pvwire::net {

asio::ip::address_v4 local_fanout_group() { return asio::ip::make_address_v4("224.0.0.128"); }

bool is_unicast_to_this_host(const Datagram& d) {
    if (!d.to || d.to->is_unspecified() || d.to->is_multicast()) return false;
    if (d.to->is_v4() && d.to->to_v4() == asio::ip::address_v4::broadcast()) return false;
    return is_local_address(*d.to);
}

bool forward_unicast_search(UdpTransport& sock, const Datagram& d) {
    // the fan-out group is IPv4: IPv6 unicasts are not passed on (nor are they by PVXS)
    if (!d.to || !d.to->is_v4() || !is_unicast_to_this_host(d)) return false;
    std::span<const std::byte> rest = d.bytes;
    wire::Diagnostic diag;
    auto h = wire::Header::parse(rest, &diag);
    if (!h || h->is_control() || h->command != std::uint8_t(wire::Command::Search) ||
        rest.size() < wire::header_size + h->body_size())
        return false;
    wire::Message m;
    wire::DecodeContext ctx;
    if (!wire::decode(*h, rest.subspan(wire::header_size, h->body_size()), ctx, m, diag)) return false;
    const auto* s = std::get_if<wire::Search>(&m.body);
    if (!s) return false;
    const auto fwd = protocol::SearchResponder::forward(*s, to_wire(*d.to), to_wire(d.from.address()), d.from.port(),
                                                        m.order);
    sock.send_to(fwd, udp::endpoint(local_fanout_group(), sock.local_endpoint().port()));
    return true;
}

}  // namespace pvwire::net
