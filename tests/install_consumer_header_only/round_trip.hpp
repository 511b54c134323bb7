#pragma once

#include <pvwire/data/value.hpp>

// Defined in msgpack_round_trip.cpp: `v` through the msgpack codec and back.
pvwire::Value msgpack_round_trip(const pvwire::Value& v);
