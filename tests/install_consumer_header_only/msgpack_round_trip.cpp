#include "round_trip.hpp"

#include <pvwire/msgpack/codec.hpp>
#include <pvwire/wire/message.hpp>

pvwire::Value msgpack_round_trip(const pvwire::Value& v) {
    return pvwire::msgpack_codec::decode_value(pvwire::msgpack_codec::encode_value(v));
}
