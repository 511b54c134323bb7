#include "channel_core.hpp"

#include "../protocol/message_codec.hpp"

#include <pvwire/data/type_code.hpp>
#include <pvwire/log.hpp>
#include <pvwire/net/send_batch.hpp>
#include <pvwire/protocol/pv_request.hpp>
#include <pvwire/store/store.hpp>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <utility>

namespace pvwire::server::detail {

namespace asio = net::asio;
using wire::Status;

struct ChannelCore::Op {
    OpKind kind = OpKind::get;
    std::uint32_t sid = 0, ioid = 0;
    TypePtr type;                 // data type: GET/PUT/MONITOR/PUT_GET put side/ARRAY field
    BitSet mask;                  // fields sent: GET, MONITOR, PUT_GET get side
    BitSet put_mask;              // PUT_GET put side
    std::string array_path;       // ARRAY: the array field within the PV value
    bool busy = false;            // one execution at a time
    std::uint64_t generation = 0; // bumped by cancel: stale completions are dropped
    // MONITOR
    bool running = false, pipeline = false, primed = false;
    bool held = false;            // in held_, waiting for the connection's backlog to shrink
    std::size_t last_bytes = 0;   // size of the last update sent
    std::uint32_t window = 0, queue_size = 4;
    std::deque<Update> queue;
    std::shared_ptr<void> subscription;
    std::shared_ptr<Slot> slot;   // where the subscription's listener leaves updates
    PVHandler::Feeder feeder;     // demand-driven PVs: fills `queue` when it has room
};

namespace {

// Appends an update to a bounded queue; when full, it is squashed into the newest entry: the
// newest value always arrives, and fields that changed more than once are reported as overrun.
// Returns whether it squashed.
template <class Queue> bool enqueue(Queue& q, std::size_t limit, ChannelCore::Update u) {
    if (q.size() < limit) {
        q.push_back(std::move(u));
        return false;
    }
    ChannelCore::Update& last = q.back();
    BitSet twice = last.changed;
    twice &= u.changed;
    last.overrun |= twice;
    last.overrun |= u.overrun;
    last.changed |= u.changed;
    last.value = std::move(u.value);
    last.share = std::move(u.share);
    return true;
}

// A put whose changed BitSet names a field the put type does not have was built for another
// type: refused (the decoder skips such bits, so the rest would otherwise be written).
std::optional<std::string> bit_outside(const BitSet& changed, const TypeDesc& type) {
    const std::size_t count = type.offset_count();
    const std::size_t b = changed.next(count);
    if (b == BitSet::npos) return std::nullopt;
    return "changed BitSet names field " + std::to_string(b) + ", the put structure has " + std::to_string(count);
}

// Why a channel to `name` is refused when the pattern list does not serve it.
std::string unlisted(std::string_view name, const AsgAssignment& listed) {
    if (listed.line > 0)
        return fmt::format("PV \"{}\" is not served: line {} of the pattern list denies it", name, listed.line);
    return fmt::format("PV \"{}\" is not served: no ALLOW line of the pattern list matches it", name);
}

// The access an operation of `kind` needs when it is initialised: reads show the value at
// once; writes and calls are checked when they run (as in EPICS, a client without write
// access still connects and may read).
std::optional<Operation> needed_at_init(OpKind kind) {
    switch (kind) {
    case OpKind::get:
    case OpKind::monitor:
    case OpKind::array: return Operation::read;
    default: return std::nullopt;
    }
}

log::Logger& access_log() {
    static log::Logger l("pvwire.server.access");
    return l;
}

// The array field an ARRAY request works on: the one `field(...)` names, else "value".
std::string array_field_path(const Value& pv_request) {
    std::string path = "value";
    if (!pv_request) return path;
    auto f = pv_request.field("field");
    if (!f || f.code() != TypeCode::Struct || f.member_count() == 0) return path;
    path.clear();
    Value node = f;
    while (node.code() == TypeCode::Struct && node.member_count() > 0) {
        if (!path.empty()) path += '.';
        path += std::string(node.member_name(0));
        node = node.member(0);
    }
    return path;
}

// The encodings of the change whose listeners this thread is calling (store::detail::
// ChangeScope): the first subscriber makes them, the others of the same change share them.
// Null when the caller is not a store marking its changes: the value is then encoded per
// subscriber (a value changed in place between two calls is never sent stale).
std::shared_ptr<protocol::detail::SharedEncoding> share_of_this_change() {
    thread_local std::uint64_t change = 0;
    thread_local std::weak_ptr<protocol::detail::SharedEncoding> last;  // the queued updates own it
    const std::uint64_t now = store::detail::change_in_progress();
    if (now == 0) return nullptr;
    if (now == change)
        if (auto share = last.lock()) return share;
    auto share = std::make_shared<protocol::detail::SharedEncoding>();
    change = now;
    last = share;
    return share;
}

}  // namespace

// Updates arrive from the PVs' threads into the connection's inbox: each subscription has a
// bounded slot there (squashing like its queue), and the connection's strand is woken once for
// all the slots filled since it last drained, not once per update or per subscription. A PV
// posting faster than the connection can serve thus never piles up handlers (or memory).
struct ChannelCore::Slot {
    std::uint32_t ioid = 0;
    std::size_t limit = 4;
    std::vector<Update> items;  // guarded by the inbox's mutex; capacity kept between drains
    std::size_t squashed = 0;   // since the last drain (counted on the strand then)
    bool listed = false;        // in the inbox's ready list
};

struct ChannelCore::Inbox {
    std::mutex mu;
    std::vector<std::shared_ptr<Slot>> ready;  // slots with items, each once
    bool woken = false;                        // a drain is posted and has not started
    std::weak_ptr<ChannelCore> core;
    // the strand, never blocking: a post from a thread already on it (a put's handler posting
    // to the same PV) is queued, not run inside the call that made it
    net::asio::any_io_executor wake;

    void add(const std::shared_ptr<Slot>& slot, const Value& update) {
        bool wake_now = false;
        {
            std::lock_guard lock(mu);
            if (enqueue(slot->items, slot->limit, Update{update, update.marks(), {}, share_of_this_change()}))
                ++slot->squashed;
            if (!slot->listed) {
                slot->listed = true;
                ready.push_back(slot);
            }
            wake_now = !woken;
            woken = true;
        }
        if (wake_now)
            wake.execute([weak = core] {
                if (auto self = weak.lock())
                    if (!self->closed_) self->drain_inbox();
            });
    }
};

void LimitHits::hit(std::string_view what) {
    const auto n = count_.fetch_add(1, std::memory_order_relaxed) + 1;
    const std::int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    std::int64_t last = last_logged_ns_.load(std::memory_order_relaxed);
    constexpr std::int64_t every = std::chrono::nanoseconds(std::chrono::seconds(10)).count();
    if ((last != 0 && now - last < every) ||
        !last_logged_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed))
        return;
    log::server().warn("limit reached: {} ({} times so far)", what, n);
}

ChannelCore::~ChannelCore() = default;

ChannelCore::ChannelCore(asio::any_io_executor executor, Peer peer, Open open, CoreEvents& events,
                         EngineLimits limits, std::shared_ptr<ConnectionCounters> counters)
    : ex_(std::move(executor)), counters_owner_(std::move(counters)), counters_(*counters_owner_),
      peer_(std::move(peer)), open_(std::move(open)), events_(events), limits_(limits),
      inbox_(std::make_shared<Inbox>()) {
    inbox_->wake = asio::require(ex_, asio::execution::blocking.never);
}

void ChannelCore::count_open() noexcept {
    ConnectionCounters::set(counters_.channels, channels_.size());
    ConnectionCounters::set(counters_.operations_open, ops_.size());
}

template <class F> auto ChannelCore::on_strand(F f) {
    return [weak = weak_from_this(), ex = ex_, f = std::move(f)](auto&&... args) mutable {
        asio::post(ex, [weak, f, tup = std::make_tuple(std::decay_t<decltype(args)>(std::forward<decltype(args)>(args))...)]() mutable {
            if (auto self = weak.lock())
                if (!self->closed_) std::apply([&](auto&&... a) { f(*self, std::move(a)...); }, std::move(tup));
        });
    };
}

template <class Done> auto ChannelCore::exec_done(Op& op, Done done) {
    op.busy = true;
    return on_strand([ioid = op.ioid, gen = op.generation, done = std::move(done)](ChannelCore& self,
                                                                                    auto... args) mutable {
        Op* current = self.find_op(ioid);
        if (!current) return;
        current->busy = false;
        if (current->generation != gen) return;  // cancelled
        done(std::move(args)...);
    });
}

ChannelCore::Op* ChannelCore::find_op(std::uint32_t ioid) {
    auto it = ops_.find(ioid);
    return it == ops_.end() ? nullptr : it->second.get();
}

ChannelCore::Chan* ChannelCore::channel_of(const Op& op) {
    auto it = channels_.find(op.sid);
    return it == channels_.end() ? nullptr : &it->second;
}

// ---- channels ------------------------------------------------------------------------------

ChannelCore::Opened ChannelCore::create_channel(std::string_view name, std::uint32_t cid) {
    if (name.empty() || name.size() > 500) return {Status::error("invalid channel name")};
    if (channels_.size() >= limits_.max_channels) {
        std::string what = "too many channels on this connection (limit " + std::to_string(limits_.max_channels) + ")";
        limits_.hits->channels.hit(what);
        return {Status::error(std::move(what))};
    }
    const auto rules = limits_.access ? limits_.access->get() : nullptr;
    std::optional<AsgAssignment> listed;
    if (rules) {
        listed = rules->asg_for(name);
        if (!listed->allowed) {
            ConnectionCounters::add(counters_.access_denied);
            return {Status::error(unlisted(name, *listed))};
        }
    }
    auto pv = open_(name, peer_);
    if (!pv) return {Status::fatal("Refused to create Channel")};  // what PVXS says
    while (channels_.count(next_sid_) || next_sid_ == 0xFFFFFFFF) ++next_sid_;
    const auto sid = next_sid_++;
    Chan& ch = channels_[sid] = Chan{sid, cid, std::string(name), std::move(pv), {}, {}};
    if (rules) ch.access = decide(*rules, *listed, *ch.pv);
    count_open();
    return {Status::ok(), sid};
}

std::optional<std::uint32_t> ChannelCore::destroy_channel(std::uint32_t sid) {
    auto it = channels_.find(sid);
    if (it == channels_.end()) return std::nullopt;
    for (auto ioid : it->second.ops) ops_.erase(ioid);
    const auto cid = it->second.cid;
    channels_.erase(it);
    count_open();
    return cid;
}

bool ChannelCore::channel_writable(std::uint32_t sid) const {
    auto it = channels_.find(sid);
    if (it == channels_.end() || !it->second.pv) return false;
    const auto& access = it->second.access;
    return (!access || access->allows(Operation::write)) && it->second.pv->writable(peer_);
}

AccessDecision ChannelCore::decide(const AccessRules& rules, const AsgAssignment& listed, const PVHandler& pv) const {
    const auto own = pv.access_group();  // a PV file's "asg"/"asl" before the pattern list's
    const AsgAssignment& group = own ? *own : listed;
    return rules.check(group.asg, group.asl, peer_.identity);
}

std::string ChannelCore::denial(const Chan& ch, Operation what) {
    if (!ch.access || ch.access->allows(what)) return {};
    ConnectionCounters::add(counters_.access_denied);
    return ch.access->denial(what);
}

void ChannelCore::trap_write(const Chan& ch, std::string_view what) const {
    if (ch.access && ch.access->trap_write)
        access_log().info("{} {} by {} (TRAPWRITE in ASG({}))", what, ch.name, ch.access->client, ch.access->asg);
}

void ChannelCore::recheck_access() {
    if (closed_) return;
    const auto rules = limits_.access ? limits_.access->get() : nullptr;
    for (auto it = channels_.begin(); it != channels_.end();) {
        Chan& ch = it->second;
        if (!rules) {
            ch.access.reset();
            ++it;
            continue;
        }
        const AsgAssignment listed = rules->asg_for(ch.name);
        if (!listed.allowed) {  // no longer served: the client searches again, and finds nothing
            for (auto ioid : ch.ops) ops_.erase(ioid);
            events_.channel_closed(ch.sid, ch.cid);
            it = channels_.erase(it);
            continue;
        }
        ch.access = decide(*rules, listed, *ch.pv);
        if (!ch.access->allows(Operation::read)) end_monitors(ch);
        ++it;
    }
    count_open();
}

void ChannelCore::end_monitors(Chan& ch) {
    const std::string why = ch.access->denial(Operation::read);
    for (auto it = ch.ops.begin(); it != ch.ops.end();) {
        auto op = ops_.find(*it);
        if (op == ops_.end() || op->second->kind != OpKind::monitor) {
            ++it;
            continue;
        }
        const std::uint32_t ioid = *it;
        ops_.erase(op);  // drops the subscription
        it = ch.ops.erase(it);
        ConnectionCounters::add(counters_.access_denied);
        events_.op_message(ioid, 2, why);
        events_.monitor_finished(ioid, why);
    }
}

std::pair<Status, TypePtr> ChannelCore::field_type(std::uint32_t sid, std::string_view sub_field) {
    auto it = channels_.find(sid);
    if (it == channels_.end()) return {Status::error("bad channel id"), nullptr};
    if (auto no = denial(it->second, Operation::read); !no.empty()) return {Status::error(std::move(no)), nullptr};
    TypePtr t = it->second.pv->type();
    if (!t) return {Status::error("PV has no type yet"), nullptr};
    if (sub_field.empty()) return {Status::ok(), t};
    Value probe(t);
    Value f = probe.field(std::string(sub_field));
    if (!f) return {Status::error("no field '" + std::string(sub_field) + "'"), nullptr};
    return {Status::ok(), f.type_ptr()};
}

void ChannelCore::close() {
    closed_ = true;
    ops_.clear();  // drops monitor subscriptions
    channels_.clear();
    count_open();
}

void ChannelCore::close_channels(std::string_view name) {
    for (auto it = channels_.begin(); it != channels_.end();) {
        if (it->second.name != name) {
            ++it;
            continue;
        }
        for (auto ioid : it->second.ops) ops_.erase(ioid);
        events_.channel_closed(it->second.sid, it->second.cid);
        it = channels_.erase(it);
    }
    count_open();
}

// ---- INIT ------------------------------------------------------------------------------------

ChannelCore::Initialized ChannelCore::init(std::uint32_t sid, std::uint32_t ioid, OpKind kind,
                                           const Value& pv_request, MonitorStart monitor) {
    auto chan = channels_.find(sid);
    if (chan == channels_.end()) return {Status::error("bad channel id")};
    Chan& ch = chan->second;
    if (ops_.count(ioid)) return {Status::error("request id already in use")};
    if (const auto needed = needed_at_init(kind))
        if (auto no = denial(ch, *needed); !no.empty()) return {Status::error(std::move(no))};
    if (ch.ops.size() >= limits_.max_operations_per_channel) {
        std::string what =
            "too many operations on this channel (limit " + std::to_string(limits_.max_operations_per_channel) + ")";
        limits_.hits->operations.hit(what);
        return {Status::error(std::move(what))};
    }
    auto op = std::make_unique<Op>();
    op->kind = kind;
    op->sid = sid;
    op->ioid = ioid;
    const TypePtr t = ch.pv->type();
    const bool needs_type = kind != OpKind::rpc && kind != OpKind::process;
    if (needs_type && !t) return {Status::error("PV has no type yet")};
    if (needs_type) {
        std::string err;
        auto mask = protocol::request_mask(*t, pv_request, &err, kind == OpKind::put_get ? "getField" : "field");
        if (!mask) return {Status::error(err)};
        op->mask = *mask;
        op->type = t;
        if (kind == OpKind::put_get) {
            auto pm = protocol::request_mask(*t, pv_request, &err, "putField");
            if (!pm) return {Status::error(err)};
            op->put_mask = *pm;
        }
    }
    std::vector<std::string> warnings;
    const auto options = protocol::request_options(pv_request, &warnings);
    for (auto& w : warnings) events_.op_message(ioid, 1, std::move(w));
    if (kind == OpKind::monitor) {
        init_monitor(*op, options, monitor);
    } else if (kind == OpKind::array) {
        if (auto st = init_array(*op, pv_request, t); !st.success()) return {st};
    }
    Initialized done{Status::ok(), op->type};
    ch.ops.insert(ioid);
    ops_[ioid] = std::move(op);
    count_open();
    return done;
}

void ChannelCore::init_monitor(Op& op, const protocol::RequestOptions& opts, MonitorStart monitor) {
    op.queue_size = std::clamp<std::uint32_t>(opts.queue_size.value_or(4), 2, limits_.max_queue_size);
    if (opts.queue_size && *opts.queue_size > limits_.max_queue_size)
        events_.op_message(op.ioid, 1, "queueSize limited to " + std::to_string(limits_.max_queue_size));
    op.pipeline = opts.pipeline && monitor.flow_control;
    op.window = monitor.flow_control ? monitor.window : 0;
}

Status ChannelCore::init_array(Op& op, const Value& pv_request, const TypePtr& pv_type) {
    const std::string path = array_field_path(pv_request);
    Value probe(pv_type);
    Value af = probe.field(path);
    if (!af || !type_code::is_array(af.code())) return Status::error("no array field '" + path + "'");
    if (type_code::array_kind(type_code::raw(af.code())) == ArrayKind::Fixed)
        return Status::error("fixed-size arrays cannot be changed");
    op.array_path = path;
    op.type = af.type_ptr();
    return Status::ok();
}

// ---- executions --------------------------------------------------------------------------------

std::string ChannelCore::exec_problem(std::uint32_t ioid, OpKind kind) const {
    auto it = ops_.find(ioid);
    if (it == ops_.end() || it->second->kind != kind) return "bad request id";
    if (it->second->busy) return "other request pending";
    if (!channels_.count(it->second->sid)) return "bad channel id";
    return {};
}

std::optional<OpKind> ChannelCore::kind_of(std::uint32_t ioid) const {
    auto it = ops_.find(ioid);
    if (it == ops_.end()) return std::nullopt;
    return it->second->kind;
}

ChannelCore::Snapshot ChannelCore::current(std::uint32_t ioid, bool put_side) {
    Op* op = find_op(ioid);
    Chan* ch = op ? channel_of(*op) : nullptr;
    if (!ch) return {Status::error("bad request id")};
    if (auto no = denial(*ch, Operation::read); !no.empty()) return {Status::error(std::move(no))};
    Value cur = ch->pv->current();
    if (!cur) return {Status::error("PV has no value")};
    BitSet changed = protocol::apply_mask(BitSet{0}, put_side ? op->put_mask : op->mask, cur.type());
    return {Status::ok(), std::move(cur), std::move(changed)};
}

void ChannelCore::put(std::uint32_t ioid, const Value& data, const BitSet& changed, StatusDone done) {
    Op* op = find_op(ioid);
    Chan* ch = op ? channel_of(*op) : nullptr;
    if (!ch) return done(Status::error("bad request id"));
    if (!data) return done(Status::error("no value to put"));
    if (auto no = denial(*ch, Operation::write); !no.empty()) return done(Status::error(std::move(no)));
    if (auto bad = bit_outside(changed, *op->type)) return done(Status::error(*bad));
    trap_write(*ch, "put to");
    ch->pv->put(data, peer_, exec_done(*op, std::move(done)));
}

void ChannelCore::put_get(std::uint32_t ioid, const Value& data, const BitSet& changed,
                          std::function<void(Status, Snapshot)> done) {
    // the completion runs on the strand while this core lives (exec_done)
    put(ioid, data, changed, [this, ioid, done = std::move(done)](Status st) {
        if (!st.success()) return done(std::move(st), Snapshot{});
        done(st, current(ioid));
    });
}

void ChannelCore::process(std::uint32_t ioid, StatusDone done) {
    Op* op = find_op(ioid);
    Chan* ch = op ? channel_of(*op) : nullptr;
    if (!ch) return done(Status::error("bad request id"));
    if (auto no = denial(*ch, Operation::write); !no.empty()) return done(Status::error(std::move(no)));
    trap_write(*ch, "process of");
    ch->pv->process(peer_, exec_done(*op, std::move(done)));
}

void ChannelCore::rpc(std::uint32_t ioid, const Value& argument, ValueDone done) {
    Op* op = find_op(ioid);
    Chan* ch = op ? channel_of(*op) : nullptr;
    if (!ch) return done(Status::error("bad request id"), Value());
    if (auto no = denial(*ch, Operation::rpc); !no.empty()) return done(Status::error(std::move(no)), Value());
    ch->pv->rpc(argument, peer_, exec_done(*op, std::move(done)));
}

void ChannelCore::destroy_op(std::uint32_t ioid) {
    auto it = ops_.find(ioid);
    if (it == ops_.end()) return;
    if (Chan* ch = channel_of(*it->second)) ch->ops.erase(ioid);
    ops_.erase(it);
    count_open();
}

void ChannelCore::cancel_op(std::uint32_t ioid) {
    Op* op = find_op(ioid);
    if (!op) return;
    ++op->generation;
    op->busy = false;
}

// ---- monitors ------------------------------------------------------------------------------------

void ChannelCore::monitor_start(std::uint32_t ioid) {
    Op* op = find_op(ioid);
    if (!op || op->kind != OpKind::monitor) return;
    Chan* ch = channel_of(*op);
    if (!ch) return;
    if (ch->access && !ch->access->allows(Operation::read)) return end_monitors(*ch);
    op->running = true;
    if (!op->subscription && !op->feeder) subscribe(*op, *ch);
    pump(*op);
}

// The first update carries the whole value; then a feeder (demand-driven PVs) or the PV's
// listener fills the queue.
void ChannelCore::subscribe(Op& op, Chan& ch) {
    Value cur = ch.pv->current();
    if (cur) {
        cur.unmark();
        cur.mark();
        op.queue.push_back(Update{std::move(cur), BitSet{0}, {}, nullptr});
    }
    op.feeder = ch.pv->feeder(peer_);
    if (op.feeder) return;
    if (inbox_->core.expired()) inbox_->core = weak_from_this();
    auto slot = std::make_shared<Slot>();
    slot->ioid = op.ioid;
    slot->limit = op.queue_size;
    op.slot = slot;
    op.subscription = ch.pv->subscribe([inbox = inbox_, slot](const Value& update) { inbox->add(slot, update); });
}

void ChannelCore::monitor_stop(std::uint32_t ioid) {
    if (Op* op = find_op(ioid); op && op->kind == OpKind::monitor) op->running = false;
}

void ChannelCore::monitor_ack(std::uint32_t ioid, std::uint32_t n) {
    Op* op = find_op(ioid);
    if (!op || op->kind != OpKind::monitor) return;
    op->window += n;
    pump(*op);
}

// Moves what the PVs posted into the monitors' queues (under the inbox's lock: a few moves),
// then sends.
void ChannelCore::drain_inbox() {
    net::SendBatch batch;  // all the updates of this drain leave in one write, written at its end
    {
        std::lock_guard lock(inbox_->mu);
        inbox_->woken = false;
        draining_.swap(inbox_->ready);
        for (auto& slot : draining_) {
            slot->listed = false;
            Op* op = find_op(slot->ioid);
            std::size_t squashed = std::exchange(slot->squashed, 0);
            if (op && op->slot == slot)
                for (auto& u : slot->items) squashed += enqueue(op->queue, op->queue_size, std::move(u));
            slot->items.clear();
            if (squashed) ConnectionCounters::add(counters_.updates_squashed, squashed);
        }
    }
    for (auto& slot : draining_) {
        Op* op = find_op(slot->ioid);
        if (!op || op->slot != slot) continue;
        counters_.queue_fill(op->queue.size(), op->queue_size);
        pump(*op);
    }
    draining_.clear();
}

// What a Feeder posts into: the queue of one monitor, bounded by its queueSize.
class ChannelCore::Feed : public MonitorFeed {
public:
    explicit Feed(Op& op) : op_(op) {}
    bool try_post(const Value& update) override {
        if (op_.queue.size() >= op_.queue_size) return false;
        op_.queue.push_back(Update{update, update.marks(), {}, nullptr});
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
bool ChannelCore::tx_full(const Op& op) const {
    return events_.backlog() >= std::max(limits_.tx_high_water, 2 * op.last_bytes);
}

void ChannelCore::writable() {
    if (held_.empty()) return;
    std::vector<std::uint32_t> held;
    held.swap(held_);
    for (auto ioid : held) {
        Op* op = find_op(ioid);
        if (!op) continue;
        op->held = false;
        pump(*op);
    }
}

void ChannelCore::pump(Op& op) {
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
            if (bits.empty() && op.primed) continue;  // nothing selected changed
            op.primed = true;
            const BitSet overrun = protocol::apply_mask(u.overrun, op.mask, *op.type);
            op.last_bytes = events_.monitor_update(op.ioid, u.value, bits, overrun, u.share.get());
            ConnectionCounters::add(counters_.updates_sent);
            if (op.pipeline) --op.window;
        }
        // a demand-driven PV refills the queue while it has room
        if (!op.feeder || !op.running || op.queue.size() >= op.queue_size) return;
        const auto before = op.queue.size();
        Feed feed(op);
        op.feeder(feed);
        if (op.queue.size() == before) return;
    }
}

// ---- arrays ------------------------------------------------------------------------------------

namespace {

// Array element operations over any element type (Value for compound elements).
template <class F> void with_elements(TypeCode c, F&& f) {
    type_code::visit_scalar_type(c, [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_void_v<T>)
            f(Value{});
        else
            f(T{});
    });
}

template <class T> std::vector<T> elements(const SharedArray& a) {
    if (a.empty()) return {};
    auto s = a.span<T>();
    return std::vector<T>(s.begin(), s.end());
}

// The array field of the PV value and its element code.
struct ArrayField {
    Value value;  // the PV's current value
    SharedArray array;
    TypeCode element = TypeCode::Null;
};

std::optional<ArrayField> array_field(const PVHandler& pv, const std::string& path) {
    Value cur = pv.current();
    Value field = cur ? cur.field(path) : Value();
    if (!field) return std::nullopt;
    ArrayField af{cur, field.array(), TypeCode::Null};
    af.element = af.array.element_code() == TypeCode::Null ? type_code::element_of(field.code())
                                                           : af.array.element_code();
    return af;
}
}  // namespace

ChannelCore::Snapshot ChannelCore::array_get(std::uint32_t ioid, ArraySlice slice) {
    Op* op = find_op(ioid);
    Chan* ch = op ? channel_of(*op) : nullptr;
    if (!ch) return {Status::error("bad request id")};
    if (auto no = denial(*ch, Operation::read); !no.empty()) return {Status::error(std::move(no))};
    auto af = array_field(*ch->pv, op->array_path);
    if (!af) return {Status::error("PV has no value")};
    if (slice.stride == 0) return {Status::error("stride must be at least 1")};
    Snapshot out{Status::ok(), Value(op->type), {}};
    with_elements(af->element, [&](auto tag) {
        using T = decltype(tag);
        const auto all = elements<T>(af->array);
        std::vector<T> picked;
        const std::size_t end =
            slice.count ? std::min(all.size(), slice.offset + slice.count * slice.stride) : all.size();
        for (std::size_t i = slice.offset; i < end; i += slice.stride) picked.push_back(all[i]);
        out.value.set_array(SharedArray::from(std::move(picked), af->element));
    });
    return out;
}

std::pair<Status, std::size_t> ChannelCore::array_length(std::uint32_t ioid) {
    Op* op = find_op(ioid);
    Chan* ch = op ? channel_of(*op) : nullptr;
    if (!ch) return {Status::error("bad request id"), 0};
    if (auto no = denial(*ch, Operation::read); !no.empty()) return {Status::error(std::move(no)), 0};
    auto af = array_field(*ch->pv, op->array_path);
    if (!af) return {Status::error("PV has no value"), 0};
    return {Status::ok(), af->array.size()};
}

void ChannelCore::array_put(std::uint32_t ioid, const Value& data, ArraySlice slice, StatusDone done) {
    Op* op = find_op(ioid);
    Chan* ch = op ? channel_of(*op) : nullptr;
    if (!ch) return done(Status::error("bad request id"));
    if (auto no = denial(*ch, Operation::write); !no.empty()) return done(Status::error(std::move(no)));
    auto af = array_field(*ch->pv, op->array_path);
    if (!af) return done(Status::error("PV has no value"));
    if (!data) return done(Status::error("no array given"));
    if (slice.stride == 0) return done(Status::error("stride must be at least 1"));
    SharedArray in;
    std::string err;
    if (!pvwire::detail::convert_array(data.array(), af->element, in, &err)) return done(Status::error(err));
    SharedArray next;
    with_elements(af->element, [&](auto tag) {
        using T = decltype(tag);
        auto all = elements<T>(af->array);
        const auto src = elements<T>(in);
        if (!src.empty()) {
            const std::size_t need = slice.offset + (src.size() - 1) * slice.stride + 1;
            if (need > all.size()) all.resize(need);
            for (std::size_t i = 0; i < src.size(); ++i) all[slice.offset + i * slice.stride] = src[i];
        }
        next = SharedArray::from(std::move(all), af->element);
    });
    write_array(*op, *ch, af->value, std::move(next), std::move(done));
}

void ChannelCore::array_set_length(std::uint32_t ioid, std::size_t length, StatusDone done) {
    Op* op = find_op(ioid);
    Chan* ch = op ? channel_of(*op) : nullptr;
    if (!ch) return done(Status::error("bad request id"));
    if (auto no = denial(*ch, Operation::write); !no.empty()) return done(Status::error(std::move(no)));
    auto af = array_field(*ch->pv, op->array_path);
    if (!af) return done(Status::error("PV has no value"));
    SharedArray next;
    with_elements(af->element, [&](auto tag) {
        using T = decltype(tag);
        auto all = elements<T>(af->array);
        all.resize(length);
        next = SharedArray::from(std::move(all), af->element);
    });
    write_array(*op, *ch, af->value, std::move(next), std::move(done));
}

// Writes the new array through the PV, as a put of just that field of `cur`'s type.
void ChannelCore::write_array(Op& op, Chan& ch, const Value& cur, SharedArray next, StatusDone done) {
    Value delta(cur.type_ptr());
    try {
        delta.field(op.array_path).set_array(std::move(next));
    } catch (const std::exception& e) {
        return done(Status::error(e.what()));
    }
    trap_write(ch, "array put to");
    ch.pv->put(std::move(delta), peer_, exec_done(op, std::move(done)));
}

}  // namespace pvwire::server::detail
