// ChannelCore: the channels and operations of one client connection, whatever protocol the
// connection speaks. It keeps the channel and operation tables and their limits, opens PVs
// through the sources, applies pvRequest masks and options, runs executions one at a time
// (cancellation drops a late completion), and runs monitors: bounded squashing queues, the
// pipeline window, demand-driven feeders, and holding back while the connection's backlog is
// high. It enforces the access rules: a channel's AccessDecision is made once, when it is
// created (and again when the rules change), and every operation asks it. MessageFrontEnd turns the requests of either protocol (pvAccess, and msgpack through
// its codec) into these calls and the results and events into replies. Nothing here names a
// command byte or encodes a message.
//
// Threading: everything runs on the connection's strand (`executor`); completions that PV
// handlers deliver from other threads are posted there, and never run after close() or after
// the operation was cancelled or destroyed.
#pragma once

#include "connection_counters.hpp"

#include <pvwire/net/asio.hpp>
#include <pvwire/protocol/pv_request.hpp>
#include <pvwire/server/access_rules.hpp>
#include <pvwire/server/source.hpp>
#include <pvwire/wire/basic_types.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace pvwire::protocol::detail {
class SharedEncoding;  // message_codec.hpp: one post's encodings, shared by its subscribers
}

namespace pvwire::server::detail {

// A limit being hit: counted, and logged (pvwire.server, WARN) at most once per 10 s with the
// count so far, so that a flood of refusals never becomes a flood of log lines.
class LimitHits {
public:
    void hit(std::string_view what);
    std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::int64_t> last_logged_ns_{0};
};

// Shared by every connection of a server.
struct LimitCounters {
    LimitHits connections, channels, operations;
    LimitHits searches;      // UDP searches over a rate (SearchRateLimiter)
    LimitHits slow_peers;    // connections closed with more than max_pending_output queued
    LimitHits accepts;       // accept() back-offs (EMFILE, ENFILE, ENOBUFS, ENOMEM)
};

// The access rules every connection of a server checks (Server::set_access_rules()), replaced
// whole at run time from any thread; a connection reads them when it creates a channel and when
// it is told they changed (ChannelCore::recheck_access()).
class AccessRulesSlot {
public:
    std::shared_ptr<const AccessRules> get() const { return rules_.load(std::memory_order_acquire); }
    void set(std::shared_ptr<const AccessRules> rules) { rules_.store(std::move(rules), std::memory_order_release); }

private:
    std::atomic<std::shared_ptr<const AccessRules>> rules_;
};

struct EngineLimits {
    std::size_t max_channels = 65536;           // per connection
    std::size_t max_operations_per_channel = 1024;
    std::uint32_t max_queue_size = 1000;         // monitor queueSize cap (memory bound)
    // Monitor updates wait in their (squashing) queues while this many bytes are already
    // queued on the connection: a slow reader gets the newest values, not an ever longer
    // backlog of old ones.
    std::size_t tx_high_water = 256 * 1024;
    std::shared_ptr<LimitCounters> hits = std::make_shared<LimitCounters>();
    // The server's access rules; null or empty: every client may do everything.
    std::shared_ptr<const AccessRulesSlot> access;
};

// The operations a channel offers: server::OpKind (metrics.hpp, where the metrics name them).

// What the core tells its front-end without being asked. Called on the strand.
class CoreEvents {
public:
    // One monitor update to send: the fields `changed` of `value` (already masked by the
    // operation's pvRequest), `overrun` those squashed since the last one. `share`: the value
    // is a post every subscriber of the PV gets, and these are its encodings, shared by them
    // (null: the value is this subscriber's alone). Returns the bytes queued for it (for flow
    // control).
    virtual std::size_t monitor_update(std::uint32_t ioid, const Value& value, const BitSet& changed,
                                       const BitSet& overrun, protocol::detail::SharedEncoding* share) = 0;
    // The server closed this channel (its PV was removed).
    virtual void channel_closed(std::uint32_t sid, std::uint32_t cid) = 0;
    // A note for the client about an operation (1 = warning, 2 = error).
    virtual void op_message(std::uint32_t ioid, std::uint8_t severity, std::string text) = 0;
    // Bytes queued on the connection and not yet written.
    virtual std::size_t backlog() const = 0;
    // The core ended monitor `ioid` (its client lost read access, `why`): tell the client, whose
    // operation is gone. An op_message with the reason precedes it.
    virtual void monitor_finished(std::uint32_t ioid, const std::string& why) = 0;

protected:
    ~CoreEvents() = default;
};

class ChannelCore : public std::enable_shared_from_this<ChannelCore> {
public:
    using Open = std::function<std::shared_ptr<PVHandler>(std::string_view name, const Peer& peer)>;
    using StatusDone = std::function<void(wire::Status)>;
    using ValueDone = std::function<void(wire::Status, Value)>;

    // `events` must outlive the core (the front-end owns both). The core counts its channels,
    // operations, monitor updates and squashes into `counters`.
    ChannelCore(net::asio::any_io_executor executor, Peer peer, Open open, CoreEvents& events,
                EngineLimits limits = {},
                std::shared_ptr<ConnectionCounters> counters = std::make_shared<ConnectionCounters>());
    ~ChannelCore();

    // ---- channels ----
    struct Opened {
        Opened(wire::Status s, std::uint32_t id = 0) : status(std::move(s)), sid(id) {}
        wire::Status status;
        std::uint32_t sid = 0;
    };
    Opened create_channel(std::string_view name, std::uint32_t cid);
    // The client's id of channel `sid`, which is gone now; nullopt if there was none.
    std::optional<std::uint32_t> destroy_channel(std::uint32_t sid);
    // Whether this connection's peer may write the PV of channel `sid` (PVHandler::writable).
    bool channel_writable(std::uint32_t sid) const;
    // The type of the PV of channel `sid`, or of its field `sub_field`.
    std::pair<wire::Status, TypePtr> field_type(std::uint32_t sid, std::string_view sub_field);

    // ---- operations ----
    struct MonitorStart {
        bool flow_control = false;  // the client sends acknowledgements (pvAccess: nfree given)
        std::uint32_t window = 0;   // updates it accepts before the first acknowledgement
    };
    struct Initialized {
        Initialized(wire::Status s, TypePtr t = {}) : status(std::move(s)), type(std::move(t)) {}
        wire::Status status;
        TypePtr type;  // the data type (ARRAY: the array field's)
    };
    // INIT: checks, pvRequest mask and options. Warnings go to CoreEvents::op_message.
    Initialized init(std::uint32_t sid, std::uint32_t ioid, OpKind kind, const Value& pv_request,
                     MonitorStart monitor);
    // Whether `ioid` is an idle operation of `kind` on a live channel ("" when it is).
    std::string exec_problem(std::uint32_t ioid, OpKind kind) const;
    std::optional<OpKind> kind_of(std::uint32_t ioid) const;

    // The PV's current value with the fields the operation selects (`put_side`: PUT_GET's
    // put mask). Error status when the PV has no value.
    struct Snapshot {
        Snapshot(wire::Status s = {}, Value v = {}, BitSet c = {})
            : status(std::move(s)), value(std::move(v)), changed(std::move(c)) {}
        wire::Status status;
        Value value;
        BitSet changed;
    };
    Snapshot current(std::uint32_t ioid, bool put_side = false);

    // Executions (exec_problem() checked first). `done` runs later on the strand.
    void put(std::uint32_t ioid, const Value& data, const BitSet& changed, StatusDone done);
    // PUT_GET: the put, then the new value with the operation's get mask.
    void put_get(std::uint32_t ioid, const Value& data, const BitSet& changed,
                 std::function<void(wire::Status, Snapshot)> done);
    void process(std::uint32_t ioid, StatusDone done);
    void rpc(std::uint32_t ioid, const Value& argument, ValueDone done);

    // ARRAY on the operation's array field. Errors come back as a status.
    struct ArraySlice {
        std::size_t offset = 0, count = 0, stride = 1;
    };
    Snapshot array_get(std::uint32_t ioid, ArraySlice slice);
    std::pair<wire::Status, std::size_t> array_length(std::uint32_t ioid);
    // Writes `data` at the slice (growing the array as needed), or sets the length.
    void array_put(std::uint32_t ioid, const Value& data, ArraySlice slice, StatusDone done);
    void array_set_length(std::uint32_t ioid, std::size_t length, StatusDone done);

    // MONITOR: start (the first update carries the whole value), stop (updates keep being
    // squashed into the queue), acknowledge `n` more updates (flow control).
    void monitor_start(std::uint32_t ioid);
    void monitor_stop(std::uint32_t ioid);
    void monitor_ack(std::uint32_t ioid, std::uint32_t n);

    void destroy_op(std::uint32_t ioid);
    // The running execution's completion is dropped; the operation is idle again (as PVXS).
    void cancel_op(std::uint32_t ioid);

    // ---- connection ----
    // Drops every channel and operation (the connection is gone).
    void close();
    // The PV named `name` is no longer served: its channels are destroyed and the front-end
    // told (CoreEvents::channel_closed), so the client searches again.
    void close_channels(std::string_view name);
    // The connection wrote some of its backlog: monitors held back by it send again.
    void writable();
    // The access rules changed (AccessRulesSlot): every channel's decision is made again.
    // Monitors that lost read access end (CoreEvents::monitor_finished); channels whose name
    // the pattern list no longer serves close (CoreEvents::channel_closed); later operations
    // ask the new decisions.
    void recheck_access();

    std::size_t channel_count() const noexcept { return channels_.size(); }
    ConnectionCounters& counters() noexcept { return counters_; }
    std::size_t operation_count() const noexcept { return ops_.size(); }

    struct Update {
        Value value;      // the PV value, shared with every other subscriber: never modified
        BitSet changed;   // fields changed since the previous update
        BitSet overrun;   // fields that changed more than once since then (squashed)
        // the encodings of the post `value` came from, shared by its subscribers (null: a
        // value of this subscriber's alone, or a store that does not mark its changes)
        std::shared_ptr<protocol::detail::SharedEncoding> share;
    };
    struct Op;

private:
    struct Chan {
        std::uint32_t sid = 0, cid = 0;
        std::string name;
        std::shared_ptr<PVHandler> pv;
        std::set<std::uint32_t> ops;
        std::optional<AccessDecision> access;  // none: no access rules, everything allowed
    };
    struct Slot;
    struct Inbox;
    class Feed;

    Op* find_op(std::uint32_t ioid);
    Chan* channel_of(const Op& op);
    void init_monitor(Op& op, const protocol::RequestOptions& options, MonitorStart monitor);
    wire::Status init_array(Op& op, const Value& pv_request, const TypePtr& pv_type);
    // On the strand: what the PVs posted since the last drain, into the monitors' queues.
    void drain_inbox();
    void subscribe(Op& op, Chan& ch);
    void pump(Op& op);
    bool tx_full(const Op& op) const;
    void write_array(Op& op, Chan& ch, const Value& cur, SharedArray next, StatusDone done);
    // Runs `f` on this core's strand later, if the core still lives and is open.
    template <class F> auto on_strand(F f);
    // The completion of an execution: later, on the strand, unless the operation was
    // destroyed or cancelled meanwhile. The operation is busy until then.
    template <class Done> auto exec_done(Op& op, Done done);
    // "" when the channel's client may do `what`; else the denial for its status (counted).
    std::string denial(const Chan& ch, Operation what);
    // The decision for channel `ch` under `rules`, given the pattern list's answer for its name.
    AccessDecision decide(const AccessRules& rules, const AsgAssignment& listed, const PVHandler& pv) const;
    // Ends the monitors of `ch` (it lost read access).
    void end_monitors(Chan& ch);
    // Logs a put marked TRAPWRITE (pvwire.server.access, INFO).
    void trap_write(const Chan& ch, std::string_view what) const;
    // The open channel and operation gauges, after the tables changed.
    void count_open() noexcept;

    net::asio::any_io_executor ex_;
    std::shared_ptr<ConnectionCounters> counters_owner_;
    ConnectionCounters& counters_;
    Peer peer_;
    Open open_;
    CoreEvents& events_;
    std::vector<std::uint32_t> held_;  // monitors waiting for the backlog to shrink
    EngineLimits limits_;
    std::uint32_t next_sid_ = 1;
    std::map<std::uint32_t, Chan> channels_;
    std::map<std::uint32_t, std::unique_ptr<Op>> ops_;
    bool closed_ = false;
    std::shared_ptr<Inbox> inbox_;                 // shared with the PVs' listeners
    std::vector<std::shared_ptr<Slot>> draining_;  // drain_inbox()'s, kept for its capacity
};

}  // namespace pvwire::server::detail
