/// @file
/// Byte order of a pvAccess message: flags bit 7 (protocol.md §1.3).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace pvwire::wire {

/// The byte order of a message (its flags bit 7: 1 = big endian).
enum class ByteOrder : std::uint8_t { Little = 0, Big = 1 };

/// The byte order of this machine.
constexpr ByteOrder host_order() noexcept {
    return std::endian::native == std::endian::big ? ByteOrder::Big : ByteOrder::Little;
}

namespace endian {
///@{
/// `v` with its bytes reversed.
inline std::uint16_t bswap(std::uint16_t v) noexcept { return __builtin_bswap16(v); }
inline std::uint32_t bswap(std::uint32_t v) noexcept { return __builtin_bswap32(v); }
inline std::uint64_t bswap(std::uint64_t v) noexcept { return __builtin_bswap64(v); }
///@}

/// The unsigned integer type of N bytes, as `UIntOf<N>::type` (load() and store() copy through it).
template <std::size_t N> struct UIntOf;
/// @cond
template <> struct UIntOf<1> { using type = std::uint8_t; };
template <> struct UIntOf<2> { using type = std::uint16_t; };
template <> struct UIntOf<4> { using type = std::uint32_t; };
template <> struct UIntOf<8> { using type = std::uint64_t; };
/// @endcond

/// Loads a T stored in `order` at p (any alignment).
template <class T> T load(const void* p, ByteOrder order) noexcept {
    using U = typename UIntOf<sizeof(T)>::type;
    U u;
    std::memcpy(&u, p, sizeof(T));
    if constexpr (sizeof(T) > 1)
        if (order != host_order()) u = bswap(u);
    T v;
    std::memcpy(&v, &u, sizeof(T));
    return v;
}
/// Stores `v` at p in `order` (any alignment).
template <class T> void store(void* p, T v, ByteOrder order) noexcept {
    using U = typename UIntOf<sizeof(T)>::type;
    U u;
    std::memcpy(&u, &v, sizeof(T));
    if constexpr (sizeof(T) > 1)
        if (order != host_order()) u = bswap(u);
    std::memcpy(p, &u, sizeof(T));
}
}  // namespace endian

}  // namespace pvwire::wire
