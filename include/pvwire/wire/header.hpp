/// @file
/// The 8-byte message header and its flags (protocol.md §1.1-1.2).
#pragma once

#include <pvwire/wire/byte_order.hpp>
#include <pvwire/wire/error.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace pvwire::wire {

inline constexpr std::uint8_t magic = 0xCA;  ///< header byte 0
inline constexpr std::uint8_t protocol_version = 2;  ///< the version pvwire sends
inline constexpr std::size_t header_size = 8;        ///< bytes of a header

/// Bits of the header's flags byte.
namespace flag {
inline constexpr std::uint8_t control = 0x01;        ///< a control message (header only)
inline constexpr std::uint8_t segment_mask = 0x30;   ///< the two segment bits
inline constexpr std::uint8_t first_segment = 0x10;  ///< first segment of a segmented message
inline constexpr std::uint8_t last_segment = 0x20;   ///< last segment
inline constexpr std::uint8_t middle_segment = 0x30; ///< neither first nor last
inline constexpr std::uint8_t from_server = 0x40;    ///< sent by a server
inline constexpr std::uint8_t big_endian = 0x80;     ///< the message is big endian
}  // namespace flag

/// Where a message stands in a segmented message (None: not segmented).
enum class Segment : std::uint8_t { None = 0, First = 1, Last = 2, Middle = 3 };

/// The 8-byte header: magic, version, flags, command, size.
struct Header {
    std::uint8_t version = protocol_version;  ///< header byte 1
    std::uint8_t flags = 0;                   ///< header byte 2 (see namespace flag)
    std::uint8_t command = 0;                 ///< header byte 3 (Command or ControlCommand)
    std::uint32_t size = 0;  ///< body bytes; for control messages, the data word

    /// A control message.
    bool is_control() const noexcept { return flags & flag::control; }
    /// Sent by a server.
    bool from_server() const noexcept { return flags & flag::from_server; }
    /// The byte order of the size field and the body.
    ByteOrder order() const noexcept { return (flags & flag::big_endian) ? ByteOrder::Big : ByteOrder::Little; }
    /// The segment bits.
    Segment segment() const noexcept { return Segment((flags & flag::segment_mask) >> 4); }
    /// Body bytes that follow this header on the wire.
    std::size_t body_size() const noexcept { return is_control() ? 0 : size; }

    /// Parses the first 8 bytes. Fails with truncated, bad_magic or bad_version.
    static std::optional<Header> parse(std::span<const std::byte> bytes, Diagnostic* diag = nullptr) {
        auto fail = [&](errc e, std::size_t at, const char* what) -> std::optional<Header> {
            if (diag) {
                diag->code = make_error_code(e);
                diag->offset = at;
                diag->field = "header";
                diag->detail = what;
            }
            return std::nullopt;
        };
        if (bytes.size() < header_size) return fail(errc::truncated, bytes.size(), "fewer than 8 header bytes");
        if (std::uint8_t(bytes[0]) != magic) return fail(errc::bad_magic, 0, "first byte is not 0xCA");
        Header h;
        h.version = std::uint8_t(bytes[1]);
        if (h.version == 0) return fail(errc::bad_version, 1, "version 0");
        h.flags = std::uint8_t(bytes[2]);
        h.command = std::uint8_t(bytes[3]);
        h.size = endian::load<std::uint32_t>(bytes.data() + 4, h.order());
        return h;
    }
    /// Writes the 8 header bytes at `out` (the size in order()).
    void write(std::byte* out) const noexcept {
        out[0] = std::byte(magic);
        out[1] = std::byte(version);
        out[2] = std::byte(flags);
        out[3] = std::byte(command);
        endian::store<std::uint32_t>(out + 4, size, order());
    }
};

}  // namespace pvwire::wire
