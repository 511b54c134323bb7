#pragma once

// A msgpack protocol connection in a known state, for the fuzzer of msgpack_protocol::Codec
// (tests/fuzz/fuzz_msgpack_protocol.cpp) and its seeds (tests/fuzz/seeds/msgpack_protocol/,
// checked by tests/unit/msgpack/protocol_test.cpp): one operation of every kind already
// initialised, so that data messages for these ioids are decoded down to their values instead
// of being ignored, and a session of requests and one of replies that use them.

#include <pvwire/data/nt.hpp>
#include <pvwire/msgpack/protocol.hpp>
#include <pvwire/protocol/pv_request.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace pvwire::test::msgpack_session {

using msgpack_protocol::Codec;
using msgpack_protocol::Side;
using wire::Command;
namespace sub = wire::subcmd;

// The first byte of a fuzz input: which side decodes the frames after it.
inline constexpr std::uint8_t decoded_by_server = 0;
inline constexpr std::uint8_t decoded_by_client = 1;

struct KnownOperation {
    std::uint32_t ioid;
    Command command;
    TypePtr type;   // get, put, monitor, array: the data type; put-get: the put side
    TypePtr type2;  // put-get: the get side
};

// A structure with a bit of everything the value codec reads: nested structures, strings,
// numeric and string arrays, a union, an any, a structure array and a bounded string.
inline TypePtr rich_type() {
    static const TypePtr t = [] {
        auto point = TypeDesc::structure("point_t", {{"x", TypeDesc::scalar(TypeCode::Float32)},
                                                     {"y", TypeDesc::scalar(TypeCode::Int16)}});
        return TypeDesc::structure(
            "rich_t", {{"value", TypeDesc::array(TypeCode::Float64)},
                       {"ints", TypeDesc::array(TypeCode::Int32)},
                       {"flags", TypeDesc::array(TypeCode::Bool)},
                       {"names", TypeDesc::array(TypeCode::String)},
                       {"choice", TypeDesc::union_of("", {{"i", TypeDesc::scalar(TypeCode::Int64)},
                                                          {"s", TypeDesc::scalar(TypeCode::String)}})},
                       {"extra", TypeDesc::any()},
                       {"points", TypeDesc::struct_array(point)},
                       {"tag", TypeDesc::bounded_string(8)},
                       {"fixed", TypeDesc::fixed_array(TypeCode::UInt16, 3)},
                       {"where", point}});
    }();
    return t;
}

inline Value rich_value() {
    Value v(rich_type());
    v["value"].set(std::vector<double>{1.5, -2.25, 1e300});
    v["ints"].set(std::vector<std::int32_t>{7, -8, 9});
    v["flags"].set(std::vector<bool>{true, false});
    v["names"].set(std::vector<std::string>{"a", "bc"});
    v["choice"].select("s").set(std::string("chosen"));
    Value extra(TypeDesc::scalar(TypeCode::UInt8));
    extra.set(std::uint8_t(7));
    v["extra"].set_contained(extra);
    v["tag"].set(std::string("tag"));
    v["fixed"].set(std::vector<std::uint16_t>{1, 2, 3});
    v["where.x"].set(0.5f);
    v["where.y"].set(std::int16_t(-3));
    return v;
}

inline Value scalar_value() {
    Value v = nt::NTScalar{TypeCode::Float64, true}.create();
    v["value"].set(3.5);
    v["alarm.message"].set(std::string("high"));
    return v;
}

inline const std::vector<KnownOperation>& known_operations() {
    static const std::vector<KnownOperation> ops{
        {1, Command::Get, rich_type(), nullptr},
        {2, Command::Put, scalar_value().type_ptr(), nullptr},
        {3, Command::PutGet, scalar_value().type_ptr(), rich_type()},
        {4, Command::Monitor, rich_type(), nullptr},
        {5, Command::Array, TypeDesc::array(TypeCode::Float64), nullptr},
        {6, Command::Process, nullptr, nullptr},
        {7, Command::Rpc, nullptr, nullptr},
    };
    return ops;
}

inline wire::Message message(wire::Body body) {
    wire::Message m;
    m.body = std::move(body);
    return m;
}

// A copy of `frame` in an allocation of its own, 8-byte aligned plus `shift` bytes, which
// decoded values may view (aligned arrays) as long as `owner` lives.
struct FrameCopy {
    std::shared_ptr<std::uint64_t[]> owner;
    std::span<const std::byte> bytes;
};
inline FrameCopy copy_frame(std::span<const std::byte> frame, std::size_t shift = 0) {
    std::shared_ptr<std::uint64_t[]> words(new std::uint64_t[(shift + frame.size()) / 8 + 1]);
    auto* at = reinterpret_cast<std::byte*>(words.get()) + shift;
    std::memcpy(at, frame.data(), frame.size());
    return {words, {at, frame.size()}};
}

// INIT request and reply of `op` (sid 1, pvRequest field()).
inline wire::Body init_request(const KnownOperation& op) {
    auto fill = [&](auto r) -> wire::Body {
        r.sid = 1;
        r.ioid = op.ioid;
        r.subcmd = sub::init;
        r.pv_request = protocol::parse_pv_request("field()");
        return r;
    };
    switch (op.command) {
    case Command::Get: return fill(wire::GetRequest{});
    case Command::Put: return fill(wire::PutRequest{});
    case Command::PutGet: return fill(wire::PutGetRequest{});
    case Command::Monitor: {
        wire::MonitorRequest m;
        m.nfree = 4;
        auto b = fill(m);
        std::get<wire::MonitorRequest>(b).subcmd |= sub::get_put;
        return b;
    }
    case Command::Array: return fill(wire::ArrayRequest{});
    case Command::Process: return fill(wire::ProcessRequest{});
    default: return fill(wire::RpcRequest{});
    }
}

inline wire::Body init_reply(const KnownOperation& op) {
    auto head = [&](auto r) {
        r.ioid = op.ioid;
        r.subcmd = sub::init;
        return r;
    };
    switch (op.command) {
    case Command::Get: { auto r = head(wire::GetResponse{}); r.type = op.type; return r; }
    case Command::Put: { auto r = head(wire::PutResponse{}); r.type = op.type; return r; }
    case Command::PutGet: {
        auto r = head(wire::PutGetResponse{});
        r.put_type = op.type;
        r.get_type = op.type2;
        return r;
    }
    case Command::Monitor: { auto r = head(wire::MonitorResponse{}); r.type = op.type; r.has_data = false; return r; }
    case Command::Array: { auto r = head(wire::ArrayResponse{}); r.type = op.type; return r; }
    case Command::Process: return head(wire::ProcessResponse{});
    default: return head(wire::RpcResponse{});
    }
}

// A server codec learns the operations from the INIT replies it sends.
inline void teach_server(Codec& server) {
    wire::OutBuffer scratch;
    for (const auto& op : known_operations()) server.encode(message(init_reply(op)), scratch);
}

// A client codec learns them from the INIT requests it sends and the replies it receives.
inline void teach_client(Codec& client) {
    Codec server(Side::server);
    for (const auto& op : known_operations()) {
        wire::OutBuffer scratch;
        client.encode(message(init_request(op)), scratch);
        wire::OutBuffer reply;
        server.encode(message(init_reply(op)), reply);
        const std::vector<std::byte> frame = reply.flatten();
        wire::Message m;
        wire::Diagnostic diag;
        if (client.decode(frame, m, diag) != Codec::Result::Message)
            throw std::logic_error("msgpack_session: an INIT reply does not decode: " + diag.message());
    }
}

template <class Op> Op op(std::uint32_t ioid, std::uint8_t subcmd) {
    Op r;
    r.ioid = ioid;
    r.subcmd = subcmd;
    return r;
}

// The frames a client sends: connection, channel, a new INIT, then an execution of every
// known operation.
inline std::vector<std::byte> request_session() {
    Codec client(Side::client);
    wire::OutBuffer out;
    auto send = [&](wire::Body b) { client.encode(message(std::move(b)), out); };
    const Value scalar = scalar_value();
    const Value rich = rich_value();

    wire::ValidationResponse hello;
    hello.auth_method = "anonymous";
    send(hello);
    send(wire::Echo{{std::byte(1), std::byte(2)}});
    send(wire::CreateChannelRequest{{{1, "pv:one"}}});
    send(wire::GetFieldRequest{1, 90, "value"});
    send(init_request({100, Command::Get, nullptr, nullptr}));
    send(op<wire::GetRequest>(1, sub::exec));
    auto put = op<wire::PutRequest>(2, sub::exec);
    put.data = scalar;
    put.changed = BitSet{0};
    send(put);
    send(op<wire::PutRequest>(2, sub::get));
    auto put_get = op<wire::PutGetRequest>(3, sub::exec);
    put_get.data = scalar;
    put_get.changed = BitSet{1};
    send(put_get);
    send(op<wire::PutGetRequest>(3, sub::get_put));
    auto ack_start = op<wire::MonitorRequest>(4, sub::monitor_start | sub::get_put);
    ack_start.nfree = 2;
    send(ack_start);
    send(op<wire::MonitorRequest>(4, sub::monitor_stop));
    auto array_get = op<wire::ArrayRequest>(5, sub::get);
    array_get.offset = 1;
    array_get.count = 2;
    send(array_get);
    auto array_put = op<wire::ArrayRequest>(5, sub::exec);
    array_put.data = rich["value"].clone();
    send(array_put);
    send(op<wire::ArrayRequest>(5, sub::process));
    auto set_length = op<wire::ArrayRequest>(5, sub::get_put);
    set_length.length = 2;
    send(set_length);
    send(op<wire::ProcessRequest>(6, sub::exec));
    auto rpc = op<wire::RpcRequest>(7, sub::exec | sub::destroy);
    rpc.argument = rich;
    send(rpc);
    send(wire::CancelRequest{1, 1});
    send(wire::DestroyRequest{1, 4});
    send(wire::DestroyChannel{1, 1});
    return out.flatten();
}

// The frames a server sends in answer (and of its own: updates, a finish, a message, an error).
inline std::vector<std::byte> reply_session() {
    Codec server(Side::server);
    teach_server(server);
    wire::OutBuffer out;
    auto send = [&](wire::Body b) { server.encode(message(std::move(b)), out); };
    const Value scalar = scalar_value();
    const Value rich = rich_value();

    send(wire::ValidationRequest{});
    send(wire::ConnectionValidated{wire::Status::warning("read-only")});
    send(wire::Echo{{std::byte(1), std::byte(2)}});
    send(wire::CreateChannelResponse{1, 1, {}});
    send(wire::GetFieldResponse{90, {}, rich_type()});
    auto get = op<wire::GetResponse>(1, sub::exec);
    get.data = rich;
    get.changed = BitSet{0};
    send(get);
    send(op<wire::PutResponse>(2, sub::exec));
    auto current = op<wire::PutResponse>(2, sub::get);
    current.data = scalar;
    current.changed = BitSet{0};
    send(current);
    auto put_get = op<wire::PutGetResponse>(3, sub::exec);
    put_get.data = rich;
    put_get.changed = BitSet{1, 4};
    send(put_get);
    Codec::encode_update(4, rich, BitSet{0}, BitSet{}, out);
    Codec::encode_update(4, rich, BitSet{1, 5}, BitSet{1}, out);
    auto elements = op<wire::ArrayResponse>(5, sub::get);
    elements.data = rich["value"].clone();
    send(elements);
    auto length = op<wire::ArrayResponse>(5, sub::process);
    length.length = 3;
    send(length);
    send(op<wire::ProcessResponse>(6, sub::exec));
    auto rpc = op<wire::RpcResponse>(7, sub::exec);
    rpc.result = rich;
    send(rpc);
    send(wire::RemoteMessage{4, 1, "slow"});
    auto finish = op<wire::MonitorResponse>(4, sub::destroy);
    finish.has_data = false;
    finish.status = wire::Status::error("gone");
    send(finish);
    send(wire::DestroyChannel{1, 1});
    Codec::encode_error("bad message from client", out);
    return out.flatten();
}

}  // namespace pvwire::test::msgpack_session
