#include "channel_engine.hpp"

#include <pvwire/protocol/pv_request.hpp>
#include <pvwire/wire/value_codec.hpp>

#include <algorithm>
#include <array>
#include <mutex>

namespace pvwire::server::detail {

namespace asio = net::asio;
using wire::Status;

struct ChannelEngine::Op {
    std::uint8_t command = 0;
    std::uint32_t sid = 0, ioid = 0;
    TypePtr type;                 // data type: GET/PUT/MONITOR/PUT_GET put side/ARRAY field
    BitSet mask;                  // fields sent: GET, MONITOR, PUT_GET get side
    BitSet put_mask;              // PUT_GET put side
    std::string array_path;       // ARRAY: the array field within the PV value
    bool busy = false;            // one execution at a time
    std::uint64_t generation = 0; // bumped by CANCEL_REQUEST: stale completions are dropped
    // MONITOR
    bool running = false, pipeline = false, primed = false;
    bool held = false;            // in held_, waiting for the connection's backlog to shrink
    std::size_t last_bytes = 0;   // size of the last update sent
    std::uint32_t window = 0, queue_size = 4;
    std::deque<Update> queue;
    std::shared_ptr<void> subscription;
    PVHandler::Feeder feeder;     // demand-driven PVs: fills `queue` when it has room
};

namespace {

// Appends an update to a bounded queue; when full, it is squashed into the newest entry: the
// newest value always arrives, and fields that changed more than once are reported as overrun.
void enqueue(std::deque<ChannelEngine::Update>& q, std::size_t limit, ChannelEngine::Update u) {
    if (q.size() < limit) {
        q.push_back(std::move(u));
        return;
    }
    ChannelEngine::Update& last = q.back();
    BitSet twice = last.changed;
    twice &= u.changed;
    last.overrun |= twice;
    last.overrun |= u.overrun;
    last.changed |= u.changed;
    last.value = std::move(u.value);
}

} // namespace

// Updates arrive from the PV's thread into a bounded inbox; at most one drain is posted to the
// strand at a time, so a PV posting faster than the connection can serve never piles up
// handlers (or memory) on the strand.
struct ChannelEngine::Inbox {
    std::mutex mu;
    std::deque<Update> items;
    std::size_t limit = 4;
    bool posted = false;
};

// A reply to an operation request: ioid, sub-command echoed, status.
namespace {
template <class Resp> Resp response(std::uint32_t ioid, std::uint8_t subcmd, Status st = {}) {
    Resp r;
    r.ioid = ioid;
    r.subcmd = subcmd;
    r.status = std::move(st);
    return r;
}
} // namespace

ChannelEngine::~ChannelEngine() = default;

ChannelEngine::ChannelEngine(asio::any_io_executor executor, Peer peer, wire::ByteOrder order,
                             Open open, Send send, SendRaw send_raw, Backlog backlog, EngineLimits limits)
    : ex_(std::move(executor)), peer_(std::move(peer)), order_(order), open_(std::move(open)),
      send_(std::move(send)), send_raw_(std::move(send_raw)), backlog_(std::move(backlog)), limits_(limits) {}

template <class F> auto ChannelEngine::on_strand(F f) {
    return [weak = weak_from_this(), ex = ex_, f = std::move(f)](auto&&... args) mutable {
        asio::post(ex, [weak, f,
                        tup = std::make_tuple(std::decay_t<decltype(args)>(
                            std::forward<decltype(args)>(args))...)]() mutable {
            if (auto self = weak.lock())
                if (!self->closed_)
                    std::apply([&](auto&&... a) { f(*self, std::move(a)...); }, std::move(tup));
        });
    };
}

// The completion of an execution (put, process, rpc ...): later, on the strand, if the
// operation still exists and was not cancelled meanwhile, `reply` answers and the destroy bit
// is honoured. The operation is busy until then.
template <class Reply> auto ChannelEngine::exec_done(Op& op, std::uint8_t subcmd, Reply reply) {
    op.busy = true;
    return on_strand([ioid = op.ioid, subcmd, gen = op.generation,
                      reply = std::move(reply)](ChannelEngine& self, auto... args) mutable {
        auto it = self.ops_.find(ioid);
        if (it == self.ops_.end())
            return;
        Op& current = *it->second;
        current.busy = false;
        if (current.generation != gen)
            return; // cancelled
        reply(self, current, std::move(args)...);
        if (subcmd & wire::subcmd::destroy)
            self.destroy_op(ioid);
    });
}

void ChannelEngine::send(wire::Body body) {
    wire::Message m;
    m.order = order_;
    m.from_server = true;
    m.body = std::move(body);
    send_(std::move(m));
}

void ChannelEngine::message(std::uint32_t ioid, std::uint8_t type, std::string text) {
    send(wire::RemoteMessage{ioid, type, std::move(text)});
}

void ChannelEngine::reply_error(std::uint8_t command, std::uint32_t ioid, std::uint8_t subcmd,
                                std::string text) {
    const Status st = Status::error(std::move(text));
    switch (wire::Command(command)) {
    case wire::Command::Get:
        send(response<wire::GetResponse>(ioid, subcmd, st));
        break;
    case wire::Command::Put:
        send(response<wire::PutResponse>(ioid, subcmd, st));
        break;
    case wire::Command::PutGet:
        send(response<wire::PutGetResponse>(ioid, subcmd, st));
        break;
    case wire::Command::Array:
        send(response<wire::ArrayResponse>(ioid, subcmd, st));
        break;
    case wire::Command::Process:
        send(response<wire::ProcessResponse>(ioid, subcmd, st));
        break;
    case wire::Command::Rpc:
        send(response<wire::RpcResponse>(ioid, subcmd, st));
        break;
    case wire::Command::Monitor: {
        // a monitor error outside INIT ends the subscription: a finish (0x10) with the status
        const bool init = subcmd & wire::subcmd::init;
        auto r = response<wire::MonitorResponse>(
            ioid, init ? subcmd : std::uint8_t(subcmd | wire::subcmd::destroy), st);
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
    default:
        message(ioid, 2, st.message);
        break;
    }
}

bool ChannelEngine::handle(const wire::Message& msg) {
    return std::visit(
        [&](const auto& m) -> bool {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, wire::CreateChannelRequest>)
                create_channel(m);
            else if constexpr (std::is_same_v<T, wire::DestroyChannel>)
                destroy_channel(m);
            else if constexpr (std::is_same_v<T, wire::GetFieldRequest>)
                get_field(m);
            else if constexpr (std::is_same_v<T, wire::GetRequest>)
                get(m);
            else if constexpr (std::is_same_v<T, wire::PutRequest>)
                put(m);
            else if constexpr (std::is_same_v<T, wire::PutGetRequest>)
                put_get(m);
            else if constexpr (std::is_same_v<T, wire::MonitorRequest>)
                monitor(m);
            else if constexpr (std::is_same_v<T, wire::ArrayRequest>)
                array(m);
            else if constexpr (std::is_same_v<T, wire::ProcessRequest>)
                process(m);
            else if constexpr (std::is_same_v<T, wire::RpcRequest>)
                rpc(m);
            else if constexpr (std::is_same_v<T, wire::DestroyRequest>)
                destroy_op(m.ioid);
            else if constexpr (std::is_same_v<T, wire::CancelRequest>)
                cancel_op(m.ioid);
            else
                return false;
            return true;
        },
        msg.body);
}

void ChannelEngine::close() {
    closed_ = true;
    ops_.clear(); // drops monitor subscriptions
    channels_.clear();
}

void ChannelEngine::close_channels(std::string_view name) {
    for (auto it = channels_.begin(); it != channels_.end();) {
        if (it->second.name != name) {
            ++it;
            continue;
        }
        for (auto ioid : it->second.ops)
            ops_.erase(ioid);
        send(wire::DestroyChannel{it->second.sid, it->second.cid});
        it = channels_.erase(it);
    }
}

// ---- channels ------------------------------------------------------------------------------

void ChannelEngine::create_channel(const wire::CreateChannelRequest& m) {
    for (const auto& c : m.channels) {
        wire::CreateChannelResponse r;
        r.cid = c.cid;
        if (c.name.empty() || c.name.size() > 500) {
            r.status = Status::error("invalid channel name");
        } else if (channels_.size() >= limits_.max_channels) {
            r.status = Status::error("too many channels on this connection (limit " +
                                     std::to_string(limits_.max_channels) + ")");
        } else if (auto pv = open_(c.name, peer_)) {
            while (channels_.count(next_sid_) || next_sid_ == 0xFFFFFFFF)
                ++next_sid_;
            const auto sid = next_sid_++;
            channels_[sid] = Chan{sid, c.cid, c.name, std::move(pv), {}};
            r.sid = sid;
        } else {
            r.status = Status::fatal("Refused to create Channel"); // what PVXS says
        }
        send(std::move(r));
    }
}

void ChannelEngine::destroy_channel(const wire::DestroyChannel& m) {
    auto it = channels_.find(m.sid);
    if (it == channels_.end())
        return; // unknown: nothing to destroy, nothing to say (PVXS)
    for (auto ioid : it->second.ops)
        ops_.erase(ioid);
    const auto cid = it->second.cid;
    channels_.erase(it);
    send(wire::DestroyChannel{m.sid, cid});
}

void ChannelEngine::get_field(const wire::GetFieldRequest& m) {
    auto it = channels_.find(m.sid);
    if (it == channels_.end())
        return reply_error(0x11, m.ioid, 0, "bad channel id");
    TypePtr t = it->second.pv->type();
    if (!t)
        return reply_error(0x11, m.ioid, 0, "PV has no type yet");
    if (!m.sub_field.empty()) {
        Value probe(t);
        Value f = probe.field(m.sub_field);
        if (!f)
            return reply_error(0x11, m.ioid, 0, "no field '" + m.sub_field + "'");
        t = f.type_ptr();
    }
    wire::GetFieldResponse r;
    r.ioid = m.ioid;
    r.type = t;
    send(std::move(r));
}

template <class Req>
ChannelEngine::Chan* ChannelEngine::channel_for(const Req& m, std::uint8_t command) {
    auto it = channels_.find(m.sid);
    if (it == channels_.end()) {
        reply_error(command, m.ioid, m.subcmd, "bad channel id");
        return nullptr;
    }
    return &it->second;
}

// Shared INIT handling: checks, mask, options; sends the INIT reply for GET/PUT/MONITOR/ARRAY/
// PROCESS/RPC/PUT_GET.
void ChannelEngine::init(std::uint8_t command, const wire::OperationRequest& m, Chan& ch) {
    if (ops_.count(m.ioid))
        return reply_error(command, m.ioid, m.subcmd, "request id already in use");
    if (ch.ops.size() >= limits_.max_operations_per_channel)
        return reply_error(command, m.ioid, m.subcmd,
                           "too many operations on this channel (limit " +
                               std::to_string(limits_.max_operations_per_channel) + ")");
    auto op = std::make_unique<Op>();
    op->command = command;
    op->sid = ch.sid;
    op->ioid = m.ioid;
    const TypePtr t = ch.pv->type();
    const bool needs_type = command != 0x14 && command != 0x10;
    if (needs_type && !t)
        return reply_error(command, m.ioid, m.subcmd, "PV has no type yet");
    std::vector<std::string> warnings;
    const auto opts = protocol::request_options(m.pv_request, &warnings);
    std::string err;
    if (needs_type) {
        const char* sub = command == 0x0C ? "getField" : "field";
        auto mask = protocol::request_mask(*t, m.pv_request, &err, sub);
        if (!mask)
            return reply_error(command, m.ioid, m.subcmd, err);
        op->mask = *mask;
        op->type = t;
        if (command == 0x0C) {
            auto pm = protocol::request_mask(*t, m.pv_request, &err, "putField");
            if (!pm)
                return reply_error(command, m.ioid, m.subcmd, err);
            op->put_mask = *pm;
        }
    }
    for (auto& w : warnings)
        message(m.ioid, 1, std::move(w));

    switch (wire::Command(command)) {
    case wire::Command::Get: {
        wire::GetResponse r;
        r.ioid = m.ioid;
        r.subcmd = m.subcmd;
        r.type = t;
        send(std::move(r));
        break;
    }
    case wire::Command::Put: {
        wire::PutResponse r;
        r.ioid = m.ioid;
        r.subcmd = m.subcmd;
        r.type = t;
        send(std::move(r));
        break;
    }
    case wire::Command::PutGet: {
        wire::PutGetResponse r;
        r.ioid = m.ioid;
        r.subcmd = m.subcmd;
        r.put_type = t;
        r.get_type = t;
        send(std::move(r));
        break;
    }
    case wire::Command::Monitor: {
        const auto& mr = static_cast<const wire::MonitorRequest&>(m);
        op->queue_size =
            std::clamp<std::uint32_t>(opts.queue_size.value_or(4), 2, limits_.max_queue_size);
        if (opts.queue_size && *opts.queue_size > limits_.max_queue_size)
            message(m.ioid, 1, "queueSize limited to " + std::to_string(limits_.max_queue_size));
        op->pipeline = opts.pipeline && mr.has_nfree();
        op->window = mr.has_nfree() ? mr.nfree : 0;
        wire::MonitorResponse r;
        r.ioid = m.ioid;
        r.subcmd = m.subcmd;
        r.type = t;
        r.has_data = false;
        send(std::move(r));
        break;
    }
    case wire::Command::Array: {
        // the array field: the one `field(...)` names, else "value"
        std::string path = "value";
        if (m.pv_request) {
            if (auto f = m.pv_request.field("field");
                f && f.code() == TypeCode::Struct && f.member_count() > 0) {
                path.clear();
                Value node = f;
                while (node.code() == TypeCode::Struct && node.member_count() > 0) {
                    if (!path.empty())
                        path += '.';
                    path += std::string(node.member_name(0));
                    node = node.member(0);
                }
            }
        }
        Value probe(t);
        Value af = probe.field(path);
        if (!af || !type_code::is_array(af.code()))
            return reply_error(command, m.ioid, m.subcmd, "no array field '" + path + "'");
        if (type_code::array_kind(type_code::raw(af.code())) == ArrayKind::Fixed)
            return reply_error(command, m.ioid, m.subcmd, "fixed-size arrays cannot be changed");
        op->array_path = path;
        op->type = af.type_ptr();
        wire::ArrayResponse r;
        r.ioid = m.ioid;
        r.subcmd = m.subcmd;
        r.type = op->type;
        send(std::move(r));
        break;
    }
    case wire::Command::Process: {
        wire::ProcessResponse r;
        r.ioid = m.ioid;
        r.subcmd = m.subcmd;
        send(std::move(r));
        break;
    }
    case wire::Command::Rpc: {
        wire::RpcResponse r;
        r.ioid = m.ioid;
        r.subcmd = m.subcmd;
        send(std::move(r));
        break;
    }
    default:
        return;
    }
    ch.ops.insert(m.ioid);
    ops_[m.ioid] = std::move(op);
}

// ---- operations ------------------------------------------------------------------------------

// A put whose changed BitSet names a field the put type does not have was built for another
// type: refused (the decoder skips such bits, so the rest would otherwise be written).
static std::optional<std::string> bit_outside(const BitSet& changed, const TypeDesc& type) {
    const std::size_t count = type.offset_count();
    const std::size_t b = changed.next(count);
    if (b == BitSet::npos)
        return std::nullopt;
    return "changed BitSet names field " + std::to_string(b) + ", the put structure has " +
           std::to_string(count);
}

// INIT requests of every operation go to init(); true when `m` was one.
bool ChannelEngine::init_requested(std::uint8_t command, const wire::OperationRequest& m) {
    if (!m.is_init())
        return false;
    if (auto* ch = channel_for(m, command))
        init(command, m, *ch);
    return true;
}

// The operation and channel an execute request names, or an error reply and nothing.
std::optional<ChannelEngine::Exec> ChannelEngine::exec_target(std::uint8_t command,
                                                              const wire::OperationRequest& m) {
    auto it = ops_.find(m.ioid);
    if (it == ops_.end() || it->second->command != command) {
        reply_error(command, m.ioid, m.subcmd, "bad request id");
        return std::nullopt;
    }
    if (it->second->busy) {
        reply_error(command, m.ioid, m.subcmd, "other request pending");
        return std::nullopt;
    }
    auto ch = channels_.find(it->second->sid);
    if (ch == channels_.end()) {
        reply_error(command, m.ioid, m.subcmd, "bad channel id");
        return std::nullopt;
    }
    return Exec{it->second.get(), &ch->second};
}

void ChannelEngine::get(const wire::GetRequest& m) {
    if (init_requested(0x0A, m))
        return;
    auto target = exec_target(0x0A, m);
    if (!target)
        return;
    Op& op = *target->op;
    Chan& ch = *target->ch;
    Value cur = ch.pv->current();
    auto r = response<wire::GetResponse>(m.ioid, m.subcmd);
    if (!cur) {
        r.status = Status::error("PV has no value");
    } else {
        r.changed = protocol::apply_mask(BitSet{0}, op.mask, cur.type());
        r.data = std::move(cur);
    }
    send(std::move(r));
    if (m.destroys())
        destroy_op(m.ioid);
}

void ChannelEngine::put(const wire::PutRequest& m) {
    if (init_requested(0x0B, m))
        return;
    auto target = exec_target(0x0B, m);
    if (!target)
        return;
    Op& op = *target->op;
    Chan& ch = *target->ch;
    if (m.subcmd & wire::subcmd::get) { // the current value
        Value cur = ch.pv->current();
        auto r = response<wire::PutResponse>(m.ioid, m.subcmd);
        r.changed = protocol::apply_mask(BitSet{0}, op.mask, *op.type);
        r.data = std::move(cur);
        send(std::move(r));
        if (m.destroys())
            destroy_op(m.ioid);
        return;
    }
    if (!m.data)
        return reply_error(0x0B, m.ioid, m.subcmd, "no value to put");
    if (auto bad = bit_outside(m.changed, *op.type))
        return reply_error(0x0B, m.ioid, m.subcmd, *bad);
    const auto ioid = m.ioid;
    const auto subcmd = m.subcmd;
    ch.pv->put(m.data, peer_,
               exec_done(op, subcmd, [ioid, subcmd](ChannelEngine& self, Op&, Status st) {
                   self.send(response<wire::PutResponse>(ioid, subcmd, std::move(st)));
               }));
}

void ChannelEngine::put_get(const wire::PutGetRequest& m) {
    if (init_requested(0x0C, m))
        return;
    auto target = exec_target(0x0C, m);
    if (!target)
        return;
    Op& op = *target->op;
    Chan& ch = *target->ch;
    if (m.subcmd & (wire::subcmd::get | wire::subcmd::get_put)) {
        // get-get (0x40): the get side; get-put (0x80): the put side
        const bool put_side = !(m.subcmd & wire::subcmd::get);
        Value cur = ch.pv->current();
        auto r = response<wire::PutGetResponse>(m.ioid, m.subcmd);
        r.changed = protocol::apply_mask(BitSet{0}, put_side ? op.put_mask : op.mask, *op.type);
        r.data = std::move(cur);
        send(std::move(r));
        if (m.destroys())
            destroy_op(m.ioid);
        return;
    }
    if (!m.data)
        return reply_error(0x0C, m.ioid, m.subcmd, "no value to put");
    if (auto bad = bit_outside(m.changed, *op.type))
        return reply_error(0x0C, m.ioid, m.subcmd, *bad);
    const auto ioid = m.ioid;
    const auto subcmd = m.subcmd;
    ch.pv->put(m.data, peer_,
               exec_done(op, subcmd, [ioid, subcmd](ChannelEngine& self, Op& op, Status st) {
                   auto r = response<wire::PutGetResponse>(ioid, subcmd, st);
                   if (st.success()) {
                       auto ch = self.channels_.find(op.sid);
                       if (ch != self.channels_.end()) {
                           r.data = ch->second.pv->current();
                           r.changed = protocol::apply_mask(BitSet{0}, op.mask, *op.type);
                       }
                   }
                   self.send(std::move(r));
               }));
}

void ChannelEngine::monitor(const wire::MonitorRequest& m) {
    if (init_requested(0x0D, m))
        return;
    auto it = ops_.find(m.ioid);
    if (it == ops_.end() || it->second->command != 0x0D)
        return; // not acknowledged anyway
    Op& op = *it->second;
    if (m.subcmd & wire::subcmd::destroy)
        return destroy_op(m.ioid);
    if (m.subcmd & wire::subcmd::get_put) { // pipeline ack
        op.window += m.nfree;
        pump(op);
    }
    if ((m.subcmd & wire::subcmd::monitor_start) == wire::subcmd::monitor_start) {
        op.running = true;
        if (!op.subscription) {
            auto ch = channels_.find(op.sid);
            if (ch == channels_.end())
                return;
            const auto ioid = m.ioid;
            // the first update carries the whole value
            Value cur = ch->second.pv->current();
            if (cur) {
                cur.unmark();
                cur.mark();
                BitSet all{0};
                op.queue.push_back(Update{std::move(cur), std::move(all), {}});
            }
            op.feeder = ch->second.pv->feeder(peer_);
            if (op.feeder) {
                pump(op);
                return;
            }
            auto inbox = std::make_shared<Inbox>();
            inbox->limit = op.queue_size;
            op.subscription = ch->second.pv->subscribe(
                [inbox, ioid, weak = weak_from_this(), ex = ex_](const Value& update) {
                    bool post = false;
                    {
                        std::lock_guard lock(inbox->mu);
                        enqueue(inbox->items, inbox->limit, Update{update, update.marks(), {}});
                        post = !inbox->posted;
                        inbox->posted = true;
                    }
                    if (post)
                        asio::post(ex, [weak, inbox, ioid] {
                            if (auto self = weak.lock())
                                if (!self->closed_)
                                    self->on_update(ioid, inbox);
                        });
                });
        }
        pump(op);
    } else if ((m.subcmd & wire::subcmd::process) && !(m.subcmd & wire::subcmd::get)) {
        op.running = false; // stop: updates keep being squashed into the queue
    }
}

void ChannelEngine::on_update(std::uint32_t ioid, const std::shared_ptr<Inbox>& inbox) {
    std::deque<Update> items;
    {
        std::lock_guard lock(inbox->mu);
        items.swap(inbox->items);
        inbox->posted = false;
    }
    auto it = ops_.find(ioid);
    if (it == ops_.end())
        return;
    Op& op = *it->second;
    for (auto& u : items)
        enqueue(op.queue, op.queue_size, std::move(u));
    pump(op);
}

namespace {

// Monitor fan-out: subscribers that would receive identical bytes for one update (same value,
// same selected fields, same byte order) share one encoding of its data part. Keyed by the
// update's storage, which every subscriber's queue shares until the next post.
class FanoutCache {
public:
    std::shared_ptr<const wire::OutBuffer> find_or_encode(const Value& v, const BitSet& bits,
                                                          wire::ByteOrder order) {
        std::lock_guard lock(mu_);
        for (auto& e : entries_) {
            // the address first (cheap); the weak pointer tells a live store from a new one
            // allocated where an expired one was
            if (e.raw != v.store() || e.order != order || !(e.bits == bits))
                continue;
            if (auto s = e.store.lock(); s && s.get() == v.store())
                return e.bytes;
        }
        // large arrays stay references to the value's storage (written in place)
        auto out = std::make_shared<wire::OutBuffer>();
        wire::Writer w(*out, order);
        wire::encode_partial(w, v, bits, nullptr);
        std::shared_ptr<const wire::OutBuffer> bytes = std::move(out);
        // Encodings that reference arrays are cheap to redo and would keep those arrays
        // alive while cached: only small, self-contained ones are kept.
        if (bytes->external_count() != 0 || bytes->size() > max_cached_bytes)
            return bytes;
        entries_[next_] = Entry{v.store(), v.store_ptr(), bits, order, bytes};
        next_ = (next_ + 1) % entries_.size();
        return bytes;
    }

private:
    static constexpr std::size_t max_cached_bytes = 64 * 1024;
    struct Entry {
        const void* raw = nullptr;
        std::weak_ptr<pvwire::detail::ValueStore> store;
        BitSet bits;
        wire::ByteOrder order = wire::ByteOrder::Little;
        std::shared_ptr<const wire::OutBuffer> bytes;
    };
    std::mutex mu_;
    std::array<Entry, 64> entries_{};
    std::size_t next_ = 0;
};

FanoutCache& fanout_cache() {
    static FanoutCache c;
    return c;
}

} // namespace

// What a Feeder posts into: the queue of one monitor, bounded by its queueSize.
class ChannelEngine::Feed : public MonitorFeed {
public:
    explicit Feed(Op& op) : op_(op) {}
    bool try_post(const Value& update) override {
        if (op_.queue.size() >= op_.queue_size)
            return false;
        op_.queue.push_back(Update{update, update.marks(), {}});
        return true;
    }
    std::size_t room() const override {
        return op_.queue.size() < op_.queue_size ? op_.queue_size - op_.queue.size() : 0;
    }

private:
    Op& op_;
};

// Full: at the high-water mark, and holding at least two of this monitor's updates (so that
// large arrays always have the next one queued behind the one being written).
bool ChannelEngine::tx_full(const Op& op) const {
    return backlog_ && backlog_() >= std::max(limits_.tx_high_water, 2 * op.last_bytes);
}

void ChannelEngine::writable() {
    if (held_.empty())
        return;
    std::vector<std::uint32_t> held;
    held.swap(held_);
    for (auto ioid : held) {
        auto it = ops_.find(ioid);
        if (it == ops_.end())
            continue;
        it->second->held = false;
        pump(*it->second);
    }
}

void ChannelEngine::pump(Op& op) {
    for (;;) {
        while (op.running && !op.queue.empty() && (!op.pipeline || op.window > 0)) {
            if (tx_full(op)) {
                // wait in the queue (squashing) until the connection drains: writable()
                if (!op.held) {
                    op.held = true;
                    held_.push_back(op.ioid);
                }
                return;
            }
            Update u = std::move(op.queue.front());
            op.queue.pop_front();
            const BitSet bits = protocol::apply_mask(u.changed, op.mask, *op.type);
            if (bits.empty() && op.primed)
                continue; // nothing selected changed
            op.primed = true;
            const BitSet overrun = protocol::apply_mask(u.overrun, op.mask, *op.type);
            // header, ioid, sub-command, then "BitSet + data" (shared between subscribers of
            // a broadcast update; a demand-driven one is this subscriber's alone and is encoded
            // in place), then the overrun BitSet
            wire::OutBuffer out;
            wire::Writer w(out, order_);
            w.begin_message(std::uint8_t(wire::Command::Monitor), wire::flag::from_server);
            w.u32(op.ioid);
            w.u8(0);
            if (op.feeder)
                wire::encode_partial(w, u.value, bits, nullptr);
            else
                out.append(*fanout_cache().find_or_encode(u.value, bits, order_));
            w.bitset(overrun);
            w.end_message();
            op.last_bytes = out.size();
            send_raw_(std::move(out));
            if (op.pipeline)
                --op.window;
        }
        // a demand-driven PV refills the queue while it has room
        if (!op.feeder || !op.running || op.queue.size() >= op.queue_size)
            return;
        const auto before = op.queue.size();
        Feed feed(op);
        op.feeder(feed);
        if (op.queue.size() == before)
            return;
    }
}

namespace {

// Array element operations over any element type: a C++ scalar, or a Value for structure,
// union and any arrays.
template <class F> void with_elements(TypeCode c, F&& f) {
    type_code::visit_scalar_type(c, [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_void_v<T>)
            f(Value{});
        else
            f(T{});
    });
}

bool detail_convert(const SharedArray& in, TypeCode to, SharedArray& out, std::string& err) {
    return pvwire::detail::convert_array(in, to, out, &err);
}

template <class T> std::vector<T> elements(const SharedArray& a) {
    if (a.empty())
        return {};
    auto s = a.span<T>();
    return std::vector<T>(s.begin(), s.end());
}

} // namespace

void ChannelEngine::array(const wire::ArrayRequest& m) {
    if (init_requested(0x0E, m))
        return;
    auto target = exec_target(0x0E, m);
    if (!target)
        return;
    Op& op = *target->op;
    Chan& ch = *target->ch;
    Value cur = ch.pv->current();
    Value field = cur ? cur.field(op.array_path) : Value();
    if (!field)
        return reply_error(0x0E, m.ioid, m.subcmd, "PV has no value");
    const SharedArray arr = field.array();
    const TypeCode ec = arr.element_code() == TypeCode::Null ? type_code::element_of(field.code())
                                                             : arr.element_code();

    if (m.subcmd & wire::subcmd::get) {
        if (m.stride == 0)
            return reply_error(0x0E, m.ioid, m.subcmd, "stride must be at least 1");
        auto r = response<wire::ArrayResponse>(m.ioid, m.subcmd);
        r.data = Value(op.type);
        with_elements(ec, [&](auto tag) {
            using T = decltype(tag);
            const auto all = elements<T>(arr);
            std::vector<T> out;
            const std::size_t end =
                m.count ? std::min(all.size(), m.offset + m.count * m.stride) : all.size();
            for (std::size_t i = m.offset; i < end; i += m.stride)
                out.push_back(all[i]);
            r.data.set_array(SharedArray::from(std::move(out), ec));
        });
        send(std::move(r));
        if (m.destroys())
            destroy_op(m.ioid);
        return;
    }
    if (m.subcmd & wire::subcmd::process && !(m.subcmd & wire::subcmd::get_put)) { // get-length
        auto r = response<wire::ArrayResponse>(m.ioid, m.subcmd);
        r.length = arr.size();
        send(std::move(r));
        if (m.destroys())
            destroy_op(m.ioid);
        return;
    }
    // put or set-length: build the new array and write it through the PV
    SharedArray next;
    std::string err;
    with_elements(ec, [&](auto tag) {
        using T = decltype(tag);
        auto all = elements<T>(arr);
        if (m.subcmd & wire::subcmd::get_put) {
            all.resize(m.length);
        } else {
            if (!m.data) {
                err = "no array given";
                return;
            }
            if (m.stride == 0) {
                err = "stride must be at least 1";
                return;
            }
            SharedArray in;
            if (!detail_convert(m.data.array(), ec, in, err))
                return;
            const auto src = elements<T>(in);
            if (!src.empty()) {
                const std::size_t need = m.offset + (src.size() - 1) * m.stride + 1;
                if (need > all.size())
                    all.resize(need);
                for (std::size_t i = 0; i < src.size(); ++i)
                    all[m.offset + i * m.stride] = src[i];
            }
        }
        next = SharedArray::from(std::move(all), ec);
    });
    if (!err.empty())
        return reply_error(0x0E, m.ioid, m.subcmd, err);
    Value delta(cur.type_ptr());
    try {
        delta.field(op.array_path).set_array(std::move(next));
    } catch (const std::exception& e) {
        return reply_error(0x0E, m.ioid, m.subcmd, e.what());
    }
    const auto ioid = m.ioid;
    const auto subcmd = m.subcmd;
    ch.pv->put(std::move(delta), peer_,
               exec_done(op, subcmd, [ioid, subcmd](ChannelEngine& self, Op&, Status st) {
                   self.send(response<wire::ArrayResponse>(ioid, subcmd, std::move(st)));
               }));
}

void ChannelEngine::process(const wire::ProcessRequest& m) {
    if (init_requested(0x10, m))
        return;
    auto target = exec_target(0x10, m);
    if (!target)
        return;
    Op& op = *target->op;
    Chan& ch = *target->ch;
    const auto ioid = m.ioid;
    const auto subcmd = m.subcmd;
    ch.pv->process(peer_,
                   exec_done(op, subcmd, [ioid, subcmd](ChannelEngine& self, Op&, Status st) {
                       self.send(response<wire::ProcessResponse>(ioid, subcmd, std::move(st)));
                   }));
}

void ChannelEngine::rpc(const wire::RpcRequest& m) {
    if (init_requested(0x14, m))
        return;
    auto target = exec_target(0x14, m);
    if (!target)
        return;
    Op& op = *target->op;
    Chan& ch = *target->ch;
    const auto ioid = m.ioid;
    const auto subcmd = m.subcmd;
    ch.pv->rpc(
        m.argument, peer_,
        exec_done(op, subcmd, [ioid, subcmd](ChannelEngine& self, Op&, Status st, Value result) {
            auto r = response<wire::RpcResponse>(ioid, subcmd, std::move(st));
            r.result = std::move(result);
            self.send(std::move(r));
        }));
}

void ChannelEngine::destroy_op(std::uint32_t ioid) {
    auto it = ops_.find(ioid);
    if (it == ops_.end())
        return; // no reply either way (PVXS)
    auto ch = channels_.find(it->second->sid);
    if (ch != channels_.end())
        ch->second.ops.erase(ioid);
    ops_.erase(it);
}

void ChannelEngine::cancel_op(std::uint32_t ioid) {
    auto it = ops_.find(ioid);
    if (it == ops_.end())
        return;
    // the running execution's reply is dropped; the operation is idle again (as PVXS)
    ++it->second->generation;
    it->second->busy = false;
}

} // namespace pvwire::server::detail
