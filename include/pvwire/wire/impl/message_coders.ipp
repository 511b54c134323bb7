// MessageCodec<T>: the one encoder and decoder of every message struct, under both the typed
// entry points (wire::encode<D>(msg), wire::decode(header, body, ctx, T&, diag)) and the variant
// ones (message_codec.ipp). The layouts are in protocol.md §4; each reader and writer names its
// section. The compiled library instantiates the GET replies and MONITOR updates, which have a
// reader and writer per byte order, in a translation unit of their own
// (src/wire/message_codec_hot.cpp), so that the compiler inlines both as fully as before.
#pragma once

#include <pvwire/wire/message.hpp>
#include <pvwire/detail/header_only.hpp>

#include <pvwire/wire/utf8.hpp>
#include <pvwire/wire/value_codec.hpp>

namespace pvwire::wire {

PVWIRE_IMPL_NAMESPACE(message_codec_impl) {

PVWIRE_DECL const Limits& limits_of(const DecodeContext& ctx) {
    static const Limits defaults;
    return ctx.limits ? *ctx.limits : defaults;
}

// The messages worth a Reader and a Writer per byte order (FixedOrderReader/Writer), so that
// no field of their values tests the order: the data of GET replies and MONITOR updates. The
// rest use the run-time Reader and Writer, instantiated once.
template <class T>
constexpr bool fixed_order_codec = std::is_same_v<T, GetResponse> || std::is_same_v<T, MonitorResponse>;

// ---- decoding -------------------------------------------------------------------------------

// R: Reader, or FixedOrderReader<O> for the fixed_order_codec messages.
template <class R> struct Decoder {
    R& r;
    DecodeContext& ctx;

    TypePtr type(const char* what) {
        r.set_context(what);
        return decode_type(r, ctx.types, ctx.trace);
    }
    Value typed_value(const char* what) {
        r.set_context(what);
        Value v;
        decode_typed_value(r, v, ctx.types, ctx.trace);
        return v;
    }
    OperationTypes* op(std::uint32_t ioid, Command command) {
        OperationTypes* t = ctx.operations ? ctx.operations->find(ioid) : nullptr;
        if (!t || t->command != std::uint8_t(command)) {
            r.fail(errc::unknown_operation, "operation data",
                   "no INIT reply seen for ioid " + std::to_string(ioid) + " of " +
                       std::string(command_name(std::uint8_t(command))));
            return nullptr;
        }
        return t;
    }
    void remember(std::uint32_t ioid, Command command, TypePtr t, TypePtr t2 = nullptr) {
        if (!ctx.operations) return;
        if (!ctx.operations->set(ioid, OperationTypes{std::uint8_t(command), std::move(t), std::move(t2)}))
            r.fail(errc::too_large, "operation table", "too many open operations on this connection");
    }
    void forget(std::uint32_t ioid) {
        if (ctx.operations) ctx.operations->erase(ioid);
    }
    void partial(const TypePtr& t, BitSet& changed, Value& data, const char* what,
                 ValueRecycler* recycler = nullptr) {
        r.set_context(what);
        // an INIT reply may announce the null type: decode_partial then reports the failure
        data = !t ? Value() : recycler ? recycler->make(t) : Value(t);
        decode_partial(r, data, changed, ctx.types);
    }

    // (cid, name) of SEARCH and CREATE_CHANNEL; names must be UTF-8
    SearchChannel channel() {
        SearchChannel c;
        c.cid = r.u32("cid");
        const auto name = r.string("channel name");
        if (r.ok() && !valid_utf8(name)) r.fail(errc::bad_utf8, "channel name", "not valid UTF-8");
        c.name = name;
        return c;
    }
    void channels(std::vector<SearchChannel>& out) {
        const std::size_t n = r.u16("channel count");
        if (r.ok() && n > r.remaining() / 5) {
            r.fail(errc::truncated, "channel count", std::to_string(n) + " channels cannot fit");
            return;
        }
        out.reserve(n);
        for (std::size_t i = 0; i < n && r.ok(); ++i) out.push_back(channel());
    }
    // sid, ioid, sub-command and, for INIT, the pvRequest
    void request_head(OperationRequest& m, const char* what) {
        r.set_context(what);
        m.sid = r.u32("sid");
        m.ioid = r.u32("ioid");
        m.subcmd = r.u8("sub-command");
        if (r.ok() && m.is_init()) m.pv_request = typed_value("pvRequest");
    }
    void response_head(OperationResponse& m, const char* what) {
        r.set_context(what);
        m.ioid = r.u32("ioid");
        m.subcmd = r.u8("sub-command");
    }
    // Responses other than MONITOR updates: Status, and data only on success.
    bool response_status(Status& status) {
        r.set_context("status");
        status.decode(r);
        return r.ok() && status.success();
    }
    // An operation's data replies end it when DESTROY is set.
    void forget_if_destroyed(const OperationResponse& m) {
        if (r.ok() && !m.is_init() && m.destroys()) forget(m.ioid);
    }

    void read(Beacon& m);
    void read(ValidationRequest& m);
    void read(ValidationResponse& m);
    void read(Echo& m);
    void read(Search& m);
    void read(SearchResponse& m);
    void read(AuthNZ& m);
    void read(AclChange& m);
    void read(CreateChannelRequest& m);
    void read(CreateChannelResponse& m);
    void read(DestroyChannel& m);
    void read(ConnectionValidated& m);
    void read(DestroyRequest& m);
    void read(CancelRequest& m);
    void read(GetFieldRequest& m);
    void read(GetFieldResponse& m);
    void read(RemoteMessage& m);
    void read(MultipleData& m);
    void read(OriginTag& m);
    void read(GetRequest& m);
    void read(GetResponse& m);
    void read(PutRequest& m);
    void read(PutResponse& m);
    void read(PutGetRequest& m);
    void read(PutGetResponse& m);
    void read(MonitorRequest& m);
    void read(MonitorResponse& m);
    void read(ArrayRequest& m);
    void read(ArrayResponse& m);
    void read(ProcessRequest& m);
    void read(ProcessResponse& m);
    void read(RpcRequest& m);
    void read(RpcResponse& m);

    // ARRAY's put and get data: the elements alone, typed by the INIT reply.
    void array_data(OperationTypes* t, Value& data, const char* what) {
        if (!t) return;
        r.set_context(what);
        data = t->type ? Value(t->type) : Value();  // null type: decode_value fails
        decode_value(r, data, ctx.types);
    }
};

// ---- connection and discovery messages (§4.3-4.8, §4.22-4.23) ----

template <class R> void Decoder<R>::read(Beacon& m) {  // §4.8
    r.set_context("BEACON");
    m.guid.decode(r);
    m.flags = r.u8("flags");
    m.sequence = r.u8("sequence");
    m.change_count = r.u16("change count");
    m.server_address.decode(r, "server address");
    m.server_port = r.u16("server port");
    m.protocol = r.string("protocol");
    if (r.ok() && r.remaining() == 0) {
        m.has_status = false;
    } else {
        r.set_context("BEACON server status");
        TypeCache* none = nullptr;  // never cached (UDP)
        decode_typed_value(r, m.server_status, none, nullptr);
    }
}

template <class R> void Decoder<R>::read(ValidationRequest& m) {  // §4.3
    r.set_context("CONNECTION_VALIDATION request");
    m.buffer_size = r.u32("receive buffer size");
    m.registry_size = r.u16("introspection registry size");
    const auto n = r.count("auth method count");
    m.auth_methods.clear();
    for (std::size_t i = 0; i < n && r.ok(); ++i) m.auth_methods.emplace_back(r.string("auth method"));
}

template <class R> void Decoder<R>::read(ValidationResponse& m) {  // §4.3
    r.set_context("CONNECTION_VALIDATION response");
    m.buffer_size = r.u32("receive buffer size");
    m.registry_size = r.u16("introspection registry size");
    m.qos = r.u16("QoS");
    m.auth_method = r.string("auth method");
    m.auth_data = typed_value("CONNECTION_VALIDATION auth data");
}

template <class R> void Decoder<R>::read(Echo& m) {  // §4.5
    auto b = r.bytes(r.remaining(), "echo payload");
    m.payload.assign(b.begin(), b.end());
}

template <class R> void Decoder<R>::read(Search& m) {  // §4.6
    r.set_context("SEARCH");
    m.sequence = r.u32("sequence id");
    m.flags = r.u8("flags");
    r.raw(m.reserved.data(), 3, "reserved");
    m.response_address.decode(r, "response address");
    m.response_port = r.u16("response port");
    const auto np = r.count("protocol count");
    m.protocols.clear();
    for (std::size_t i = 0; i < np && r.ok(); ++i) m.protocols.emplace_back(r.string("protocol"));
    channels(m.channels);
}

template <class R> void Decoder<R>::read(SearchResponse& m) {  // §4.7
    r.set_context("SEARCH_RESPONSE");
    m.guid.decode(r);
    m.sequence = r.u32("sequence id");
    m.server_address.decode(r, "server address");
    m.server_port = r.u16("server port");
    m.protocol = r.string("protocol");
    m.found = r.u8("found") != 0;
    const std::size_t n = r.u16("cid count");
    if (r.ok() && n > r.remaining() / 4) {
        r.fail(errc::truncated, "cid count", std::to_string(n) + " cids cannot fit");
        return;
    }
    m.cids.reserve(n);
    for (std::size_t i = 0; i < n && r.ok(); ++i) m.cids.push_back(r.u32("cid"));
}

template <class R> void Decoder<R>::read(AuthNZ& m) { m.data = typed_value("AUTHNZ"); }  // §4.22

template <class R> void Decoder<R>::read(AclChange& m) {
    auto b = r.bytes(r.remaining(), "ACL_CHANGE body");
    m.body.assign(b.begin(), b.end());
}

template <class R> void Decoder<R>::read(ConnectionValidated& m) {  // §4.4
    r.set_context("CONNECTION_VALIDATED");
    m.status.decode(r);
}

template <class R> void Decoder<R>::read(OriginTag& m) {  // §4.23
    r.set_context("ORIGIN_TAG");
    m.address.decode(r, "origin address");
}

// ---- channels and per-operation housekeeping (§4.9-4.10, §4.17, §4.19-4.21) ----

template <class R> void Decoder<R>::read(CreateChannelRequest& m) {  // §4.9
    r.set_context("CREATE_CHANNEL request");
    channels(m.channels);
}

template <class R> void Decoder<R>::read(CreateChannelResponse& m) {  // §4.9
    r.set_context("CREATE_CHANNEL response");
    m.cid = r.u32("cid");
    m.sid = r.u32("sid");
    m.status.decode(r);
}

template <class R> void Decoder<R>::read(DestroyChannel& m) {  // §4.10
    r.set_context("DESTROY_CHANNEL");
    m.sid = r.u32("sid");
    m.cid = r.u32("cid");
}

template <class R> void Decoder<R>::read(DestroyRequest& m) {  // §4.19
    r.set_context("DESTROY_REQUEST");
    m.sid = r.u32("sid");
    m.ioid = r.u32("ioid");
    if (r.ok()) forget(m.ioid);
}

template <class R> void Decoder<R>::read(CancelRequest& m) {
    r.set_context("CANCEL_REQUEST");
    m.sid = r.u32("sid");
    m.ioid = r.u32("ioid");
}

template <class R> void Decoder<R>::read(GetFieldRequest& m) {  // §4.17
    r.set_context("GET_FIELD request");
    m.sid = r.u32("sid");
    m.ioid = r.u32("ioid");
    m.sub_field = r.string("sub-field");
}

template <class R> void Decoder<R>::read(GetFieldResponse& m) {  // §4.17
    r.set_context("GET_FIELD response");
    m.ioid = r.u32("ioid");
    if (response_status(m.status)) m.type = type("GET_FIELD response type");
}

template <class R> void Decoder<R>::read(RemoteMessage& m) {  // §4.20
    r.set_context("MESSAGE");
    m.ioid = r.u32("ioid");
    m.type = r.u8("message type");
    m.text = r.string("message text");
}

template <class R> void Decoder<R>::read(MultipleData& m) {  // §4.21
    r.set_context("MULTIPLE_DATA");
    while (r.ok()) {
        const std::size_t at = r.pos();
        const std::uint32_t ioid = r.u32("ioid");
        if (!r.ok() || ioid == 0) break;
        const OperationTypes* t = ctx.operations ? ctx.operations->find(ioid) : nullptr;
        if (!t) {
            r.fail(errc::unknown_operation, "entry", "reply for unknown ioid " + std::to_string(ioid));
            break;
        }
        // an entry is exactly a normal reply body, starting with its ioid
        Reader sub(r.data().subspan(at), r.order(), r.limits());
        sub.set_offset_base(header_size + at);
        sub.set_owner(r.owner());
        Decoder<Reader> d{sub, ctx};
        Message entry;
        entry.order = r.order();
        entry.from_server = true;
        visit_message_type(t->command, true, [&]<class T>(std::type_identity<T>) {
            if constexpr (std::is_base_of_v<OperationResponse, T>) {
                T reply;
                d.read(reply);
                entry.body = std::move(reply);
            } else {
                sub.fail(errc::unknown_command, "operation response", "command " + std::to_string(t->command));
            }
        });
        if (!sub.ok()) {
            r.adopt(sub.take_diagnostic());
            break;
        }
        r.skip(sub.pos() - 4, "entry");
        m.replies.push_back(std::move(entry));
    }
}

// ---- operation requests (§4.11-4.18) ----

template <class R> void Decoder<R>::read(GetRequest& m) { request_head(m, "GET request"); }

template <class R> void Decoder<R>::read(PutRequest& m) {
    request_head(m, "PUT request");
    if (r.ok() && !m.is_init() && !(m.subcmd & subcmd::get))
        if (auto* t = op(m.ioid, Command::Put)) partial(t->type, m.changed, m.data, "PUT request value");
}

template <class R> void Decoder<R>::read(PutGetRequest& m) {
    request_head(m, "PUT_GET request");
    if (r.ok() && !m.is_init() && !(m.subcmd & (subcmd::get | subcmd::get_put)))
        if (auto* t = op(m.ioid, Command::PutGet)) partial(t->type, m.changed, m.data, "PUT_GET request value");
}

template <class R> void Decoder<R>::read(MonitorRequest& m) {
    request_head(m, "MONITOR request");
    if (r.ok() && m.has_nfree()) m.nfree = r.u32(m.is_init() ? "pipeline window" : "ack count");
}

template <class R> void Decoder<R>::read(ArrayRequest& m) {
    request_head(m, "ARRAY request");
    if (!r.ok() || m.is_init()) return;
    if (m.subcmd & subcmd::get) {
        m.offset = std::size_t(r.size("offset"));
        m.count = std::size_t(r.size("count"));
        m.stride = std::size_t(r.size("stride"));
    } else if (m.subcmd & subcmd::get_put) {
        m.length = std::size_t(r.size("length"));
    } else if (m.subcmd & subcmd::process) {
        // get-length: nothing follows
    } else {
        m.offset = std::size_t(r.size("offset"));
        m.stride = std::size_t(r.size("stride"));
        array_data(op(m.ioid, Command::Array), m.data, "ARRAY put value");
    }
}

template <class R> void Decoder<R>::read(ProcessRequest& m) { request_head(m, "PROCESS request"); }

template <class R> void Decoder<R>::read(RpcRequest& m) {
    request_head(m, "RPC request");
    if (r.ok() && !m.is_init()) m.argument = typed_value("RPC argument");
}

// ---- operation responses ----

template <class R> void Decoder<R>::read(GetResponse& m) {
    response_head(m, "GET response");
    if (!response_status(m.status)) return;
    if (m.is_init()) {
        m.type = type("GET response type");
        if (r.ok()) remember(m.ioid, Command::Get, m.type);
    } else if (auto* t = op(m.ioid, Command::Get)) {
        partial(t->type, m.changed, m.data, "GET response value");
    }
    forget_if_destroyed(m);
}

template <class R> void Decoder<R>::read(PutResponse& m) {
    response_head(m, "PUT response");
    if (!response_status(m.status)) return;
    if (m.is_init()) {
        m.type = type("PUT response type");
        if (r.ok()) remember(m.ioid, Command::Put, m.type);
    } else if (m.subcmd & subcmd::get) {
        if (auto* t = op(m.ioid, Command::Put)) partial(t->type, m.changed, m.data, "PUT response value");
    }
    forget_if_destroyed(m);
}

template <class R> void Decoder<R>::read(PutGetResponse& m) {
    response_head(m, "PUT_GET response");
    if (!response_status(m.status)) return;
    if (m.is_init()) {
        m.put_type = type("PUT_GET put type");
        m.get_type = type("PUT_GET get type");
        if (r.ok()) remember(m.ioid, Command::PutGet, m.put_type, m.get_type);
    } else if (auto* t = op(m.ioid, Command::PutGet)) {
        const bool put_side = (m.subcmd & subcmd::get_put) && !(m.subcmd & subcmd::get);
        partial(put_side ? t->type : t->type2, m.changed, m.data, "PUT_GET response value");
    }
    forget_if_destroyed(m);
}

// INIT reply, update, or finish (Status, then possibly one last update).
template <class R> void Decoder<R>::read(MonitorResponse& m) {
    response_head(m, "MONITOR response");
    if (!r.ok()) return;
    if (m.is_init()) {
        m.has_data = false;
        if (response_status(m.status)) {
            m.type = type("MONITOR response type");
            if (r.ok()) remember(m.ioid, Command::Monitor, m.type);
        }
        return;
    }
    if (m.destroys()) {
        m.has_data = false;
        response_status(m.status);
        if (!r.ok() || r.remaining() == 0) {
            if (r.ok()) forget(m.ioid);
            return;
        }
    }
    if (r.remaining() == 0) {  // pvAccessCPP's notify-only update
        m.has_data = false;
        return;
    }
    if (auto* t = op(m.ioid, Command::Monitor)) {
        m.has_data = true;
        partial(t->type, m.changed, m.data, "MONITOR update value", &t->updates);
        r.set_context("MONITOR update");
        r.bitset(m.overrun, "overrun BitSet");
    }
    if (r.ok() && m.destroys()) forget(m.ioid);
}

template <class R> void Decoder<R>::read(ArrayResponse& m) {
    response_head(m, "ARRAY response");
    if (!response_status(m.status)) return;
    if (m.is_init()) {
        m.type = type("ARRAY response type");
        if (r.ok()) remember(m.ioid, Command::Array, m.type);
    } else if (m.subcmd & subcmd::get) {
        array_data(op(m.ioid, Command::Array), m.data, "ARRAY response value");
    } else if (m.subcmd & subcmd::get_put) {
        // set-length: status only
    } else if (m.subcmd & subcmd::process) {
        m.length = std::size_t(r.size("length"));
    }
    forget_if_destroyed(m);
}

template <class R> void Decoder<R>::read(ProcessResponse& m) {
    response_head(m, "PROCESS response");
    response_status(m.status);
}

template <class R> void Decoder<R>::read(RpcResponse& m) {
    response_head(m, "RPC response");
    if (response_status(m.status) && !m.is_init()) m.result = typed_value("RPC result");
}

// ---- encoding -------------------------------------------------------------------------------

// W: Writer, or FixedOrderWriter<O> for the fixed_order_codec messages.
template <class W> struct Encoder {
    W& w;
    TypeRegistry* reg;

    void typed(const Value& v) { encode_typed_value(w, v, reg); }
    void type(const TypePtr& t) { encode_type(w, t, reg); }
    void request_head(const OperationRequest& m) {
        w.u32(m.sid);
        w.u32(m.ioid);
        w.u8(m.subcmd);
        if (m.is_init()) typed(m.pv_request);
    }
    void response_head(const OperationResponse& m) {
        w.u32(m.ioid);
        w.u8(m.subcmd);
        m.status.encode(w);
    }
    void partial(const BitSet& changed, const Value& data) {
        if (!data) {
            w.bitset(BitSet{});
            return;
        }
        encode_partial(w, data, changed, reg);
    }
    void channels(const std::vector<SearchChannel>& all) {
        w.u16(std::uint16_t(all.size()));
        for (const auto& c : all) {
            w.u32(c.cid);
            w.string(c.name);
        }
    }

    void write(const Beacon& m) {
        m.guid.encode(w);
        w.u8(m.flags);
        w.u8(m.sequence);
        w.u16(m.change_count);
        m.server_address.encode(w);
        w.u16(m.server_port);
        w.string(m.protocol);
        if (m.has_status) encode_typed_value(w, m.server_status, nullptr);
    }
    void write(const ValidationRequest& m) {
        w.u32(m.buffer_size);
        w.u16(m.registry_size);
        w.size(m.auth_methods.size());
        for (const auto& s : m.auth_methods) w.string(s);
    }
    void write(const ValidationResponse& m) {
        w.u32(m.buffer_size);
        w.u16(m.registry_size);
        w.u16(m.qos);
        w.string(m.auth_method);
        typed(m.auth_data);
    }
    void write(const Echo& m) { w.raw(m.payload.data(), m.payload.size()); }
    void write(const Search& m) {
        w.u32(m.sequence);
        w.u8(m.flags);
        w.raw(m.reserved.data(), 3);
        m.response_address.encode(w);
        w.u16(m.response_port);
        w.size(m.protocols.size());
        for (const auto& p : m.protocols) w.string(p);
        channels(m.channels);
    }
    void write(const SearchResponse& m) {
        m.guid.encode(w);
        w.u32(m.sequence);
        m.server_address.encode(w);
        w.u16(m.server_port);
        w.string(m.protocol);
        w.u8(m.found ? 1 : 0);
        w.u16(std::uint16_t(m.cids.size()));
        for (auto c : m.cids) w.u32(c);
    }
    void write(const AuthNZ& m) { typed(m.data); }
    void write(const AclChange& m) { w.raw(m.body.data(), m.body.size()); }
    void write(const CreateChannelRequest& m) { channels(m.channels); }
    void write(const CreateChannelResponse& m) {
        w.u32(m.cid);
        w.u32(m.sid);
        m.status.encode(w);
    }
    void write(const DestroyChannel& m) {
        w.u32(m.sid);
        w.u32(m.cid);
    }
    void write(const ConnectionValidated& m) { m.status.encode(w); }
    void write(const GetRequest& m) { request_head(m); }
    void write(const GetResponse& m) {
        response_head(m);
        if (!m.status.success()) return;
        if (m.is_init()) type(m.type);
        else partial(m.changed, m.data);
    }
    void write(const PutRequest& m) {
        request_head(m);
        if (!m.is_init() && !(m.subcmd & subcmd::get)) partial(m.changed, m.data);
    }
    void write(const PutResponse& m) {
        response_head(m);
        if (!m.status.success()) return;
        if (m.is_init()) type(m.type);
        else if (m.subcmd & subcmd::get) partial(m.changed, m.data);
    }
    void write(const PutGetRequest& m) {
        request_head(m);
        if (!m.is_init() && !(m.subcmd & (subcmd::get | subcmd::get_put))) partial(m.changed, m.data);
    }
    void write(const PutGetResponse& m) {
        response_head(m);
        if (!m.status.success()) return;
        if (m.is_init()) {
            type(m.put_type);
            type(m.get_type);
        } else {
            partial(m.changed, m.data);
        }
    }
    void write(const MonitorRequest& m) {
        request_head(m);
        if (m.has_nfree()) w.u32(m.nfree);
    }
    void write(const MonitorResponse& m) {
        w.u32(m.ioid);
        w.u8(m.subcmd);
        if (m.is_init()) {
            m.status.encode(w);
            if (m.status.success()) type(m.type);
            return;
        }
        if (m.destroys()) m.status.encode(w);
        if (!m.has_data) return;
        partial(m.changed, m.data);
        w.bitset(m.overrun);
    }
    void write(const ArrayRequest& m) {
        request_head(m);
        if (m.is_init()) return;
        if (m.subcmd & subcmd::get) {
            w.size(m.offset);
            w.size(m.count);
            w.size(m.stride);
        } else if (m.subcmd & subcmd::get_put) {
            w.size(m.length);
        } else if (m.subcmd & subcmd::process) {
        } else {
            w.size(m.offset);
            w.size(m.stride);
            encode_value(w, m.data, reg);
        }
    }
    void write(const ArrayResponse& m) {
        response_head(m);
        if (!m.status.success()) return;
        if (m.is_init()) type(m.type);
        else if (m.subcmd & subcmd::get) encode_value(w, m.data, reg);
        else if (m.subcmd & subcmd::get_put) {
        } else if (m.subcmd & subcmd::process) w.size(m.length);
    }
    void write(const DestroyRequest& m) {
        w.u32(m.sid);
        w.u32(m.ioid);
    }
    void write(const ProcessRequest& m) { request_head(m); }
    void write(const ProcessResponse& m) { response_head(m); }
    void write(const GetFieldRequest& m) {
        w.u32(m.sid);
        w.u32(m.ioid);
        w.string(m.sub_field);
    }
    void write(const GetFieldResponse& m) {
        w.u32(m.ioid);
        m.status.encode(w);
        if (m.status.success()) type(m.type);
    }
    void write(const RemoteMessage& m) {
        w.u32(m.ioid);
        w.u8(m.type);
        w.string(m.text);
    }
    void write(const MultipleData& m) {
        for (const auto& e : m.replies) std::visit([&](const auto& reply) { write(reply); }, e.body);
        w.u32(0);
    }
    void write(const RpcRequest& m) {
        request_head(m);
        if (!m.is_init()) typed(m.argument);
    }
    void write(const RpcResponse& m) {
        response_head(m);
        if (m.status.success() && !m.is_init()) typed(m.result);
    }
    void write(const CancelRequest& m) {
        w.u32(m.sid);
        w.u32(m.ioid);
    }
    void write(const OriginTag& m) { m.address.encode(w); }
    void write(const Control&) {}  // header only (MULTIPLE_DATA never holds one)
};

// ---- the envelope: header, reader and writer set-up -----------------------------------------

PVWIRE_DECL bool within_limits(std::span<const std::byte> body, const DecodeContext& ctx, Diagnostic& diag) {
    if (body.size() <= limits_of(ctx).max_message_bytes) return true;
    diag.code = make_error_code(errc::too_large);
    diag.offset = 4;
    diag.field = "header";
    diag.detail = "body of " + std::to_string(body.size()) + " bytes exceeds the limit";
    return false;
}

template <class R, class T>
bool read_message(std::span<const std::byte> body, ByteOrder order, DecodeContext& ctx, T& out, Diagnostic& diag) {
    const Limits& lim = limits_of(ctx);
    R r = [&] {
        if constexpr (std::is_same_v<R, Reader>) return Reader(body, order, lim);
        else return R(body, lim);
    }();
    r.set_offset_base(header_size);
    r.set_owner(ctx.owner);
    Decoder<R>{r, ctx}.read(out);
    if (!r.ok()) {
        diag = r.take_diagnostic();
        return false;
    }
    return true;
}

template <class W, class T>
void write_message(W& w, const T& msg, TypeRegistry* types, const Framing& framing) {
    const std::uint8_t dir = framing.from_server ? flag::from_server : 0;
    if constexpr (std::is_same_v<T, Control>) {
        w.control(std::uint8_t(msg.code), msg.data, dir, framing.version);
    } else {
        w.begin_message(command_byte(msg), dir, framing.version);
        Encoder<W>{w, types}.write(msg);
        w.end_message();
    }
}

}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(message_codec_impl)

template <class T>
void MessageCodec<T>::encode(const T& msg, OutBuffer& out, const EncodeContext& ctx, const Framing& framing) {
    const EncodeOptions& opts = ctx.options ? *ctx.options : Writer::default_options();
    if constexpr (fixed_order_codec<T>) {
        if (framing.order == ByteOrder::Little) {
            FixedOrderWriter<ByteOrder::Little> w(out, opts);
            write_message(w, msg, ctx.types, framing);
        } else {
            FixedOrderWriter<ByteOrder::Big> w(out, opts);
            write_message(w, msg, ctx.types, framing);
        }
    } else {
        Writer w(out, framing.order, opts);
        write_message(w, msg, ctx.types, framing);
    }
}

template <class T>
bool MessageCodec<T>::decode(const Header& header, std::span<const std::byte> body, DecodeContext& ctx, T& out,
                             Diagnostic& diag) {
    if constexpr (std::is_same_v<T, Control>) {
        out = Control{ControlCommand(header.command), header.size};
        return true;
    } else {
        if (!within_limits(body, ctx, diag)) return false;
        if constexpr (fixed_order_codec<T>) {
            if (header.order() == ByteOrder::Little)
                return read_message<FixedOrderReader<ByteOrder::Little>>(body, header.order(), ctx, out, diag);
            return read_message<FixedOrderReader<ByteOrder::Big>>(body, header.order(), ctx, out, diag);
        } else {
            return read_message<Reader>(body, header.order(), ctx, out, diag);
        }
    }
}

}  // namespace pvwire::wire
