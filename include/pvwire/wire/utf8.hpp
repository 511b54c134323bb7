/// @file
/// UTF-8 validation for the strings that name things (PV names, field names, type ids):
/// those end up as map keys, JSON and msgpack text, so invalid bytes are refused there.
/// String *values* stay opaque bytes, as in PVXS and pvAccessCPP.
#pragma once

#include <cstdint>
#include <string_view>

namespace pvwire::wire {

/// Whether `s` is well-formed UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
constexpr bool valid_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t n;
        std::uint32_t cp;
        if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07;
        else return false;
        if (n >= s.size() - i) return false;  // needs bytes i+1 .. i+n
        for (std::size_t k = 1; k <= n; ++k) {
            const auto d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3F);
        }
        // overlong forms, surrogates and values past U+10FFFF
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return false;
        i += n + 1;
    }
    return true;
}

}  // namespace pvwire::wire
