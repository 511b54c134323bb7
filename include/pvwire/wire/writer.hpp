/// @file
/// Writer: encodes the basic encodings and message framing into an OutBuffer.
///
/// It writes headers and patches their size when a message ends, and it can emit a large
/// numeric array either in place (a reference to the array's memory, for scatter-gather
/// writes) or, in the pvAccessCPP style, as its own middle segment of a segmented message.
#pragma once

#include <pvwire/data/bitset.hpp>
#include <pvwire/data/shared_array.hpp>
#include <pvwire/wire/byte_order.hpp>
#include <pvwire/wire/out_buffer.hpp>

#include <cstdint>
#include <string_view>

namespace pvwire::wire {

/// How a Writer encodes large numeric arrays.
struct EncodeOptions {
    /// Numeric arrays in host byte order at least this large are referenced, not copied.
    std::size_t zero_copy_threshold = 16384;
    /// Send such arrays as a middle segment of their own (what pvAccessCPP does at 64 KiB).
    bool segment_large_arrays = false;
    std::size_t segment_threshold = 65536;  ///< with segment_large_arrays: array bytes from which that applies
};

/// Appends encodings to an OutBuffer in one byte order (see the file's description).
class Writer {
public:
    /// Writes into `out` in `order`; `out` and `opts` are kept by reference.
    Writer(OutBuffer& out, ByteOrder order, const EncodeOptions& opts = default_options()) noexcept
        : out_(&out), order_(order), opts_(&opts) {}

    /// Default EncodeOptions that live for the whole program.
    static const EncodeOptions& default_options() noexcept {
        static const EncodeOptions o;
        return o;
    }

    /// The byte order written in.
    ByteOrder order() const noexcept { return order_; }
    /// The buffer written to.
    OutBuffer& buffer() noexcept { return *out_; }
    /// The options in force.
    const EncodeOptions& options() const noexcept { return *opts_; }

    /// Fixed-size fields, in the writer's byte order.
    ///@{
    template <class T> void put(T v) { endian::store<T>(grow(sizeof(T)), v, order_); }
    void u8(std::uint8_t v) { out_->bytes().push_back(std::byte(v)); }
    void u16(std::uint16_t v) { put(v); }
    void u32(std::uint32_t v) { put(v); }
    ///@}
    /// Appends n bytes as they are (never swapped).
    void raw(const void* p, std::size_t n) {
        auto& b = out_->bytes();
        const auto* s = static_cast<const std::byte*>(p);
        b.insert(b.end(), s, s + n);
    }
    /// Size (§2.1), shortest form.
    void size(std::size_t n) { write_size(*this, n); }
    /// The null Size (0xFF): "no string", "no value".
    void null_size() { u8(0xFF); }
    /// String (§2.2): its Size, then its bytes.
    void string(std::string_view s) { write_string(*this, s); }
    /// BitSet (§2.3): whole words in message order, the tail bytes least significant first.
    void bitset(const BitSet& bits) { write_bitset(*this, bits); }

    /// Elements of a numeric array (the count is written by the caller).
    void numeric_array(const SharedArray& a);

    // -- message framing ----------------------------------------------------------------
    /// flags: direction (0x40) and control (0x01) bits; the byte-order bit is added here.
    void begin_message(std::uint8_t command, std::uint8_t flags, std::uint8_t version = 2);
    /// Closes the message begun last: patches its header's size (and segment bits).
    void end_message();
    /// A control message: header only, `data` in the size field.
    void control(std::uint8_t command, std::uint32_t data, std::uint8_t flags, std::uint8_t version = 2);
    /// Between begin_message() and end_message().
    bool in_message() const noexcept { return in_msg_; }

protected:
    /// n more bytes at the end of the buffer, to be filled at once.
    std::byte* grow(std::size_t n) {
        auto& b = out_->bytes();
        const auto at = b.size();
        b.resize(at + n);
        return b.data() + at;
    }

    /// The encodings built from the fixed-size writes, written once for Writer and for
    /// FixedOrderWriter (`w` is either, so its own u32 and put are the ones called).
    ///@{
    template <class Self> static void write_size(Self& w, std::size_t n) {
        if (n < 0xFE) {
            w.u8(std::uint8_t(n));
        } else {
            w.u8(0xFE);
            w.u32(std::uint32_t(n));
        }
    }
    template <class Self> static void write_string(Self& w, std::string_view s) {
        w.size(s.size());
        w.raw(s.data(), s.size());
    }
    template <class Self> static void write_bitset(Self& w, const BitSet& bits) {
        const std::size_t n = bits.wire_bytes();
        w.size(n);
        const auto& words = bits.words();
        for (std::size_t i = 0; i < n / 8; ++i) w.template put<std::uint64_t>(words[i]);
        for (std::size_t j = 0; j < n % 8; ++j) w.u8(std::uint8_t(words[n / 8] >> (8 * j)));
    }
    ///@}

private:
    void patch_header(std::uint8_t segment_bits);
    // Copies the elements of a numeric array, swapped into order O.
    template <ByteOrder O> void copy_elements(const SharedArray& a);

    OutBuffer* out_;
    ByteOrder order_;
    const EncodeOptions* opts_;
    bool in_msg_ = false;
    bool segmented_ = false;     ///< a first segment has been closed
    std::size_t hdr_at_ = 0;     ///< header position in the byte vector
    std::size_t ext_at_ = 0;     ///< external bytes before this segment's body
    std::uint8_t command_ = 0, flags_ = 0, version_ = 2;
};

/// A Writer whose byte order is fixed at compile time, so that no field it writes tests the
/// order: what the encoders of the hot messages (GET replies, MONITOR updates) and the value
/// encoder are instantiated with. It is a Writer (same bytes, same framing; code taking a
/// Writer& accepts it, only without the speed-up); its own put, u16, u32, size, string and
/// bitset hide the run-time ones.
template <ByteOrder O> class FixedOrderWriter : public Writer {
public:
    /// Writes into `out` in order O; `out` and `opts` are kept by reference.
    explicit FixedOrderWriter(OutBuffer& out, const EncodeOptions& opts = default_options()) noexcept
        : Writer(out, O, opts) {}

    /// O, known at compile time.
    static constexpr ByteOrder order() noexcept { return O; }

    /// Writer's fields, with no byte-order test.
    ///@{
    template <class T> void put(T v) { endian::store<T, O>(grow(sizeof(T)), v); }
    void u16(std::uint16_t v) { put(v); }
    void u32(std::uint32_t v) { put(v); }
    void size(std::size_t n) { write_size(*this, n); }
    void string(std::string_view s) { write_string(*this, s); }
    void bitset(const BitSet& bits) { write_bitset(*this, bits); }
    ///@}
};

}  // namespace pvwire::wire

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/wire/impl/writer.ipp>
#endif
