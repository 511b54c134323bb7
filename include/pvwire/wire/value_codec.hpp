/// @file
/// Values on the wire (protocol.md §3.4-3.5): full values, and partial values selected by a
/// BitSet of field offsets.
///
/// Decoding writes into an existing Value (usually fresh from Value(type)); a partial decode
/// leaves unselected fields as they were, so monitor deltas merge onto the last value.
/// Arrays become zero-copy views of the input when the Reader has an owner, the byte order is
/// the host's and the elements are aligned; otherwise they are copied.
#pragma once

#include <pvwire/data/value.hpp>
#include <pvwire/wire/reader.hpp>
#include <pvwire/wire/type_cache.hpp>
#include <pvwire/wire/type_codec.hpp>
#include <pvwire/wire/writer.hpp>

namespace pvwire::wire {

/// Decodes the full value of `v`'s field. `cache` serves variant (any) type descriptions.
bool decode_value(Reader& r, Value& v, TypeCache* cache);
/// Decodes "BitSet + fields" into `changed` and `v`; the decoded fields are also marked in v.
bool decode_partial(Reader& r, Value& v, BitSet& changed, TypeCache* cache);
/// The same with the byte order fixed at compile time (GET replies and MONITOR updates).
template <ByteOrder O> bool decode_partial(FixedOrderReader<O>& r, Value& v, BitSet& changed, TypeCache* cache);

/// Writes the full value of `v`'s field. `registry` serves variant (any) type descriptions.
void encode_value(Writer& w, const Value& v, TypeRegistry* registry);
/// Writes `changed`, then each selected field in offset order (a structure bit covers its
/// whole subtree).
void encode_partial(Writer& w, const Value& v, const BitSet& changed, TypeRegistry* registry);
/// The same with the byte order fixed at compile time (GET replies and MONITOR updates).
template <ByteOrder O>
void encode_partial(FixedOrderWriter<O>& w, const Value& v, const BitSet& changed, TypeRegistry* registry);

/// A FieldDesc followed by its full value (pvRequest, RPC argument and result, auth data).
bool decode_typed_value(Reader& r, Value& out, TypeCache* cache, TypeTrace* trace = nullptr);
/// Writes `v`'s FieldDesc followed by its full value (a null `v` as the null type).
void encode_typed_value(Writer& w, const Value& v, TypeRegistry* registry);

}  // namespace pvwire::wire

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/wire/impl/value_codec.ipp>
#endif
