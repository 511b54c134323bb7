// The value encoder and decoder, templates over their Writer or Reader: the run-time ones
// (value_codec.ipp) and the fixed-order ones of the hot paths (GET replies, MONITOR updates).
// The compiled library instantiates each in a translation unit of its own
// (src/wire/value_codec*.cpp), so that the compiler inlines each as fully as it did when there
// was only one.
#pragma once

#include <pvwire/wire/value_codec.hpp>
#include <pvwire/detail/header_only.hpp>

#include <pvwire/wire/type_codec.hpp>

namespace pvwire::wire {

PVWIRE_IMPL_NAMESPACE(value_codec_impl) {

using pvwire::detail::Number;
using pvwire::detail::Slot;
using pvwire::detail::UnionSlot;

// Elements in the other byte order: the swap is decided once, not per element.
template <class T> void swap_copy(T* dst, const std::byte* src, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = endian::load_swapped_if<T>(src + i * sizeof(T), true);
}

template <class T, class R> SharedArray read_numeric(R& r, std::size_t n) {
    const std::byte* src = r.cursor();
    const std::size_t nbytes = n * sizeof(T);
    r.skip(nbytes, "array elements");
    if (!r.ok()) return {};
    constexpr TypeCode code = pvwire::detail::code_of<T>();
    if (n == 0) return SharedArray::view(code, nullptr, 0, nullptr);
    if (r.owner() && r.order() == host_order() &&
        reinterpret_cast<std::uintptr_t>(src) % alignof(T) == 0)
        return SharedArray::view(code, src, n, r.owner());  // zero-copy
    std::shared_ptr<T[]> buf(new T[n]);
    if (sizeof(T) == 1 || r.order() == host_order()) std::memcpy(buf.get(), src, nbytes);
    else swap_copy(buf.get(), src, n);
    const T* data = buf.get();
    return SharedArray::view(code, data, n, std::move(buf));
}

// R: Reader, or FixedOrderReader for the hot paths (see decode_partial below).
template <class R> struct ValueDecoder {
    R& r;
    TypeCache* cache;
    // Fields this decode may still create for union members, variant contents and array
    // elements (Limits::max_fields): one per input byte plus the limit, so a few bytes cannot
    // stand for millions of fields.
    std::size_t budget = r.limits().max_fields + r.remaining();

    bool spend(std::size_t n) {
        if (n > budget) {
            r.fail(errc::too_large, "value", "creates more fields than the input and the field limit allow");
            return false;
        }
        budget -= n;
        return true;
    }

    // Decodes the full value of field `off` of `store` (whose type is t).
    void field(pvwire::detail::ValueStore& store, std::uint32_t off, const TypeDesc& t, int depth) {
        Slot& slot = store.slots[off];
        const TypeCode c = t.code();
        switch (c) {
        case TypeCode::Struct: {
            // leaves in depth-first order; structure nodes carry no bytes
            const auto& flat = store.type->code() == TypeCode::Struct ? store.type->flat()
                                                                       : t.flat();
            const std::uint32_t end = off + t.offset_count();
            for (std::uint32_t i = off + 1; i < end && r.ok(); ++i) {
                const TypeDesc& ft = *flat[i].type;
                if (ft.code() != TypeCode::Struct) field(store, i, ft, depth + 1);
            }
            return;
        }
        case TypeCode::BoundedString: {
            const auto s = r.string("bounded string");
            if (s.size() > t.bound())
                r.fail(errc::bad_value, "bounded string",
                       "length " + std::to_string(s.size()) + " exceeds bound " + std::to_string(t.bound()));
            slot.set_string(s);
            return;
        }
        case TypeCode::Union: {
            auto& u = slot.get<UnionSlot>();
            union_value(u, t, depth);
            return;
        }
        case TypeCode::Any: {
            auto& u = slot.get<UnionSlot>();
            any_value(u, depth);
            return;
        }
        default:
            if (type_code::is_array(c)) {
                // drop the old payload first: decoding into a reused Value then recycles its
                // (cache-warm) memory instead of holding two arrays at once
                auto& a = slot.get<SharedArray>();
                a = SharedArray();
                a = array(t, depth);
                return;
            }
            scalar(slot, c);
            return;
        }
    }

    void scalar(Slot& slot, TypeCode c) {
        type_code::visit_scalar_type(c, [&](auto tag) {
            using T = typename decltype(tag)::type;
            if constexpr (std::is_same_v<T, bool>)
                slot.get<Number>().u = r.u8("boolean") != 0;
            else if constexpr (std::is_same_v<T, std::string>)
                slot.set_string(r.string("string"));
            else if constexpr (!std::is_void_v<T>) {
                constexpr std::string_view what = type_code::name(pvwire::detail::code_of<T>());
                slot.get<Number>().put(r.template read<T>(what));
            }
        });
    }

    void union_value(UnionSlot& u, const TypeDesc& t, int depth) {
        const auto sel = r.size("union selector", true);
        if (!r.ok()) return;
        if (sel < 0) {
            u.selector = -1;
            u.member = Value();
            return;
        }
        if (std::size_t(sel) >= t.member_count()) {
            r.fail(errc::bad_union_selector, "union selector",
                   "selector " + std::to_string(sel) + " but the union has " +
                       std::to_string(t.member_count()) + " members");
            return;
        }
        if (!spend(t.member_type(std::size_t(sel))->offset_count())) return;
        u.selector = int(sel);
        u.member = Value(t.member_type(std::size_t(sel)));
        whole(u.member, depth + 1);
    }

    void any_value(UnionSlot& u, int depth) {
        if (std::uint32_t(depth) > r.limits().max_depth) {
            r.fail(errc::nesting_too_deep, "variant value", "nested deeper than the limit");
            return;
        }
        TypePtr t = decode_type(r, cache, nullptr);
        u.selector = -1;
        if (!r.ok() || !t) {
            u.member = Value();
            return;
        }
        if (t->depth() + std::uint32_t(depth) > r.limits().max_depth) {
            r.fail(errc::nesting_too_deep, "variant value", "nested deeper than the limit");
            return;
        }
        if (!spend(t->offset_count())) return;
        u.member = Value(std::move(t));
        whole(u.member, depth + 1);
    }

    void whole(Value& v, int depth) {
        pvwire::detail::ValueStore& s = *v.store();
        field(s, v.offset(), s.type_at(v.offset()), depth);
    }

    SharedArray array(const TypeDesc& t, int depth) {
        const TypeCode elem = type_code::element_of(t.code());
        const ArrayKind ak = type_code::array_kind(type_code::raw(t.code()));
        const std::size_t esize = type_code::element_size(elem);
        std::size_t n;
        if (ak == ArrayKind::Fixed) {
            n = t.bound();
            if (n > r.remaining() / std::max<std::size_t>(esize, 1)) {
                r.fail(errc::truncated, "fixed array", "length " + std::to_string(n) + " exceeds the bytes left");
                return {};
            }
        } else {
            n = r.count("array count", std::max<std::size_t>(esize, 1));
            if (!r.ok()) return {};
            if (ak == ArrayKind::Bounded && n > t.bound()) {
                r.fail(errc::bad_value, "bounded array",
                       "count " + std::to_string(n) + " exceeds bound " + std::to_string(t.bound()));
                return {};
            }
        }
        if (type_code::is_numeric(elem) && elem != TypeCode::Bool)
            return type_code::visit_scalar_type(elem, [&](auto tag) {
                using T = typename decltype(tag)::type;
                if constexpr (std::is_arithmetic_v<T>) return read_numeric<T>(r, n);
                else return SharedArray();
            });
        switch (elem) {
        case TypeCode::Bool: {
            std::shared_ptr<bool[]> buf(new bool[n ? n : 1]);
            const std::byte* src = r.cursor();
            r.skip(n, "boolean array");
            if (!r.ok()) return {};
            for (std::size_t i = 0; i < n; ++i) buf[i] = src[i] != std::byte{0};
            const bool* data = buf.get();
            return SharedArray::view(TypeCode::Bool, data, n, std::move(buf));
        }
        case TypeCode::String: {
            std::vector<std::string> v;
            v.reserve(n);
            for (std::size_t i = 0; i < n && r.ok(); ++i) v.emplace_back(r.string("string array element"));
            if (!r.ok()) return {};
            return SharedArray::from(std::move(v));
        }
        case TypeCode::Struct:
        case TypeCode::Union:
        case TypeCode::Any: {
            std::vector<Value> v;
            v.reserve(n);
            const TypePtr& et = t.element();
            for (std::size_t i = 0; i < n && r.ok(); ++i) {
                const auto flag = r.u8("array element null flag");
                if (!r.ok()) break;
                if (flag == 0) {
                    v.emplace_back();
                    continue;
                }
                if (flag != 1) {
                    r.fail(errc::bad_value, "array element null flag", "flag " + std::to_string(flag) + " is not 0 or 1");
                    break;
                }
                if (!spend(elem == TypeCode::Any ? 1 : et->offset_count())) break;
                Value e(elem == TypeCode::Any ? TypeDesc::any() : et);
                whole(e, depth + 1);
                v.push_back(std::move(e));
            }
            if (!r.ok()) return {};
            return SharedArray::from(std::move(v), elem);
        }
        default:
            r.fail(errc::bad_type_code, "array", "unsupported element type");
            return {};
        }
    }
};

// Shared static "any" type used for variant array elements.
}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(value_codec_impl)

PVWIRE_IMPL_NAMESPACE(value_codec_impl) {

template <class R> bool decode_partial_with(R& r, Value& v, BitSet& changed, TypeCache* cache) {
    r.bitset(changed, "changed BitSet");
    if (!r.ok()) return false;
    if (!v) {
        r.fail(errc::unknown_operation, "partial value", "no type to decode the value with");
        return false;
    }
    pvwire::detail::ValueStore& s = *v.store();
    const TypeDesc& t = s.type_at(v.offset());
    const std::uint32_t base = v.offset();
    const std::uint32_t count = t.offset_count();
    ValueDecoder<R> d{r, cache};
    for (std::size_t b = changed.next(0); b != BitSet::npos && b < count && r.ok();) {
        const std::uint32_t off = base + std::uint32_t(b);
        const TypeDesc& ft = s.type_at(off);
        d.field(s, off, ft, 0);
        s.marks.set(off);
        b = changed.next(b + ft.offset_count());
    }
    return r.ok();
}

}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(value_codec_impl)

PVWIRE_IMPL_NAMESPACE(value_codec_impl) {

// W: Writer, or FixedOrderWriter for the hot paths (see encode_partial below).
template <class W> struct ValueEncoder {
    W& w;
    TypeRegistry* reg;

    void field(const pvwire::detail::ValueStore& store, std::uint32_t off, const TypeDesc& t) {
        const Slot& slot = store.slots[off];
        switch (t.code()) {
        case TypeCode::Struct: {
            const auto& flat = store.type->code() == TypeCode::Struct ? store.type->flat() : t.flat();
            const std::uint32_t end = off + t.offset_count();
            for (std::uint32_t i = off + 1; i < end; ++i) {
                const TypeDesc& ft = *flat[i].type;
                if (ft.code() != TypeCode::Struct) field(store, i, ft);
            }
            return;
        }
        case TypeCode::String:
        case TypeCode::BoundedString: w.string(slot.get<std::string>()); return;
        case TypeCode::Union: {
            const auto& u = slot.get<UnionSlot>();
            if (u.selector < 0 || !u.member) {
                w.null_size();
                return;
            }
            w.size(std::size_t(u.selector));
            whole(u.member);
            return;
        }
        case TypeCode::Any: {
            const auto& u = slot.get<UnionSlot>();
            if (!u.member) {
                w.u8(0xFF);
                return;
            }
            encode_type(w, u.member.type_ptr(), reg);
            whole(u.member);
            return;
        }
        default:
            if (type_code::is_array(t.code())) return array(t, slot.get<SharedArray>());
            type_code::visit_scalar_type(t.code(), [&](auto tag) {
                using T = typename decltype(tag)::type;
                if constexpr (std::is_same_v<T, bool>) w.u8(slot.get<Number>().u ? 1 : 0);
                else if constexpr (std::is_arithmetic_v<T>) w.template put<T>(slot.template get<Number>().template get<T>());
            });
            return;
        }
    }

    void whole(const Value& v) {
        const pvwire::detail::ValueStore& s = *v.store();
        field(s, v.offset(), s.type_at(v.offset()));
    }

    void array(const TypeDesc& t, const SharedArray& a) {
        const TypeCode elem = type_code::element_of(t.code());
        const ArrayKind ak = type_code::array_kind(type_code::raw(t.code()));
        std::size_t n = a.size();
        if (ak == ArrayKind::Fixed) {
            if (n != t.bound())
                throw ValueError("pvwire: fixed array of length " + std::to_string(t.bound()) + " holds " +
                                 std::to_string(n) + " elements");
        } else {
            if (ak == ArrayKind::Bounded && n > t.bound())
                throw ValueError("pvwire: bounded array of bound " + std::to_string(t.bound()) + " holds " +
                                 std::to_string(n) + " elements");
            w.size(n);
        }
        if (n == 0) return;
        if (type_code::is_numeric(elem)) {
            w.numeric_array(a);
            return;
        }
        if (elem == TypeCode::String) {
            for (const auto& s : a.span<std::string>()) w.string(s);
            return;
        }
        for (const Value& e : a.span<Value>()) {
            if (!e) {
                w.u8(0);
                continue;
            }
            w.u8(1);
            whole(e);
        }
    }
};

}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(value_codec_impl)

PVWIRE_IMPL_NAMESPACE(value_codec_impl) {

template <class W> void encode_partial_with(W& w, const Value& v, const BitSet& changed, TypeRegistry* registry) {
    w.bitset(changed);
    const pvwire::detail::ValueStore& s = *v.store();
    const std::uint32_t base = v.offset();
    const std::uint32_t count = s.type_at(base).offset_count();
    ValueEncoder<W> e{w, registry};
    for (std::size_t b = changed.next(0); b != BitSet::npos && b < count;) {
        const std::uint32_t off = base + std::uint32_t(b);
        const TypeDesc& ft = s.type_at(off);
        e.field(s, off, ft);
        b = changed.next(b + ft.offset_count());
    }
}

}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(value_codec_impl)

template <ByteOrder O> bool decode_partial(FixedOrderReader<O>& r, Value& v, BitSet& changed, TypeCache* cache) {
    return decode_partial_with(r, v, changed, cache);
}

template <ByteOrder O>
void encode_partial(FixedOrderWriter<O>& w, const Value& v, const BitSet& changed, TypeRegistry* registry) {
    encode_partial_with(w, v, changed, registry);
}


}  // namespace pvwire::wire
