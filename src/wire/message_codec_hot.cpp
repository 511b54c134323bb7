// The codec of GET replies and MONITOR updates, with a FixedOrderReader/FixedOrderWriter per byte
// order (see wire/impl/message_coders.ipp), in a translation unit of its own so that the
// compiler inlines it as fully as the rest.
#include <pvwire/wire/impl/message_coders.ipp>

namespace pvwire::wire {
template struct MessageCodec<GetResponse>;
template struct MessageCodec<MonitorResponse>;
}  // namespace pvwire::wire
