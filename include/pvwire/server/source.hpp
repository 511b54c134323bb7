/// @file
/// What a Server serves: Sources claim names and open PVs; a PV (PVHandler) answers the
/// operations of every client channel on it.
///
/// Threading: the server calls these from its connection strands, possibly several at once for
/// different clients: implementations must be thread-safe. Completion functions (`done`,
/// listeners) may be called from any thread, at most once for `done`; they never block.
#pragma once

#include <pvwire/data/value.hpp>
#include <pvwire/protocol/server_handshake.hpp>
#include <pvwire/server/access_rules.hpp>
#include <pvwire/wire/basic_types.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvwire::server {

/// Who is asking.
struct Peer {
    std::string address;                  ///< "127.0.0.1:40222"
    protocol::PeerCredentials credentials;  ///< who the client says it is (auth method, user, host)
    /// Who the client is as the server established it (socket address, UNIX peer account, TLS
    /// certificate, web user): what the access rules check (docs/security.md, "Identity").
    ClientIdentity identity;
};

/// One subscriber's update queue, for PVs that make updates on demand (see PVHandler::feeder).
class MonitorFeed {
public:
    virtual ~MonitorFeed() = default;
    /// Queues `update` (its marks say which fields changed) for this subscriber alone. False
    /// when the queue is full: nothing was queued, and the feeder is called again once the
    /// subscriber can take more.
    virtual bool try_post(const Value& update) = 0;
    /// How many more updates try_post() would take now.
    virtual std::size_t room() const = 0;
};

/// One PV as the server sees it: its type and value, puts, subscriptions, RPC and PROCESS.
/// Its member functions are called on the connection's threads and must not block (call the
/// `done` callbacks later if needed).
class PVHandler {
public:
    /// Completes a put or process: call it once with the outcome.
    using Done = std::function<void(wire::Status)>;
    /// Completes an RPC: call it once with the outcome and the result (null for none).
    using ResultDone = std::function<void(wire::Status, Value)>;
    /// Receives the updates of subscribe().
    using Listener = std::function<void(const Value& update)>;

    virtual ~PVHandler() = default;

    /// The PV's current type; null while it has none (operations then fail with an error).
    virtual TypePtr type() const = 0;
    /// A copy of the current value (changing it does not change the PV).
    virtual Value current() const = 0;
    /// Writes the marked fields of `value` (of type()). Calls `done` once.
    virtual void put(Value value, const Peer& peer, Done done) = 0;
    /// Calls `listener` with every later change: a value whose marks say which fields changed.
    /// Updates stop when the returned handle is dropped.
    virtual std::shared_ptr<void> subscribe(Listener listener) = 0;
    /// Demand-driven updates, per subscriber (a generator, a counter, a test pattern: PVXS's
    /// tryPost with watermarks). When this returns a function, the server uses it instead of
    /// subscribe() for this subscriber: it calls it on the connection's strand whenever the
    /// subscriber's queue has room (after the first value, and each time sends make room:
    /// flow-control acknowledgements, a drained socket), and the function fills the queue with
    /// feed.try_post() until that returns false. It must not block. The default: none.
    using Feeder = std::function<void(MonitorFeed& feed)>;
    /// The feeder for `peer`'s subscription, or none for subscribe() (see Feeder).
    virtual Feeder feeder(const Peer& peer);
    /// RPC with `argument`; the default refuses with an error status.
    virtual void rpc(Value argument, const Peer& peer, ResultDone done);
    /// PROCESS; the default does nothing and succeeds.
    virtual void process(const Peer& peer, Done done);
    /// Whether `peer` may write (put) this PV, as far as the PV knows: shown to clients
    /// (the msgpack `open` reply, PVWS "readonly") so that they offer no put that would be
    /// refused. Puts are still checked when they come. The default: true.
    virtual bool writable(const Peer& peer) const;
    /// The access security group and level the access rules give this PV (a PV file's "asg"
    /// and "asl"); nullopt, the default, for the pattern list's answer (AccessRules::asg_for()).
    virtual std::optional<AsgAssignment> access_group() const;
};

/// Decides which names a server serves and makes the PV behind each new channel (see
/// Server::add_source()).
class Source {
public:
    virtual ~Source() = default;
    /// Does this source serve `name`? Answered for every search: quick, never blocking.
    virtual bool claims(std::string_view name) = 0;
    /// The PV for a new channel, or null to refuse the channel.
    virtual std::shared_ptr<PVHandler> open(std::string_view name, const Peer& peer) = 0;
    /// The names this source serves, for listings (the "server" PV, `pvwire list`).
    virtual std::vector<std::string> names() const { return {}; }
};

/// A Source serving a fixed set of named PVs, changeable at run time.
class StaticSource : public Source {
public:
    /// Serves `pv` as `name` (replacing any PV of that name).
    void add(std::string name, std::shared_ptr<PVHandler> pv);
    /// Stops serving `name`.
    void remove(std::string_view name);
    /// The PV served as `name`, or null.
    std::shared_ptr<PVHandler> find(std::string_view name) const;

    bool claims(std::string_view name) override { return find(name) != nullptr; }
    std::shared_ptr<PVHandler> open(std::string_view name, const Peer&) override { return find(name); }
    std::vector<std::string> names() const override;

private:
    mutable std::mutex mu_;
    std::map<std::string, std::shared_ptr<PVHandler>, std::less<>> pvs_;
};

}  // namespace pvwire::server
