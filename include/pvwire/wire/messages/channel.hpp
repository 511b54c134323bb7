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

/// CREATE_CHANNEL request: client -> server.
struct CreateChannelRequest {
    std::vector<SearchChannel> channels;  ///< (cid, name); send exactly one
};

/// CREATE_CHANNEL response: server -> client.
struct CreateChannelResponse {
    std::uint32_t cid = 0;  ///< the client's channel id, from the request
    std::uint32_t sid = 0xFFFFFFFF;  ///< the server's channel id for later requests
    Status status;                   ///< an error status refuses the channel
    /// Whether this client may put to the PV (PVHandler::writable). The msgpack protocol
    /// carries it (`open` reply); pvAccess has no place for it and always reads true.
    bool writable = true;
};

/// Both directions, same body.
struct DestroyChannel {
    std::uint32_t sid = 0;  ///< the server's channel id
    std::uint32_t cid = 0;  ///< the client's channel id
};

/// GET_FIELD request: the type of a PV or of one of its fields.
struct GetFieldRequest {
    std::uint32_t sid = 0;  ///< the channel
    std::uint32_t ioid = 0; ///< the request id
    std::string sub_field;  ///< a field name or dotted path; "" for the whole PV
};

/// GET_FIELD response.
struct GetFieldResponse {
    std::uint32_t ioid = 0;  ///< the request id
    Status status;           ///< the outcome
    TypePtr type;            ///< the type (on success)
};

/// DESTROY_REQUEST: ends an operation.
struct DestroyRequest {
    std::uint32_t sid = 0;  ///< the channel
    std::uint32_t ioid = 0; ///< the operation
};

/// CANCEL_REQUEST: cancels a running operation.
struct CancelRequest {
    std::uint32_t sid = 0;  ///< the channel
    std::uint32_t ioid = 0; ///< the operation
};

/// Server -> client log text about an operation.
struct RemoteMessage {
    /// The message's severity.
    enum class Type : std::uint8_t { Info = 0, Warning = 1, Error = 2, Fatal = 3 };
    std::uint32_t ioid = 0; ///< the operation it is about
    std::uint8_t type = 0;  ///< Type; other values are kept as received
    std::string text;       ///< the text
};

}  // namespace pvwire::wire
