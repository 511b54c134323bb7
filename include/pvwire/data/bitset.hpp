/// @file
/// BitSet: the changed/overrun masks of partial values (protocol.md §2.3, §3.5).
/// Bit k is field offset k. Storage is whole 64-bit words, as on the wire.
#pragma once

// g++ 12 at -O3 warns that moving a small_vector out of its one inline word, or growing it
// out of it, may read or write past that word (false positives: the copies are of size()
// words, into storage of capacity() words). The warnings are placed in Boost's
// copy_move_algo.hpp, so they are silenced for Boost.Container's headers only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overread"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
#include <boost/container/small_vector.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace pvwire {

/// A growable set of bit numbers (field offsets), stored as 64-bit words; bits past the
/// stored words read as clear.
class BitSet {
public:
    static constexpr std::size_t npos = std::size_t(-1);  ///< "no bit": what next() returns past the last set bit
    /// One word inline: every mask of a value with up to 64 fields (the Normative Types, with
    /// display, control and valueAlarm too) lives in the BitSet itself, so masks made per update
    /// allocate nothing. One word, not two: each value keeps a BitSet of marks, and the 8 bytes
    /// more took a served PV's value from a 240-byte heap block to a 256-byte one (issue 13).
    using Words = boost::container::small_vector<std::uint64_t, 1>;

    BitSet() = default;
    /// The set with exactly `bits` set.
    BitSet(std::initializer_list<std::size_t> bits) {
        for (auto b : bits) set(b);
    }

    /// Sets (or with `on` false clears) one bit, growing the storage as needed.
    void set(std::size_t bit, bool on = true) {
        const std::size_t w = bit / 64;
        if (w >= words_.size()) {
            if (!on) return;
            words_.resize(w + 1, 0);
        }
        const std::uint64_t m = std::uint64_t(1) << (bit % 64);
        words_[w] = on ? (words_[w] | m) : (words_[w] & ~m);
    }
    /// Clears one bit.
    void reset(std::size_t bit) { set(bit, false); }
    /// Whether `bit` is set.
    bool test(std::size_t bit) const noexcept {
        const std::size_t w = bit / 64;
        return w < words_.size() && ((words_[w] >> (bit % 64)) & 1u);
    }
    /// Same as test().
    bool operator[](std::size_t bit) const noexcept { return test(bit); }

    /// Set every bit in [first, last).
    void set_range(std::size_t first, std::size_t last) {
        for (std::size_t b = first; b < last; ++b) set(b);
    }
    /// Clear every bit in [first, last).
    void reset_range(std::size_t first, std::size_t last) noexcept {
        for (std::size_t b = first; b < last && b / 64 < words_.size(); ++b)
            words_[b / 64] &= ~(std::uint64_t(1) << (b % 64));
    }
    /// Any bit set in [first, last)?
    bool any_in(std::size_t first, std::size_t last) const noexcept {
        const std::size_t n = next(first);
        return n != npos && n < last;
    }

    /// Clears all bits but keeps the storage (no allocation when reused).
    void clear() noexcept {
        for (auto& w : words_) w = 0;
    }
    /// No bit set (whatever the storage size).
    bool empty() const noexcept {
        for (auto w : words_)
            if (w) return false;
        return true;
    }
    /// Number of bits set.
    std::size_t count() const noexcept {
        std::size_t n = 0;
        for (auto w : words_) n += std::size_t(__builtin_popcountll(w));
        return n;
    }
    /// First set bit >= from, or npos.
    std::size_t next(std::size_t from) const noexcept {
        std::size_t w = from / 64;
        if (w >= words_.size()) return npos;
        std::uint64_t cur = words_[w] & (~std::uint64_t(0) << (from % 64));
        while (true) {
            if (cur) return w * 64 + std::size_t(__builtin_ctzll(cur));
            if (++w >= words_.size()) return npos;
            cur = words_[w];
        }
    }

    /// Adds every bit of `o`.
    BitSet& operator|=(const BitSet& o) {
        if (o.words_.size() > words_.size()) words_.resize(o.words_.size(), 0);
        for (std::size_t i = 0; i < o.words_.size(); ++i) words_[i] |= o.words_[i];
        return *this;
    }
    /// Keeps only the bits also set in `o`.
    BitSet& operator&=(const BitSet& o) noexcept {
        for (std::size_t i = 0; i < words_.size(); ++i)
            words_[i] &= i < o.words_.size() ? o.words_[i] : 0;
        return *this;
    }

    /// Bytes the wire form needs: trailing zero bytes are not sent.
    std::size_t wire_bytes() const noexcept {
        std::size_t n = words_.size();
        while (n && !words_[n - 1]) --n;
        if (!n) return 0;
        const std::uint64_t top = words_[n - 1];
        return (n - 1) * 8 + (8 - std::size_t(__builtin_clzll(top)) / 8);
    }

    ///@{
    /// The storage: bit k is bit k % 64 of word k / 64.
    const Words& words() const noexcept { return words_; }
    Words& words() noexcept { return words_; }
    ///@}

    /// Same bits set (trailing zero words do not matter).
    friend bool operator==(const BitSet& a, const BitSet& b) noexcept {
        const auto& l = a.words_.size() >= b.words_.size() ? a.words_ : b.words_;
        const auto& s = a.words_.size() >= b.words_.size() ? b.words_ : a.words_;
        for (std::size_t i = 0; i < l.size(); ++i)
            if (l[i] != (i < s.size() ? s[i] : 0)) return false;
        return true;
    }

    /// "{0, 5, 8}"
    std::string to_string() const {
        std::string s = "{";
        for (std::size_t b = next(0); b != npos; b = next(b + 1)) {
            if (s.size() > 1) s += ", ";
            s += std::to_string(b);
        }
        return s + "}";
    }

private:
    Words words_;
};

}  // namespace pvwire
