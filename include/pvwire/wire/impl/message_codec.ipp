// decode() and encode() for every message. The layouts are in protocol.md §4; each case
// below names its section.
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

// ---- decoding -------------------------------------------------------------------------------

struct Decoder {
    Reader& r;
    DecodeContext& ctx;
    bool from_server;

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
    OperationTypes* op(std::uint32_t ioid, std::uint8_t command) {
        OperationTypes* t = ctx.operations ? ctx.operations->find(ioid) : nullptr;
        if (!t || t->command != command) {
            r.fail(errc::unknown_operation, "operation data",
                   "no INIT reply seen for ioid " + std::to_string(ioid) + " of " +
                       std::string(command_name(command)));
            return nullptr;
        }
        return t;
    }
    void remember(std::uint32_t ioid, std::uint8_t command, TypePtr t, TypePtr t2 = nullptr) {
        if (!ctx.operations) return;
        if (!ctx.operations->set(ioid, OperationTypes{command, std::move(t), std::move(t2)}))
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
    template <class Req> void request_head(Req& m) {
        m.sid = r.u32("sid");
        m.ioid = r.u32("ioid");
        m.subcmd = r.u8("sub-command");
    }
    template <class Rsp> void response_head(Rsp& m) {
        m.ioid = r.u32("ioid");
        m.subcmd = r.u8("sub-command");
    }
    // Responses other than MONITOR updates: Status, and data only on success.
    template <class Rsp> bool response_status(Rsp& m) {
        r.set_context("status");
        m.status.decode(r);
        return r.ok() && m.status.success();
    }

    Body decode_body(std::uint8_t command);
    Body operation_response(std::uint8_t command);
};

PVWIRE_DECL Body Decoder::decode_body(std::uint8_t command) {
    switch (Command(command)) {
    case Command::Beacon: {  // §4.8
        r.set_context("BEACON");
        Beacon m;
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
        return m;
    }
    case Command::ConnectionValidation:  // §4.3
        if (from_server) {
            r.set_context("CONNECTION_VALIDATION request");
            ValidationRequest m;
            m.buffer_size = r.u32("receive buffer size");
            m.registry_size = r.u16("introspection registry size");
            const auto n = r.count("auth method count");
            m.auth_methods.clear();
            for (std::size_t i = 0; i < n && r.ok(); ++i) m.auth_methods.emplace_back(r.string("auth method"));
            return m;
        } else {
            r.set_context("CONNECTION_VALIDATION response");
            ValidationResponse m;
            m.buffer_size = r.u32("receive buffer size");
            m.registry_size = r.u16("introspection registry size");
            m.qos = r.u16("QoS");
            m.auth_method = r.string("auth method");
            m.auth_data = typed_value("CONNECTION_VALIDATION auth data");
            return m;
        }
    case Command::Echo: {  // §4.5
        Echo m;
        auto b = r.bytes(r.remaining(), "echo payload");
        m.payload.assign(b.begin(), b.end());
        return m;
    }
    case Command::Search: {  // §4.6
        r.set_context("SEARCH");
        Search m;
        m.sequence = r.u32("sequence id");
        m.flags = r.u8("flags");
        r.raw(m.reserved.data(), 3, "reserved");
        m.response_address.decode(r, "response address");
        m.response_port = r.u16("response port");
        const auto np = r.count("protocol count");
        m.protocols.clear();
        for (std::size_t i = 0; i < np && r.ok(); ++i) m.protocols.emplace_back(r.string("protocol"));
        const std::size_t nc = r.u16("channel count");
        if (r.ok() && nc > r.remaining() / 5) {
            r.fail(errc::truncated, "channel count", std::to_string(nc) + " channels cannot fit");
            return m;
        }
        m.channels.reserve(nc);
        for (std::size_t i = 0; i < nc && r.ok(); ++i) {
            m.channels.push_back(channel());
        }
        return m;
    }
    case Command::SearchResponse: {  // §4.7
        r.set_context("SEARCH_RESPONSE");
        SearchResponse m;
        m.guid.decode(r);
        m.sequence = r.u32("sequence id");
        m.server_address.decode(r, "server address");
        m.server_port = r.u16("server port");
        m.protocol = r.string("protocol");
        m.found = r.u8("found") != 0;
        const std::size_t n = r.u16("cid count");
        if (r.ok() && n > r.remaining() / 4) {
            r.fail(errc::truncated, "cid count", std::to_string(n) + " cids cannot fit");
            return m;
        }
        m.cids.reserve(n);
        for (std::size_t i = 0; i < n && r.ok(); ++i) m.cids.push_back(r.u32("cid"));
        return m;
    }
    case Command::AuthNZ: {  // §4.22
        AuthNZ m;
        m.data = typed_value("AUTHNZ");
        return m;
    }
    case Command::AclChange: {
        AclChange m;
        auto b = r.bytes(r.remaining(), "ACL_CHANGE body");
        m.body.assign(b.begin(), b.end());
        return m;
    }
    case Command::CreateChannel:  // §4.9
        if (!from_server) {
            r.set_context("CREATE_CHANNEL request");
            CreateChannelRequest m;
            const std::size_t n = r.u16("channel count");
            if (r.ok() && n > r.remaining() / 5) {
                r.fail(errc::truncated, "channel count", std::to_string(n) + " channels cannot fit");
                return m;
            }
            for (std::size_t i = 0; i < n && r.ok(); ++i) {
                m.channels.push_back(channel());
            }
            return m;
        } else {
            r.set_context("CREATE_CHANNEL response");
            CreateChannelResponse m;
            m.cid = r.u32("cid");
            m.sid = r.u32("sid");
            m.status.decode(r);
            return m;
        }
    case Command::DestroyChannel: {  // §4.10
        r.set_context("DESTROY_CHANNEL");
        DestroyChannel m;
        m.sid = r.u32("sid");
        m.cid = r.u32("cid");
        return m;
    }
    case Command::ConnectionValidated: {  // §4.4
        r.set_context("CONNECTION_VALIDATED");
        ConnectionValidated m;
        m.status.decode(r);
        return m;
    }
    case Command::DestroyRequest: {  // §4.19
        r.set_context("DESTROY_REQUEST");
        DestroyRequest m;
        m.sid = r.u32("sid");
        m.ioid = r.u32("ioid");
        if (r.ok()) forget(m.ioid);
        return m;
    }
    case Command::CancelRequest: {
        r.set_context("CANCEL_REQUEST");
        CancelRequest m;
        m.sid = r.u32("sid");
        m.ioid = r.u32("ioid");
        return m;
    }
    case Command::GetField:  // §4.17
        if (!from_server) {
            r.set_context("GET_FIELD request");
            GetFieldRequest m;
            m.sid = r.u32("sid");
            m.ioid = r.u32("ioid");
            m.sub_field = r.string("sub-field");
            return m;
        } else {
            r.set_context("GET_FIELD response");
            GetFieldResponse m;
            m.ioid = r.u32("ioid");
            if (response_status(m)) m.type = type("GET_FIELD response type");
            return m;
        }
    case Command::Message: {  // §4.20
        r.set_context("MESSAGE");
        RemoteMessage m;
        m.ioid = r.u32("ioid");
        m.type = r.u8("message type");
        m.text = r.string("message text");
        return m;
    }
    case Command::MultipleData: {  // §4.21
        MultipleData m;
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
            Decoder d{sub, ctx, true};
            Message entry;
            entry.order = r.order();
            entry.from_server = true;
            entry.body = d.operation_response(t->command);
            if (!sub.ok()) {
                r.adopt(sub.take_diagnostic());
                break;
            }
            r.skip(sub.pos() - 4, "entry");
            m.replies.push_back(std::move(entry));
        }
        return m;
    }
    case Command::OriginTag: {  // §4.23
        r.set_context("ORIGIN_TAG");
        OriginTag m;
        m.address.decode(r, "origin address");
        return m;
    }
    case Command::Get:
    case Command::Put:
    case Command::PutGet:
    case Command::Monitor:
    case Command::Array:
    case Command::Process:
    case Command::Rpc:
        break;
    default:
        r.fail(errc::unknown_command, "header", "command " + std::to_string(command));
        return Control{};
    }
    if (from_server) return operation_response(command);

    // ---- operation requests (§4.11-4.18) ----
    auto init = [&](OperationRequest& m, const char* ctxname) {
        r.set_context(ctxname);
        request_head(m);
        if (r.ok() && m.is_init()) m.pv_request = typed_value("pvRequest");
    };
    switch (Command(command)) {
    case Command::Get: {
        GetRequest m;
        init(m, "GET request");
        return m;
    }
    case Command::Put: {
        PutRequest m;
        init(m, "PUT request");
        if (r.ok() && !m.is_init() && !(m.subcmd & subcmd::get))
            if (auto* t = op(m.ioid, command)) partial(t->type, m.changed, m.data, "PUT request value");
        return m;
    }
    case Command::PutGet: {
        PutGetRequest m;
        init(m, "PUT_GET request");
        if (r.ok() && !m.is_init() && !(m.subcmd & (subcmd::get | subcmd::get_put)))
            if (auto* t = op(m.ioid, command)) partial(t->type, m.changed, m.data, "PUT_GET request value");
        return m;
    }
    case Command::Monitor: {
        MonitorRequest m;
        init(m, "MONITOR request");
        if (r.ok() && m.has_nfree()) m.nfree = r.u32(m.is_init() ? "pipeline window" : "ack count");
        return m;
    }
    case Command::Array: {
        ArrayRequest m;
        init(m, "ARRAY request");
        if (!r.ok() || m.is_init()) return m;
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
            if (auto* t = op(m.ioid, command)) {
                r.set_context("ARRAY put value");
                m.data = t->type ? Value(t->type) : Value();  // null type: decode_value fails
                decode_value(r, m.data, ctx.types);
            }
        }
        return m;
    }
    case Command::Process: {
        ProcessRequest m;
        init(m, "PROCESS request");
        return m;
    }
    case Command::Rpc: {
        RpcRequest m;
        init(m, "RPC request");
        if (r.ok() && !m.is_init()) m.argument = typed_value("RPC argument");
        return m;
    }
    default:
        return Control{};
    }
}

PVWIRE_DECL Body Decoder::operation_response(std::uint8_t command) {
    switch (Command(command)) {
    case Command::Get: {
        r.set_context("GET response");
        GetResponse m;
        response_head(m);
        if (!response_status(m)) return m;
        if (m.is_init()) {
            m.type = type("GET response type");
            if (r.ok()) remember(m.ioid, command, m.type);
        } else if (auto* t = op(m.ioid, command)) {
            partial(t->type, m.changed, m.data, "GET response value");
        }
        if (r.ok() && !m.is_init() && m.destroys()) forget(m.ioid);
        return m;
    }
    case Command::Put: {
        r.set_context("PUT response");
        PutResponse m;
        response_head(m);
        if (!response_status(m)) return m;
        if (m.is_init()) {
            m.type = type("PUT response type");
            if (r.ok()) remember(m.ioid, command, m.type);
        } else if (m.subcmd & subcmd::get) {
            if (auto* t = op(m.ioid, command)) partial(t->type, m.changed, m.data, "PUT response value");
        }
        if (r.ok() && !m.is_init() && m.destroys()) forget(m.ioid);
        return m;
    }
    case Command::PutGet: {
        r.set_context("PUT_GET response");
        PutGetResponse m;
        response_head(m);
        if (!response_status(m)) return m;
        if (m.is_init()) {
            m.put_type = type("PUT_GET put type");
            m.get_type = type("PUT_GET get type");
            if (r.ok()) remember(m.ioid, command, m.put_type, m.get_type);
        } else if (auto* t = op(m.ioid, command)) {
            const bool put_side = (m.subcmd & subcmd::get_put) && !(m.subcmd & subcmd::get);
            partial(put_side ? t->type : t->type2, m.changed, m.data, "PUT_GET response value");
        }
        if (r.ok() && !m.is_init() && m.destroys()) forget(m.ioid);
        return m;
    }
    case Command::Monitor: {
        r.set_context("MONITOR response");
        MonitorResponse m;
        response_head(m);
        if (!r.ok()) return m;
        if (m.is_init()) {
            m.has_data = false;
            if (response_status(m)) {
                m.type = type("MONITOR response type");
                if (r.ok()) remember(m.ioid, command, m.type);
            }
            return m;
        }
        if (m.destroys()) {  // finish: Status, then possibly one last update
            m.has_data = false;
            response_status(m);
            if (!r.ok() || r.remaining() == 0) {
                if (r.ok()) forget(m.ioid);
                return m;
            }
        }
        if (r.remaining() == 0) {  // pvAccessCPP's notify-only update
            m.has_data = false;
            return m;
        }
        if (auto* t = op(m.ioid, command)) {
            m.has_data = true;
            partial(t->type, m.changed, m.data, "MONITOR update value", &t->updates);
            r.set_context("MONITOR update");
            r.bitset(m.overrun, "overrun BitSet");
        }
        if (r.ok() && m.destroys()) forget(m.ioid);
        return m;
    }
    case Command::Array: {
        r.set_context("ARRAY response");
        ArrayResponse m;
        response_head(m);
        if (!response_status(m)) return m;
        if (m.is_init()) {
            m.type = type("ARRAY response type");
            if (r.ok()) remember(m.ioid, command, m.type);
        } else if (m.subcmd & subcmd::get) {
            if (auto* t = op(m.ioid, command)) {
                r.set_context("ARRAY response value");
                m.data = t->type ? Value(t->type) : Value();  // null type: decode_value fails
                decode_value(r, m.data, ctx.types);
            }
        } else if (m.subcmd & subcmd::get_put) {
            // set-length: status only
        } else if (m.subcmd & subcmd::process) {
            m.length = std::size_t(r.size("length"));
        }
        if (r.ok() && !m.is_init() && m.destroys()) forget(m.ioid);
        return m;
    }
    case Command::Process: {
        r.set_context("PROCESS response");
        ProcessResponse m;
        response_head(m);
        response_status(m);
        return m;
    }
    case Command::Rpc: {
        r.set_context("RPC response");
        RpcResponse m;
        response_head(m);
        if (response_status(m) && !m.is_init()) m.result = typed_value("RPC result");
        return m;
    }
    default:
        r.fail(errc::unknown_command, "operation response", "command " + std::to_string(command));
        return Control{};
    }
}

// ---- encoding -------------------------------------------------------------------------------

struct Encoder {
    Writer& w;
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

    void operator()(const Control&) {}
    void operator()(const Beacon& m) {
        m.guid.encode(w);
        w.u8(m.flags);
        w.u8(m.sequence);
        w.u16(m.change_count);
        m.server_address.encode(w);
        w.u16(m.server_port);
        w.string(m.protocol);
        if (m.has_status) encode_typed_value(w, m.server_status, nullptr);
    }
    void operator()(const ValidationRequest& m) {
        w.u32(m.buffer_size);
        w.u16(m.registry_size);
        w.size(m.auth_methods.size());
        for (const auto& s : m.auth_methods) w.string(s);
    }
    void operator()(const ValidationResponse& m) {
        w.u32(m.buffer_size);
        w.u16(m.registry_size);
        w.u16(m.qos);
        w.string(m.auth_method);
        typed(m.auth_data);
    }
    void operator()(const Echo& m) { w.raw(m.payload.data(), m.payload.size()); }
    void operator()(const Search& m) {
        w.u32(m.sequence);
        w.u8(m.flags);
        w.raw(m.reserved.data(), 3);
        m.response_address.encode(w);
        w.u16(m.response_port);
        w.size(m.protocols.size());
        for (const auto& p : m.protocols) w.string(p);
        w.u16(std::uint16_t(m.channels.size()));
        for (const auto& c : m.channels) {
            w.u32(c.cid);
            w.string(c.name);
        }
    }
    void operator()(const SearchResponse& m) {
        m.guid.encode(w);
        w.u32(m.sequence);
        m.server_address.encode(w);
        w.u16(m.server_port);
        w.string(m.protocol);
        w.u8(m.found ? 1 : 0);
        w.u16(std::uint16_t(m.cids.size()));
        for (auto c : m.cids) w.u32(c);
    }
    void operator()(const AuthNZ& m) { typed(m.data); }
    void operator()(const AclChange& m) { w.raw(m.body.data(), m.body.size()); }
    void operator()(const CreateChannelRequest& m) {
        w.u16(std::uint16_t(m.channels.size()));
        for (const auto& c : m.channels) {
            w.u32(c.cid);
            w.string(c.name);
        }
    }
    void operator()(const CreateChannelResponse& m) {
        w.u32(m.cid);
        w.u32(m.sid);
        m.status.encode(w);
    }
    void operator()(const DestroyChannel& m) {
        w.u32(m.sid);
        w.u32(m.cid);
    }
    void operator()(const ConnectionValidated& m) { m.status.encode(w); }
    void operator()(const GetRequest& m) { request_head(m); }
    void operator()(const GetResponse& m) {
        response_head(m);
        if (!m.status.success()) return;
        if (m.is_init()) type(m.type);
        else partial(m.changed, m.data);
    }
    void operator()(const PutRequest& m) {
        request_head(m);
        if (!m.is_init() && !(m.subcmd & subcmd::get)) partial(m.changed, m.data);
    }
    void operator()(const PutResponse& m) {
        response_head(m);
        if (!m.status.success()) return;
        if (m.is_init()) type(m.type);
        else if (m.subcmd & subcmd::get) partial(m.changed, m.data);
    }
    void operator()(const PutGetRequest& m) {
        request_head(m);
        if (!m.is_init() && !(m.subcmd & (subcmd::get | subcmd::get_put))) partial(m.changed, m.data);
    }
    void operator()(const PutGetResponse& m) {
        response_head(m);
        if (!m.status.success()) return;
        if (m.is_init()) {
            type(m.put_type);
            type(m.get_type);
        } else {
            partial(m.changed, m.data);
        }
    }
    void operator()(const MonitorRequest& m) {
        request_head(m);
        if (m.has_nfree()) w.u32(m.nfree);
    }
    void operator()(const MonitorResponse& m) {
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
    void operator()(const ArrayRequest& m) {
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
    void operator()(const ArrayResponse& m) {
        response_head(m);
        if (!m.status.success()) return;
        if (m.is_init()) type(m.type);
        else if (m.subcmd & subcmd::get) encode_value(w, m.data, reg);
        else if (m.subcmd & subcmd::get_put) {
        } else if (m.subcmd & subcmd::process) w.size(m.length);
    }
    void operator()(const DestroyRequest& m) {
        w.u32(m.sid);
        w.u32(m.ioid);
    }
    void operator()(const ProcessRequest& m) { request_head(m); }
    void operator()(const ProcessResponse& m) { response_head(m); }
    void operator()(const GetFieldRequest& m) {
        w.u32(m.sid);
        w.u32(m.ioid);
        w.string(m.sub_field);
    }
    void operator()(const GetFieldResponse& m) {
        w.u32(m.ioid);
        m.status.encode(w);
        if (m.status.success()) type(m.type);
    }
    void operator()(const RemoteMessage& m) {
        w.u32(m.ioid);
        w.u8(m.type);
        w.string(m.text);
    }
    void operator()(const MultipleData& m) {
        for (const auto& e : m.replies) std::visit(*this, e.body);
        w.u32(0);
    }
    void operator()(const RpcRequest& m) {
        request_head(m);
        if (!m.is_init()) typed(m.argument);
    }
    void operator()(const RpcResponse& m) {
        response_head(m);
        if (m.status.success() && !m.is_init()) typed(m.result);
    }
    void operator()(const CancelRequest& m) {
        w.u32(m.sid);
        w.u32(m.ioid);
    }
    void operator()(const OriginTag& m) { m.address.encode(w); }
};

struct CommandOf {
    std::uint8_t operator()(const Control& m) const { return std::uint8_t(m.code); }
    std::uint8_t operator()(const Beacon&) const { return 0x00; }
    std::uint8_t operator()(const ValidationRequest&) const { return 0x01; }
    std::uint8_t operator()(const ValidationResponse&) const { return 0x01; }
    std::uint8_t operator()(const Echo&) const { return 0x02; }
    std::uint8_t operator()(const Search&) const { return 0x03; }
    std::uint8_t operator()(const SearchResponse&) const { return 0x04; }
    std::uint8_t operator()(const AuthNZ&) const { return 0x05; }
    std::uint8_t operator()(const AclChange&) const { return 0x06; }
    std::uint8_t operator()(const CreateChannelRequest&) const { return 0x07; }
    std::uint8_t operator()(const CreateChannelResponse&) const { return 0x07; }
    std::uint8_t operator()(const DestroyChannel&) const { return 0x08; }
    std::uint8_t operator()(const ConnectionValidated&) const { return 0x09; }
    std::uint8_t operator()(const GetRequest&) const { return 0x0A; }
    std::uint8_t operator()(const GetResponse&) const { return 0x0A; }
    std::uint8_t operator()(const PutRequest&) const { return 0x0B; }
    std::uint8_t operator()(const PutResponse&) const { return 0x0B; }
    std::uint8_t operator()(const PutGetRequest&) const { return 0x0C; }
    std::uint8_t operator()(const PutGetResponse&) const { return 0x0C; }
    std::uint8_t operator()(const MonitorRequest&) const { return 0x0D; }
    std::uint8_t operator()(const MonitorResponse&) const { return 0x0D; }
    std::uint8_t operator()(const ArrayRequest&) const { return 0x0E; }
    std::uint8_t operator()(const ArrayResponse&) const { return 0x0E; }
    std::uint8_t operator()(const DestroyRequest&) const { return 0x0F; }
    std::uint8_t operator()(const ProcessRequest&) const { return 0x10; }
    std::uint8_t operator()(const ProcessResponse&) const { return 0x10; }
    std::uint8_t operator()(const GetFieldRequest&) const { return 0x11; }
    std::uint8_t operator()(const GetFieldResponse&) const { return 0x11; }
    std::uint8_t operator()(const RemoteMessage&) const { return 0x12; }
    std::uint8_t operator()(const MultipleData&) const { return 0x13; }
    std::uint8_t operator()(const RpcRequest&) const { return 0x14; }
    std::uint8_t operator()(const RpcResponse&) const { return 0x14; }
    std::uint8_t operator()(const CancelRequest&) const { return 0x15; }
    std::uint8_t operator()(const OriginTag&) const { return 0x16; }
};

}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(message_codec_impl)

PVWIRE_DECL std::uint8_t Message::command() const noexcept { return std::visit(CommandOf{}, body); }

PVWIRE_DECL bool decode(const Header& header, std::span<const std::byte> body, DecodeContext& ctx, Message& out,
            Diagnostic& diag) {
    out.version = header.version;
    out.order = header.order();
    out.from_server = header.from_server();
    if (header.is_control()) {
        out.body = Control{ControlCommand(header.command), header.size};
        return true;
    }
    const Limits& lim = limits_of(ctx);
    if (body.size() > lim.max_message_bytes) {
        diag.code = make_error_code(errc::too_large);
        diag.offset = 4;
        diag.field = "header";
        diag.detail = "body of " + std::to_string(body.size()) + " bytes exceeds the limit";
        return false;
    }
    Reader r(body, header.order(), lim);
    r.set_offset_base(header_size);
    r.set_owner(ctx.owner);
    Decoder d{r, ctx, header.from_server()};
    out.body = d.decode_body(header.command);
    if (!r.ok()) {
        diag = r.take_diagnostic();
        return false;
    }
    return true;
}

PVWIRE_DECL void encode(const Message& msg, OutBuffer& out, EncodeContext ctx) {
    const EncodeOptions& opts = ctx.options ? *ctx.options : Writer::default_options();
    Writer w(out, msg.order, opts);
    const std::uint8_t dir = msg.from_server ? flag::from_server : 0;
    if (auto* c = std::get_if<Control>(&msg.body)) {
        w.control(std::uint8_t(c->code), c->data, dir, msg.version);
        return;
    }
    w.begin_message(msg.command(), dir, msg.version);
    Encoder e{w, ctx.types};
    std::visit(e, msg.body);
    w.end_message();
}

PVWIRE_DECL std::vector<std::byte> encode_to_bytes(const Message& msg, EncodeContext ctx) {
    OutBuffer out;
    encode(msg, out, ctx);
    return out.flatten();
}

}  // namespace pvwire::wire
