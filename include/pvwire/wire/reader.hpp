/// @file
/// Reader: bounds-checked decoding of the basic encodings over a byte span.
///
/// The first failure is recorded (code, byte offset, what was being read) and every later read
/// returns zero/empty without moving, so decoders can check ok() at natural boundaries instead
/// of after every byte. Nothing here allocates except a failure's diagnostic text.
#pragma once

#include <pvwire/data/bitset.hpp>
#include <pvwire/wire/byte_order.hpp>
#include <pvwire/wire/error.hpp>
#include <pvwire/wire/limits.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace pvwire::wire {

/// Reads the basic encodings from a byte span, in one byte order, recording the first failure
/// (see the file's description).
class Reader {
public:
    /// Reads `data` in `order`, checking lengths against `limits` (kept by reference).
    Reader(std::span<const std::byte> data, ByteOrder order, const Limits& limits = default_limits())
        : data_(data), order_(order), limits_(&limits) {}

    /// A default Limits that lives for the whole program.
    static const Limits& default_limits() noexcept {
        static const Limits l;
        return l;
    }

    /// No failure recorded.
    bool ok() const noexcept { return !diag_.code; }
    /// The first failure (empty while ok()).
    const Diagnostic& diagnostic() const noexcept { return diag_; }
    /// Moves the failure out.
    Diagnostic take_diagnostic() noexcept { return std::move(diag_); }

    /// The byte order read in.
    ByteOrder order() const noexcept { return order_; }
    /// The limits checked against.
    const Limits& limits() const noexcept { return *limits_; }
    /// Bytes consumed so far.
    std::size_t pos() const noexcept { return pos_; }
    /// Bytes left.
    std::size_t remaining() const noexcept { return data_.size() - pos_; }
    /// The whole span.
    std::span<const std::byte> data() const noexcept { return data_; }
    /// The next byte to read.
    const std::byte* cursor() const noexcept { return data_.data() + pos_; }
    /// The prefix of every diagnostic's field text, e.g. "GET response".
    void set_context(const char* ctx) noexcept { context_ = ctx; }
    /// Base offset added to reported byte offsets (e.g. 8 for the header before a body).
    void set_offset_base(std::size_t base) noexcept { base_ = base; }

    /// Keeps the decoded bytes alive for zero-copy array views; without it arrays are copied.
    void set_owner(std::shared_ptr<const void> owner) noexcept { owner_ = std::move(owner); }
    /// What keeps the bytes alive (null: arrays are copied).
    const std::shared_ptr<const void>& owner() const noexcept { return owner_; }

    /// Records a failure (only the first one counts).
    void fail(errc e, std::string_view what, std::string detail = {}) {
        if (diag_.code) return;
        diag_.code = make_error_code(e);
        diag_.offset = base_ + pos_;
        diag_.field = context_ ? std::string(context_) + ": " + std::string(what) : std::string(what);
        diag_.detail = std::move(detail);
    }

    /// Takes over a failure found by another Reader (e.g. over a sub-span).
    void adopt(Diagnostic d) {
        if (!diag_.code) diag_ = std::move(d);
    }

    /// True if n more bytes are available; otherwise records `truncated`.
    bool need(std::size_t n, std::string_view what) {
        if (!ok()) return false;
        if (n > remaining()) {
            fail(errc::truncated, what,
                 "need " + std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left");
            return false;
        }
        return true;
    }

    /// Skips n bytes (records `truncated` when fewer are left).
    void skip(std::size_t n, std::string_view what) {
        if (need(n, what)) pos_ += n;
    }

    /// Fixed-size fields, in the reader's byte order (0 and `truncated` when too few bytes).
    ///@{
    template <class T> T read(std::string_view what) { return read_swapped_if<T>(what, order_ != host_order()); }
    std::uint8_t u8(std::string_view what) { return read<std::uint8_t>(what); }
    std::uint16_t u16(std::string_view what) { return read<std::uint16_t>(what); }
    std::uint32_t u32(std::string_view what) { return read<std::uint32_t>(what); }

    ///@}
    /// Copies n raw bytes (never swapped).
    bool raw(void* out, std::size_t n, std::string_view what) {
        if (!need(n, what)) return false;
        std::memcpy(out, data_.data() + pos_, n);
        pos_ += n;
        return true;
    }
    /// A view of the next n bytes.
    std::span<const std::byte> bytes(std::size_t n, std::string_view what) {
        if (!need(n, what)) return {};
        auto s = data_.subspan(pos_, n);
        pos_ += n;
        return s;
    }

    /// Size (§2.1). 0xFF ("null") is accepted only when allow_null, and then returns -1.
    std::int64_t size(std::string_view what, bool allow_null = false) { return read_size(*this, what, allow_null); }
    /// A count of items each taking at least min_bytes: checked against the bytes remaining.
    std::size_t count(std::string_view what, std::size_t min_bytes = 1) { return read_count(*this, what, min_bytes); }
    /// string (§2.2) as a view into the buffer; null (0xFF) reads as empty.
    std::string_view string(std::string_view what) { return read_string(*this, what); }
    /// BitSet (§2.3) into `out` (cleared first; its storage is reused).
    void bitset(BitSet& out, std::string_view what) { read_bitset(*this, out, what); }

protected:
    /// A T, its bytes swapped if `swap`: what every fixed-size read comes to.
    template <class T> T read_swapped_if(std::string_view what, bool swap) {
        if (!need(sizeof(T), what)) return T{};
        T v = endian::load_swapped_if<T>(data_.data() + pos_, swap);
        pos_ += sizeof(T);
        return v;
    }

    /// The encodings built from the fixed-size reads, written once for Reader and for
    /// FixedOrderReader (`r` is either, so its own u32 and read are the ones called).
    ///@{
    template <class Self> static std::int64_t read_size(Self& r, std::string_view what, bool allow_null) {
        const std::size_t at = r.pos_;
        const std::uint8_t b = r.u8(what);
        if (!r.ok()) return 0;
        if (b < 0xFE) return b;
        if (b == 0xFF) {
            if (allow_null) return -1;
            r.pos_ = at;
            r.fail(errc::bad_size, what, "null size (0xFF) where a count is required");
            return 0;
        }
        const std::uint32_t v = r.u32(what);
        if (!r.ok()) return 0;
        if (v > 0x7FFFFFFFu) {
            r.pos_ = at;
            r.fail(errc::bad_size, what, "size " + std::to_string(v) + " is 2^31 or more");
            return 0;
        }
        return v;
    }
    template <class Self> static std::size_t read_count(Self& r, std::string_view what, std::size_t min_bytes) {
        const std::size_t at = r.pos_;
        const auto n = r.size(what);
        if (!r.ok()) return 0;
        if (min_bytes && std::size_t(n) > r.remaining() / min_bytes) {
            r.pos_ = at;
            r.fail(errc::truncated, what,
                   "count " + std::to_string(n) + " exceeds the " + std::to_string(r.remaining()) +
                       " bytes left");
            return 0;
        }
        return std::size_t(n);
    }
    template <class Self> static std::string_view read_string(Self& r, std::string_view what) {
        const auto n = r.size(what, true);
        if (!r.ok() || n <= 0) return {};
        if (!r.need(std::size_t(n), what)) return {};
        std::string_view s(reinterpret_cast<const char*>(r.data_.data() + r.pos_), std::size_t(n));
        r.pos_ += std::size_t(n);
        return s;
    }
    template <class Self> static void read_bitset(Self& r, BitSet& out, std::string_view what) {
        out.clear();
        const std::size_t n = r.count(what, 1);
        if (!r.ok()) return;
        auto& words = out.words();
        const std::size_t nwords = (n + 7) / 8;
        if (words.size() < nwords) words.resize(nwords, 0);
        for (std::size_t i = 0; i < n / 8; ++i) words[i] = r.template read<std::uint64_t>(what);
        for (std::size_t j = 0; j < n % 8; ++j)
            words[n / 8] |= std::uint64_t(r.u8(what)) << (8 * j);
    }
    ///@}

private:
    std::span<const std::byte> data_;
    std::size_t pos_ = 0;
    std::size_t base_ = 0;
    ByteOrder order_;
    const Limits* limits_;
    const char* context_ = nullptr;
    std::shared_ptr<const void> owner_;
    Diagnostic diag_;
};

/// A Reader whose byte order is fixed at compile time, so that no field it reads tests the
/// order: what the decoders of the hot messages (GET replies, MONITOR updates) and the value
/// decoder are instantiated with. It is a Reader (code taking a Reader& accepts it, reading the
/// same bytes, only without the speed-up); its own read, u16, u32, size, count, string and
/// bitset hide the run-time ones.
template <ByteOrder O> class FixedOrderReader : public Reader {
public:
    /// Reads `data` in order O; `limits` is kept by reference.
    explicit FixedOrderReader(std::span<const std::byte> data, const Limits& limits = default_limits())
        : Reader(data, O, limits) {}

    /// O, known at compile time.
    static constexpr ByteOrder order() noexcept { return O; }

    /// Reader's fields, with no byte-order test.
    ///@{
    template <class T> T read(std::string_view what) { return read_swapped_if<T>(what, O != host_order()); }
    std::uint16_t u16(std::string_view what) { return read<std::uint16_t>(what); }
    std::uint32_t u32(std::string_view what) { return read<std::uint32_t>(what); }
    std::int64_t size(std::string_view what, bool allow_null = false) { return read_size(*this, what, allow_null); }
    std::size_t count(std::string_view what, std::size_t min_bytes = 1) { return read_count(*this, what, min_bytes); }
    std::string_view string(std::string_view what) { return read_string(*this, what); }
    void bitset(BitSet& out, std::string_view what) { read_bitset(*this, out, what); }
    ///@}
};

}  // namespace pvwire::wire
