/// @file
/// The per-connection introspection cache (0xFD define / 0xFE reference, protocol.md §3.3).
///
/// Each direction of a connection has its own key space. The receiving side (TypeCache) stores
/// what the peer defined; the sending side (TypeRegistry) remembers what we defined. Neither
/// is thread-safe: each belongs to one connection direction.
#pragma once

#include <pvwire/data/type_desc.hpp>
#include <pvwire/wire/limits.hpp>

#include <cstdint>
#include <optional>
#include <unordered_map>

namespace pvwire::wire {

/// Types the peer has defined, by key.
class TypeCache {
public:
    /// The type under `key`, or null if the peer never defined it.
    const TypePtr* find(std::uint16_t key) const noexcept {
        auto it = map_.find(key);
        return it == map_.end() ? nullptr : &it->second;
    }
    /// Stores a definition. A key defined twice keeps its first type (what PVXS does); returns
    /// false when storing would exceed `max_fields` in total.
    bool define(std::uint16_t key, const TypePtr& type, std::size_t max_fields) {
        if (map_.count(key)) return true;
        const std::size_t n = type ? type->offset_count() + type->member_count() : 1;
        if (fields_ + n > max_fields) return false;
        fields_ += n;
        map_.emplace(key, type);
        return true;
    }
    /// Number of keys defined.
    std::size_t size() const noexcept { return map_.size(); }
    /// Forgets every definition.
    void clear() noexcept {
        map_.clear();
        fields_ = 0;
    }

private:
    std::unordered_map<std::uint16_t, TypePtr> map_;
    std::size_t fields_ = 0;
};

/// Types we have defined to the peer, looked up by structural equality, keyed 1, 2, 3, ... in
/// the order their descriptions start (pvAccessCPP's numbering). When the 16-bit key space is
/// used up, further types are simply sent in full.
class TypeRegistry {
public:
    /// The key of a type structurally equal to `t`, if one was defined.
    std::optional<std::uint16_t> find(const TypePtr& t) const {
        auto it = keys_.find(t);
        if (it == keys_.end()) return std::nullopt;
        return it->second;
    }
    /// Allocates a key for t, or nothing when the key space is exhausted.
    std::optional<std::uint16_t> add(const TypePtr& t) {
        if (next_ == 0) return std::nullopt;  // wrapped: full
        const std::uint16_t k = next_++;
        keys_.emplace(t, k);
        return k;
    }
    /// Number of types defined.
    std::size_t size() const noexcept { return keys_.size(); }
    /// Forgets every definition; keys start again at 1.
    void clear() {
        keys_.clear();
        next_ = 1;
    }

private:
    std::unordered_map<TypePtr, std::uint16_t, TypeHash, TypeEqual> keys_;
    std::uint16_t next_ = 1;
};

}  // namespace pvwire::wire
