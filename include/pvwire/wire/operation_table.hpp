/// @file
/// OperationTable: what a connection's decoder must remember about open operations: the
/// command and the data types their INIT replies announced, by ioid. Data replies and PUT
/// requests cannot be decoded without them.
#pragma once

#include <pvwire/data/type_desc.hpp>
#include <pvwire/data/value_recycler.hpp>

#include <cstdint>
#include <unordered_map>
#include <utility>

namespace pvwire::wire {

/// The types one open operation decodes its data with, learned from its INIT exchange.
struct OperationTypes {
    OperationTypes() = default;
    /// An operation of command `cmd` with data type `t` (and for PUT_GET get type `t2`).
    OperationTypes(std::uint8_t cmd, TypePtr t, TypePtr t2 = nullptr)
        : command(cmd), type(std::move(t)), type2(std::move(t2)) {}

    std::uint8_t command = 0;  ///< the operation's command (Command)
    TypePtr type;    ///< GET/PUT/MONITOR/ARRAY data type; PUT_GET put type
    TypePtr type2;   ///< PUT_GET get type
    ValueRecycler updates;  ///< MONITOR updates decode into recycled values of `type`
};

/// The open operations of a connection by ioid, bounded.
class OperationTable {
public:
    /// A table of at most `max_entries` operations.
    explicit OperationTable(std::size_t max_entries = 65536) : max_(max_entries) {}

    ///@{
    /// The operation `ioid`, or null.
    const OperationTypes* find(std::uint32_t ioid) const noexcept {
        auto it = map_.find(ioid);
        return it == map_.end() ? nullptr : &it->second;
    }
    OperationTypes* find(std::uint32_t ioid) noexcept {
        auto it = map_.find(ioid);
        return it == map_.end() ? nullptr : &it->second;
    }
    ///@}
    /// Returns false when the table is full (the bound protects against a peer opening
    /// operations without end).
    bool set(std::uint32_t ioid, OperationTypes t) {
        auto it = map_.find(ioid);
        if (it != map_.end()) {
            it->second = std::move(t);
            return true;
        }
        if (map_.size() >= max_) return false;
        map_.emplace(ioid, std::move(t));
        return true;
    }
    /// Forgets operation `ioid` (destroyed).
    void erase(std::uint32_t ioid) noexcept { map_.erase(ioid); }
    /// Number of operations known.
    std::size_t size() const noexcept { return map_.size(); }
    /// Forgets every operation.
    void clear() noexcept { map_.clear(); }

private:
    std::size_t max_;
    std::unordered_map<std::uint32_t, OperationTypes> map_;
};

}  // namespace pvwire::wire
