/// @file
/// Type descriptions on the wire (FieldDesc, protocol.md §3.2), with the introspection cache.
#pragma once

#include <pvwire/data/type_desc.hpp>
#include <pvwire/wire/reader.hpp>
#include <pvwire/wire/type_cache.hpp>
#include <pvwire/wire/writer.hpp>

#include <string_view>
#include <vector>

namespace pvwire::wire {

/// One step of a decoded type description, for dissectors and tests: where each field's type
/// byte was, and where cache keys were defined or referenced.
struct TypeTraceEvent {
    /// A field's type byte, a cache definition (0xFD) or a cache reference (0xFE).
    enum class Kind : std::uint8_t { Field, Define, Reference } kind;  ///< this step's kind
    std::size_t offset;       ///< byte offset of the type code (or 0xFD/0xFE byte)
    int depth;                ///< nesting depth (0 = the described type itself)
    std::uint16_t key = 0;    ///< Define/Reference
    std::string_view name;    ///< member name ("" at the top or for array elements)
    TypePtr type;             ///< Field: the decoded type of this node; Reference: the cached type
    bool element = false;     ///< Field: the element description of a structure/union array
};
/// The steps of one or more type descriptions, in wire order.
using TypeTrace = std::vector<TypeTraceEvent>;

/// Decodes a FieldDesc. Returns null for the null type (0xFF) and also on failure (check
/// r.ok()). `cache` is the sender's cache of this connection direction; without one, 0xFD/0xFE
/// are errors (as on UDP). `trace`, if given, receives every node.
TypePtr decode_type(Reader& r, TypeCache* cache, TypeTrace* trace = nullptr);

/// Encodes a FieldDesc (null type as 0xFF). With a registry, structures, unions, variants and
/// their arrays are defined once (0xFD) and referenced afterwards (0xFE), as pvAccessCPP does;
/// without one every description is sent in full, as PVXS does.
void encode_type(Writer& w, const TypePtr& type, TypeRegistry* registry);

}  // namespace pvwire::wire

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/wire/impl/type_codec.ipp>
#endif
