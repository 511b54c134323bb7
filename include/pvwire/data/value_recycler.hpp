/// @file
/// ValueRecycler: fresh values of one type without an allocation each, for a stream of
/// updates (a monitor's decoded values). It keeps the last few values it handed out; when one
/// of them is no longer referenced anywhere else, the next make() resets and reuses it.
///
/// Besides saving malloc/free per update, this keeps the release of an update's storage on the
/// thread that made it: a consumer thread that drops an event only decrements a count, where a
/// free() of memory from another thread's malloc arena would contend for that arena's lock.
///
/// Only values without arrays, unions or variants are kept: an idle kept value would pin
/// array payloads (which may be views into large receive buffers) until its reuse.
///
/// Not thread-safe: one owner calls make(); the values it returns may go anywhere.
#pragma once

#include <pvwire/data/value.hpp>

#include <cstddef>
#include <vector>

namespace pvwire {

/// Hands out fresh values of a type, reusing the kept ones that nobody references any more
/// (see the file's description).
class ValueRecycler {
public:
    static constexpr std::size_t default_capacity = 8;  ///< values kept by default
    ValueRecycler() = default;
    /// Keeps at most `capacity` values.
    explicit ValueRecycler(std::size_t capacity) : capacity_(capacity) {}

    /// A value of `type`, every field zero / empty and no marks, as Value(type) makes.
    Value make(const TypePtr& type);
    /// Forgets the kept values (the ones still used elsewhere live on there).
    void clear() noexcept;
    /// Number of values kept now.
    std::size_t kept() const noexcept { return kept_.size(); }

private:
    std::size_t capacity_ = default_capacity;
    std::vector<Value> kept_;
    std::size_t next_ = 0;  ///< the kept slot a new value replaces when all are busy
    TypePtr checked_;  ///< the type `recyclable_` was worked out for (held: no later type reuses its address)
    bool recyclable_ = false;
};

}  // namespace pvwire

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/data/impl/value_recycler.ipp>
#endif
