/// @file
/// OutBuffer: encoded bytes ready to send, plus references to array payloads that are written
/// in place (scatter-gather) instead of being copied into the buffer.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

namespace pvwire::wire {

/// Bytes to send: an owned byte vector plus in-place pieces (see the file's description).
class OutBuffer {
public:
    /// Empties the buffer but keeps its capacity, so a reused buffer does not allocate.
    void clear() noexcept {
        bytes_.clear();
        ext_.clear();
        ext_bytes_ = 0;
    }
    ///@{
    /// The owned bytes (without the external pieces).
    std::vector<std::byte>& bytes() noexcept { return bytes_; }
    const std::vector<std::byte>& bytes() const noexcept { return bytes_; }
    ///@}

    /// Appends a reference to n bytes at `data`, kept alive by `keep`, at the current end.
    void add_external(const void* data, std::size_t n, std::shared_ptr<const void> keep) {
        ext_.push_back(External{bytes_.size(), static_cast<const std::byte*>(data), n, std::move(keep)});
        ext_bytes_ += n;
    }
    /// Appends `other`: its own bytes are copied, its external pieces referenced (sharing
    /// their keep-alive), so large arrays are still written in place.
    void append(const OutBuffer& other) {
        const std::size_t base = bytes_.size();
        bytes_.insert(bytes_.end(), other.bytes_.begin(), other.bytes_.end());
        for (const auto& e : other.ext_) {
            ext_.push_back(External{base + e.at, e.data, e.size, e.keep});
            ext_bytes_ += e.size;
        }
    }
    /// Bytes in external pieces.
    std::size_t external_bytes() const noexcept { return ext_bytes_; }
    /// Number of external pieces.
    std::size_t external_count() const noexcept { return ext_.size(); }

    /// Total bytes to send.
    std::size_t size() const noexcept { return bytes_.size() + ext_bytes_; }
    /// Nothing to send.
    bool empty() const noexcept { return size() == 0; }

    /// Calls f(std::span<const std::byte>) for each contiguous piece, in order.
    template <class F> void for_each_piece(F&& f) const {
        std::size_t at = 0;
        for (const auto& e : ext_) {
            if (e.at > at) f(std::span<const std::byte>(bytes_.data() + at, e.at - at));
            if (e.size) f(std::span<const std::byte>(e.data, e.size));
            at = e.at;
        }
        if (bytes_.size() > at) f(std::span<const std::byte>(bytes_.data() + at, bytes_.size() - at));
    }
    /// One contiguous copy (for tests, UDP and tools).
    std::vector<std::byte> flatten() const {
        std::vector<std::byte> out;
        out.reserve(size());
        for_each_piece([&](std::span<const std::byte> p) { out.insert(out.end(), p.begin(), p.end()); });
        return out;
    }

private:
    struct External {
        std::size_t at;  ///< position in bytes_ before which the piece goes
        const std::byte* data;
        std::size_t size;
        std::shared_ptr<const void> keep;
    };
    std::vector<std::byte> bytes_;
    std::vector<External> ext_;
    std::size_t ext_bytes_ = 0;
};

}  // namespace pvwire::wire
