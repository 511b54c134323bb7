#include <pvwire/data/value_recycler.hpp>
#include <pvwire/detail/header_only.hpp>

#include <atomic>

namespace pvwire {

PVWIRE_IMPL_NAMESPACE(value_recycler_impl) {
// Plain fields only: numbers, strings and structures of them.
PVWIRE_DECL bool plain(TypeCode c) {
    return !(type_code::is_array(c) || c == TypeCode::Union || c == TypeCode::Any);
}
PVWIRE_DECL bool plain_fields(const TypeDesc& t) {
    if (t.code() != TypeCode::Struct) return plain(t.code());
    for (const auto& f : t.flat())
        if (!plain(f.type->code())) return false;
    return true;
}
}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(value_recycler_impl)

PVWIRE_DECL Value ValueRecycler::make(const TypePtr& type) {
    if (!type || capacity_ == 0) return Value(type);
    if (type != checked_) {
        // a new type (the operation was re-initialised): the kept values are of the old one
        kept_.clear();
        next_ = 0;
        checked_ = type;
        recyclable_ = plain_fields(*type);
    }
    if (!recyclable_) return Value(type);
    for (auto& v : kept_) {
        // Referenced only here: nobody else can reach it, so it may be rewritten. The
        // acquire fence pairs with the release of the last other owner (shared_ptr's count
        // is read relaxed), so that owner's reads happen before the reset below.
        if (v.store_ptr().use_count() == 1) {
            std::atomic_thread_fence(std::memory_order_acquire);
            v.store()->reset();
            return v;
        }
    }
    Value fresh(type);
    if (kept_.size() < capacity_) {
        kept_.push_back(fresh);
    } else {
        kept_[next_] = fresh;  // every kept value is in use: keep the newest instead
        next_ = (next_ + 1) % capacity_;
    }
    return fresh;
}

PVWIRE_DECL void ValueRecycler::clear() noexcept {
    kept_.clear();
    next_ = 0;
    checked_.reset();
}

}  // namespace pvwire
