// Random pvData types and values for property tests of the codecs (msgpack, pva wire).
//
// Everything is drawn from the raw output of the given std::mt19937 (no std::*_distribution,
// whose results differ between standard libraries), so a seed gives the same type and value
// on every platform.
//
//   random_type(rng, max_depth)   any type whose compound nesting (structure, union, any, and
//                                 arrays of them, any[] included) is at most max_depth levels;
//                                 max_depth <= 0 gives scalars, strings and scalar arrays.
//   random_struct(rng, max_depth) the same, but always a structure (max_depth >= 1).
//   random_value(rng, type)       a value of `type` with every field filled: numbers with edge
//                                 cases (min/max, NaN, inf, -0.0), strings with multi-byte
//                                 UTF-8, NUL and high bytes, variable/bounded/fixed arrays
//                                 (fixed arrays always at their length), unions selected or
//                                 not, any empty or holding a random value, null elements in
//                                 structure/union/any arrays. The result has no marks.
//
// Nesting stays decodable by codecs limited to 20 levels: a value inside an `any` gets a type
// of at most min(3, 20 - level of the any) levels.
#pragma once

#include <pvwire/data/value.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace pvwire::test {

namespace random_detail {

inline std::uint32_t below(std::mt19937& rng, std::uint32_t n) {
    return n ? std::uint32_t(rng()) % n : 0;
}
inline bool chance(std::mt19937& rng, std::uint32_t percent) { return below(rng, 100) < percent; }
inline std::uint64_t bits64(std::mt19937& rng) {
    const std::uint64_t hi = std::uint32_t(rng());
    return (hi << 32) | std::uint32_t(rng());
}

inline constexpr TypeCode kScalarCodes[] = {
    TypeCode::Bool,   TypeCode::Int8,   TypeCode::Int16,   TypeCode::Int32,   TypeCode::Int64,
    TypeCode::UInt8,  TypeCode::UInt16, TypeCode::UInt32,  TypeCode::UInt64,  TypeCode::Float32,
    TypeCode::Float64, TypeCode::String,
};

inline TypeCode scalar_code(std::mt19937& rng) {
    return kScalarCodes[below(rng, std::uint32_t(std::size(kScalarCodes)))];
}

inline std::string random_string(std::mt19937& rng, std::size_t max_len) {
    const std::size_t len = below(rng, std::uint32_t(std::min<std::size_t>(max_len, 16) + 1));
    std::string s;
    while (s.size() < len) {
        const auto pick = below(rng, 100);
        if (pick < 75) {
            s += char(0x20 + below(rng, 0x5F));  // printable ASCII
        } else if (pick < 85 && len - s.size() >= 2) {
            s += "\xC3\xA9";  // é
        } else if (pick < 90 && len - s.size() >= 3) {
            s += "\xE2\x82\xAC";  // €
        } else if (pick < 95) {
            s += '\0';
        } else {
            s += char(0x80 + below(rng, 0x80));  // a stray high byte (not UTF-8)
        }
    }
    return s;
}

inline std::int64_t random_signed(std::mt19937& rng, TypeCode c) {
    const int bits = 8 << (type_code::raw(c) & 3);
    const std::int64_t max = bits == 64 ? std::numeric_limits<std::int64_t>::max()
                                        : (std::int64_t(1) << (bits - 1)) - 1;
    const std::int64_t min = -max - 1;
    switch (below(rng, 8)) {
    case 0: return 0;
    case 1: return min;
    case 2: return max;
    case 3: return -1;
    case 4: return std::int64_t(below(rng, 100));
    default: {
        const std::uint64_t r = bits64(rng);
        const std::uint64_t shifted = r << (64 - bits);
        std::int64_t v;
        std::memcpy(&v, &shifted, sizeof v);
        return v >> (64 - bits);  // sign-extended, spread over the whole range
    }
    }
}

inline std::uint64_t random_unsigned(std::mt19937& rng, TypeCode c) {
    const int bits = 8 << (type_code::raw(c) & 3);
    const std::uint64_t max = bits == 64 ? ~std::uint64_t(0) : (std::uint64_t(1) << bits) - 1;
    switch (below(rng, 6)) {
    case 0: return 0;
    case 1: return max;
    case 2: return below(rng, 200);
    default: return bits64(rng) & max;
    }
}

inline double random_double(std::mt19937& rng) {
    switch (below(rng, 12)) {
    case 0: return 0.0;
    case 1: return -0.0;
    case 2: return std::numeric_limits<double>::infinity();
    case 3: return -std::numeric_limits<double>::infinity();
    case 4: return std::numeric_limits<double>::quiet_NaN();
    case 5: return std::numeric_limits<double>::max();
    case 6: return std::numeric_limits<double>::denorm_min();
    case 7: return double(std::int32_t(rng())) / 1024.0;
    default: {
        const std::uint64_t b = bits64(rng);
        double d;
        std::memcpy(&d, &b, sizeof d);
        return std::isnan(d) ? std::numeric_limits<double>::quiet_NaN() : d;
    }
    }
}

inline float random_float(std::mt19937& rng) {
    switch (below(rng, 10)) {
    case 0: return 0.0f;
    case 1: return -0.0f;
    case 2: return std::numeric_limits<float>::infinity();
    case 3: return std::numeric_limits<float>::quiet_NaN();
    case 4: return std::numeric_limits<float>::max();
    case 5: return std::numeric_limits<float>::denorm_min();
    default: {
        const std::uint32_t b = std::uint32_t(rng());
        float f;
        std::memcpy(&f, &b, sizeof f);
        return std::isnan(f) ? std::numeric_limits<float>::quiet_NaN() : f;
    }
    }
}

template <class T> std::vector<T> random_elements(std::mt19937& rng, std::size_t n) {
    std::vector<T> v;
    v.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        if constexpr (std::is_same_v<T, bool>) v.push_back(chance(rng, 50));
        else if constexpr (std::is_same_v<T, std::string>) v.push_back(random_string(rng, 10));
        else if constexpr (std::is_same_v<T, float>) v.push_back(random_float(rng));
        else if constexpr (std::is_same_v<T, double>) v.push_back(random_double(rng));
        else if constexpr (std::is_signed_v<T>) v.push_back(T(random_signed(rng, detail::code_of<T>())));
        else v.push_back(T(random_unsigned(rng, detail::code_of<T>())));
    }
    return v;
}

inline SharedArray random_scalar_array(std::mt19937& rng, TypeCode elem, std::size_t n) {
    switch (elem) {
    case TypeCode::Bool: return SharedArray::from(random_elements<bool>(rng, n));
    case TypeCode::Int8: return SharedArray::from(random_elements<std::int8_t>(rng, n));
    case TypeCode::Int16: return SharedArray::from(random_elements<std::int16_t>(rng, n));
    case TypeCode::Int32: return SharedArray::from(random_elements<std::int32_t>(rng, n));
    case TypeCode::Int64: return SharedArray::from(random_elements<std::int64_t>(rng, n));
    case TypeCode::UInt8: return SharedArray::from(random_elements<std::uint8_t>(rng, n));
    case TypeCode::UInt16: return SharedArray::from(random_elements<std::uint16_t>(rng, n));
    case TypeCode::UInt32: return SharedArray::from(random_elements<std::uint32_t>(rng, n));
    case TypeCode::UInt64: return SharedArray::from(random_elements<std::uint64_t>(rng, n));
    case TypeCode::Float32: return SharedArray::from(random_elements<float>(rng, n));
    case TypeCode::Float64: return SharedArray::from(random_elements<double>(rng, n));
    default: return SharedArray::from(random_elements<std::string>(rng, n));
    }
}

inline const char* const kNames[] = {"value", "alarm", "timeStamp", "x", "y", "index", "choices",
                                     "severity", "a_long_member_name_for_testing", "n"};
inline const char* const kIds[] = {"epics:nt/NTScalar:1.0", "alarm_t", "time_t", "enum_t", "my/id"};

// Unique names, types left null (filled by the caller).
inline std::vector<Member> random_members(std::mt19937& rng, std::uint32_t max_n) {
    const std::uint32_t n = below(rng, max_n + 1);
    std::vector<Member> members;
    members.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        std::string name = kNames[below(rng, std::uint32_t(std::size(kNames)))];
        for (const auto& m : members)
            if (m.name == name) {
                name += '_';
                name += std::to_string(i);
                break;
            }
        members.push_back(Member{std::move(name), TypePtr()});
    }
    return members;
}

inline std::string random_id(std::mt19937& rng) {
    const auto pick = below(rng, 10);
    if (pick < 4) return {};
    if (pick < 8) return kIds[below(rng, std::uint32_t(std::size(kIds)))];
    // type ids are names: the pva codec refuses ids that are not valid UTF-8
    static const char* const parts[] = {"a", "Z", "9", ":", "/", ".", "_", "\xC3\xA9", "\xE2\x82\xAC"};
    std::string id;
    for (auto n = below(rng, 6); n; --n) id += parts[below(rng, std::uint32_t(std::size(parts)))];
    return id;
}

inline TypePtr random_type_impl(std::mt19937& rng, int max_depth);

inline TypePtr random_compound(std::mt19937& rng, TypeCode kind, int max_depth) {
    std::string id = random_id(rng);
    auto members = random_members(rng, kind == TypeCode::Struct ? 6 : 4);
    for (auto& m : members) m.type = random_type_impl(rng, max_depth - 1);
    return kind == TypeCode::Struct ? TypeDesc::structure(std::move(id), std::move(members))
                                    : TypeDesc::union_of(std::move(id), std::move(members));
}

inline TypePtr random_leaf(std::mt19937& rng) {
    const auto pick = below(rng, 100);
    if (pick < 40) return TypeDesc::scalar(scalar_code(rng));
    if (pick < 50) return TypeDesc::bounded_string(below(rng, 17));
    if (pick < 75) return TypeDesc::array(scalar_code(rng));
    if (pick < 88) return TypeDesc::bounded_array(scalar_code(rng), below(rng, 9));
    return TypeDesc::fixed_array(scalar_code(rng), below(rng, 7));
}

inline TypePtr random_type_impl(std::mt19937& rng, int max_depth) {
    if (max_depth <= 0) return random_leaf(rng);
    const auto pick = below(rng, 100);
    if (pick < 35) return random_leaf(rng);
    if (pick < 60) return random_compound(rng, TypeCode::Struct, max_depth);
    if (pick < 70) return random_compound(rng, TypeCode::Union, max_depth);
    if (pick < 78) return TypeDesc::any();
    if (pick < 83) return TypeDesc::any_array();
    if (pick < 92) {
        if (max_depth < 2) return random_compound(rng, TypeCode::Struct, max_depth);
        return TypeDesc::struct_array(random_compound(rng, TypeCode::Struct, max_depth - 1));
    }
    if (max_depth < 2) return random_compound(rng, TypeCode::Union, max_depth);
    return TypeDesc::union_array(random_compound(rng, TypeCode::Union, max_depth - 1));
}

constexpr int kMaxLevel = 20;

inline void fill(std::mt19937& rng, Value v, int level);

inline Value random_element(std::mt19937& rng, const TypePtr& type, int level) {
    if (chance(rng, 20)) return Value();  // null element
    Value e(type);
    fill(rng, e, level);
    return e;
}

// `level`: compound nesting of v (1 at the top), as the msgpack codec counts it.
inline void fill(std::mt19937& rng, Value v, int level) {
    const TypeDesc& t = v.type();
    const TypeCode c = t.code();
    switch (c) {
    case TypeCode::Struct:
        for (std::size_t i = 0; i < t.member_count(); ++i) fill(rng, v.member(i), level + 1);
        return;
    case TypeCode::Union:
        if (t.member_count() == 0 || chance(rng, 20)) {
            v.clear_selection();
            return;
        }
        fill(rng, v.select(std::size_t(below(rng, std::uint32_t(t.member_count())))), level + 1);
        return;
    case TypeCode::Any: {
        if (chance(rng, 20)) {
            v.clear_selection();
            return;
        }
        const int budget = std::clamp(kMaxLevel - level, 0, 3);
        Value inner(random_type_impl(rng, int(below(rng, std::uint32_t(budget + 1)))));
        fill(rng, inner, level + 1);
        v.set_contained(inner);
        return;
    }
    case TypeCode::Bool: v.set(chance(rng, 50)); return;
    case TypeCode::Float32: v.set(random_float(rng)); return;
    case TypeCode::Float64: v.set(random_double(rng)); return;
    case TypeCode::String: v.set(random_string(rng, 16)); return;
    case TypeCode::BoundedString: v.set(random_string(rng, t.bound())); return;
    case TypeCode::StructA:
    case TypeCode::UnionA:
    case TypeCode::AnyA: {
        const std::size_t n = below(rng, 5);
        const TypePtr et = c == TypeCode::AnyA ? TypeDesc::any() : t.element();
        std::vector<Value> elems;
        for (std::size_t i = 0; i < n; ++i) elems.push_back(random_element(rng, et, level + 1));
        v.set_array(SharedArray::from(std::move(elems), type_code::element_of(c)));
        return;
    }
    default:
        break;
    }
    if (type_code::is_integer(c)) {
        if (type_code::is_unsigned(c)) v.set(random_unsigned(rng, c));
        else v.set(random_signed(rng, c));
        return;
    }
    // scalar arrays
    const ArrayKind ak = type_code::array_kind(type_code::raw(c));
    std::size_t n;
    if (ak == ArrayKind::Fixed) n = t.bound();
    else if (ak == ArrayKind::Bounded) n = below(rng, t.bound() + 1);
    else n = chance(rng, 10) ? 0 : below(rng, 9);
    v.set_array(random_scalar_array(rng, type_code::element_of(c), n));
}

}  // namespace random_detail

inline TypePtr random_type(std::mt19937& rng, int max_depth) {
    return random_detail::random_type_impl(rng, max_depth);
}

inline TypePtr random_struct(std::mt19937& rng, int max_depth) {
    return random_detail::random_compound(rng, TypeCode::Struct, std::max(max_depth, 1));
}

inline Value random_value(std::mt19937& rng, TypePtr type) {
    Value v(std::move(type));
    random_detail::fill(rng, v, 1);
    v.unmark();
    return v;
}

}  // namespace pvwire::test
