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

struct OperationRequest {
    std::uint32_t sid = 0;
    std::uint32_t ioid = 0;
    std::uint8_t subcmd = subcmd::init;
    Value pv_request;  ///< INIT: the pvRequest (FieldDesc + value)

    bool is_init() const noexcept { return subcmd & subcmd::init; }
    bool destroys() const noexcept { return subcmd & subcmd::destroy; }
};

struct OperationResponse {
    std::uint32_t ioid = 0;
    std::uint8_t subcmd = subcmd::init;
    Status status;

    bool is_init() const noexcept { return subcmd & subcmd::init; }
    bool destroys() const noexcept { return subcmd & subcmd::destroy; }
};

struct GetRequest : OperationRequest {};
struct GetResponse : OperationResponse {
    TypePtr type;     ///< INIT reply: the data type
    BitSet changed;   ///< EXEC reply
    Value data;       ///< EXEC reply
};

struct PutRequest : OperationRequest {
    BitSet changed;   ///< PUT (0x00): the fields written
    Value data;
};
struct PutResponse : OperationResponse {
    TypePtr type;     ///< INIT reply: the put type
    BitSet changed;   ///< GET (0x40) reply: the current value
    Value data;
};

struct PutGetRequest : OperationRequest {
    BitSet changed;   ///< PUT-GET (0x00): the put value
    Value data;
};
struct PutGetResponse : OperationResponse {
    TypePtr put_type;  ///< INIT reply
    TypePtr get_type;  ///< INIT reply
    BitSet changed;    ///< put-get (0x00) and get-get (0x40): get value; get-put (0x80): put value
    Value data;
};

struct MonitorRequest : OperationRequest {
    /// INIT with 0x80 (pipeline): the initial window; ACK (0x80): updates consumed.
    std::uint32_t nfree = 0;
    bool has_nfree() const noexcept { return subcmd & subcmd::get_put; }
};
struct MonitorResponse : OperationResponse {
    TypePtr type;     ///< INIT reply
    bool has_data = true;  ///< update (and finish, if data follows); false: an empty update
    BitSet changed;
    Value data;
    BitSet overrun;

    bool is_update() const noexcept { return !(subcmd & (subcmd::init | subcmd::destroy)); }
    bool is_finish() const noexcept { return !is_init() && destroys(); }
};

struct ArrayRequest : OperationRequest {
    std::size_t offset = 0;  ///< GET (0x40) and PUT (0x00)
    std::size_t count = 0;   ///< GET: elements wanted (0 = to the end)
    std::size_t stride = 1;  ///< GET and PUT
    std::size_t length = 0;  ///< SET_LENGTH (0x80)
    Value data;              ///< PUT: the elements (a Value of the array type)
};
struct ArrayResponse : OperationResponse {
    TypePtr type;            ///< INIT reply: the array field's type
    Value data;              ///< GET reply
    std::size_t length = 0;  ///< GET_LENGTH reply
};

struct ProcessRequest : OperationRequest {};
struct ProcessResponse : OperationResponse {};

struct RpcRequest : OperationRequest {
    Value argument;  ///< EXEC: FieldDesc + full value
};
struct RpcResponse : OperationResponse {
    Value result;    ///< EXEC reply: FieldDesc + full value (null = no result)
};

}  // namespace pvwire::wire
