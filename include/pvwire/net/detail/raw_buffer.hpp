// RawBuffer: a fixed-size byte buffer whose storage is not zero-filled. Receive buffers are
// sized for large messages but mostly hold small ones, and the kernel commits memory only for
// the pages written: an idle connection's 64 KiB buffer costs a page or two of RSS instead of
// 64 KiB (a std::vector<std::byte> zero-fills, touching every page). An implementation detail of the transports.
#pragma once

#include <cstddef>
#include <memory>

namespace pvwire::net::detail {

class RawBuffer {
public:
    explicit RawBuffer(std::size_t n) : data_(new std::byte[n]), size_(n) {}  // default-initialised
    std::byte* data() noexcept { return data_.get(); }
    const std::byte* data() const noexcept { return data_.get(); }
    std::size_t size() const noexcept { return size_; }

private:
    std::unique_ptr<std::byte[]> data_;
    std::size_t size_;
};

}  // namespace pvwire::net::detail
