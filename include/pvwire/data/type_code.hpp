/// @file
/// pvData type codes: the one-byte code of every field type on the wire (protocol.md §3.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace pvwire {

/// A type code is bits 7-5 kind, bits 4-3 array-ness, bits 2-0 kind-specific.
/// The enumerators are the scalar codes; arrays are formed with array_of().
enum class TypeCode : std::uint8_t {
    Bool = 0x00,
    Int8 = 0x20,
    Int16 = 0x21,
    Int32 = 0x22,
    Int64 = 0x23,
    UInt8 = 0x24,
    UInt16 = 0x25,
    UInt32 = 0x26,
    UInt64 = 0x27,
    Float32 = 0x42,
    Float64 = 0x43,
    String = 0x60,
    Struct = 0x80,
    Union = 0x81,
    Any = 0x82,          ///< variant union
    BoundedString = 0x83,

    BoolA = 0x08,
    Int8A = 0x28,
    Int16A = 0x29,
    Int32A = 0x2A,
    Int64A = 0x2B,
    UInt8A = 0x2C,
    UInt16A = 0x2D,
    UInt32A = 0x2E,
    UInt64A = 0x2F,
    Float32A = 0x4A,
    Float64A = 0x4B,
    StringA = 0x68,
    StructA = 0x88,
    UnionA = 0x89,
    AnyA = 0x8A,

    Null = 0xFF,  ///< "no field" (e.g. an empty variant, anonymous auth data)
};

/// How an array type is sized; bits 4-3 of the code.
enum class ArrayKind : std::uint8_t { Scalar = 0, Variable = 1, Bounded = 2, Fixed = 3 };

namespace type_code {

/// The code as its byte.
constexpr std::uint8_t raw(TypeCode c) noexcept { return static_cast<std::uint8_t>(c); }
/// The array kind of a raw code byte (bits 4-3).
constexpr ArrayKind array_kind(std::uint8_t c) noexcept { return ArrayKind((c >> 3) & 3); }
/// The code with the array bits cleared (the element code of an array).
constexpr TypeCode element_of(TypeCode c) noexcept {
    return c == TypeCode::BoundedString ? c : TypeCode(raw(c) & ~0x18);
}
/// An array code (any array kind).
constexpr bool is_array(TypeCode c) noexcept {
    return c != TypeCode::Null && c != TypeCode::BoundedString && (raw(c) & 0x18) != 0;
}
/// The variable-size array code of an element code.
constexpr TypeCode array_of(TypeCode element) noexcept { return TypeCode(raw(element) | 0x08); }
/// A structure (not an array of them).
constexpr bool is_struct(TypeCode c) noexcept { return c == TypeCode::Struct; }
/// A union (not an array of them).
constexpr bool is_union(TypeCode c) noexcept { return c == TypeCode::Union; }
/// A variant union, "any" (not an array of them).
constexpr bool is_any(TypeCode c) noexcept { return c == TypeCode::Any; }
/// A structure, union or any.
constexpr bool is_compound(TypeCode c) noexcept {
    return c == TypeCode::Struct || c == TypeCode::Union || c == TypeCode::Any;
}
/// A string, bounded or not.
constexpr bool is_string(TypeCode c) noexcept {
    return c == TypeCode::String || c == TypeCode::BoundedString;
}
/// A signed or unsigned integer of any width.
constexpr bool is_integer(TypeCode c) noexcept { return (raw(c) & 0xF8) == 0x20; }
/// An unsigned integer.
constexpr bool is_unsigned(TypeCode c) noexcept { return is_integer(c) && (raw(c) & 0x04); }
/// A float or double.
constexpr bool is_float(TypeCode c) noexcept { return c == TypeCode::Float32 || c == TypeCode::Float64; }
/// A boolean.
constexpr bool is_bool(TypeCode c) noexcept { return c == TypeCode::Bool; }
/// A fixed-width scalar (bool, integer, float): the kinds whose arrays are plain memory.
constexpr bool is_numeric(TypeCode c) noexcept { return is_bool(c) || is_integer(c) || is_float(c); }
/// A numeric or string scalar (not an array, not compound).
constexpr bool is_scalar(TypeCode c) noexcept { return is_numeric(c) || is_string(c); }

/// Bytes of one element on the wire for numeric codes; 0 for everything else.
constexpr std::size_t element_size(TypeCode c) noexcept {
    if (is_bool(c)) return 1;
    if (is_integer(c)) return std::size_t(1) << (raw(c) & 3);
    if (c == TypeCode::Float32) return 4;
    if (c == TypeCode::Float64) return 8;
    return 0;
}

/// Whether a raw byte is a code this library understands (after stripping array bits).
constexpr bool is_valid(std::uint8_t c) noexcept {
    if (c == 0x83) return true;
    const std::uint8_t e = c & ~0x18;
    const ArrayKind ak = array_kind(c);
    switch (e) {
    case 0x00: case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26:
    case 0x27: case 0x42: case 0x43: case 0x60:
        return true;
    case 0x80: case 0x81: case 0x82:
        // only scalar and variable arrays of compound types exist
        return ak == ArrayKind::Scalar || ak == ArrayKind::Variable;
    default:
        return false;
    }
}

/// pvData names: "double", "int[]", "structure", "union", "any", "structure[]", ...
constexpr std::string_view name(TypeCode c) noexcept {
    switch (element_of(c)) {
    case TypeCode::Bool: return is_array(c) ? "boolean[]" : "boolean";
    case TypeCode::Int8: return is_array(c) ? "byte[]" : "byte";
    case TypeCode::Int16: return is_array(c) ? "short[]" : "short";
    case TypeCode::Int32: return is_array(c) ? "int[]" : "int";
    case TypeCode::Int64: return is_array(c) ? "long[]" : "long";
    case TypeCode::UInt8: return is_array(c) ? "ubyte[]" : "ubyte";
    case TypeCode::UInt16: return is_array(c) ? "ushort[]" : "ushort";
    case TypeCode::UInt32: return is_array(c) ? "uint[]" : "uint";
    case TypeCode::UInt64: return is_array(c) ? "ulong[]" : "ulong";
    case TypeCode::Float32: return is_array(c) ? "float[]" : "float";
    case TypeCode::Float64: return is_array(c) ? "double[]" : "double";
    case TypeCode::String: return is_array(c) ? "string[]" : "string";
    case TypeCode::BoundedString: return "string";
    case TypeCode::Struct: return is_array(c) ? "structure[]" : "structure";
    case TypeCode::Union: return is_array(c) ? "union[]" : "union";
    case TypeCode::Any: return is_array(c) ? "any[]" : "any";
    case TypeCode::Null: return "null";
    default: return "?";
    }
}

/// The one dispatch from a run-time code to the C++ type holding one element of it: calls
/// f(std::type_identity<T>{}) with T = bool, std::int8_t ... std::uint64_t, float, double or
/// std::string (String and BoundedString), and f(std::type_identity<void>{}) for codes that
/// have no such type (structure, union, any, arrays, null): pass element_of(c) for an array.
template <class F> constexpr decltype(auto) visit_scalar_type(TypeCode c, F&& f) {
    switch (c) {
    case TypeCode::Bool: return f(std::type_identity<bool>{});
    case TypeCode::Int8: return f(std::type_identity<std::int8_t>{});
    case TypeCode::Int16: return f(std::type_identity<std::int16_t>{});
    case TypeCode::Int32: return f(std::type_identity<std::int32_t>{});
    case TypeCode::Int64: return f(std::type_identity<std::int64_t>{});
    case TypeCode::UInt8: return f(std::type_identity<std::uint8_t>{});
    case TypeCode::UInt16: return f(std::type_identity<std::uint16_t>{});
    case TypeCode::UInt32: return f(std::type_identity<std::uint32_t>{});
    case TypeCode::UInt64: return f(std::type_identity<std::uint64_t>{});
    case TypeCode::Float32: return f(std::type_identity<float>{});
    case TypeCode::Float64: return f(std::type_identity<double>{});
    case TypeCode::String: case TypeCode::BoundedString: return f(std::type_identity<std::string>{});
    default: return f(std::type_identity<void>{});
    }
}

/// Whether the integer x is a value of the integer type of code c (false for other codes).
template <class I> constexpr bool in_range(TypeCode c, I x) noexcept {
    return visit_scalar_type(c, [x](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return std::in_range<T>(x);
        else return false;
    });
}

}  // namespace type_code
}  // namespace pvwire
