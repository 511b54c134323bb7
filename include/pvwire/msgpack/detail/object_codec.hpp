// The pieces of the msgpack value codec that the msgpack protocol (msgpack/protocol.hpp)
// builds its messages from: packing into a message being built, and reading values out of
// an already parsed msgpack object tree. Not an API: the public forms are codec.hpp's.
#pragma once

#include <pvwire/data/bitset.hpp>
#include <pvwire/data/type_desc.hpp>
#include <pvwire/data/value.hpp>
#include <pvwire/wire/out_buffer.hpp>

#include <msgpack.hpp>

#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace pvwire::msgpack_codec::detail {

// msgpack-cxx's output stream: appends to a byte vector. When `message` is set the bytes go
// into that OutBuffer (out == &message->bytes()) and numeric arrays are written the
// protocol's way: ext type `aligned_array_ext` whose elements start a multiple of 8 bytes
// after `base` (the message body's first byte), large ones referenced in place instead of
// copied (docs/msgpack-protocol.md, "Arrays").
class ByteSink {
public:
    explicit ByteSink(std::vector<std::byte>* out_, wire::OutBuffer* message_ = nullptr, std::size_t base_ = 0)
        : out(out_), message(message_), base(base_) {}
    ByteSink(const ByteSink&) = delete;
    ByteSink& operator=(const ByteSink&) = delete;

    // The packer writes one to nine bytes at a time: they gather here and reach `out` in one
    // copy, several times cheaper than growing the vector for each.
    void write(const char* p, std::size_t n) {
        if (n == 0) return;  // an empty str or bin: `p` may be null, which memcpy must not get
        if (n > sizeof stage_ - staged_) {
            flush();
            if (n > sizeof stage_) return append(p, n);
        }
        std::memcpy(stage_ + staged_, p, n);
        staged_ += n;
    }
    // Moves the gathered bytes to `out`: before `out` is read or written directly, and at the end.
    void flush() {
        if (staged_ == 0) return;
        append(stage_, staged_);
        staged_ = 0;
    }
    // Drops the gathered bytes (an encoding that failed).
    void discard() noexcept { staged_ = 0; }
    // The bytes of `message` so far, the gathered ones included (for alignment).
    std::size_t message_size() const { return message->size() + staged_; }

    std::vector<std::byte>* out;
    wire::OutBuffer* message;
    std::size_t base;

private:
    void append(const char* p, std::size_t n) {
        const std::size_t at = out->size();
        out->resize(at + n);
        std::memcpy(out->data() + at, p, n);
    }

    char stage_[256];
    std::size_t staged_ = 0;
};
using Packer = msgpack::packer<ByteSink>;

// The msgpack ext type of an aligned numeric array: payload = pad count p (one byte), p zero
// bytes, then the little-endian elements.
inline constexpr std::int8_t aligned_array_ext = 1;
// Arrays of at least this many bytes are referenced by the OutBuffer, not copied into it.
inline constexpr std::size_t in_place_array_bytes = 4096;

void write_str(Packer& pk, std::string_view s);
void write_type(Packer& pk, const TypeDesc& t);
// [type, value], or [] for a null Value (throws ValueError as encode_value does).
void write_value_document(ByteSink& sink, Packer& pk, const Value& v);
// [[offsets...], values...] (throws ValueError as encode_partial does).
void write_partial(ByteSink& sink, Packer& pk, const Value& v, const BitSet& changed);

// The value alone, without its type (the reader has it): an array operation's elements.
void write_bare(ByteSink& sink, Packer& pk, const Value& v);

// One complete msgpack object, checked and bounded as codec.hpp describes; throws
// DecodeError naming `what`. `in` must outlive the handle.
msgpack::object_handle parse(std::span<const std::byte> in, const char* what);
// The same into `zone`, cleared first: a stream of messages reuses one zone's memory instead
// of allocating per message. The object lives until the zone's next use.
msgpack::object parse_into(msgpack::zone& zone, std::span<const std::byte> in, const char* what);
// Readers of parsed objects; each throws DecodeError naming `what` and the field. `owner`
// keeps the parsed bytes alive: aligned numeric arrays are then viewed, not copied.
TypePtr read_type(const msgpack::object& o, const char* what);
Value read_value_document(const msgpack::object& o, const char* what, const std::shared_ptr<const void>& owner);
void read_partial(const msgpack::object& o, const char* what, Value& into, BitSet& changed,
                  const std::shared_ptr<const void>& owner);
// The whole of `into` (a fresh Value of the type the writer used) from a write_bare() form.
void read_bare(const msgpack::object& o, const char* what, Value& into, const std::shared_ptr<const void>& owner);
// The msgpack forms read_plain_partial() accepts, read from `in` at `at`, bounds-checked;
// each returns false for anything else or for too few bytes.
class PlainReader {
public:
    PlainReader(std::span<const std::byte> in, std::size_t at) : in_(in), at_(at) {}
    std::size_t at() const noexcept { return at_; }

    bool array(std::uint32_t& n) {
        std::uint8_t b;
        if (!byte(b)) return false;
        if ((b & 0xf0) == 0x90) return n = b & 0x0f, true;
        if (b == 0xdc) return big(n, 2);
        if (b == 0xdd) return big(n, 4);
        return false;
    }
    bool uint(std::uint64_t& v) {
        std::uint8_t b;
        if (!byte(b)) return false;
        if (b < 0x80) return v = b, true;
        switch (b) {
        case 0xcc: return big(v, 1);
        case 0xcd: return big(v, 2);
        case 0xce: return big(v, 4);
        case 0xcf: return big(v, 8);
        default: return false;
        }
    }
    bool integer(std::int64_t& v) {
        if (at_ >= in_.size()) return false;
        const auto b = std::uint8_t(in_[at_]);
        if (b >= 0xe0) return ++at_, v = std::int8_t(b), true;
        std::uint64_t u = 0;
        if (b < 0x80 || (b >= 0xcc && b <= 0xcf)) {
            if (!uint(u) || u > std::uint64_t(std::numeric_limits<std::int64_t>::max())) return false;
            return v = std::int64_t(u), true;
        }
        ++at_;
        const std::size_t n = b == 0xd0 ? 1 : b == 0xd1 ? 2 : b == 0xd2 ? 4 : b == 0xd3 ? 8 : 0;
        if (n == 0 || !big(u, n)) return false;
        const int shift = int(64 - 8 * n);  // sign-extend
        return v = std::int64_t(u << shift) >> shift, true;
    }
    bool number(double& d) {
        if (at_ >= in_.size()) return false;
        const auto b = std::uint8_t(in_[at_]);
        if (b == 0xca || b == 0xcb) {
            ++at_;
            std::uint64_t bits = 0;
            if (!big(bits, b == 0xca ? 4 : 8)) return false;
            if (b == 0xca) {
                float f;
                const auto b32 = std::uint32_t(bits);
                std::memcpy(&f, &b32, 4);
                return d = f, true;
            }
            return std::memcpy(&d, &bits, 8), true;
        }
        std::int64_t i = 0;
        if (!integer(i)) return false;
        return d = double(i), true;
    }
    bool boolean(bool& v) {
        std::uint8_t b;
        if (!byte(b) || (b != 0xc2 && b != 0xc3)) return false;
        return v = b == 0xc3, true;
    }
    bool str(std::string_view& s) {
        std::uint8_t b;
        if (!byte(b)) return false;
        std::uint64_t n = 0;
        if ((b & 0xe0) == 0xa0) n = b & 0x1f;
        else if (!(b == 0xd9 ? big(n, 1) : b == 0xda ? big(n, 2) : b == 0xdb ? big(n, 4) : false)) return false;
        if (n > in_.size() - at_) return false;
        s = std::string_view(reinterpret_cast<const char*>(in_.data() + at_), std::size_t(n));
        at_ += std::size_t(n);
        return true;
    }

private:
    bool byte(std::uint8_t& b) {
        if (at_ >= in_.size()) return false;
        b = std::uint8_t(in_[at_++]);
        return true;
    }
    template <class T> bool big(T& v, std::size_t n) {  // n big-endian bytes
        if (n > in_.size() - at_) return false;
        std::uint64_t x = 0;
        for (std::size_t k = 0; k < n; ++k) x = x << 8 | std::uint8_t(in_[at_ + k]);
        at_ += n;
        if (x > std::uint64_t(std::numeric_limits<T>::max())) return false;
        v = T(x);
        return true;
    }

    std::span<const std::byte> in_;
    std::size_t at_;
};

// The msgpack forms pvwire writes for plain fields, into a fixed buffer; each returns false
// when the buffer is full. The forms are msgpack's smallest, as msgpack-cxx's packer writes.
class PlainWriter {
public:
    PlainWriter(std::span<std::byte> out, std::size_t at) : out_(out), at_(at) {}
    std::size_t at() const noexcept { return at_; }

    bool array(std::uint32_t n) {
        if (n < 16) return put(0x90 | n);
        return n < 0x10000 ? put(0xdc) && big(n, 2) : put(0xdd) && big(n, 4);
    }
    bool uint(std::uint64_t v) {
        if (v < 0x80) return put(std::uint8_t(v));
        if (v < 0x100) return put(0xcc) && big(v, 1);
        if (v < 0x10000) return put(0xcd) && big(v, 2);
        if (v <= 0xFFFFFFFFu) return put(0xce) && big(v, 4);
        return put(0xcf) && big(v, 8);
    }
    bool integer(std::int64_t v) {
        if (v >= 0) return uint(std::uint64_t(v));
        if (v >= -32) return put(std::uint8_t(v));
        if (v >= -128) return put(0xd0) && big(std::uint64_t(v), 1);
        if (v >= -32768) return put(0xd1) && big(std::uint64_t(v), 2);
        if (v >= std::numeric_limits<std::int32_t>::min()) return put(0xd2) && big(std::uint64_t(v), 4);
        return put(0xd3) && big(std::uint64_t(v), 8);
    }
    // float32 and float64 keep their kind (and -0.0), as the value codec writes them
    bool float32(float f) {
        std::uint32_t bits;
        std::memcpy(&bits, &f, 4);
        return put(0xca) && big(bits, 4);
    }
    bool float64(double d) {
        std::uint64_t bits;
        std::memcpy(&bits, &d, 8);
        return put(0xcb) && big(bits, 8);
    }
    bool boolean(bool b) { return put(b ? 0xc3 : 0xc2); }
    bool str(std::string_view s) {
        const std::size_t n = s.size();
        const bool head = n < 32       ? put(std::uint8_t(0xa0 | n))
                          : n < 0x100   ? put(0xd9) && big(n, 1)
                          : n < 0x10000 ? put(0xda) && big(n, 2)
                          : n <= 0xFFFFFFFFu ? put(0xdb) && big(n, 4)
                                             : false;
        if (!head || n > out_.size() - at_) return false;
        if (n) std::memcpy(out_.data() + at_, s.data(), n);  // an empty view's data() may be null
        at_ += n;
        return true;
    }

private:
    bool put(unsigned b) {
        if (at_ >= out_.size()) return false;
        out_[at_++] = std::byte(b);
        return true;
    }
    bool big(std::uint64_t v, std::size_t n) {  // the low n bytes, big-endian
        if (n > out_.size() - at_) return false;
        for (std::size_t k = 0; k < n; ++k) out_[at_ + k] = std::byte(v >> (8 * (n - 1 - k)));
        at_ += n;
        return true;
    }

    std::span<std::byte> out_;
    std::size_t at_;
};

// The partial value [[offsets...], values...] of plain fields into `w`; false when a field
// is not plain (arrays, unions...), a bit is out of range, or the buffer is full: the caller
// then writes it with write_partial().
bool write_plain_partial(PlainWriter& w, const Value& v, const BitSet& changed);

// The fast path of a partial value of plain fields (structures, booleans, integers, floats,
// strings) read straight from the bytes, without msgpack-cxx's object tree, which costs more
// than the rest of a monitor update's decoding. It knows only the forms that pvwire writes for
// those fields and returns false at anything else (arrays, unions, a malformed byte...),
// possibly after writing some of `into`: the caller then decodes a fresh value with
// read_partial(), which accepts everything valid and explains everything invalid.
// On success `at` is just past the partial value.
bool read_plain_partial(std::span<const std::byte> in, std::size_t& at, Value& into, BitSet& changed);

const char* object_kind_name(const msgpack::object& o) noexcept;

}  // namespace pvwire::msgpack_codec::detail

// Last, not first: under PVWIRE_HEADER_ONLY codec.hpp brings codec.ipp, which needs the
// declarations above (protocol.ipp includes this header before codec.hpp).
#include <pvwire/msgpack/codec.hpp>
