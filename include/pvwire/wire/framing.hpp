/// @file
/// Framing: where one message ends in a byte stream. Only the 8-byte header is read, so
/// transports can split a stream into frames without knowing anything of pvData.
#pragma once

#include <pvwire/wire/header.hpp>

#include <cstddef>
#include <span>
#include <string>

namespace pvwire::wire {

/// Length of the frame (header + body) at the start of `stream`, or 0 when fewer than 8 bytes
/// are there or the header is bad (then `diag` is set). A body larger than `max_body` is an
/// error (`too_large`) before any of it is read.
inline std::size_t frame_length(std::span<const std::byte> stream, std::size_t max_body, Diagnostic& diag) {
    if (stream.size() < header_size) return 0;
    auto h = Header::parse(stream, &diag);
    if (!h) return 0;
    if (h->body_size() > max_body) {
        diag.code = make_error_code(errc::too_large);
        diag.offset = 4;
        diag.field = "header";
        diag.detail = "message body of " + std::to_string(h->body_size()) + " bytes exceeds the limit of " +
                      std::to_string(max_body);
        return 0;
    }
    return header_size + h->body_size();
}

}  // namespace pvwire::wire
