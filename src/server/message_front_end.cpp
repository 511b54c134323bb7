#include "message_front_end.hpp"

namespace pvwire::server::detail {

namespace asio = net::asio;
using wire::Status;

namespace {

// The one place a pvAccess operation command meets the core's operation kinds.
OpKind kind_for(wire::Command command) {
    switch (command) {
    case wire::Command::Put: return OpKind::put;
    case wire::Command::PutGet: return OpKind::put_get;
    case wire::Command::Monitor: return OpKind::monitor;
    case wire::Command::Array: return OpKind::array;
    case wire::Command::Process: return OpKind::process;
    case wire::Command::Rpc: return OpKind::rpc;
    default: return OpKind::get;
    }
}

// A reply to an operation request: ioid, sub-command echoed, status.
template <class Resp> Resp response(std::uint32_t ioid, std::uint8_t subcmd, Status st = {}) {
    Resp r;
    r.ioid = ioid;
    r.subcmd = subcmd;
    r.status = std::move(st);
    return r;
}

} // namespace

MessageFrontEnd::MessageFrontEnd(asio::any_io_executor executor, Peer peer, wire::ByteOrder order, Open open,
                                 Send send, SendUpdate send_update, Backlog backlog, EngineLimits limits,
                                 std::shared_ptr<ConnectionCounters> counters)
    : order_(order), send_(std::move(send)), send_update_(std::move(send_update)), backlog_(std::move(backlog)),
      core_(std::make_shared<ChannelCore>(std::move(executor), std::move(peer), std::move(open),
                                          static_cast<CoreEvents&>(*this), limits, std::move(counters))),
      counters_(core_->counters()) {}

MessageFrontEnd::~MessageFrontEnd() { core_->close(); }

void MessageFrontEnd::send(wire::Body body) {
    wire::Message m;
    m.order = order_;
    m.from_server = true;
    m.body = std::move(body);
    send_(std::move(m));
}

void MessageFrontEnd::op_message(std::uint32_t ioid, std::uint8_t severity, std::string text) {
    send(wire::RemoteMessage{ioid, severity, std::move(text)});
}

void MessageFrontEnd::channel_closed(std::uint32_t sid, std::uint32_t cid) { send(wire::DestroyChannel{sid, cid}); }

void MessageFrontEnd::reply_error(std::uint8_t command, std::uint32_t ioid, std::uint8_t subcmd, std::string text) {
    ConnectionCounters::add(counters_.operation_errors);
    const Status st = Status::error(std::move(text));
    switch (wire::Command(command)) {
    case wire::Command::Get: send(response<wire::GetResponse>(ioid, subcmd, st)); break;
    case wire::Command::Put: send(response<wire::PutResponse>(ioid, subcmd, st)); break;
    case wire::Command::PutGet: send(response<wire::PutGetResponse>(ioid, subcmd, st)); break;
    case wire::Command::Array: send(response<wire::ArrayResponse>(ioid, subcmd, st)); break;
    case wire::Command::Process: send(response<wire::ProcessResponse>(ioid, subcmd, st)); break;
    case wire::Command::Rpc: send(response<wire::RpcResponse>(ioid, subcmd, st)); break;
    case wire::Command::Monitor: {
        // a monitor error outside INIT ends the subscription: a finish (0x10) with the status
        const bool init = subcmd & wire::subcmd::init;
        auto r = response<wire::MonitorResponse>(ioid, init ? subcmd : std::uint8_t(subcmd | wire::subcmd::destroy), st);
        r.has_data = false;
        send(std::move(r));
        break;
    }
    case wire::Command::GetField: {
        wire::GetFieldResponse r;
        r.ioid = ioid;
        r.status = st;
        send(std::move(r));
        break;
    }
    default: op_message(ioid, 2, st.message); break;
    }
}

template <class Resp> void MessageFrontEnd::reply_now(const wire::OperationRequest& m, Resp r) {
    if (!r.status.success()) ConnectionCounters::add(counters_.operation_errors);
    send(std::move(r));
    if (m.destroys()) core_->destroy_op(m.ioid);
}

// Runs on the strand while the core lives (ChannelCore's completions never outlive it, and
// this front-end owns the core), so `this` is valid.
template <class Resp, class Fill> auto MessageFrontEnd::reply_later(const wire::OperationRequest& m, Fill fill) {
    return [this, ioid = m.ioid, subcmd = m.subcmd, fill = std::move(fill)](Status st, auto&&... rest) mutable {
        if (!st.success()) ConnectionCounters::add(counters_.operation_errors);
        auto r = response<Resp>(ioid, subcmd, std::move(st));
        fill(r, std::forward<decltype(rest)>(rest)...);
        send(std::move(r));
        if (subcmd & wire::subcmd::destroy) core_->destroy_op(ioid);
    };
}

bool MessageFrontEnd::handle(const wire::Message& msg) {
    return std::visit(
        [&](const auto& m) -> bool {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, wire::CreateChannelRequest>) create_channel(m);
            else if constexpr (std::is_same_v<T, wire::DestroyChannel>) destroy_channel(m);
            else if constexpr (std::is_same_v<T, wire::GetFieldRequest>) get_field(m);
            else if constexpr (std::is_same_v<T, wire::GetRequest>) get(m);
            else if constexpr (std::is_same_v<T, wire::PutRequest>) put(m);
            else if constexpr (std::is_same_v<T, wire::PutGetRequest>) put_get(m);
            else if constexpr (std::is_same_v<T, wire::MonitorRequest>) monitor(m);
            else if constexpr (std::is_same_v<T, wire::ArrayRequest>) array(m);
            else if constexpr (std::is_same_v<T, wire::ProcessRequest>) process(m);
            else if constexpr (std::is_same_v<T, wire::RpcRequest>) rpc(m);
            else if constexpr (std::is_same_v<T, wire::DestroyRequest>) core_->destroy_op(m.ioid);  // no reply (PVXS)
            else if constexpr (std::is_same_v<T, wire::CancelRequest>) core_->cancel_op(m.ioid);
            else return false;
            return true;
        },
        msg.body);
}

// ---- channels ------------------------------------------------------------------------------

void MessageFrontEnd::create_channel(const wire::CreateChannelRequest& m) {
    for (const auto& c : m.channels) {
        auto opened = core_->create_channel(c.name, c.cid);
        wire::CreateChannelResponse r;
        r.cid = c.cid;
        if (opened.status.success()) {
            r.sid = opened.sid;  // a refusal keeps the message's 0xFFFFFFFF
            r.writable = core_->channel_writable(opened.sid);
        } else {
            ConnectionCounters::add(counters_.channel_errors);
        }
        r.status = std::move(opened.status);
        send(std::move(r));
    }
}

void MessageFrontEnd::destroy_channel(const wire::DestroyChannel& m) {
    // an unknown sid: nothing to destroy, nothing to say (PVXS)
    if (auto cid = core_->destroy_channel(m.sid)) send(wire::DestroyChannel{m.sid, *cid});
}

void MessageFrontEnd::get_field(const wire::GetFieldRequest& m) {
    auto [st, type] = core_->field_type(m.sid, m.sub_field);
    if (!st.success()) return reply_error(std::uint8_t(wire::Command::GetField), m.ioid, 0, st.message);
    wire::GetFieldResponse r;
    r.ioid = m.ioid;
    r.type = std::move(type);
    send(std::move(r));
}

// ---- INIT ------------------------------------------------------------------------------------

void MessageFrontEnd::init(wire::Command command, const wire::OperationRequest& m) {
    ChannelCore::MonitorStart flow;
    if (command == wire::Command::Monitor) {
        const auto& mr = static_cast<const wire::MonitorRequest&>(m);
        flow = {mr.has_nfree(), mr.has_nfree() ? mr.nfree : 0};
    }
    auto done = core_->init(m.sid, m.ioid, kind_for(command), m.pv_request, flow);
    if (!done.status.success()) return reply_error(std::uint8_t(command), m.ioid, m.subcmd, done.status.message);
    if (command == wire::Command::Monitor) counters_.operation(OpKind::monitor);  // a subscription
    switch (command) {
    case wire::Command::Get: {
        auto r = response<wire::GetResponse>(m.ioid, m.subcmd);
        r.type = done.type;
        return send(std::move(r));
    }
    case wire::Command::Put: {
        auto r = response<wire::PutResponse>(m.ioid, m.subcmd);
        r.type = done.type;
        return send(std::move(r));
    }
    case wire::Command::PutGet: {
        auto r = response<wire::PutGetResponse>(m.ioid, m.subcmd);
        r.put_type = done.type;
        r.get_type = done.type;
        return send(std::move(r));
    }
    case wire::Command::Monitor: {
        auto r = response<wire::MonitorResponse>(m.ioid, m.subcmd);
        r.type = done.type;
        r.has_data = false;
        return send(std::move(r));
    }
    case wire::Command::Array: {
        auto r = response<wire::ArrayResponse>(m.ioid, m.subcmd);
        r.type = done.type;
        return send(std::move(r));
    }
    case wire::Command::Process: return send(response<wire::ProcessResponse>(m.ioid, m.subcmd));
    case wire::Command::Rpc: return send(response<wire::RpcResponse>(m.ioid, m.subcmd));
    default: return;
    }
}

bool MessageFrontEnd::handled_as_init(wire::Command command, const wire::OperationRequest& m) {
    if (!m.is_init()) return false;
    init(command, m);
    return true;
}

bool MessageFrontEnd::exec_ok(wire::Command command, const wire::OperationRequest& m) {
    const OpKind kind = kind_for(command);
    auto problem = core_->exec_problem(m.ioid, kind);
    if (problem.empty()) {
        counters_.operation(kind);
        return true;
    }
    reply_error(std::uint8_t(command), m.ioid, m.subcmd, std::move(problem));
    return false;
}

// ---- operations ------------------------------------------------------------------------------

void MessageFrontEnd::get(const wire::GetRequest& m) {
    if (handled_as_init(wire::Command::Get, m) || !exec_ok(wire::Command::Get, m)) return;
    auto snap = core_->current(m.ioid);
    auto r = response<wire::GetResponse>(m.ioid, m.subcmd, std::move(snap.status));
    r.changed = std::move(snap.changed);
    r.data = std::move(snap.value);
    reply_now(m, std::move(r));
}

void MessageFrontEnd::put(const wire::PutRequest& m) {
    if (handled_as_init(wire::Command::Put, m) || !exec_ok(wire::Command::Put, m)) return;
    if (m.subcmd & wire::subcmd::get) {  // the current value
        auto snap = core_->current(m.ioid);
        auto r = response<wire::PutResponse>(m.ioid, m.subcmd, std::move(snap.status));
        r.changed = std::move(snap.changed);
        r.data = std::move(snap.value);
        return reply_now(m, std::move(r));
    }
    core_->put(m.ioid, m.data, m.changed, reply_later<wire::PutResponse>(m, [](wire::PutResponse&) {}));
}

void MessageFrontEnd::put_get(const wire::PutGetRequest& m) {
    if (handled_as_init(wire::Command::PutGet, m) || !exec_ok(wire::Command::PutGet, m)) return;
    if (m.subcmd & (wire::subcmd::get | wire::subcmd::get_put)) {
        // get-get (0x40): the get side; get-put (0x80): the put side
        auto snap = core_->current(m.ioid, !(m.subcmd & wire::subcmd::get));
        auto r = response<wire::PutGetResponse>(m.ioid, m.subcmd, std::move(snap.status));
        r.changed = std::move(snap.changed);
        r.data = std::move(snap.value);
        return reply_now(m, std::move(r));
    }
    core_->put_get(m.ioid, m.data, m.changed,
                   reply_later<wire::PutGetResponse>(m, [](wire::PutGetResponse& r, ChannelCore::Snapshot now) {
                       if (!r.status.success()) return;
                       r.data = std::move(now.value);
                       r.changed = std::move(now.changed);
                   }));
}

void MessageFrontEnd::monitor(const wire::MonitorRequest& m) {
    if (handled_as_init(wire::Command::Monitor, m)) return;
    if (core_->kind_of(m.ioid) != OpKind::monitor) return;  // not acknowledged anyway
    if (m.subcmd & wire::subcmd::destroy) return core_->destroy_op(m.ioid);
    if (m.subcmd & wire::subcmd::get_put) core_->monitor_ack(m.ioid, m.nfree);  // pipeline ack
    if ((m.subcmd & wire::subcmd::monitor_start) == wire::subcmd::monitor_start)
        core_->monitor_start(m.ioid);
    else if ((m.subcmd & wire::subcmd::process) && !(m.subcmd & wire::subcmd::get))
        core_->monitor_stop(m.ioid);  // updates keep being squashed into the queue
}

std::size_t MessageFrontEnd::monitor_update(std::uint32_t ioid, const Value& value, const BitSet& changed,
                                            const BitSet& overrun, protocol::detail::SharedEncoding* share) {
    return send_update_(ioid, value, changed, overrun, share);
}

void MessageFrontEnd::array(const wire::ArrayRequest& m) {
    if (handled_as_init(wire::Command::Array, m) || !exec_ok(wire::Command::Array, m)) return;
    const std::uint8_t command = std::uint8_t(wire::Command::Array);
    const ChannelCore::ArraySlice slice{m.offset, m.count, m.stride};
    if (m.subcmd & wire::subcmd::get) {
        auto snap = core_->array_get(m.ioid, slice);
        if (!snap.status.success()) return reply_error(command, m.ioid, m.subcmd, snap.status.message);
        auto r = response<wire::ArrayResponse>(m.ioid, m.subcmd);
        r.data = std::move(snap.value);
        return reply_now(m, std::move(r));
    }
    if ((m.subcmd & wire::subcmd::process) && !(m.subcmd & wire::subcmd::get_put)) {  // get-length
        auto [st, length] = core_->array_length(m.ioid);
        if (!st.success()) return reply_error(command, m.ioid, m.subcmd, st.message);
        auto r = response<wire::ArrayResponse>(m.ioid, m.subcmd);
        r.length = length;
        return reply_now(m, std::move(r));
    }
    auto done = reply_later<wire::ArrayResponse>(m, [](wire::ArrayResponse&) {});
    if (m.subcmd & wire::subcmd::get_put)
        core_->array_set_length(m.ioid, m.length, std::move(done));
    else
        core_->array_put(m.ioid, m.data, slice, std::move(done));
}

void MessageFrontEnd::process(const wire::ProcessRequest& m) {
    if (handled_as_init(wire::Command::Process, m) || !exec_ok(wire::Command::Process, m)) return;
    core_->process(m.ioid, reply_later<wire::ProcessResponse>(m, [](wire::ProcessResponse&) {}));
}

void MessageFrontEnd::rpc(const wire::RpcRequest& m) {
    if (handled_as_init(wire::Command::Rpc, m) || !exec_ok(wire::Command::Rpc, m)) return;
    core_->rpc(m.ioid, m.argument, reply_later<wire::RpcResponse>(m, [](wire::RpcResponse& r, Value result) {
                   r.result = std::move(result);
               }));
}

}  // namespace pvwire::server::detail
