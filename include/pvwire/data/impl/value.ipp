#include <pvwire/data/value.hpp>
#include <pvwire/data/value_format.hpp>
#include <pvwire/detail/header_only.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <sstream>

namespace pvwire {
namespace detail {

PVWIRE_DECL Slot::Slot(std::string s) : box_(nullptr), kind_(Kind::String) {
    if (!s.empty()) box_ = new std::string(std::move(s));
}

PVWIRE_DECL Slot::Slot(SharedArray a) : box_(nullptr), kind_(Kind::Array), element_(a.element_code()) {
    if (!a.empty()) box_ = new SharedArray(std::move(a));
}

PVWIRE_DECL Slot::Slot(UnionSlot u) : box_(nullptr), kind_(Kind::Union) {
    if (u.selector >= 0 || u.member) box_ = new UnionSlot(std::move(u));
}

PVWIRE_DECL Slot Slot::for_type(const TypeDesc& t) {
    const TypeCode c = t.code();
    Slot slot;
    if (c == TypeCode::Struct) return slot;
    if (c == TypeCode::Union || c == TypeCode::Any) slot.kind_ = Kind::Union;
    else if (type_code::is_array(c)) {
        slot.kind_ = Kind::Array;
        slot.element_ = type_code::element_of(c);
    } else if (type_code::is_string(c)) slot.kind_ = Kind::String;
    else slot = Slot(Number{});
    return slot;
}

PVWIRE_DECL Slot::Slot(const Slot& other) : box_(nullptr), kind_(other.kind_), element_(other.element_) {
    switch (kind_) {
    case Kind::None: return;
    case Kind::Number: num_ = other.num_; return;
    case Kind::String: if (other.box_) box_ = new std::string(*static_cast<const std::string*>(other.box_)); return;
    case Kind::Array: if (other.box_) box_ = new SharedArray(*static_cast<const SharedArray*>(other.box_)); return;
    case Kind::Union: if (other.box_) box_ = new UnionSlot(*static_cast<const UnionSlot*>(other.box_)); return;
    }
}

PVWIRE_DECL void Slot::copy_boxed(const Slot& other) {
    if (this == &other) return;
    if (kind_ == other.kind_ && !other.box_) {  // the empty default: keep our box, emptied
        element_ = other.element_;
        return clear();
    }
    if (kind_ != other.kind_ || !box_) {
        *this = Slot(other);
        return;
    }
    switch (kind_) {  // the box's own assignment keeps a string's capacity
    case Kind::String: *static_cast<std::string*>(box_) = *static_cast<const std::string*>(other.box_); break;
    case Kind::Array: *static_cast<SharedArray*>(box_) = *static_cast<const SharedArray*>(other.box_); break;
    case Kind::Union: *static_cast<UnionSlot*>(box_) = *static_cast<const UnionSlot*>(other.box_); break;
    default: break;
    }
}

PVWIRE_DECL void Slot::copy_deep(const Slot& src) {
    if (const auto* u = src.get_if<UnionSlot>()) *this = Slot(UnionSlot{u->selector, u->member.clone()});
    else *this = src;
}

PVWIRE_DECL void Slot::clear() noexcept {
    switch (kind_) {
    case Kind::None: return;
    case Kind::Number: num_ = Number{}; return;
    case Kind::String: if (box_) static_cast<std::string*>(box_)->clear(); return;
    case Kind::Array: if (box_) *static_cast<SharedArray*>(box_) = empty_array(element_); return;
    case Kind::Union: if (box_) *static_cast<UnionSlot*>(box_) = UnionSlot{}; return;
    }
}

PVWIRE_DECL void Slot::destroy_box() noexcept {
    switch (kind_) {
    case Kind::None: case Kind::Number: return;
    case Kind::String: delete static_cast<std::string*>(box_); break;
    case Kind::Array: delete static_cast<SharedArray*>(box_); break;
    case Kind::Union: delete static_cast<UnionSlot*>(box_); break;
    }
    box_ = nullptr;
}

PVWIRE_DECL void Slot::wrong_kind(Kind wanted) const {
    static constexpr const char* names[] = {"nothing (a structure)", "a number", "a string", "an array", "a union"};
    throw ValueError(std::string("pvwire: a field holding ") + names[int(kind_)] + " was read as " +
                     names[int(wanted)]);
}

PVWIRE_DECL const SharedArray& empty_array(TypeCode element) noexcept {
    // one per type code, made once: what every array slot without a box reads as
    static const auto table = [] {
        std::array<SharedArray, 256> t;
        for (std::size_t c = 0; c < t.size(); ++c) t[c] = SharedArray::view(TypeCode(c), nullptr, 0, nullptr);
        return t;
    }();
    return table[std::size_t(element)];
}

PVWIRE_IMPL_NAMESPACE(value_store_impl) {
// make() asks allocate_shared for one block: the control block (which holds the ValueStore)
// and the slots after it. The allocator learns how many bytes the slots take, and tells where
// they start, through these two (the one call on this thread in between is allocate()):
// an allocator with members would be kept in every control block, 16 bytes of every value.
inline thread_local std::size_t t_slot_bytes = 0;
inline thread_local void* t_slot_memory = nullptr;

template <class T> struct TrailingSlots {
    using value_type = T;
    TrailingSlots() noexcept = default;
    template <class U> TrailingSlots(const TrailingSlots<U>&) noexcept {}
    T* allocate(std::size_t n) {
        const std::size_t head = (sizeof(T) * n + alignof(Slot) - 1) / alignof(Slot) * alignof(Slot);
        char* block = static_cast<char*>(::operator new(head + t_slot_bytes));
        t_slot_memory = block + head;
        return reinterpret_cast<T*>(block);
    }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p); }
    template <class U> bool operator==(const TrailingSlots<U>&) const noexcept { return true; }
};
}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(value_store_impl)

PVWIRE_DECL std::shared_ptr<ValueStore> ValueStore::make(TypePtr t) {
    if (!t) throw ValueError("pvwire: Value needs a type");
    t_slot_bytes = t->offset_count() * sizeof(Slot);
    return std::allocate_shared<ValueStore>(TrailingSlots<ValueStore>(), Key{}, std::move(t), &t_slot_memory);
}

PVWIRE_DECL ValueStore::ValueStore(Key, TypePtr t, void* const* slot_memory) noexcept
    : type(std::move(t)), slots(static_cast<Slot*>(*slot_memory)) {
    const auto& flat = type->flat();  // empty for a scalar, an array, a union and {}
    const std::uint32_t n = type->offset_count();
    for (std::uint32_t i = 0; i < n; ++i) new (slots.data() + i) Slot(Slot::for_type(flat.empty() ? *type : *flat[i].type));
}

PVWIRE_DECL ValueStore::~ValueStore() { std::destroy_n(slots.data(), type->offset_count()); }

PVWIRE_DECL void ValueStore::reset() noexcept {
    std::for_each(slots.data(), slots.data() + type->offset_count(), [](Slot& slot) { slot.clear(); });
    marks.clear();
}

PVWIRE_DECL void ValueStore::fill_unchanged(const ValueStore& prev, const BitSet& changed) {
    if (changed.test(0)) return;  // the whole value was sent
    auto copy = [&](std::uint32_t off) { slots[off].copy_deep(prev.slots[off]); };
    const auto& flat = type->flat();
    if (flat.empty()) return copy(0);  // a top-level scalar, not sent
    for (std::uint32_t b = 1; b < flat.size();) {
        if (changed.test(b))
            b = flat[b].end;  // sent, with everything below it
        else if (flat[b].type->code() == TypeCode::Struct)
            ++b;  // look inside: some members may have been sent
        else
            copy(b++);
    }
}

PVWIRE_DECL std::string describe_field(const Value& v) {
    if (!v.valid()) return "null Value";
    std::string path;
    const ValueStore* s = v.store();
    if (s->type->code() == TypeCode::Struct) {
        for (std::uint32_t off = v.offset(); off != 0; off = s->type->flat()[off].parent) {
            const auto name = s->type->flat()[off].name;
            path = path.empty() ? std::string(name) : std::string(name) + "." + path;
        }
    }
    return "field '" + (path.empty() ? std::string("<top>") : path) + "' (" + v.type().type_name() + ")";
}

PVWIRE_DECL void fail_conversion(std::string* why, const Value& v, std::string_view to) {
    if (why) *why = "pvwire: cannot convert " + describe_field(v) + " to " + std::string(to);
}

PVWIRE_DECL bool add_field(std::string* why, const Value& v) {
    if (why) *why += " in " + describe_field(v);
    return false;
}

PVWIRE_DECL bool number_to(const TypeDesc& t, const Number& n, std::int64_t& out, std::string* why) {
    const TypeCode c = t.code();
    if (type_code::is_float(c)) {
        if (!(n.d >= -9223372036854775808.0 && n.d < 9223372036854775808.0)) {
            if (why) *why = "pvwire: floating value " + format_double(n.d) + " does not fit an integer";
            return false;
        }
        out = std::int64_t(n.d);
    } else if (type_code::is_unsigned(c)) {
        if (n.u > std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
            if (why) *why = "pvwire: unsigned value " + std::to_string(n.u) + " does not fit a signed integer";
            return false;
        }
        out = std::int64_t(n.u);
    } else {
        out = n.i;
    }
    return true;
}
PVWIRE_DECL bool number_to(const TypeDesc& t, const Number& n, std::uint64_t& out, std::string* why) {
    const TypeCode c = t.code();
    if (type_code::is_float(c)) {
        if (!(n.d >= 0 && n.d < 18446744073709551616.0)) {
            if (why) *why = "pvwire: floating value " + format_double(n.d) + " does not fit an unsigned integer";
            return false;
        }
        out = std::uint64_t(n.d);
    } else if (type_code::is_unsigned(c) || c == TypeCode::Bool) {
        out = n.u;
    } else {
        if (n.i < 0) {
            if (why) *why = "pvwire: negative value " + std::to_string(n.i) + " does not fit an unsigned integer";
            return false;
        }
        out = std::uint64_t(n.i);
    }
    return true;
}
PVWIRE_DECL bool number_to(const TypeDesc& t, const Number& n, double& out, std::string*) {
    const TypeCode c = t.code();
    if (type_code::is_float(c)) out = n.d;
    else if (type_code::is_unsigned(c) || c == TypeCode::Bool) out = double(n.u);
    else out = double(n.i);
    return true;
}
PVWIRE_DECL std::string format_double(double d) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, r.ptr);
}
PVWIRE_DECL bool number_to_string(const TypeDesc& t, const Number& n, std::string& out) {
    const TypeCode c = t.code();
    if (c == TypeCode::Bool) out = n.u ? "true" : "false";
    else if (c == TypeCode::Float32) {
        char buf[64];  // shortest form of the float itself, not of its widened double
        auto r = std::to_chars(buf, buf + sizeof buf, float(n.d));
        out.assign(buf, r.ptr);
    }
    else if (type_code::is_float(c)) out = format_double(n.d);
    else if (type_code::is_unsigned(c)) out = std::to_string(n.u);
    else out = std::to_string(n.i);
    return true;
}

PVWIRE_IMPL_NAMESPACE(value_impl) {
PVWIRE_DECL bool range_error(const TypeDesc& t, std::string* why, const std::string& v) {
    if (why) *why = "pvwire: value " + v + " is out of range for " + t.type_name();
    return false;
}
}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(value_impl)

PVWIRE_DECL bool number_from(const TypeDesc& t, Number& n, std::int64_t v, std::string* why) {
    const TypeCode c = t.code();
    if (c == TypeCode::Bool) n.u = v != 0;
    else if (type_code::is_float(c)) n.d = c == TypeCode::Float32 ? double(float(v)) : double(v);
    else if (type_code::is_unsigned(c)) {
        if (v < 0 || !type_code::in_range(t.code(), v)) return range_error(t, why, std::to_string(v));
        n.u = std::uint64_t(v);
    } else {
        if (!type_code::in_range(t.code(), v)) return range_error(t, why, std::to_string(v));
        n.i = v;
    }
    return true;
}
PVWIRE_DECL bool number_from(const TypeDesc& t, Number& n, std::uint64_t v, std::string* why) {
    const TypeCode c = t.code();
    if (c == TypeCode::Bool) n.u = v != 0;
    else if (type_code::is_float(c)) n.d = c == TypeCode::Float32 ? double(float(v)) : double(v);
    else if (type_code::is_unsigned(c)) {
        if (!type_code::in_range(t.code(), v)) return range_error(t, why, std::to_string(v));
        n.u = v;
    } else {
        if (v > std::uint64_t(std::numeric_limits<std::int64_t>::max()) || !type_code::in_range(t.code(), std::int64_t(v)))
            return range_error(t, why, std::to_string(v));
        n.i = std::int64_t(v);
    }
    return true;
}
PVWIRE_DECL bool number_from(const TypeDesc& t, Number& n, double v, std::string* why) {
    const TypeCode c = t.code();
    if (c == TypeCode::Bool) n.u = v != 0;
    else if (type_code::is_float(c)) n.d = c == TypeCode::Float32 ? double(float(v)) : v;
    else {
        if (std::isnan(v) || v != std::floor(v)) {
            if (why) *why = "pvwire: " + format_double(v) + " is not an integer, needed for " + t.type_name();
            return false;
        }
        if (type_code::is_unsigned(c)) {
            if (!(v >= 0 && v < 18446744073709551616.0)) return range_error(t, why, format_double(v));
            return number_from(t, n, std::uint64_t(v), why);
        }
        if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0))
            return range_error(t, why, format_double(v));
        return number_from(t, n, std::int64_t(v), why);
    }
    return true;
}

PVWIRE_DECL bool parse_number(std::string_view s, double& out) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    if (s.empty()) return false;
    if (s.front() == '+') s.remove_prefix(1);
    auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return true;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        std::uint64_t u;
        auto r2 = std::from_chars(s.data() + 2, s.data() + s.size(), u, 16);
        if (r2.ec == std::errc() && r2.ptr == s.data() + s.size()) {
            out = double(u);
            return true;
        }
    }
    return false;
}

PVWIRE_DECL bool number_from_string(const TypeDesc& t, Number& n, std::string_view s, std::string* why) {
    if (type_code::is_integer(t.code())) {
        // exact integer parse first, so 64-bit values keep every digit
        std::string_view v = s;
        if (!v.empty() && v.front() == '+') v.remove_prefix(1);
        if (type_code::is_unsigned(t.code())) {
            std::uint64_t u;
            auto r = std::from_chars(v.data(), v.data() + v.size(), u);
            if (r.ec == std::errc() && r.ptr == v.data() + v.size()) return number_from(t, n, u, why);
        } else {
            std::int64_t i;
            auto r = std::from_chars(v.data(), v.data() + v.size(), i);
            if (r.ec == std::errc() && r.ptr == v.data() + v.size()) return number_from(t, n, i, why);
        }
    }
    if (t.code() == TypeCode::Bool) {
        if (s == "true" || s == "1") { n.u = 1; return true; }
        if (s == "false" || s == "0") { n.u = 0; return true; }
    }
    double d;
    if (!parse_number(s, d)) {
        if (why) *why = "pvwire: \"" + std::string(s) + "\" is not a number, needed for " + t.type_name();
        return false;
    }
    return number_from(t, n, d, why);
}

PVWIRE_IMPL_NAMESPACE(value_impl) {
template <class From, class To> bool convert_elements(std::span<const From> in, std::vector<To>& out,
                                                      std::string* why) {
    out.resize(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if constexpr (std::is_same_v<From, To>) out[i] = in[i];
        else if constexpr (std::is_same_v<To, std::string>) {
            if constexpr (std::is_same_v<From, bool>) out[i] = in[i] ? "true" : "false";
            else if constexpr (std::is_floating_point_v<From>) {  // shortest text of the element's own type
                char buf[64];
                auto r = std::to_chars(buf, buf + sizeof buf, in[i]);
                out[i].assign(buf, r.ptr);
            }
            else out[i] = std::to_string(in[i]);
        } else if constexpr (std::is_same_v<From, std::string>) {
            Number n;
            auto t = TypeDesc::scalar(code_of<To>());
            if (!number_from_string(*t, n, in[i], why)) return false;
            if constexpr (std::is_same_v<To, bool>) out[i] = n.u != 0;
            else if constexpr (std::is_floating_point_v<To>) out[i] = To(n.d);
            else if constexpr (std::is_signed_v<To>) out[i] = To(n.i);
            else out[i] = To(n.u);
        } else if constexpr (std::is_same_v<To, bool>) {
            out[i] = in[i] != From(0);
        } else if constexpr (std::is_floating_point_v<To>) {
            out[i] = To(in[i]);
        } else {
            // integer target: range and integrality checks
            if constexpr (std::is_floating_point_v<From>) {
                if (std::isnan(in[i]) || in[i] != std::floor(in[i]) ||
                    double(in[i]) < double(std::numeric_limits<To>::min()) ||
                    double(in[i]) >= double(std::numeric_limits<To>::max() / 2 + 1) * 2.0) {
                    if (why) *why = "pvwire: array element " + std::to_string(i) + " (" +
                                    format_double(double(in[i])) + ") does not fit the target integer type";
                    return false;
                }
                out[i] = To(in[i]);
            } else {
                using W = std::conditional_t<std::is_signed_v<From>, std::int64_t, std::uint64_t>;
                const W w = W(in[i]);
                bool ok;
                if constexpr (std::is_signed_v<From> && std::is_unsigned_v<To>)
                    ok = w >= 0 && std::uint64_t(w) <= std::uint64_t(std::numeric_limits<To>::max());
                else if constexpr (std::is_unsigned_v<From> && std::is_signed_v<To>)
                    ok = w <= std::uint64_t(std::numeric_limits<To>::max());
                else
                    ok = w >= W(std::numeric_limits<To>::min()) && w <= W(std::numeric_limits<To>::max());
                if (!ok) {
                    if (why) *why = "pvwire: array element " + std::to_string(i) + " does not fit the target integer type";
                    return false;
                }
                out[i] = To(w);
            }
        }
    }
    return true;
}

// A conversion between element types: T is void for codes without one.
template <class F> bool visit_element(TypeCode c, F&& f) {
    return type_code::visit_scalar_type(c, [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_void_v<T>) return false;
        else return f(T{});
    });
}
}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(value_impl)

PVWIRE_DECL bool convert_array(const SharedArray& in, TypeCode to, SharedArray& out, std::string* why) {
    if (to == TypeCode::BoundedString) to = TypeCode::String;
    if (in.element_code() == to || (in.empty() && in.element_code() == TypeCode::Null)) {
        out = in.empty() ? SharedArray::view(to, nullptr, 0, nullptr) : in;
        return true;
    }
    return visit_element(in.element_code(), [&](auto from_tag) {
        using From = decltype(from_tag);
        auto src = in.span<From>();
        return visit_element(to, [&](auto to_tag) {
            using To = decltype(to_tag);
            std::vector<To> v;
            if (!convert_elements<From, To>(src, v, why)) return false;
            out = SharedArray::from(std::move(v));
            return true;
        });
    }) || ([&] {
        if (why && why->empty())
            *why = "pvwire: cannot convert an array of " + std::string(type_code::name(in.element_code())) +
                   " to an array of " + std::string(type_code::name(to));
        return false;
    }());
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------

PVWIRE_DECL Value::Value(TypePtr type) : store_(detail::ValueStore::make(std::move(type))) {}

PVWIRE_DECL const TypeDesc& Value::type() const {
    if (!store_) throw ValueError("pvwire: type() of a null Value");
    return store_->type_at(offset_);
}

PVWIRE_DECL TypePtr Value::type_ptr() const {
    if (!store_) return nullptr;
    if (offset_ == 0) return store_->type;
    return TypePtr(store_->type, store_->type->flat()[offset_].type);
}

PVWIRE_DECL Value Value::root() const { return store_ ? Value(store_, 0) : Value(); }

PVWIRE_DECL Value Value::field(std::string_view path) const noexcept {
    if (!store_) return {};
    const TypeDesc& t = type();
    if (path.empty()) return *this;
    if (t.code() != TypeCode::Struct) {
        // allow navigating through a union/any to its contained value
        if (t.code() == TypeCode::Union || t.code() == TypeCode::Any) {
            auto c = contained();
            return c ? c.field(path) : Value();
        }
        return {};
    }
    // resolve the longest structure prefix, then continue inside unions/any
    const TypeDesc* cur = &t;
    std::uint32_t off = offset_;
    while (!path.empty()) {
        const auto dot = path.find('.');
        const auto part = path.substr(0, dot);
        const auto rest = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
        if (cur->code() != TypeCode::Struct) {
            if (cur->code() != TypeCode::Union && cur->code() != TypeCode::Any) return {};
            Value here(store_, off);
            auto c = here.contained();
            return c ? c.field(path) : Value();
        }
        const auto idx = cur->member_index(part);
        if (!idx) return {};
        off += cur->member_offset(*idx);
        cur = cur->member_type(*idx).get();
        path = rest;
    }
    return Value(store_, off);
}

PVWIRE_DECL Value Value::operator[](std::string_view path) const {
    Value v = field(path);
    if (!v) {
        throw ValueError("pvwire: no field '" + std::string(path) + "' in " +
                         (store_ ? detail::describe_field(*this) : std::string("null Value")));
    }
    return v;
}

PVWIRE_DECL Value Value::member(std::size_t i) const {
    const TypeDesc& t = type();
    if (t.code() != TypeCode::Struct || i >= t.member_count())
        throw ValueError("pvwire: no member " + std::to_string(i) + " in " + detail::describe_field(*this));
    return Value(store_, offset_ + t.member_offset(i));
}

PVWIRE_DECL SharedArray Value::array() const {
    if (!store_) throw ValueError("pvwire: array() of a null Value");
    if (auto* a = std::as_const(store_->slots[offset_]).get_if<SharedArray>()) return *a;
    throw ValueError("pvwire: " + detail::describe_field(*this) + " is not an array");
}

PVWIRE_DECL void Value::set_array(SharedArray a) {
    if (!store_) throw ValueError("pvwire: set_array() on a null Value");
    auto* slot = store_->slots[offset_].get_if<SharedArray>();
    if (!slot) throw ValueError("pvwire: " + detail::describe_field(*this) + " is not an array");
    const TypeCode want = type_code::element_of(type().code());
    const TypeCode want_store = want == TypeCode::BoundedString ? TypeCode::String : want;
    if (a.empty() && a.element_code() != want_store) a = SharedArray::view(want_store, nullptr, 0, nullptr);
    if (a.element_code() != want_store)
        throw ValueError("pvwire: array of " + std::string(type_code::name(a.element_code())) +
                         " given for " + detail::describe_field(*this));
    const ArrayKind kind = type_code::array_kind(type_code::raw(type().code()));
    if (kind == ArrayKind::Bounded && a.size() > type().bound())
        throw ValueError("pvwire: " + std::to_string(a.size()) + " elements exceed the bound of " +
                         detail::describe_field(*this));
    if (kind == ArrayKind::Fixed && a.size() != type().bound())
        throw ValueError("pvwire: " + std::to_string(a.size()) + " elements given for " +
                         detail::describe_field(*this) + ", which holds exactly " + std::to_string(type().bound()));
    *slot = std::move(a);
    mark();
}

PVWIRE_DECL int Value::selected() const {
    if (!store_) return -1;
    if (auto* u = std::as_const(store_->slots[offset_]).get_if<detail::UnionSlot>()) return u->selector;
    throw ValueError("pvwire: " + detail::describe_field(*this) + " is not a union");
}

PVWIRE_DECL std::string_view Value::selected_name() const {
    const int s = selected();
    if (s < 0 || type().code() != TypeCode::Union) return {};
    return type().member_name(std::size_t(s));
}

PVWIRE_DECL Value Value::contained() const {
    if (!store_) return {};
    if (auto* u = std::as_const(store_->slots[offset_]).get_if<detail::UnionSlot>()) return u->member;
    throw ValueError("pvwire: " + detail::describe_field(*this) + " is not a union or any");
}

PVWIRE_DECL Value Value::select(std::size_t index) {
    const TypeDesc& t = type();
    if (t.code() != TypeCode::Union || index >= t.member_count())
        throw ValueError("pvwire: cannot select member " + std::to_string(index) + " of " +
                         detail::describe_field(*this));
    auto& u = store_->slots[offset_].get<detail::UnionSlot>();
    if (u.selector != int(index) || !u.member) {
        u.selector = int(index);
        u.member = Value(t.member_type(index));
    }
    mark();
    return u.member;
}

PVWIRE_DECL Value Value::select(std::string_view name) {
    const auto idx = type().member_index(name);
    if (!idx)
        throw ValueError("pvwire: union " + detail::describe_field(*this) + " has no member '" +
                         std::string(name) + "'");
    return select(*idx);
}

PVWIRE_DECL void Value::clear_selection() {
    if (!store_) throw ValueError("pvwire: clear_selection() on a null Value");
    auto* u = store_->slots[offset_].get_if<detail::UnionSlot>();
    if (!u) throw ValueError("pvwire: " + detail::describe_field(*this) + " is not a union or any");
    u->selector = -1;
    u->member = Value();
    mark();
}

PVWIRE_DECL void Value::set_contained(Value v) {
    if (!store_) throw ValueError("pvwire: set_contained() on a null Value");
    auto* u = store_->slots[offset_].get_if<detail::UnionSlot>();
    if (!u) throw ValueError("pvwire: " + detail::describe_field(*this) + " is not a union or any");
    const TypeDesc& t = type();
    if (t.code() == TypeCode::Any) {
        u->selector = -1;
        u->member = std::move(v);
    } else {
        if (!v) {
            u->selector = -1;
            u->member = Value();
        } else {
            std::optional<std::size_t> found;
            for (std::size_t i = 0; i < t.member_count() && !found; ++i)
                if (*t.member_type(i) == v.type()) found = i;
            if (!found)
                throw ValueError("pvwire: no member of union " + detail::describe_field(*this) +
                                 " has type " + v.type().type_name());
            u->selector = int(*found);
            u->member = v.offset() == 0 ? std::move(v) : v.clone();
        }
    }
    mark();
}

PVWIRE_DECL bool Value::is_marked() const { return store_ && store_->marks.test(offset_); }
PVWIRE_DECL void Value::mark(bool on) {
    if (store_) store_->marks.set(offset_, on);
}
PVWIRE_DECL void Value::unmark() {
    if (!store_) return;
    store_->marks.reset_range(offset_, offset_ + type().offset_count());
}
PVWIRE_DECL void Value::mark_all() {
    if (!store_) return;
    store_->marks.set_range(offset_, offset_ + type().offset_count());
}
PVWIRE_DECL const BitSet& Value::marks() const {
    if (!store_) throw ValueError("pvwire: marks() of a null Value");
    return store_->marks;
}
PVWIRE_DECL BitSet& Value::marks() {
    if (!store_) throw ValueError("pvwire: marks() of a null Value");
    return store_->marks;
}
PVWIRE_DECL bool Value::is_changed() const {
    if (!store_) return false;
    if (store_->marks.any_in(offset_, offset_ + type().offset_count())) return true;
    if (store_->type->code() != TypeCode::Struct) return false;
    for (std::uint32_t p = offset_; p != 0;) {
        p = store_->type->flat()[p].parent;
        if (store_->marks.test(p)) return true;
    }
    return false;
}

PVWIRE_DECL Value Value::clone() const {
    if (!store_) return {};
    Value out(type_ptr());
    const std::uint32_t n = type().offset_count();
    for (std::uint32_t i = 0; i < n; ++i) {
        out.store_->slots[i].copy_deep(store_->slots[offset_ + i]);
        if (store_->marks.test(offset_ + i)) out.store_->marks.set(i);
    }
    return out;
}

PVWIRE_DECL void Value::assign(const Value& other) {
    if (!store_ || !other.store_) throw ValueError("pvwire: assign() with a null Value");
    const TypeDesc& t = type();
    const TypeDesc& o = other.type();
    if (&t == &o || t == o) {
        const std::uint32_t n = t.offset_count();
        for (std::uint32_t i = 0; i < n; ++i)
            store_->slots[offset_ + i].copy_deep(other.store_->slots[other.offset_ + i]);
        mark_all();
        return;
    }
    std::string why;
    switch (t.code()) {
    case TypeCode::Struct:
        if (o.code() != TypeCode::Struct) {
            if (auto v = field("value")) return v.assign(other);
            break;
        }
        for (std::size_t i = 0; i < t.member_count(); ++i)
            if (auto src = other.field(t.member_name(i))) member(i).assign(src);
        return;
    case TypeCode::Union:
        if (o.code() == TypeCode::Union) {
            const int s = other.selected();
            if (s < 0) return clear_selection();
            return select(other.selected_name()).assign(other.contained());
        }
        set_contained(other);
        return;
    case TypeCode::Any:
        if (o.code() == TypeCode::Any || o.code() == TypeCode::Union)
            return set_contained(other.contained() ? other.contained().clone() : Value());
        return set_contained(other.clone());
    default:
        if (type_code::is_array(t.code())) {
            SharedArray a;
            if (!other.convert_to(a, &why)) break;
            SharedArray c;
            if (!detail::convert_array(a, type_code::element_of(t.code()), c, &why))
                throw ValueError(why + " (assigning to " + detail::describe_field(*this) + ")");
            set_array(std::move(c));
            return;
        }
        if (type_code::is_string(t.code())) return set(other.as<std::string>());
        if (type_code::is_float(t.code())) return set(other.as<double>());
        if (type_code::is_unsigned(t.code())) return set(other.as<std::uint64_t>());
        if (t.code() == TypeCode::Bool) return set(other.as<bool>());
        return set(other.as<std::int64_t>());
    }
    throw ValueError("pvwire: cannot assign " + detail::describe_field(other) + " to " +
                     detail::describe_field(*this) + (why.empty() ? "" : ": " + why));
}

PVWIRE_IMPL_NAMESPACE(value_impl) {
PVWIRE_DECL bool slots_equal(const TypeDesc& t, const detail::Slot& a, const detail::Slot& b) {
    if (a.kind() != b.kind()) return false;
    if (auto* n = a.get_if<detail::Number>()) {
        const auto& m = b.get<detail::Number>();
        if (type_code::is_float(t.code())) return n->u == m.u || n->d == m.d;
        return n->u == m.u;
    }
    if (auto* s = a.get_if<std::string>()) return *s == b.get<std::string>();
    if (auto* u = a.get_if<detail::UnionSlot>()) {
        const auto& w = b.get<detail::UnionSlot>();
        if (u->selector != w.selector || u->member.valid() != w.member.valid()) return false;
        return !u->member.valid() || u->member.equals(w.member);
    }
    if (auto* x = a.get_if<SharedArray>()) {
        const auto& y = b.get<SharedArray>();
        if (x->size() != y.size()) return false;
        if (x->empty()) return true;
        if (x->element_code() != y.element_code()) return false;
        if (type_code::is_numeric(x->element_code()))
            return std::memcmp(x->data(), y.data(), x->byte_size()) == 0;
        if (x->element_code() == TypeCode::String)
            return std::equal(x->span<std::string>().begin(), x->span<std::string>().end(),
                              y.span<std::string>().begin());
        auto xs = x->span<Value>(), ys = y.span<Value>();
        for (std::size_t i = 0; i < xs.size(); ++i) {
            if (xs[i].valid() != ys[i].valid()) return false;
            if (xs[i].valid() && !xs[i].equals(ys[i])) return false;
        }
        return true;
    }
    return true;
}
}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(value_impl)

PVWIRE_DECL bool Value::equals(const Value& other) const {
    if (!store_ || !other.store_) return store_ == other.store_;
    const TypeDesc& t = type();
    if (!(t == other.type())) return false;
    const std::uint32_t n = t.offset_count();
    for (std::uint32_t i = 0; i < n; ++i) {
        const TypeDesc& ft = store_->type_at(offset_ + i);
        if (!slots_equal(ft, store_->slots[offset_ + i], other.store_->slots[other.offset_ + i]))
            return false;
    }
    return true;
}

// ---- text form ----------------------------------------------------------------------------

PVWIRE_DECL void append_quoted(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        if (c == '"' || c == '\\') (out += '\\') += c;
        else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
            out += buf;
        } else out += c;
    }
    out += '"';
}

PVWIRE_DECL std::string Value::to_string() const {
    return format_value(*this, FormatOptions{ValueFormat::Pvget, 0, 0});
}

}  // namespace pvwire
