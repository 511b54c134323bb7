/// @file
/// Channel life cycle and per-operation housekeeping: CREATE_CHANNEL, DESTROY_CHANNEL,
/// GET_FIELD, DESTROY_REQUEST, CANCEL_REQUEST, MESSAGE (protocol.md §4.9-4.10, §4.17, §4.19-4.20).
#pragma once

#include <pvwire/data/type_desc.hpp>
#include <pvwire/wire/basic_types.hpp>
#include <pvwire/wire/messages/discovery.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace pvwire::wire {

struct CreateChannelRequest {
    std::vector<SearchChannel> channels;  ///< (cid, name); send exactly one
};

struct CreateChannelResponse {
    std::uint32_t cid = 0;
    std::uint32_t sid = 0xFFFFFFFF;
    Status status;
};

/// Both directions, same body.
struct DestroyChannel {
    std::uint32_t sid = 0;
    std::uint32_t cid = 0;
};

struct GetFieldRequest {
    std::uint32_t sid = 0;
    std::uint32_t ioid = 0;
    std::string sub_field;
};

struct GetFieldResponse {
    std::uint32_t ioid = 0;
    Status status;
    TypePtr type;
};

struct DestroyRequest {
    std::uint32_t sid = 0;
    std::uint32_t ioid = 0;
};

struct CancelRequest {
    std::uint32_t sid = 0;
    std::uint32_t ioid = 0;
};

/// Server -> client log text about an operation.
struct RemoteMessage {
    enum class Type : std::uint8_t { Info = 0, Warning = 1, Error = 2, Fatal = 3 };
    std::uint32_t ioid = 0;
    std::uint8_t type = 0;  ///< Type; other values are kept as received
    std::string text;
};

}  // namespace pvwire::wire
