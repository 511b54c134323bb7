// The compiled form of wire/impl/message_codec.ipp (inline in every includer under
// PVWIRE_HEADER_ONLY): the variant entry points and the codec of every message struct but the
// two in message_codec_hot.cpp.
#include <pvwire/wire/message.hpp>

namespace pvwire::wire {
extern template struct MessageCodec<GetResponse>;
extern template struct MessageCodec<MonitorResponse>;
}  // namespace pvwire::wire

#include <pvwire/wire/impl/message_codec.ipp>

namespace pvwire::wire {
template struct MessageCodec<Control>;
template struct MessageCodec<Beacon>;
template struct MessageCodec<ValidationRequest>;
template struct MessageCodec<ValidationResponse>;
template struct MessageCodec<Echo>;
template struct MessageCodec<Search>;
template struct MessageCodec<SearchResponse>;
template struct MessageCodec<AuthNZ>;
template struct MessageCodec<AclChange>;
template struct MessageCodec<CreateChannelRequest>;
template struct MessageCodec<CreateChannelResponse>;
template struct MessageCodec<DestroyChannel>;
template struct MessageCodec<ConnectionValidated>;
template struct MessageCodec<GetRequest>;
template struct MessageCodec<PutRequest>;
template struct MessageCodec<PutResponse>;
template struct MessageCodec<PutGetRequest>;
template struct MessageCodec<PutGetResponse>;
template struct MessageCodec<MonitorRequest>;
template struct MessageCodec<ArrayRequest>;
template struct MessageCodec<ArrayResponse>;
template struct MessageCodec<DestroyRequest>;
template struct MessageCodec<ProcessRequest>;
template struct MessageCodec<ProcessResponse>;
template struct MessageCodec<GetFieldRequest>;
template struct MessageCodec<GetFieldResponse>;
template struct MessageCodec<RemoteMessage>;
template struct MessageCodec<MultipleData>;
template struct MessageCodec<RpcRequest>;
template struct MessageCodec<RpcResponse>;
template struct MessageCodec<CancelRequest>;
template struct MessageCodec<OriginTag>;
}  // namespace pvwire::wire
