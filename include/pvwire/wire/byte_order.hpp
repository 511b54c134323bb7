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

/// Loads a T stored at p (any alignment), swapping its bytes if `swap`. Every load and store
/// below comes here: with a constant `swap` (the compile-time forms) the test disappears.
template <class T> T load_swapped_if(const void* p, bool swap) noexcept {
    using U = typename UIntOf<sizeof(T)>::type;
    U u;
    std::memcpy(&u, p, sizeof(T));
    if constexpr (sizeof(T) > 1)
        if (swap) u = bswap(u);
    T v;
    std::memcpy(&v, &u, sizeof(T));
    return v;
}
/// Stores `v` at p (any alignment), swapping its bytes if `swap`.
template <class T> void store_swapped_if(void* p, T v, bool swap) noexcept {
    using U = typename UIntOf<sizeof(T)>::type;
    U u;
    std::memcpy(&u, &v, sizeof(T));
    if constexpr (sizeof(T) > 1)
        if (swap) u = bswap(u);
    std::memcpy(p, &u, sizeof(T));
}

/// Loads a T stored in `order` at p, and stores one (any alignment).
///@{
template <class T> T load(const void* p, ByteOrder order) noexcept {
    return load_swapped_if<T>(p, order != host_order());
}
template <class T> void store(void* p, T v, ByteOrder order) noexcept {
    store_swapped_if<T>(p, v, order != host_order());
}
///@}
/// The same with the order known at compile time.
///@{
template <class T, ByteOrder O> T load(const void* p) noexcept { return load_swapped_if<T>(p, O != host_order()); }
template <class T, ByteOrder O> void store(void* p, T v) noexcept { store_swapped_if<T>(p, v, O != host_order()); }
///@}
}  // namespace endian

}  // namespace pvwire::wire
