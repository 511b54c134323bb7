/// @file
/// Datagrams: a UDP datagram may hold several messages, each with its own header and byte
/// order (an ORIGIN_TAG before a forwarded SEARCH, protocol.md §1.3). No cache, no segments.
#pragma once

#include <pvwire/wire/message.hpp>

#include <span>

namespace pvwire::wire {

/// Decodes each message of `datagram` in order and calls f(const Message&). Stops at the first
/// message that is a control message, segmented, cut short or undecodable, and returns false
/// then (with `diag` set when decoding failed); true when every byte was used.
template <class F> bool for_each_datagram_message(std::span<const std::byte> datagram, F&& f, Diagnostic* diag = nullptr) {
    Diagnostic local;
    Diagnostic& d = diag ? *diag : local;
    while (datagram.size() >= header_size) {
        auto h = Header::parse(datagram, &d);
        if (!h || h->is_control() || h->segment() != Segment::None || datagram.size() < header_size + h->body_size())
            return false;
        Message m;
        DecodeContext ctx;
        if (!decode(*h, datagram.subspan(header_size, h->body_size()), ctx, m, d)) return false;
        datagram = datagram.subspan(header_size + h->body_size());
        f(m);
    }
    return datagram.empty();
}

}  // namespace pvwire::wire
