/// @file
/// SharedArray: the immutable, reference-counted payload of an array field.
///
/// Copying a SharedArray (and so copying a Value) never copies elements. The elements live in
/// memory kept alive by `owner`: either a vector the array was built from, or a received
/// message buffer that a decoder viewed without copying (zero-copy). Elements are never
/// modified after construction, so a SharedArray may be read from several threads.
#pragma once

#include <pvwire/data/type_code.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace pvwire {

class Value;

namespace detail {
/// The C++ element type that stores an array of the given element code.
template <TypeCode C> struct ElementOf;
template <> struct ElementOf<TypeCode::Bool> { using type = bool; };
template <> struct ElementOf<TypeCode::Int8> { using type = std::int8_t; };
template <> struct ElementOf<TypeCode::Int16> { using type = std::int16_t; };
template <> struct ElementOf<TypeCode::Int32> { using type = std::int32_t; };
template <> struct ElementOf<TypeCode::Int64> { using type = std::int64_t; };
template <> struct ElementOf<TypeCode::UInt8> { using type = std::uint8_t; };
template <> struct ElementOf<TypeCode::UInt16> { using type = std::uint16_t; };
template <> struct ElementOf<TypeCode::UInt32> { using type = std::uint32_t; };
template <> struct ElementOf<TypeCode::UInt64> { using type = std::uint64_t; };
template <> struct ElementOf<TypeCode::Float32> { using type = float; };
template <> struct ElementOf<TypeCode::Float64> { using type = double; };
template <> struct ElementOf<TypeCode::String> { using type = std::string; };

/// The element code that stores C++ type T (void if none).
template <class T> constexpr TypeCode code_of() noexcept {
    if constexpr (std::is_same_v<T, bool>) return TypeCode::Bool;
    else if constexpr (std::is_same_v<T, std::int8_t>) return TypeCode::Int8;
    else if constexpr (std::is_same_v<T, std::int16_t>) return TypeCode::Int16;
    else if constexpr (std::is_same_v<T, std::int32_t>) return TypeCode::Int32;
    else if constexpr (std::is_same_v<T, std::int64_t>) return TypeCode::Int64;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return TypeCode::UInt8;
    else if constexpr (std::is_same_v<T, std::uint16_t>) return TypeCode::UInt16;
    else if constexpr (std::is_same_v<T, std::uint32_t>) return TypeCode::UInt32;
    else if constexpr (std::is_same_v<T, std::uint64_t>) return TypeCode::UInt64;
    else if constexpr (std::is_same_v<T, float>) return TypeCode::Float32;
    else if constexpr (std::is_same_v<T, double>) return TypeCode::Float64;
    else if constexpr (std::is_same_v<T, std::string>) return TypeCode::String;
    else return TypeCode::Null;
}
template <class T> constexpr bool is_element_v = code_of<T>() != TypeCode::Null;
}  // namespace detail

/// An immutable, shared array payload: a typed pointer and count, kept alive by a shared
/// owner. Copies share the elements; nothing is ever copied element by element.
class SharedArray {
public:
    SharedArray() = default;

    /// Takes the vector's elements (moved, not copied). T is a scalar element type, or Value for
    /// structure/union/any arrays (then `element` says which: Struct, Union or Any).
    template <class T>
    static SharedArray from(std::vector<T> elements, TypeCode element = detail::code_of<T>()) {
        if constexpr (std::is_same_v<T, bool>) {  // vector<bool> has no contiguous bools
            std::shared_ptr<bool[]> bools(new bool[elements.size()]);
            for (std::size_t i = 0; i < elements.size(); ++i) bools[i] = elements[i];
            return view(TypeCode::Bool, bools.get(), elements.size(), bools);
        } else {
            auto holder = std::make_shared<const std::vector<T>>(std::move(elements));
            SharedArray a;
            a.set_code(element);
            a.size_ = holder->size();
            a.data_ = holder->data();
            a.owner_ = std::move(holder);
            return a;
        }
    }
    /// Same, from a list: `SharedArray::from({1.0, 2.0})`.
    template <class T> static SharedArray from(std::initializer_list<T> elements) {
        return from(std::vector<T>(elements));
    }
    /// Zero-copy view of `count` elements at `data`, kept alive by `owner`. `data` must be
    /// suitably aligned and already in host byte order (decoders check before choosing this).
    static SharedArray view(TypeCode element, const void* data, std::size_t count,
                            std::shared_ptr<const void> owner) noexcept {
        SharedArray a;
        a.set_code(element);
        a.size_ = count;
        a.data_ = data;
        a.owner_ = std::move(owner);
        return a;
    }

    /// Element code: a scalar code, or Struct/Union/Any for arrays of Values; Null when empty-typed.
    TypeCode element_code() const noexcept { return TypeCode(code_); }
    /// Number of elements.
    std::size_t size() const noexcept { return size_; }
    /// No elements.
    bool empty() const noexcept { return size_ == 0; }
    /// The first element (untyped; see span()).
    const void* data() const noexcept { return data_; }
    /// What keeps the elements alive.
    const std::shared_ptr<const void>& owner() const noexcept { return owner_; }

    /// Typed access; throws std::logic_error when T is not the element type.
    template <class T> std::span<const T> span() const {
        if (!holds<T>()) throw std::logic_error("pvwire: SharedArray element type mismatch");
        return {static_cast<const T*>(data_), size_};
    }
    /// Whether span<T>() works: T is the element type (Value for Struct/Union/Any elements); an
    /// empty untyped array holds anything.
    template <class T> bool holds() const noexcept {
        const TypeCode c = element_code();
        if (size_ == 0 && c == TypeCode::Null) return true;
        if constexpr (std::is_same_v<T, Value>)
            return c == TypeCode::Struct || c == TypeCode::Union || c == TypeCode::Any;
        else
            return c == detail::code_of<T>();
    }
    /// Bytes of the elements for numeric arrays (element_size * size).
    std::size_t byte_size() const noexcept { return type_code::element_size(element_code()) * size_; }

private:
    void set_code(TypeCode c) noexcept { code_ = std::uint8_t(c); }

    /// Element count and code share one word, so that an array is 32 bytes and a value's slot
    /// (a variant of this, a string or a union) 40 instead of 48: 2^56 elements is no limit.
    std::uint64_t size_ : 56 = 0;
    std::uint64_t code_ : 8 = std::uint8_t(TypeCode::Null);
    const void* data_ = nullptr;
    std::shared_ptr<const void> owner_;
};
static_assert(sizeof(SharedArray) == 32, "SharedArray: count and code in one word");

}  // namespace pvwire
