#include <pvwire/wire/writer.hpp>
#include <pvwire/detail/header_only.hpp>

#include <algorithm>

namespace pvwire::wire {

PVWIRE_IMPL_NAMESPACE(writer_impl) {
constexpr std::size_t small_message = 128;  // bytes reserved ahead of a message
}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(writer_impl)

PVWIRE_DECL void Writer::numeric_array(const SharedArray& a) {
    const std::size_t esize = type_code::element_size(a.element_code());
    const std::size_t nbytes = a.byte_size();
    if (nbytes == 0) return;
    const bool in_place_ok = order_ == host_order() && a.element_code() != TypeCode::Bool;
    if (in_place_ok && in_msg_ && opts_->segment_large_arrays && nbytes >= opts_->segment_threshold) {
        // close what we have as a first (or middle) segment; the array is a middle segment
        patch_header(segmented_ ? 0x30 : 0x10);
        segmented_ = true;
        auto& b = out_->bytes();
        const auto at = b.size();
        b.resize(at + 8);
        b[at] = std::byte(0xCA);
        b[at + 1] = std::byte(version_);
        b[at + 2] = std::byte(flags_ | 0x30 | (order_ == ByteOrder::Big ? 0x80 : 0));
        b[at + 3] = std::byte(command_);
        endian::store<std::uint32_t>(b.data() + at + 4, std::uint32_t(nbytes), order_);
        out_->add_external(a.data(), nbytes, a.owner());
        // the rest goes into a fresh segment
        hdr_at_ = b.size();
        ext_at_ = out_->external_bytes();
        b.resize(hdr_at_ + 8);
        return;
    }
    if (in_place_ok && nbytes >= opts_->zero_copy_threshold) {
        out_->add_external(a.data(), nbytes, a.owner());
        return;
    }
    if (esize == 1 || order_ == host_order()) {
        if (a.element_code() == TypeCode::Bool) {
            for (bool v : a.span<bool>()) u8(v ? 1 : 0);
        } else {
            raw(a.data(), nbytes);
        }
        return;
    }
    // the order is tested once per array, not once per element
    if (order_ == ByteOrder::Little) copy_elements<ByteOrder::Little>(a);
    else copy_elements<ByteOrder::Big>(a);
}

template <ByteOrder O> void Writer::copy_elements(const SharedArray& a) {
    const auto* src = static_cast<const std::byte*>(a.data());
    std::byte* dst = grow(a.byte_size());
    const std::size_t n = a.size();
    const auto each = [&]<class U>(std::type_identity<U>) {
        for (std::size_t i = 0; i < n; ++i)
            endian::store<U, O>(dst + sizeof(U) * i, endian::load<U, host_order()>(src + sizeof(U) * i));
    };
    switch (type_code::element_size(a.element_code())) {
    case 2: each(std::type_identity<std::uint16_t>{}); break;
    case 4: each(std::type_identity<std::uint32_t>{}); break;
    default: each(std::type_identity<std::uint64_t>{}); break;
    }
}

PVWIRE_DECL void Writer::begin_message(std::uint8_t command, std::uint8_t flags, std::uint8_t version) {
    auto& b = out_->bytes();
    hdr_at_ = b.size();
    ext_at_ = out_->external_bytes();
    // Room for a typical small message at once: growing an empty vector byte by byte
    // reallocates it four times before 64 bytes (geometric growth is kept for big batches).
    if (b.capacity() - b.size() < small_message)
        b.reserve(std::max(b.size() + small_message, 2 * b.capacity()));
    b.resize(hdr_at_ + 8);
    command_ = command;
    flags_ = flags & 0x41;
    version_ = version;
    in_msg_ = true;
    segmented_ = false;
}

PVWIRE_DECL void Writer::patch_header(std::uint8_t segment_bits) {
    auto& b = out_->bytes();
    const std::size_t body = (b.size() - hdr_at_ - 8) + (out_->external_bytes() - ext_at_);
    std::byte* h = b.data() + hdr_at_;
    h[0] = std::byte(0xCA);
    h[1] = std::byte(version_);
    h[2] = std::byte(flags_ | segment_bits | (order_ == ByteOrder::Big ? 0x80 : 0));
    h[3] = std::byte(command_);
    endian::store<std::uint32_t>(h + 4, std::uint32_t(body), order_);
}

PVWIRE_DECL void Writer::end_message() {
    patch_header(segmented_ ? 0x20 : 0x00);
    in_msg_ = false;
    segmented_ = false;
}

PVWIRE_DECL void Writer::control(std::uint8_t command, std::uint32_t data, std::uint8_t flags, std::uint8_t version) {
    auto& b = out_->bytes();
    const auto at = b.size();
    b.resize(at + 8);
    b[at] = std::byte(0xCA);
    b[at + 1] = std::byte(version);
    b[at + 2] = std::byte((flags & 0x41) | 0x01 | (order_ == ByteOrder::Big ? 0x80 : 0));
    b[at + 3] = std::byte(command);
    endian::store<std::uint32_t>(b.data() + at + 4, data, order_);
}

}  // namespace pvwire::wire
