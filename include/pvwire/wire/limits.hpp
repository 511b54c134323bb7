/// @file
/// Decoder limits: every length read from the wire is checked against the bytes remaining and
/// against these before anything is allocated.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pvwire::wire {

/// Bounds on what one connection's decoder accepts (see the file's description).
struct Limits {
    /// Largest message body accepted (after segment reassembly).
    std::size_t max_message_bytes = std::size_t(256) << 20;
    /// Deepest nesting of structures/unions/arrays in a type description (PVXS: 20).
    std::uint32_t max_depth = 20;
    /// Members of one structure or union (PVXS BitSets address 65535 fields).
    std::uint32_t max_members = 65535;
    /// Total fields held by one connection direction's type cache; past it, definitions fail.
    std::size_t max_cached_fields = 1u << 20;
    /// Operations whose types one connection decoder remembers (ioid table).
    std::size_t max_operations = 65536;
    /// Fields (offsets) of one decoded structure type, counting what its cache references stand
    /// for; and the fields one value decode may create for union members, variant contents and
    /// structure/union array elements beyond one per input byte. Without it a few bytes (cache
    /// references, array elements whose fields take no bytes) could make the decoder allocate
    /// millions of fields.
    std::size_t max_fields = std::size_t(1) << 20;
};

}  // namespace pvwire::wire
