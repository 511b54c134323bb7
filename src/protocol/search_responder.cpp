#include <pvwire/protocol/search_responder.hpp>

#include <algorithm>

namespace pvwire::protocol {

std::optional<SearchResponder::Reply> SearchResponder::answer(const wire::Search& search, bool over_tcp) const {
    // PVXS considers names only when "tcp" (or, with TLS, "tls") is among the protocols, and
    // offers its TLS port to a client that accepts "tls"
    auto lists = [&](const char* p) {
        return std::find(search.protocols.begin(), search.protocols.end(), p) != search.protocols.end();
    };
    const bool tls_ok = tls_port_ != 0 && lists("tls");
    const bool tcp_ok = lists("tcp");
    wire::SearchResponse resp;
    resp.guid = guid_;
    resp.sequence = search.sequence;
    resp.server_address = wire::Address::mapped_any();  // "use the packet's source"
    resp.server_port = tls_ok ? tls_port_ : port_;
    resp.protocol = tls_ok ? "tls" : "tcp";
    if (tcp_ok || tls_ok)
        for (const auto& c : search.channels)
            if (claim_ && claim_(c.name)) resp.cids.push_back(c.cid);
    resp.found = !resp.cids.empty();
    if (!resp.found && !(search.flags & wire::Search::reply_required)) return std::nullopt;

    Reply r;
    r.response.from_server = true;
    r.response.order = over_tcp ? wire::host_order() : wire::ByteOrder::Big;  // PVXS: UDP always BE
    r.response.body = std::move(resp);
    if (!over_tcp) {
        if (!search.response_address.is_unspecified()) r.to = search.response_address;
        r.port = search.response_port;
    }
    return r;
}

std::vector<std::byte> SearchResponder::forward(const wire::Search& search, const wire::Address& received_on,
                                                const wire::Address& sender, std::uint16_t sender_port,
                                                wire::ByteOrder order) {
    wire::OutBuffer out;
    wire::Message tag;
    tag.order = wire::ByteOrder::Big;  // as PVXS writes it
    tag.body = wire::OriginTag{received_on};
    wire::encode(tag, out);

    wire::Search copy = search;
    copy.flags &= std::uint8_t(~wire::Search::unicast);
    if (copy.response_address.is_unspecified()) {
        copy.response_address = sender;
        if (!copy.response_port) copy.response_port = sender_port;
    }
    wire::Message m;
    m.order = order;
    m.body = std::move(copy);
    wire::encode(m, out);
    return out.flatten();
}

}  // namespace pvwire::protocol
