/// @file
/// SharedPV: a ready "mailbox" PV. It holds a value (in a Store, the embedded MemoryStore by
/// default), serves gets, accepts puts (through an optional handler that may validate, modify
/// or reject them), and posts every change to every subscriber. Changes written to the store
/// by anyone else (another replica sharing the store) reach subscribers the same way.
///
/// Threading: all member functions are thread-safe. The put handler runs on the thread of the
/// connection that made the put; it must not block (call `done` later if it needs to wait).
#pragma once

#include <pvwire/server/source.hpp>
#include <pvwire/store/store.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace pvwire::server {

/// A PVHandler that holds its value in a Store and shares every change with every subscriber
/// (see the file's description; make one with create()).
class SharedPV : public PVHandler, public std::enable_shared_from_this<SharedPV> {
public:
    /// Handles a client's put: may change `value` (what will be written; marked fields only),
    /// and must call done(status) once: a success status writes, an error rejects (the client
    /// gets the message).
    using PutHandler = std::function<void(Value& value, const Peer& peer, Done done)>;
    /// Handles a client's RPC: must call done(status, result) once.
    using RpcHandler = std::function<void(Value argument, const Peer& peer, ResultDone done)>;

    /// A PV named `name` in `store` (a new MemoryStore when null), created there with
    /// `initial` unless it already exists with the same type. Waits for the store: at once for
    /// a MemoryStore, a round trip for a networked one, so never call it from a store's
    /// completion handler. Throws ValueError when the store refuses (another type, unreachable).
    static std::shared_ptr<SharedPV> create(std::string name, const Value& initial,
                                            std::shared_ptr<store::Store> store = nullptr);
    /// A PV for the channel `name` that already exists in `store` (its type is the stored one).
    /// Throws ValueError when there is no such channel.
    static std::shared_ptr<SharedPV> attach(std::string name, std::shared_ptr<store::Store> store);

    /// The PV's name.
    const std::string& name() const noexcept { return name_; }
    /// Read-only: puts from clients fail with an error status (post() still writes).
    void set_read_only(bool ro) noexcept { read_only_.store(ro, std::memory_order_relaxed); }
    /// Whether puts from clients are refused.
    bool read_only() const noexcept { return read_only_.load(std::memory_order_relaxed); }
    /// The access security group and level for the access rules (a PV file's "asg" and "asl").
    /// Set it before the PV is served (it is read without a lock); never set: the pattern
    /// list's answer.
    void set_access_group(std::string asg, int asl) {
        access_group_ = std::make_unique<const AsgAssignment>(AsgAssignment{true, std::move(asg), asl, 0});
    }
    /// Sets the put handler (without one, puts are written as they come).
    void on_put(PutHandler handler);
    /// Sets the RPC handler (without one, RPCs are refused as PVHandler::rpc() does).
    void on_rpc(RpcHandler handler);

    /// Writes the marked fields of `value` from the server side (no handler); every subscriber
    /// is notified once the store has applied it. `done`, if given, receives the store's answer
    /// (a MemoryStore answers before post() returns).
    void post(const Value& value, Done done = nullptr);

    // PVHandler
    TypePtr type() const override { return type_; }
    Value current() const override;
    void put(Value value, const Peer& peer, Done done) override;
    std::shared_ptr<void> subscribe(Listener listener) override;
    void rpc(Value argument, const Peer& peer, ResultDone done) override;
    /// False while the PV is read-only.
    bool writable(const Peer&) const override { return !read_only(); }
    std::optional<AsgAssignment> access_group() const override {
        return access_group_ ? std::optional<AsgAssignment>(*access_group_) : std::nullopt;
    }

private:
    /// create() makes SharedPVs with make_shared (object and count in one allocation); the
    /// constructor is public only for it, through this private key.
    struct Key {
        explicit Key() = default;
    };

public:
    /// For create() only (the key is private).
    explicit SharedPV(Key) {}

private:
    /// Set once by create(), before the PV is shared: read without a lock afterwards.
    std::string name_;
    TypePtr type_;
    std::shared_ptr<store::Store> store_;
    /// Changed from any thread while puts run on connection threads; a put only needs to see
    /// some recent setting, so no ordering with other memory is required.
    std::atomic<bool> read_only_{false};
    /// Whether store_ is a MemoryStore: writes then need no completion handler (a put stays
    /// free of heap allocations). A flag beside read_only_, not a second pointer: 8 bytes of
    /// every PV (issue 13, memory per PV).
    bool in_memory_ = false;
    /// Set before the PV is served (set_access_group()), read without a lock afterwards. Out
    /// of line: most PVs have none, and an inline optional took 48 bytes of each.
    std::unique_ptr<const AsgAssignment> access_group_;
    /// Replaced whole when a handler is set (rare), read per put/rpc without a lock; null until
    /// then, so a plain PV carries no handler storage (a server may hold 100,000 of them).
    struct Handlers {
        PutHandler put;
        RpcHandler rpc;
    };
    template <class F> void update_handlers(F&& change);
    static std::shared_ptr<SharedPV> make(std::string name, TypePtr type, std::shared_ptr<store::Store> store);
    std::atomic<std::shared_ptr<const Handlers>> handlers_;
};

}  // namespace pvwire::server
