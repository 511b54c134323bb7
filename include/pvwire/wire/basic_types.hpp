/// @file
/// Status, network address and GUID: the small fixed encodings of protocol.md §2.4-2.6.
#pragma once

#include <pvwire/wire/reader.hpp>
#include <pvwire/wire/writer.hpp>

#include <array>
#include <cstdint>
#include <string>

namespace pvwire::wire {

/// The outcome a server reports for a request (§2.4).
struct Status {
    /// The status type byte.
    enum class Type : std::uint8_t { Ok = 0, Warning = 1, Error = 2, Fatal = 3 };
    Type type = Type::Ok;  ///< OK, WARNING, ERROR or FATAL
    std::string message;   ///< the text for the user ("" for a plain OK)
    std::string stack;     ///< the server's stack trace, if it sends one (usually "")

    /// A plain OK (sent in the one-byte short form).
    static Status ok() { return {}; }
    /// An ERROR with `msg`.
    static Status error(std::string msg) { return {Type::Error, std::move(msg), {}}; }
    /// A WARNING with `msg` (the request still succeeds).
    static Status warning(std::string msg) { return {Type::Warning, std::move(msg), {}}; }
    /// A FATAL with `msg`.
    static Status fatal(std::string msg) { return {Type::Fatal, std::move(msg), {}}; }

    /// OK or WARNING.
    bool success() const noexcept { return type == Type::Ok || type == Type::Warning; }
    /// Same type, message and stack.
    friend bool operator==(const Status&, const Status&) = default;
    /// `OK`, or the type and the quoted message: `ERROR "too big"`.
    std::string to_string() const;

    /// Appends the status (the short form for a plain OK).
    void encode(Writer& w) const {
        if (type == Type::Ok && message.empty() && stack.empty()) {
            w.u8(0xFF);  // short form
            return;
        }
        w.u8(std::uint8_t(type));
        w.string(message);
        w.string(stack);
    }
    /// Reads a status; false (and the failure recorded in `r`) on bad input.
    bool decode(Reader& r) {
        const auto t = r.u8("status");
        if (!r.ok()) return false;
        if (t == 0xFF) {
            *this = Status{};
            return true;
        }
        if (t > 3) {
            r.fail(errc::bad_value, "status", "status type " + std::to_string(t) + " is not 0..3");
            return false;
        }
        type = Type(t);
        message = r.string("status message");
        stack = r.string("status stack trace");
        return r.ok();
    }
};

/// A 16-byte IPv6 address in network order; IPv4 is sent mapped (\::ffff:a.b.c.d) (§2.5).
struct Address {
    std::array<std::uint8_t, 16> bytes{};  ///< network order

    /// The IPv4 address a.b.c.d, mapped.
    static Address ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
        Address x;
        x.bytes[10] = x.bytes[11] = 0xFF;
        x.bytes[12] = a, x.bytes[13] = b, x.bytes[14] = c, x.bytes[15] = d;
        return x;
    }
    /// \::ffff:0.0.0.0, what PVXS servers send for "use the packet's source".
    static Address mapped_any() { return ipv4(0, 0, 0, 0); }
    /// An IPv4-mapped address (\::ffff:a.b.c.d).
    bool is_ipv4_mapped() const noexcept {
        for (int i = 0; i < 10; ++i)
            if (bytes[std::size_t(i)]) return false;
        return bytes[10] == 0xFF && bytes[11] == 0xFF;
    }
    /// :: or \::ffff:0.0.0.0
    bool is_unspecified() const noexcept {
        for (int i = 0; i < 10; ++i)
            if (bytes[std::size_t(i)]) return false;
        const bool prefix_ok = (bytes[10] == 0 && bytes[11] == 0) || (bytes[10] == 0xFF && bytes[11] == 0xFF);
        return prefix_ok && !bytes[12] && !bytes[13] && !bytes[14] && !bytes[15];
    }
    /// Same bytes.
    friend bool operator==(const Address&, const Address&) = default;
    /// "127.0.0.1" for mapped IPv4, otherwise the full IPv6 text.
    std::string to_string() const;

    /// Appends the 16 bytes.
    void encode(Writer& w) const { w.raw(bytes.data(), bytes.size()); }
    /// Reads 16 bytes; false (and the failure recorded in `r`) when truncated.
    bool decode(Reader& r, std::string_view what = "address") { return r.raw(bytes.data(), 16, what); }
};

/// 12 opaque bytes naming one server instance (§2.6).
struct Guid {
    std::array<std::uint8_t, 12> bytes{};  ///< the GUID
    /// Same bytes.
    friend bool operator==(const Guid&, const Guid&) = default;
    std::string to_string() const;  ///< 24 hex digits
    /// Appends the 12 bytes.
    void encode(Writer& w) const { w.raw(bytes.data(), bytes.size()); }
    /// Reads 12 bytes; false (and the failure recorded in `r`) when truncated.
    bool decode(Reader& r) { return r.raw(bytes.data(), 12, "GUID"); }
};

}  // namespace pvwire::wire

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/wire/impl/basic_types.ipp>
#endif
