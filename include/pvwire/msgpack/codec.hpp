/// @file
/// The msgpack codec: pvData types and values as self-describing MessagePack documents, for
/// storage (Redis) and web views. The schema is specified in docs/msgpack.md; in short:
///
/// @code{.unparsed}
///   type            integer type code (simple types) or map {"c","id","m","e","b"}
///   value document  [type, value]            ([] for a null Value)
///   partial         [[offset, ...], value-of-each-selected-field, ...]   (no type)
/// @endcode
///
/// Values are natural msgpack: booleans, integers, float32/float64, str, numeric arrays as
/// `bin` of little-endian packed elements, string arrays as arrays of str, structures as
/// arrays in member order, unions as [] or [selector, value], any as [] or [type, value],
/// null elements of structure/union/any arrays as nil.
///
/// Decoding never trusts its input: sizes are checked against the bytes present before
/// anything is allocated, nesting is limited (max_depth), and every problem is reported by
/// throwing DecodeError with a message naming the field and what was wrong.
#pragma once

#include <pvwire/data/bitset.hpp>
#include <pvwire/data/type_desc.hpp>
#include <pvwire/data/value.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

namespace pvwire::msgpack_codec {

/// Malformed, truncated, too deep or inconsistent input.
class DecodeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Deepest nesting of compound types (structure, union, any, and arrays of them) accepted by
/// the decoders, counting the types carried inside `any` values (as the pva codec does).
inline constexpr std::uint32_t max_depth = 20;
/// Most members of one structure or union accepted by the decoders.
inline constexpr std::uint32_t max_members = 65535;

// -- types ---------------------------------------------------------------------------------
std::vector<std::byte> encode_type(const TypeDesc& type);
/// Appends the type form to `out`.
void encode_type(const TypeDesc& type, std::vector<std::byte>& out);
/// Exactly one type form; throws DecodeError.
TypePtr decode_type(std::span<const std::byte> in);

// -- full values (self-describing) ---------------------------------------------------------
/// Appends the value document [type, value] of `v` (the field's subtree when `v` is a member).
/// A null Value is written as []. Throws ValueError when the value breaks its own type
/// (bounded string or array over its bound, fixed array neither empty nor of its length).
void encode_value(const Value& v, std::vector<std::byte>& out);
std::vector<std::byte> encode_value(const Value& v);
/// Exactly one value document; a fresh Value (no marks). [] gives a null Value.
Value decode_value(std::span<const std::byte> in);

// -- partial values (no type: the reader supplies the Value) --------------------------------
/// Appends [[bits of `changed`...], values of the selected fields...]. Bits are field offsets
/// relative to `v`; a structure bit selects its whole subtree (bits below it are still listed
/// but carry no further value). Throws ValueError if a bit is past v's last field.
void encode_partial(const Value& v, const BitSet& changed, std::vector<std::byte>& out);
/// Merges a partial document into `into`: `changed` receives the bits, the selected fields
/// are replaced and marked in `into`. All or nothing: on DecodeError neither `into` nor
/// `changed` is modified.
void decode_partial(std::span<const std::byte> in, Value& into, BitSet& changed);

}  // namespace pvwire::msgpack_codec

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/msgpack/impl/codec.ipp>
#endif
