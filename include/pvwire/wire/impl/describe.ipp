#include <pvwire/wire/describe.hpp>
#include <pvwire/detail/header_only.hpp>

#include <cstdio>

namespace pvwire::wire {

PVWIRE_IMPL_NAMESPACE(describe_impl) {

using Fields = std::vector<std::pair<std::string, std::string>>;

PVWIRE_DECL std::string hex8(unsigned v) {
    char b[8];
    std::snprintf(b, sizeof b, "0x%02x", v & 0xFF);
    return b;
}
PVWIRE_DECL std::string hex16(unsigned v) {
    char b[8];
    std::snprintf(b, sizeof b, "0x%04x", v & 0xFFFF);
    return b;
}
PVWIRE_DECL std::string hex_bytes(const std::uint8_t* p, std::size_t n) {
    std::string s;
    char b[4];
    for (std::size_t i = 0; i < n; ++i) {
        std::snprintf(b, sizeof b, "%02x", p[i]);
        s += b;
    }
    return s;
}
// "a,b,c": adds `item` to a comma-separated list
PVWIRE_DECL void append(std::string& list, const std::string& item) {
    if (!list.empty()) list += ',';
    list += item;
}

PVWIRE_DECL std::string status_text(const Status& s) {
    static const char* const names[] = {"OK", "WARNING", "ERROR", "FATAL"};
    if (s.type == Status::Type::Ok && s.message.empty() && s.stack.empty()) return "OK";
    return std::string(names[std::size_t(s.type) & 3]) + "(" + std::to_string(int(s.type)) + ")";
}

struct FieldsOf {
    Fields& f;
    void add(std::string k, std::string v) { f.emplace_back(std::move(k), std::move(v)); }
    void req(const OperationRequest& m) {
        add("sid", std::to_string(m.sid));
        add("ioid", std::to_string(m.ioid));
        add("sub", hex8(m.subcmd));
    }
    void rsp(const OperationResponse& m, bool with_status = true) {
        add("ioid", std::to_string(m.ioid));
        add("sub", hex8(m.subcmd));
        if (with_status) status(m.status);
    }
    void status(const Status& s) {
        add("status", status_text(s));
        if (!s.message.empty() || s.type != Status::Type::Ok) {
            add("message", s.message);
            add("stack", s.stack);
        }
    }

    void operator()(const Control& m) {
        add("control", hex8(std::uint8_t(m.code)));
        add("data", std::to_string(m.data));
    }
    void operator()(const Beacon& m) {
        add("guid", m.guid.to_string());
        add("flags", hex8(m.flags));
        add("seq", std::to_string(m.sequence));
        add("change", std::to_string(m.change_count));
        add("addr", hex_bytes(m.server_address.bytes.data(), 16));
        add("port", std::to_string(m.server_port));
        add("proto", m.protocol);
        if (m.has_status) add("serverStatus", m.server_status ? m.server_status.type().type_name() : "ff");
    }
    void operator()(const ValidationRequest& m) {
        add("rxbuf", std::to_string(m.buffer_size));
        add("introspection-registry", std::to_string(m.registry_size));
        std::string s;
        for (const auto& a : m.auth_methods) append(s, a);
        add("methods", s);
    }
    void operator()(const ValidationResponse& m) {
        add("rxbuf", std::to_string(m.buffer_size));
        add("introspection-registry", std::to_string(m.registry_size));
        add("qos", hex16(m.qos));
        add("authn", m.auth_method);
    }
    void operator()(const Echo& m) { add("payload", std::to_string(m.payload.size())); }
    void operator()(const Search& m) {
        add("seq", std::to_string(m.sequence));
        add("flags", hex8(m.flags));
        add("reply-addr", hex_bytes(m.response_address.bytes.data(), 16));
        add("port", std::to_string(m.response_port));
        std::string p;
        for (const auto& x : m.protocols) append(p, x);
        add("protocols", p);
        std::string c;
        for (const auto& x : m.channels) append(c, std::to_string(x.cid) + ":" + x.name);
        add("pvs", c);
    }
    void operator()(const SearchResponse& m) {
        add("guid", m.guid.to_string());
        add("seq", std::to_string(m.sequence));
        add("addr", hex_bytes(m.server_address.bytes.data(), 16));
        add("port", std::to_string(m.server_port));
        add("proto", m.protocol);
        add("found", m.found ? "1" : "0");
        std::string c;
        for (auto x : m.cids) append(c, std::to_string(x));
        add("cids", c);
    }
    void operator()(const AuthNZ&) {}
    void operator()(const AclChange& m) { add("bytes", std::to_string(m.body.size())); }
    void operator()(const CreateChannelRequest& m) {
        for (const auto& c : m.channels) {
            add("cid", std::to_string(c.cid));
            add("pv", c.name);
        }
    }
    void operator()(const CreateChannelResponse& m) {
        add("cid", std::to_string(m.cid));
        add("sid", std::to_string(m.sid));
        status(m.status);
    }
    void operator()(const DestroyChannel& m) {
        add("sid", std::to_string(m.sid));
        add("cid", std::to_string(m.cid));
    }
    void operator()(const ConnectionValidated& m) { status(m.status); }
    void operator()(const GetRequest& m) { req(m); }
    void operator()(const GetResponse& m) { rsp(m); }
    void operator()(const PutRequest& m) { req(m); }
    void operator()(const PutResponse& m) { rsp(m); }
    void operator()(const PutGetRequest& m) { req(m); }
    void operator()(const PutGetResponse& m) { rsp(m); }
    void operator()(const MonitorRequest& m) {
        req(m);
        if (m.has_nfree()) add("count", std::to_string(m.nfree));
    }
    void operator()(const MonitorResponse& m) { rsp(m, m.is_init() || m.is_finish()); }
    void operator()(const ArrayRequest& m) {
        req(m);
        if (m.is_init()) return;
        if (m.subcmd & subcmd::get) {
            add("offset", std::to_string(m.offset));
            add("count", std::to_string(m.count));
            add("stride", std::to_string(m.stride));
        } else if (m.subcmd & subcmd::get_put) {
            add("length", std::to_string(m.length));
        } else if (!(m.subcmd & subcmd::process)) {
            add("offset", std::to_string(m.offset));
            add("stride", std::to_string(m.stride));
        }
    }
    void operator()(const ArrayResponse& m) {
        rsp(m);
        if (!m.is_init() && (m.subcmd & subcmd::process) && !(m.subcmd & subcmd::get))
            add("length", std::to_string(m.length));
    }
    void operator()(const DestroyRequest& m) {
        add("sid", std::to_string(m.sid));
        add("ioid", std::to_string(m.ioid));
    }
    void operator()(const ProcessRequest& m) { req(m); }
    void operator()(const ProcessResponse& m) { rsp(m); }
    void operator()(const GetFieldRequest& m) {
        add("sid", std::to_string(m.sid));
        add("ioid", std::to_string(m.ioid));
        add("subfield", m.sub_field);
    }
    void operator()(const GetFieldResponse& m) {
        add("ioid", std::to_string(m.ioid));
        status(m.status);
    }
    void operator()(const RemoteMessage& m) {
        add("ioid", std::to_string(m.ioid));
        add("type", std::to_string(m.type));
        add("text", m.text);
    }
    void operator()(const MultipleData& m) { add("replies", std::to_string(m.replies.size())); }
    void operator()(const RpcRequest& m) { req(m); }
    void operator()(const RpcResponse& m) { rsp(m); }
    void operator()(const CancelRequest& m) {
        add("sid", std::to_string(m.sid));
        add("ioid", std::to_string(m.ioid));
    }
    void operator()(const OriginTag& m) { add("addr", hex_bytes(m.address.bytes.data(), 16)); }
};

PVWIRE_DECL std::string indent(const std::string& text, int n) {
    std::string out;
    std::string pad(std::size_t(n), ' ');
    std::size_t at = 0;
    while (at < text.size()) {
        auto nl = text.find('\n', at);
        if (nl == std::string::npos) nl = text.size();
        out += pad + text.substr(at, nl - at) + "\n";
        at = nl + 1;
    }
    return out;
}

struct DumpOf {
    std::string& out;
    void labelled(const char* what, bool present, const std::string& text) {
        out += "  ";
        out += what;
        if (!present) {
            out += ": (null)\n";
            return;
        }
        out += ":\n";
        out += indent(text, 4);
    }
    void type(const char* what, const TypePtr& t) { labelled(what, bool(t), t ? to_string(*t) : std::string()); }
    void value(const char* what, const Value& v) { labelled(what, v.valid(), v ? v.to_string() : std::string()); }
    void partial(const BitSet& changed, const Value& v) {
        out += "  changed: " + changed.to_string() + "\n";
        if (!v) return;
        // print only the selected fields, by offset
        const TypeDesc& t = v.type();
        for (std::size_t b = changed.next(0); b != BitSet::npos && b < t.offset_count();) {
            Value f(v.store_ptr(), v.offset() + std::uint32_t(b));
            std::string name = b == 0 ? "(all)" : std::string(t.flat()[b].name);
            out += "    @" + std::to_string(b) + " " + name + ":\n" + indent(f.to_string(), 6);
            b = changed.next(b + f.type().offset_count());
        }
    }
    void operator()(const Beacon& m) {
        if (m.server_status) value("server status", m.server_status);
    }
    void operator()(const ValidationResponse& m) { value("auth data", m.auth_data); }
    void operator()(const AuthNZ& m) { value("data", m.data); }
    void operator()(const GetResponse& m) {
        if (m.type) type("type", m.type);
        if (m.data) partial(m.changed, m.data);
    }
    void operator()(const PutRequest& m) {
        if (m.pv_request) value("pvRequest", m.pv_request);
        if (m.data) partial(m.changed, m.data);
    }
    void operator()(const PutResponse& m) {
        if (m.type) type("type", m.type);
        if (m.data) partial(m.changed, m.data);
    }
    void operator()(const PutGetRequest& m) {
        if (m.pv_request) value("pvRequest", m.pv_request);
        if (m.data) partial(m.changed, m.data);
    }
    void operator()(const PutGetResponse& m) {
        if (m.put_type) type("put type", m.put_type);
        if (m.get_type) type("get type", m.get_type);
        if (m.data) partial(m.changed, m.data);
    }
    void operator()(const MonitorResponse& m) {
        if (m.type) type("type", m.type);
        if (m.has_data && m.data) {
            partial(m.changed, m.data);
            out += "  overrun: " + m.overrun.to_string() + "\n";
        }
    }
    void operator()(const ArrayRequest& m) {
        if (m.pv_request) value("pvRequest", m.pv_request);
        if (m.data) value("array", m.data);
    }
    void operator()(const ArrayResponse& m) {
        if (m.type) type("type", m.type);
        if (m.data) value("array", m.data);
    }
    void operator()(const GetFieldResponse& m) {
        if (m.type) type("type", m.type);
    }
    void operator()(const RpcRequest& m) {
        if (m.pv_request) value("pvRequest", m.pv_request);
        if (m.argument) value("argument", m.argument);
    }
    void operator()(const RpcResponse& m) {
        if (m.result) value("result", m.result);
    }
    void operator()(const MultipleData& m) {
        for (const auto& e : m.replies) out += indent(dump(e), 2);
    }
    template <class T> void operator()(const T& m) {
        if constexpr (std::is_base_of_v<OperationRequest, T>) {
            if (m.pv_request) value("pvRequest", m.pv_request);
        }
    }
};

}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(describe_impl)

PVWIRE_DECL std::vector<std::pair<std::string, std::string>> describe_fields(const Message& msg) {
    Fields f;
    std::visit(FieldsOf{f}, msg.body);
    return f;
}

PVWIRE_DECL std::string kind_name(const Message& msg) {
    if (auto* c = std::get_if<Control>(&msg.body)) return std::string(control_name(std::uint8_t(c->code))) + " (control)";
    std::string n(command_name(msg.command()));
    if (std::holds_alternative<Echo>(msg.body) || std::holds_alternative<DestroyChannel>(msg.body) ||
        std::holds_alternative<CreateChannelRequest>(msg.body) ||
        std::holds_alternative<CreateChannelResponse>(msg.body) ||
        std::holds_alternative<GetFieldRequest>(msg.body) || std::holds_alternative<GetFieldResponse>(msg.body) ||
        std::visit([](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            return std::is_base_of_v<OperationRequest, T> || std::is_base_of_v<OperationResponse, T>;
        }, msg.body))
        n += msg.from_server ? " response" : " request";
    if (std::holds_alternative<ValidationRequest>(msg.body)) n += " (server)";
    if (std::holds_alternative<ValidationResponse>(msg.body)) n += " (client)";
    return n;
}

PVWIRE_DECL std::string summary(const Message& msg) {
    std::string s = kind_name(msg);
    for (const auto& [k, v] : describe_fields(msg)) {
        s += ' ';
        s += k;
        s += '=';
        const bool quote = v.empty() || v.find(' ') != std::string::npos;
        s += quote ? "\"" + v + "\"" : v;
    }
    return s;
}

PVWIRE_DECL std::string dump(const Message& msg) {
    std::string out = summary(msg) + "\n";
    std::visit(DumpOf{out}, msg.body);
    return out;
}

}  // namespace pvwire::wire
