/// @file
/// Operation messages: GET, PUT, PUT_GET, MONITOR, ARRAY, PROCESS, RPC (protocol.md §4.11-4.18).
///
/// One request and one response struct per command, covering every sub-command phase: which
/// members are meaningful depends on `subcmd` (see each member's comment). Requests carry
/// sid + ioid, responses only ioid. Data fields are partial values: `changed` selects which
/// fields of `data` are on the wire.
#pragma once

#include <pvwire/data/bitset.hpp>
#include <pvwire/data/value.hpp>
#include <pvwire/wire/basic_types.hpp>
#include <pvwire/wire/command.hpp>

#include <cstdint>

namespace pvwire::wire {

/// What every operation request carries.
struct OperationRequest {
    std::uint32_t sid = 0;  ///< the channel's server id
    std::uint32_t ioid = 0;  ///< the operation id, chosen by the client
    std::uint8_t subcmd = subcmd::init;  ///< sub-command bits (namespace subcmd)
    Value pv_request;  ///< INIT: the pvRequest (FieldDesc + value)

    /// An INIT request.
    bool is_init() const noexcept { return subcmd & subcmd::init; }
    /// Destroys the operation afterwards.
    bool destroys() const noexcept { return subcmd & subcmd::destroy; }
};

/// What every operation response carries.
struct OperationResponse {
    std::uint32_t ioid = 0;  ///< the operation id of the request
    std::uint8_t subcmd = subcmd::init;  ///< the request's sub-command bits
    Status status;                       ///< the server's outcome

    /// The reply to an INIT.
    bool is_init() const noexcept { return subcmd & subcmd::init; }
    /// The operation ends with this reply.
    bool destroys() const noexcept { return subcmd & subcmd::destroy; }
};

/// GET request (§4.11).
struct GetRequest : OperationRequest {};
/// GET response.
struct GetResponse : OperationResponse {
    TypePtr type;     ///< INIT reply: the data type
    BitSet changed;   ///< EXEC reply
    Value data;       ///< EXEC reply
};

/// PUT request (§4.12).
struct PutRequest : OperationRequest {
    BitSet changed;   ///< PUT (0x00): the fields written
    Value data;       ///< PUT: the value (fields selected by `changed`)
};
/// PUT response.
struct PutResponse : OperationResponse {
    TypePtr type;     ///< INIT reply: the put type
    BitSet changed;   ///< GET (0x40) reply: the current value
    Value data;       ///< GET reply: the value (fields selected by `changed`)
};

/// PUT_GET request (§4.13).
struct PutGetRequest : OperationRequest {
    BitSet changed;   ///< PUT-GET (0x00): the put value
    Value data;       ///< PUT-GET: the value to put (fields selected by `changed`)
};
/// PUT_GET response.
struct PutGetResponse : OperationResponse {
    TypePtr put_type;  ///< INIT reply
    TypePtr get_type;  ///< INIT reply
    BitSet changed;    ///< put-get (0x00) and get-get (0x40): get value; get-put (0x80): put value
    Value data;        ///< the value `changed` selects from
};

/// MONITOR request: INIT, start, stop, pipeline ACK, destroy.
struct MonitorRequest : OperationRequest {
    /// INIT with 0x80 (pipeline): the initial window; ACK (0x80): updates consumed.
    std::uint32_t nfree = 0;
    /// Whether `nfree` is on the wire (the 0x80 bit).
    bool has_nfree() const noexcept { return subcmd & subcmd::get_put; }
};
/// MONITOR response: the INIT reply, an update, or the finish.
struct MonitorResponse : OperationResponse {
    TypePtr type;     ///< INIT reply
    bool has_data = true;  ///< update (and finish, if data follows); false: an empty update
    BitSet changed;        ///< update: the fields that changed
    Value data;            ///< update: the value (fields selected by `changed`)
    BitSet overrun;        ///< update: fields that changed more than once since the last update

    /// An update (neither INIT nor destroy).
    bool is_update() const noexcept { return !(subcmd & (subcmd::init | subcmd::destroy)); }
    /// The server ended the monitor.
    bool is_finish() const noexcept { return !is_init() && destroys(); }
};

/// ARRAY request (§4.15).
struct ArrayRequest : OperationRequest {
    std::size_t offset = 0;  ///< GET (0x40) and PUT (0x00)
    std::size_t count = 0;   ///< GET: elements wanted (0 = to the end)
    std::size_t stride = 1;  ///< GET and PUT
    std::size_t length = 0;  ///< SET_LENGTH (0x80)
    Value data;              ///< PUT: the elements (a Value of the array type)
};
/// ARRAY response.
struct ArrayResponse : OperationResponse {
    TypePtr type;            ///< INIT reply: the array field's type
    Value data;              ///< GET reply
    std::size_t length = 0;  ///< GET_LENGTH reply
};

/// PROCESS request (§4.17).
struct ProcessRequest : OperationRequest {};
/// PROCESS response.
struct ProcessResponse : OperationResponse {};

/// RPC request (§4.18).
struct RpcRequest : OperationRequest {
    Value argument;  ///< EXEC: FieldDesc + full value
};
/// RPC response.
struct RpcResponse : OperationResponse {
    Value result;    ///< EXEC reply: FieldDesc + full value (null = no result)
};

}  // namespace pvwire::wire
