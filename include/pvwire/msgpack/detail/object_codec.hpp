// The pieces of the msgpack value codec that the msgpack protocol (msgpack/protocol.hpp)
// builds its messages from: packing into a message being built, and reading values out of
// an already parsed msgpack object tree. Not an API: the public forms are codec.hpp's.
#pragma once

#include <pvwire/msgpack/codec.hpp>
#include <pvwire/wire/out_buffer.hpp>

#include <msgpack.hpp>

#include <cstddef>
#include <cstring>
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
const char* object_kind_name(const msgpack::object& o) noexcept;

}  // namespace pvwire::msgpack_codec::detail
