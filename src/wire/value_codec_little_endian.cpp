// The fixed-order value codec of GET replies and MONITOR updates, little-endian (see
// wire/impl/value_coders.ipp): one translation unit per order, so that each is inlined as fully
// as the run-time one in value_codec.cpp.
#include <pvwire/wire/impl/value_coders.ipp>

namespace pvwire::wire {
template bool decode_partial(FixedOrderReader<ByteOrder::Little>&, Value&, BitSet&, TypeCache*);
template void encode_partial(FixedOrderWriter<ByteOrder::Little>&, const Value&, const BitSet&, TypeRegistry*);
}  // namespace pvwire::wire
