// The msgpack protocol codec (docs/msgpack-protocol.md). Encoding packs each message with
// msgpack-cxx's packer straight into the OutBuffer; decoding parses the body once into
// msgpack-cxx's object tree (bounded as the value codec's documents are) and reads the
// message's elements from it, checking each one's kind and range. Values, types and partial
// values go through the value codec (detail/object_codec.hpp).
#include <pvwire/msgpack/protocol.hpp>
#include <pvwire/msgpack/detail/object_codec.hpp>
#include <pvwire/detail/header_only.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace pvwire::msgpack_protocol {

PVWIRE_IMPL_NAMESPACE(protocol_impl) {

namespace mc = msgpack_codec::detail;
using msgpack_codec::DecodeError;
using wire::Command;
namespace sub = wire::subcmd;

constexpr std::array<std::string_view, kind_count> kind_names{
    "hello", "ready", "echo", "open", "close", "info", "init", "get", "put", "put-get", "get-put", "start", "stop",
    "ack", "update", "finish", "array-get", "array-put", "length", "set-length", "process", "rpc", "destroy",
    "cancel", "message", "error"};

// The operation names of INIT.
struct OpName {
    Command command;
    std::string_view name;
};
constexpr std::array<OpName, 7> op_names{{{Command::Get, "get"},
                                          {Command::Put, "put"},
                                          {Command::PutGet, "put-get"},
                                          {Command::Monitor, "monitor"},
                                          {Command::Array, "array"},
                                          {Command::Process, "process"},
                                          {Command::Rpc, "rpc"}}};

PVWIRE_DECL std::string_view op_name(std::uint8_t command) {
    for (const auto& o : op_names)
        if (std::uint8_t(o.command) == command) return o.name;
    return "?";
}

// ---- encoding -----------------------------------------------------------------------------

// The 8-byte frame header at `h`: "MP", the version, the pad count, the body length (padding
// included) little-endian.
PVWIRE_DECL void write_frame_header(std::byte* h, std::size_t pad, std::size_t body) {
    h[0] = std::byte('M');
    h[1] = std::byte('P');
    h[2] = std::byte(version);
    h[3] = std::byte(pad);
    for (int i = 0; i < 4; ++i) h[4 + i] = std::byte(body >> (8 * i));
}

// One frame being appended to an OutBuffer: the header is patched by finish(), once the
// body's length is known.
class FrameWriter {
public:
    FrameWriter(wire::OutBuffer& out, Kind kind, std::uint32_t elements)
        : out_(out), head_at_(out.bytes().size()), sink_(&out.bytes(), &out), pk_(sink_) {
        // most messages fit: one allocation for a fresh buffer instead of one per doubling
        out.bytes().reserve(head_at_ + 128);
        static constexpr char placeholder[header_size] = {};  // finish() writes the header
        sink_.write(placeholder, header_size);
        sink_.base = sink_.message_size();
        pk_.pack_array(elements + 1);
        pk_.pack_uint8(std::uint8_t(kind));
    }
    FrameWriter(const FrameWriter&) = delete;
    FrameWriter& operator=(const FrameWriter&) = delete;

    FrameWriter& u32(std::uint32_t v) {
        pk_.pack_uint32(v);
        return *this;
    }
    FrameWriter& u64(std::uint64_t v) {
        pk_.pack_uint64(v);
        return *this;
    }
    FrameWriter& flag(bool b) {
        b ? pk_.pack_true() : pk_.pack_false();
        return *this;
    }
    FrameWriter& nil() {
        pk_.pack_nil();
        return *this;
    }
    FrameWriter& str(std::string_view s) {
        mc::write_str(pk_, s);
        return *this;
    }
    FrameWriter& strings(const std::vector<std::string>& v) {
        pk_.pack_array(std::uint32_t(v.size()));
        for (const auto& s : v) mc::write_str(pk_, s);
        return *this;
    }
    FrameWriter& status(const wire::Status& st) {
        if (st.type == wire::Status::Type::Ok && st.message.empty()) return nil();
        pk_.pack_array(2);
        pk_.pack_uint8(std::uint8_t(st.type));
        return str(st.message);
    }
    FrameWriter& type(const TypePtr& t) {
        if (!t) return nil();
        mc::write_type(pk_, *t);
        return *this;
    }
    FrameWriter& document(const Value& v) {
        mc::write_value_document(sink_, pk_, v);
        return *this;
    }
    // nil for a null Value
    FrameWriter& partial(const Value& v, const BitSet& changed) {
        if (!v) return nil();
        mc::write_partial(sink_, pk_, v, changed);
        return *this;
    }
    FrameWriter& bare(const Value& v) {
        if (!v) return nil();
        mc::write_bare(sink_, pk_, v);
        return *this;
    }
    FrameWriter& offsets(const BitSet& bits) {
        pk_.pack_array(std::uint32_t(bits.count()));
        for (std::size_t b = bits.next(0); b != BitSet::npos; b = bits.next(b + 1)) pk_.pack_uint32(std::uint32_t(b));
        return *this;
    }
    FrameWriter& bin(std::span<const std::byte> b) {
        pk_.pack_bin(std::uint32_t(b.size()));
        pk_.pack_bin_body(reinterpret_cast<const char*>(b.data()), std::uint32_t(b.size()));
        return *this;
    }

    // Pads the body to a multiple of 8 bytes and writes the header.
    void finish() {
        const std::size_t unpadded = sink_.message_size() - sink_.base;
        const std::size_t pad = (8 - unpadded % 8) % 8;
        static constexpr char padding[8] = {};
        sink_.write(padding, pad);
        sink_.flush();
        const std::size_t body = unpadded + pad;
        if (body > 0xFFFFFFFFu) throw ValueError("pvwire msgpack: message body over 4 GiB");
        write_frame_header(out_.bytes().data() + head_at_, pad, body);
    }

private:
    wire::OutBuffer& out_;
    std::size_t head_at_;
    mc::ByteSink sink_;
    mc::Packer pk_;
};

// What an operation request that is not an INIT looks like on the wire.
struct ExecForm {
    Kind kind;
    std::uint32_t extra;  // elements after [kind, ioid, last]
};

PVWIRE_DECL ExecForm exec_form(Command command, std::uint8_t subcmd) {
    const std::uint8_t s = subcmd & ~sub::destroy;
    switch (command) {
    case Command::Get: return {Kind::get, 0};
    case Command::Put: return s & sub::get ? ExecForm{Kind::get, 0} : ExecForm{Kind::put, 1};
    case Command::PutGet:
        if (s & sub::get) return {Kind::get, 0};
        if (s & sub::get_put) return {Kind::get_put, 0};
        return {Kind::put_get, 1};
    case Command::Array:
        if (s & sub::get) return {Kind::array_get, 3};
        if (s & sub::get_put) return {Kind::set_length, 1};
        if (s & sub::process) return {Kind::length, 0};
        return {Kind::array_put, 3};
    case Command::Process: return {Kind::process, 0};
    default: return {Kind::rpc, 1};
    }
}

// The reply to an execution: the request's kind, plus what the reply carries after
// [kind, ioid, last, status].
PVWIRE_DECL std::uint32_t reply_extra(Kind k) {
    switch (k) {
    case Kind::get:
    case Kind::put_get:
    case Kind::get_put:
    case Kind::array_get:
    case Kind::length:
    case Kind::rpc: return 1;
    default: return 0;
    }
}

struct Encoder {
    wire::OutBuffer& out;
    wire::OperationTable& ops;
    Side side;

    void operator()(const wire::ValidationRequest& m) {
        FrameWriter w(out, Kind::hello, 2);
        w.u32(version).strings(m.auth_methods);
        w.finish();
    }

    void operator()(const wire::ValidationResponse& m) {
        FrameWriter w(out, Kind::hello, 3);
        w.u32(version).str(m.auth_method).document(m.auth_data);
        w.finish();
    }
    void operator()(const wire::ConnectionValidated& m) {
        FrameWriter w(out, Kind::ready, 1);
        w.status(m.status);
        w.finish();
    }
    void operator()(const wire::Echo& m) {
        FrameWriter w(out, Kind::echo, 1);
        w.bin(m.payload);
        w.finish();
    }
    void operator()(const wire::CreateChannelRequest& m) {
        for (const auto& c : m.channels) {
            FrameWriter w(out, Kind::open, 2);
            w.u32(c.cid).str(c.name);
            w.finish();
        }
    }
    void operator()(const wire::CreateChannelResponse& m) {
        FrameWriter w(out, Kind::open, 4);
        w.u32(m.cid).u32(m.sid).status(m.status).flag(m.writable);
        w.finish();
    }
    void operator()(const wire::DestroyChannel& m) {
        FrameWriter w(out, Kind::close, 2);
        w.u32(m.sid).u32(m.cid);
        w.finish();
    }
    void operator()(const wire::GetFieldRequest& m) {
        FrameWriter w(out, Kind::info, 3);
        w.u32(m.ioid).u32(m.sid).str(m.sub_field);
        w.finish();
    }
    void operator()(const wire::GetFieldResponse& m) {
        FrameWriter w(out, Kind::info, 3);
        w.u32(m.ioid).status(m.status).type(m.status.success() ? m.type : nullptr);
        w.finish();
    }
    void operator()(const wire::DestroyRequest& m) {
        FrameWriter w(out, Kind::destroy, 1);
        w.u32(m.ioid);
        w.finish();
        if (side == Side::client) ops.erase(m.ioid);
    }
    void operator()(const wire::CancelRequest& m) {
        FrameWriter w(out, Kind::cancel, 1);
        w.u32(m.ioid);
        w.finish();
    }
    void operator()(const wire::RemoteMessage& m) {
        FrameWriter w(out, Kind::message, 3);
        w.u32(m.ioid).u32(m.type).str(m.text);
        w.finish();
    }

    template <class Req> void request(Command command, const Req& m);
    template <class Resp> void response(Command command, const Resp& m);

    void operator()(const wire::GetRequest& m) { request(Command::Get, m); }
    void operator()(const wire::PutRequest& m) { request(Command::Put, m); }
    void operator()(const wire::PutGetRequest& m) { request(Command::PutGet, m); }
    void operator()(const wire::ArrayRequest& m) { request(Command::Array, m); }
    void operator()(const wire::ProcessRequest& m) { request(Command::Process, m); }
    void operator()(const wire::RpcRequest& m) { request(Command::Rpc, m); }
    void operator()(const wire::MonitorRequest& m);
    void operator()(const wire::GetResponse& m) { response(Command::Get, m); }
    void operator()(const wire::PutResponse& m) { response(Command::Put, m); }
    void operator()(const wire::PutGetResponse& m) { response(Command::PutGet, m); }
    void operator()(const wire::ArrayResponse& m) { response(Command::Array, m); }
    void operator()(const wire::ProcessResponse& m) { response(Command::Process, m); }
    void operator()(const wire::RpcResponse& m) { response(Command::Rpc, m); }
    void operator()(const wire::MonitorResponse& m);

    // Not carried by this protocol: discovery is pvAccess's UDP, control messages have no use.
    template <class Other> void operator()(const Other&) {}

    void init_request(Command command, const wire::OperationRequest& m, std::uint32_t window);
    void init_response(Command command, const wire::OperationResponse& m, const TypePtr& type, const TypePtr& type2);
};

PVWIRE_DECL void Encoder::init_request(Command command, const wire::OperationRequest& m, std::uint32_t window) {
    FrameWriter w(out, Kind::init, 5);
    w.u32(m.ioid).u32(m.sid).str(op_name(std::uint8_t(command))).document(m.pv_request).u32(window);
    w.finish();
    if (side == Side::client) ops.set(m.ioid, wire::OperationTypes{std::uint8_t(command), nullptr});
}

template <class Req> void Encoder::request(Command command, const Req& m) {
    if (m.is_init()) return init_request(command, m, 0);
    const ExecForm form = exec_form(command, m.subcmd);
    FrameWriter w(out, form.kind, 2 + form.extra);
    w.u32(m.ioid).flag(m.destroys());
    if constexpr (std::is_same_v<Req, wire::PutRequest> || std::is_same_v<Req, wire::PutGetRequest>) {
        if (form.extra) w.partial(m.data, m.changed);
    } else if constexpr (std::is_same_v<Req, wire::ArrayRequest>) {
        if (form.kind == Kind::array_get) w.u64(m.offset).u64(m.count).u64(m.stride);
        else if (form.kind == Kind::array_put) w.u64(m.offset).u64(m.stride).bare(m.data);
        else if (form.kind == Kind::set_length) w.u64(m.length);
    } else if constexpr (std::is_same_v<Req, wire::RpcRequest>) {
        w.document(m.argument);
    }
    w.finish();
}

PVWIRE_DECL void Encoder::operator()(const wire::MonitorRequest& m) {
    if (m.is_init()) return init_request(Command::Monitor, m, m.has_nfree() ? std::max<std::uint32_t>(m.nfree, 1) : 0);
    auto simple = [&](Kind k) {
        FrameWriter w(out, k, 1);
        w.u32(m.ioid);
        w.finish();
    };
    if (m.destroys()) {
        simple(Kind::destroy);
        if (side == Side::client) ops.erase(m.ioid);
        return;
    }
    if (m.has_nfree()) {
        FrameWriter w(out, Kind::ack, 2);
        w.u32(m.ioid).u32(m.nfree);
        w.finish();
    }
    if ((m.subcmd & sub::monitor_start) == sub::monitor_start) simple(Kind::start);
    else if ((m.subcmd & sub::process) && !(m.subcmd & sub::get)) simple(Kind::stop);
}

PVWIRE_DECL void Encoder::init_response(Command command, const wire::OperationResponse& m, const TypePtr& type,
                                        const TypePtr& type2) {
    const bool ok = m.status.success();
    FrameWriter w(out, Kind::init, 4);
    w.u32(m.ioid).status(m.status).type(ok ? type : nullptr).type(ok ? type2 : nullptr);
    w.finish();
    if (side != Side::server) return;
    if (ok) ops.set(m.ioid, wire::OperationTypes{std::uint8_t(command), type, type2});
    else ops.erase(m.ioid);
}

template <class Resp> void Encoder::response(Command command, const Resp& m) {
    if (m.is_init()) {
        if constexpr (std::is_same_v<Resp, wire::PutGetResponse>) return init_response(command, m, m.put_type, m.get_type);
        else if constexpr (requires { m.type; }) return init_response(command, m, m.type, nullptr);
        else return init_response(command, m, nullptr, nullptr);
    }
    const Kind kind = exec_form(command, m.subcmd).kind;
    const bool ok = m.status.success();
    FrameWriter w(out, kind, 3 + reply_extra(kind));
    w.u32(m.ioid).flag(m.destroys()).status(m.status);
    if constexpr (requires { m.changed; }) {
        if (reply_extra(kind)) ok ? w.partial(m.data, m.changed) : w.nil();
    } else if constexpr (std::is_same_v<Resp, wire::ArrayResponse>) {
        if (kind == Kind::array_get) ok ? w.bare(m.data) : w.nil();
        else if (kind == Kind::length) w.u64(ok ? m.length : 0);
    } else if constexpr (std::is_same_v<Resp, wire::RpcResponse>) {
        ok ? w.document(m.result) : w.nil();
    }
    w.finish();
    if (side == Side::server && m.destroys()) ops.erase(m.ioid);
}

PVWIRE_DECL void Encoder::operator()(const wire::MonitorResponse& m) {
    if (m.is_init()) return init_response(Command::Monitor, m, m.type, nullptr);
    if (m.is_finish()) {
        FrameWriter w(out, Kind::finish, 2);
        w.u32(m.ioid).status(m.status);
        w.finish();
        if (side == Side::server) ops.erase(m.ioid);
        return;
    }
    FrameWriter w(out, Kind::update, 3);
    w.u32(m.ioid);
    if (m.has_data) w.partial(m.data, m.changed).offsets(m.overrun);
    else w.nil().offsets(m.overrun);
    w.finish();
}

// ---- decoding -----------------------------------------------------------------------------

// The elements of one message, read with their kinds and ranges checked; every failure
// throws DecodeError naming the message and the element.
class Fields {
public:
    Fields(const msgpack::object& array, Kind kind) : p_(array.via.array.ptr), n_(array.via.array.size), kind_(kind) {}

    [[noreturn]] void fail(std::string_view element, const std::string& what) const {
        throw DecodeError(std::string(kind_names[std::size_t(kind_)]) + " message: " + std::string(element) + ": " +
                          what);
    }
    // The number of elements after the kind.
    std::uint32_t elements() const noexcept { return n_ - 1; }
    // Exactly `n` elements after the kind.
    void count(std::uint32_t n) const {
        if (n_ != n + 1)
            throw DecodeError(std::string(kind_names[std::size_t(kind_)]) + " message: " + std::to_string(n + 1) +
                              " elements expected, got " + std::to_string(n_));
    }
    // Element i (0 is the kind); a message too short for it fails here, before any use.
    const msgpack::object& at(std::uint32_t i) const {
        if (i >= n_)
            throw DecodeError(std::string(kind_names[std::size_t(kind_)]) + " message: too short (" +
                              std::to_string(n_) + " elements)");
        return p_[i];
    }
    bool is_nil(std::uint32_t i) const { return at(i).type == msgpack::type::NIL; }

    std::uint64_t uint(std::uint32_t i, std::string_view name, std::uint64_t max) const {
        const auto& o = at(i);
        if (o.type != msgpack::type::POSITIVE_INTEGER)
            fail(name, std::string("expected a non-negative integer, got ") + mc::object_kind_name(o));
        if (o.via.u64 > max) fail(name, std::to_string(o.via.u64) + " is over " + std::to_string(max));
        return o.via.u64;
    }
    std::uint32_t u32(std::uint32_t i, std::string_view name) const {
        return std::uint32_t(uint(i, name, 0xFFFFFFFFu));
    }
    std::size_t size(std::uint32_t i, std::string_view name) const {
        return std::size_t(uint(i, name, std::numeric_limits<std::uint32_t>::max()));
    }
    bool flag(std::uint32_t i, std::string_view name) const {
        const auto& o = at(i);
        if (o.type != msgpack::type::BOOLEAN) fail(name, std::string("expected a boolean, got ") + mc::object_kind_name(o));
        return o.via.boolean;
    }
    std::string str(std::uint32_t i, std::string_view name) const {
        const auto& o = at(i);
        if (o.type != msgpack::type::STR) fail(name, std::string("expected a str, got ") + mc::object_kind_name(o));
        return std::string(o.via.str.ptr, o.via.str.size);
    }
    std::vector<std::byte> bin(std::uint32_t i, std::string_view name) const {
        const auto& o = at(i);
        if (o.type != msgpack::type::BIN) fail(name, std::string("expected a bin, got ") + mc::object_kind_name(o));
        const auto* b = reinterpret_cast<const std::byte*>(o.via.bin.ptr);
        return std::vector<std::byte>(b, b + o.via.bin.size);
    }
    wire::Status status(std::uint32_t i) const {
        const auto& o = at(i);
        if (o.type == msgpack::type::NIL) return {};
        if (o.type != msgpack::type::ARRAY || o.via.array.size != 2 ||
            o.via.array.ptr[0].type != msgpack::type::POSITIVE_INTEGER || o.via.array.ptr[0].via.u64 > 3 ||
            o.via.array.ptr[1].type != msgpack::type::STR)
            fail("status", "expected nil or [severity 0..3, str]");
        const auto& text = o.via.array.ptr[1].via.str;
        return {wire::Status::Type(o.via.array.ptr[0].via.u64), std::string(text.ptr, text.size), {}};
    }
    TypePtr type(std::uint32_t i, const char* name) const {
        return is_nil(i) ? nullptr : mc::read_type(at(i), name);
    }
    BitSet offsets(std::uint32_t i, std::string_view name) const {
        const auto& o = at(i);
        if (o.type != msgpack::type::ARRAY) fail(name, "expected an array of field offsets");
        BitSet bits;
        for (std::uint32_t k = 0; k < o.via.array.size; ++k) {
            const auto& e = o.via.array.ptr[k];
            if (e.type != msgpack::type::POSITIVE_INTEGER || e.via.u64 > 0xFFFF)
                fail(name, "expected field offsets 0..65535");
            bits.set(std::size_t(e.via.u64));
        }
        return bits;
    }
    std::vector<std::string> strings(std::uint32_t i, std::string_view name) const {
        const auto& o = at(i);
        if (o.type != msgpack::type::ARRAY) fail(name, "expected an array of str");
        std::vector<std::string> v;
        for (std::uint32_t k = 0; k < o.via.array.size; ++k) {
            const auto& e = o.via.array.ptr[k];
            if (e.type != msgpack::type::STR) fail(name, "expected an array of str");
            v.emplace_back(e.via.str.ptr, e.via.str.size);
        }
        return v;
    }

private:
    const msgpack::object* p_;
    std::uint32_t n_;
    Kind kind_;
};

// The pvAccess command a request kind stands for when its operation is unknown.
PVWIRE_DECL Command natural_command(Kind k) {
    switch (k) {
    case Kind::put: return Command::Put;
    case Kind::put_get:
    case Kind::get_put: return Command::PutGet;
    case Kind::start:
    case Kind::stop:
    case Kind::ack: return Command::Monitor;
    case Kind::array_get:
    case Kind::array_put:
    case Kind::length:
    case Kind::set_length: return Command::Array;
    case Kind::process: return Command::Process;
    case Kind::rpc: return Command::Rpc;
    default: return Command::Get;
    }
}

// Whether a request of kind `k` may run on an operation of `command`.
PVWIRE_DECL bool kind_fits(Kind k, Command command) {
    if (k == Kind::get) return command == Command::Get || command == Command::Put || command == Command::PutGet;
    return natural_command(k) == command;
}

struct Decoder {
    Side side;
    wire::OperationTable& ops;
    const std::shared_ptr<const void>& owner;
    Codec::Unknown& unknown;

    // A value of `type` read from a partial form (nil: no value).
    Value partial(const Fields& f, std::uint32_t i, const TypePtr& type, BitSet& changed, const char* what,
                  ValueRecycler* recycler = nullptr) const {
        if (f.is_nil(i) || !type) return {};
        Value v = recycler ? recycler->make(type) : Value(type);
        mc::read_partial(f.at(i), what, v, changed, owner);
        return v;
    }
    Value bare(const Fields& f, std::uint32_t i, const TypePtr& type, const char* what) const {
        if (f.is_nil(i) || !type) return {};
        Value v(type);
        mc::read_bare(f.at(i), what, v, owner);
        return v;
    }

    bool plain_update(std::span<const std::byte> body, wire::Message& out);
    wire::Body request(Kind kind, const Fields& f, bool& ignored);
    wire::Body init_request(const Fields& f);
    wire::Body exec_request(Kind kind, const Fields& f, const wire::OperationTypes& op, bool last);
    wire::Body reply(Kind kind, const Fields& f, bool& ignored);
    wire::Body init_reply(const Fields& f, bool& ignored);
    wire::Body exec_reply(Kind kind, const Fields& f, wire::OperationTypes& op);
};

template <class Req> Req op_request(std::uint32_t sid, std::uint32_t ioid, std::uint8_t subcmd) {
    Req r;
    r.sid = sid;
    r.ioid = ioid;
    r.subcmd = subcmd;
    return r;
}

PVWIRE_DECL wire::Body Decoder::init_request(const Fields& f) {
    f.count(5);
    const std::uint32_t ioid = f.u32(1, "ioid"), sid = f.u32(2, "sid");
    const std::string op = f.str(3, "operation");
    Value pv_request = mc::read_value_document(f.at(4), "pvRequest", nullptr);
    const std::uint32_t window = f.u32(5, "window");
    const OpName* found = nullptr;
    for (const auto& o : op_names)
        if (o.name == op) found = &o;
    if (!found) f.fail("operation", "unknown operation \"" + op.substr(0, 32) + "\"");
    if (!ops.set(ioid, wire::OperationTypes{std::uint8_t(found->command), nullptr}))
        f.fail("ioid", "more than " + std::to_string(ops.size()) + " operations on one connection");
    auto fill = [&](auto r) -> wire::Body {
        r.pv_request = std::move(pv_request);
        return r;
    };
    switch (found->command) {
    case Command::Get: return fill(op_request<wire::GetRequest>(sid, ioid, sub::init));
    case Command::Put: return fill(op_request<wire::PutRequest>(sid, ioid, sub::init));
    case Command::PutGet: return fill(op_request<wire::PutGetRequest>(sid, ioid, sub::init));
    case Command::Array: return fill(op_request<wire::ArrayRequest>(sid, ioid, sub::init));
    case Command::Process: return fill(op_request<wire::ProcessRequest>(sid, ioid, sub::init));
    case Command::Rpc: return fill(op_request<wire::RpcRequest>(sid, ioid, sub::init));
    default: {
        auto r = op_request<wire::MonitorRequest>(sid, ioid, window ? sub::init | sub::get_put : sub::init);
        r.nfree = window;
        return fill(std::move(r));
    }
    }
}

PVWIRE_DECL wire::Body Decoder::exec_request(Kind kind, const Fields& f, const wire::OperationTypes& op, bool last) {
    const std::uint32_t ioid = f.u32(1, "ioid");
    const std::uint8_t d = last ? sub::destroy : 0;
    switch (kind) {
    case Kind::get:
        f.count(2);
        if (op.command == std::uint8_t(Command::Put)) return op_request<wire::PutRequest>(0, ioid, sub::get | d);
        if (op.command == std::uint8_t(Command::PutGet)) return op_request<wire::PutGetRequest>(0, ioid, sub::get | d);
        return op_request<wire::GetRequest>(0, ioid, sub::exec | d);
    case Kind::put: {
        f.count(3);
        auto r = op_request<wire::PutRequest>(0, ioid, sub::exec | d);
        r.data = partial(f, 3, op.type, r.changed, "put value");
        return r;
    }
    case Kind::put_get: {
        f.count(3);
        auto r = op_request<wire::PutGetRequest>(0, ioid, sub::exec | d);
        r.data = partial(f, 3, op.type, r.changed, "put value");
        return r;
    }
    case Kind::get_put: f.count(2); return op_request<wire::PutGetRequest>(0, ioid, sub::get_put | d);
    case Kind::array_get: {
        f.count(5);
        auto r = op_request<wire::ArrayRequest>(0, ioid, sub::get | d);
        r.offset = f.size(3, "offset");
        r.count = f.size(4, "count");
        r.stride = f.size(5, "stride");
        return r;
    }
    case Kind::array_put: {
        f.count(5);
        auto r = op_request<wire::ArrayRequest>(0, ioid, sub::exec | d);
        r.offset = f.size(3, "offset");
        r.stride = f.size(4, "stride");
        r.data = bare(f, 5, op.type, "array elements");
        return r;
    }
    case Kind::length: f.count(2); return op_request<wire::ArrayRequest>(0, ioid, sub::process | d);
    case Kind::set_length: {
        f.count(3);
        auto r = op_request<wire::ArrayRequest>(0, ioid, sub::get_put | d);
        r.length = f.size(3, "length");
        return r;
    }
    case Kind::process: f.count(2); return op_request<wire::ProcessRequest>(0, ioid, sub::exec | d);
    default: {  // rpc
        f.count(3);
        auto r = op_request<wire::RpcRequest>(0, ioid, sub::exec | d);
        r.argument = mc::read_value_document(f.at(3), "rpc argument", owner);
        return r;
    }
    }
}

PVWIRE_DECL wire::Body Decoder::request(Kind kind, const Fields& f, bool& ignored) {
    switch (kind) {
    case Kind::hello: {
        f.count(3);
        if (f.u32(1, "version") != version) f.fail("version", "only version 1 is spoken here");
        wire::ValidationResponse r;
        r.auth_method = f.str(2, "method");
        r.auth_data = mc::read_value_document(f.at(3), "credentials", nullptr);
        return r;
    }
    case Kind::echo: f.count(1); return wire::Echo{f.bin(1, "payload")};
    case Kind::open: {
        f.count(2);
        wire::CreateChannelRequest r;
        r.channels.push_back({f.u32(1, "cid"), f.str(2, "name")});
        return r;
    }
    case Kind::close: f.count(2); return wire::DestroyChannel{f.u32(1, "sid"), f.u32(2, "cid")};
    case Kind::info: f.count(3); return wire::GetFieldRequest{f.u32(2, "sid"), f.u32(1, "ioid"), f.str(3, "field")};
    case Kind::init: return init_request(f);
    case Kind::destroy: {
        f.count(1);
        const std::uint32_t ioid = f.u32(1, "ioid");
        ops.erase(ioid);
        return wire::DestroyRequest{0, ioid};
    }
    case Kind::cancel: f.count(1); return wire::CancelRequest{0, f.u32(1, "ioid")};
    case Kind::start:
    case Kind::stop:
    case Kind::ack: {
        f.count(kind == Kind::ack ? 2 : 1);
        auto r = op_request<wire::MonitorRequest>(0, f.u32(1, "ioid"),
                                                  kind == Kind::start  ? sub::monitor_start
                                                  : kind == Kind::stop ? sub::monitor_stop
                                                                       : sub::get_put);
        if (kind == Kind::ack) r.nfree = f.u32(2, "count");
        return r;  // one for an unknown operation is ignored by the server, as in pvAccess
    }
    case Kind::get: case Kind::put: case Kind::put_get: case Kind::get_put: case Kind::array_get:
    case Kind::array_put: case Kind::length: case Kind::set_length: case Kind::process: case Kind::rpc: {
        const std::uint32_t ioid = f.u32(1, "ioid");
        const bool last = f.flag(2, "last");
        const auto* op = ops.find(ioid);
        if (!op || !kind_fits(kind, Command(op->command))) {
            // answered in this kind's reply, as the protocol says, whatever the operation is
            const std::uint8_t command = std::uint8_t(natural_command(kind));
            unknown = {command, ioid, std::uint8_t(last ? sub::destroy : 0)};
            ignored = true;
            return wire::Control{};
        }
        return exec_request(kind, f, *op, last);
    }
    default: f.fail("kind", "a server's message, sent by a client");
    }
}

PVWIRE_DECL wire::Body Decoder::init_reply(const Fields& f, bool& ignored) {
    f.count(4);
    const std::uint32_t ioid = f.u32(1, "ioid");
    wire::Status st = f.status(2);
    auto* op = ops.find(ioid);
    if (!op) {
        ignored = true;
        return wire::Control{};
    }
    TypePtr type = f.type(3, "type"), type2 = f.type(4, "second type");
    const Command command = Command(op->command);
    if (st.success()) {
        op->type = type;
        op->type2 = type2;
    } else {
        ops.erase(ioid);
    }
    auto head = [&](auto r) {
        r.ioid = ioid;
        r.subcmd = sub::init;
        r.status = std::move(st);
        return r;
    };
    switch (command) {
    case Command::Get: { auto r = head(wire::GetResponse{}); r.type = type; return r; }
    case Command::Put: { auto r = head(wire::PutResponse{}); r.type = type; return r; }
    case Command::PutGet: {
        auto r = head(wire::PutGetResponse{});
        r.put_type = type;
        r.get_type = type2;
        return r;
    }
    case Command::Monitor: {
        auto r = head(wire::MonitorResponse{});
        r.type = type;
        r.has_data = false;
        return r;
    }
    case Command::Array: { auto r = head(wire::ArrayResponse{}); r.type = type; return r; }
    case Command::Process: return head(wire::ProcessResponse{});
    default: return head(wire::RpcResponse{});
    }
}

PVWIRE_DECL wire::Body Decoder::exec_reply(Kind kind, const Fields& f, wire::OperationTypes& op) {
    f.count(3 + reply_extra(kind));
    const std::uint32_t ioid = f.u32(1, "ioid");
    const std::uint8_t d = f.flag(2, "last") ? sub::destroy : 0;
    auto head = [&](auto r, std::uint8_t subcmd) {
        r.ioid = ioid;
        r.subcmd = subcmd | d;
        r.status = f.status(3);
        return r;
    };
    const Command command = Command(op.command);
    switch (kind) {
    case Kind::get:
        if (command == Command::Put) {
            auto r = head(wire::PutResponse{}, sub::get);
            r.data = partial(f, 4, op.type, r.changed, "value");
            return r;
        }
        if (command == Command::PutGet) {
            auto r = head(wire::PutGetResponse{}, sub::get);
            r.data = partial(f, 4, op.type2, r.changed, "value");
            return r;
        } else {
            auto r = head(wire::GetResponse{}, sub::exec);
            r.data = partial(f, 4, op.type, r.changed, "value");
            return r;
        }
    case Kind::put: return head(wire::PutResponse{}, sub::exec);
    case Kind::put_get: {
        auto r = head(wire::PutGetResponse{}, sub::exec);
        r.data = partial(f, 4, op.type2, r.changed, "value");
        return r;
    }
    case Kind::get_put: {
        auto r = head(wire::PutGetResponse{}, sub::get_put);
        r.data = partial(f, 4, op.type, r.changed, "value");
        return r;
    }
    case Kind::array_get: {
        auto r = head(wire::ArrayResponse{}, sub::get);
        r.data = bare(f, 4, op.type, "array elements");
        return r;
    }
    case Kind::array_put: return head(wire::ArrayResponse{}, sub::exec);
    case Kind::length: {
        auto r = head(wire::ArrayResponse{}, sub::process);
        r.length = f.size(4, "length");
        return r;
    }
    case Kind::set_length: return head(wire::ArrayResponse{}, sub::get_put);
    case Kind::process: return head(wire::ProcessResponse{}, sub::exec);
    default: {
        auto r = head(wire::RpcResponse{}, sub::exec);
        r.result = mc::read_value_document(f.at(4), "rpc result", owner);
        return r;
    }
    }
}

PVWIRE_DECL wire::Body Decoder::reply(Kind kind, const Fields& f, bool& ignored) {
    switch (kind) {
    case Kind::hello: {
        f.count(2);
        if (f.u32(1, "version") != version) f.fail("version", "only version 1 is spoken here");
        wire::ValidationRequest r;
        r.auth_methods = f.strings(2, "methods");
        return r;
    }
    case Kind::ready: f.count(1); return wire::ConnectionValidated{f.status(1)};
    case Kind::echo: f.count(1); return wire::Echo{f.bin(1, "payload")};
    case Kind::open: {
        // the trailing `writable` came later: replies without it are read as writable
        if (f.elements() != 4) f.count(3);
        wire::CreateChannelResponse r;
        r.cid = f.u32(1, "cid");
        r.sid = f.u32(2, "sid");
        r.status = f.status(3);
        if (f.elements() == 4) r.writable = f.flag(4, "writable");
        return r;
    }
    case Kind::close: f.count(2); return wire::DestroyChannel{f.u32(1, "sid"), f.u32(2, "cid")};
    case Kind::info: {
        f.count(3);
        wire::GetFieldResponse r;
        r.ioid = f.u32(1, "ioid");
        r.status = f.status(2);
        r.type = f.type(3, "type");
        return r;
    }
    case Kind::init: return init_reply(f, ignored);
    case Kind::message: {
        f.count(3);
        return wire::RemoteMessage{f.u32(1, "ioid"), std::uint8_t(f.uint(2, "severity", 3)), f.str(3, "text")};
    }
    case Kind::error: f.count(1); f.fail("text", "the server ends the connection: " + f.str(1, "text"));
    case Kind::update:
    case Kind::finish: {
        f.count(kind == Kind::update ? 3 : 2);
        const std::uint32_t ioid = f.u32(1, "ioid");
        auto* op = ops.find(ioid);
        if (!op || op->command != std::uint8_t(Command::Monitor)) {
            ignored = true;
            return wire::Control{};
        }
        wire::MonitorResponse r;
        r.ioid = ioid;
        if (kind == Kind::finish) {
            r.subcmd = sub::destroy;
            r.has_data = false;
            r.status = f.status(2);
            ops.erase(ioid);
            return r;
        }
        r.subcmd = 0;
        r.data = partial(f, 2, op->type, r.changed, "update", &op->updates);
        r.has_data = bool(r.data);
        r.overrun = f.offsets(3, "overrun");
        return r;
    }
    case Kind::get: case Kind::put: case Kind::put_get: case Kind::get_put: case Kind::array_get:
    case Kind::array_put: case Kind::length: case Kind::set_length: case Kind::process: case Kind::rpc: {
        auto* op = ops.find(f.u32(1, "ioid"));
        if (!op || !kind_fits(kind, Command(op->command))) {
            ignored = true;
            return wire::Control{};
        }
        auto body = exec_reply(kind, f, *op);
        if (f.flag(2, "last")) ops.erase(f.u32(1, "ioid"));
        return body;
    }
    default: f.fail("kind", "a client's message, sent by a server");
    }
}

// A monitor update of plain fields, the bulk of a client's traffic, read without building
// msgpack-cxx's object tree. False (nothing decided) for anything else, which then takes the
// general path: other messages, updates with arrays or unions, malformed bytes.
PVWIRE_DECL bool Decoder::plain_update(std::span<const std::byte> body, wire::Message& out) {
    mc::PlainReader r(body, 0);
    std::uint32_t elements = 0, noverrun = 0;
    std::uint64_t kind = 0, ioid = 0;
    if (!r.array(elements) || elements != 4 || !r.uint(kind) || kind != std::uint8_t(Kind::update) || !r.uint(ioid) ||
        ioid > 0xFFFFFFFFu)
        return false;
    auto* op = ops.find(std::uint32_t(ioid));
    if (!op || op->command != std::uint8_t(Command::Monitor) || !op->type) return false;
    wire::MonitorResponse m;
    m.ioid = std::uint32_t(ioid);
    m.subcmd = 0;
    m.data = op->updates.make(op->type);
    std::size_t at = r.at();
    if (!mc::read_plain_partial(body, at, m.data, m.changed)) return false;
    mc::PlainReader rest(body, at);
    if (!rest.array(noverrun)) return false;
    for (std::uint32_t k = 0; k < noverrun; ++k) {
        std::uint64_t b = 0;
        if (!rest.uint(b) || b > 0xFFFF) return false;
        m.overrun.set(std::size_t(b));
    }
    if (rest.at() != body.size()) return false;
    out.body = std::move(m);
    return true;
}

PVWIRE_DECL void header_problem(wire::Diagnostic& diag, wire::errc code, std::size_t offset, std::string detail) {
    diag.code = make_error_code(code);
    diag.offset = offset;
    diag.field = "msgpack frame header";
    diag.detail = std::move(detail);
}

// An update of plain fields, the bulk of a server's traffic, is written into a stack buffer
// and copied once; others (arrays, unions, a large update) take FrameWriter.
PVWIRE_DECL bool encode_plain_update(std::uint32_t ioid, const Value& value, const BitSet& changed,
                                     const BitSet& overrun, wire::OutBuffer& out) {
    std::array<std::byte, 512> frame;
    mc::PlainWriter w(frame, header_size);
    if (!w.array(4) || !w.uint(std::uint8_t(Kind::update)) || !w.uint(ioid) || !mc::write_plain_partial(w, value, changed) ||
        !w.array(std::uint32_t(overrun.count())))
        return false;
    for (std::size_t b = overrun.next(0); b != BitSet::npos; b = overrun.next(b + 1))
        if (!w.uint(b)) return false;
    const std::size_t unpadded = w.at() - header_size;
    const std::size_t pad = (8 - unpadded % 8) % 8;
    if (w.at() + pad > frame.size()) return false;
    std::memset(frame.data() + w.at(), 0, pad);
    const std::size_t body = unpadded + pad;
    write_frame_header(frame.data(), pad, body);
    out.bytes().insert(out.bytes().end(), frame.data(), frame.data() + header_size + body);
    return true;
}

}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(protocol_impl)

// ---- API ----------------------------------------------------------------------------------

PVWIRE_DECL std::string_view kind_name(Kind k) noexcept {
    return std::uint8_t(k) < kind_count ? kind_names[std::size_t(k)] : "unknown";
}

PVWIRE_DECL std::size_t frame_length(std::span<const std::byte> stream, std::size_t max_body, wire::Diagnostic& diag) {
    if (stream.size() < header_size) return 0;
    if (stream[0] != std::byte('M') || stream[1] != std::byte('P')) {
        header_problem(diag, wire::errc::bad_magic, 0, "a msgpack protocol frame starts with \"MP\"");
        return 0;
    }
    if (std::uint8_t(stream[2]) != version) {
        header_problem(diag, wire::errc::bad_version, 2,
                       "version " + std::to_string(unsigned(stream[2])) + ", only 1 is spoken here");
        return 0;
    }
    std::size_t body = 0;
    for (int i = 0; i < 4; ++i) body |= std::size_t(stream[4 + i]) << (8 * i);
    const std::size_t pad = std::size_t(stream[3]);
    if (pad > 7 || pad > body) {
        header_problem(diag, wire::errc::bad_size, 3, "pad count " + std::to_string(pad) + " for a body of " +
                                                          std::to_string(body) + " bytes");
        return 0;
    }
    if (body > max_body) {
        header_problem(diag, wire::errc::too_large, 4, "message body of " + std::to_string(body) +
                                                           " bytes exceeds the limit of " + std::to_string(max_body));
        return 0;
    }
    return header_size + body;
}

PVWIRE_DECL Codec::Codec(Side side, const wire::Limits& limits)
    : side_(side), limits_(limits), ops_(limits.max_operations) {}

PVWIRE_DECL Codec::Result Codec::decode(std::span<const std::byte> frame, wire::Message& out, wire::Diagnostic& diag,
                                        const std::shared_ptr<const void>& owner) {
    const std::size_t len = msgpack_protocol::frame_length(frame, limits_.max_message_bytes, diag);
    if (diag) return Result::Error;
    if (len != frame.size()) {
        header_problem(diag, wire::errc::truncated, 4, "the header announces " + std::to_string(len) +
                                                           " bytes, the frame has " + std::to_string(frame.size()));
        return Result::Error;
    }
    const std::size_t pad = std::size_t(frame[3]);
    const auto body = frame.subspan(header_size, len - header_size - pad);
    Decoder d{side_, ops_, owner, unknown_};
    out.from_server = side_ == Side::client;
    out.order = wire::host_order();
    if (side_ == Side::client && d.plain_update(body, out)) return Result::Message;
    try {
        // One zone per thread, reused: the object tree of a message lives only until decode()
        // returns (values are copied out of it, or view the frame itself).
        thread_local msgpack::zone zone;
        const msgpack::object root = mc::parse_into(zone, body, "msgpack message");
        if (root.type != msgpack::type::ARRAY || root.via.array.size == 0 ||
            root.via.array.ptr[0].type != msgpack::type::POSITIVE_INTEGER || root.via.array.ptr[0].via.u64 >= kind_count)
            throw DecodeError("a message is an array [kind 0.." + std::to_string(kind_count - 1) + ", ...]");
        const Kind kind = Kind(root.via.array.ptr[0].via.u64);
        const Fields fields(root, kind);
        bool ignored = false;
        out.body = side_ == Side::server ? d.request(kind, fields, ignored) : d.reply(kind, fields, ignored);
        if (!ignored) return Result::Message;
        diag.code = make_error_code(wire::errc::unknown_operation);
        diag.field = std::string(kind_name(kind)) + " message";
        diag.detail = "no such operation on this connection";
        return Result::Ignored;
    } catch (const msgpack_codec::DecodeError& e) {
        diag.code = make_error_code(wire::errc::bad_value);
        diag.offset = header_size;
        diag.field = "msgpack message";
        diag.detail = e.what();
        return Result::Error;
    }
}

PVWIRE_DECL void Codec::encode(const wire::Message& msg, wire::OutBuffer& out) {
    std::visit(Encoder{out, ops_, side_}, msg.body);
}

PVWIRE_DECL void Codec::encode_update(std::uint32_t ioid, const Value& value, const BitSet& changed,
                                      const BitSet& overrun, wire::OutBuffer& out) {
    if (encode_plain_update(ioid, value, changed, overrun, out)) return;
    FrameWriter w(out, Kind::update, 3);
    w.u32(ioid).partial(value, changed).offsets(overrun);
    w.finish();
}

PVWIRE_DECL void Codec::encode_error(std::string_view text, wire::OutBuffer& out) {
    FrameWriter w(out, Kind::error, 1);
    w.str(text);
    w.finish();
}

}  // namespace pvwire::msgpack_protocol
