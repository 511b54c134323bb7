/// @file
/// Store: where served values live. The embedded MemoryStore is the default; RedisStore
/// (redis_store.hpp) is shared by several server replicas, and then writes and updates may come
/// from elsewhere: a SharedPV learns of every change, local or not, through watch(), exactly
/// like a local put.
///
/// Changes are asynchronous: create(), write() and remove() report their outcome to a
/// completion handler, called once, after the store has made the change durable as far as it
/// can (MemoryStore calls it before returning; RedisStore once Redis has applied the change and
/// this replica's copy shows it). Reads are not: read() returns this process's copy, which the
/// store keeps current, so a get never waits for the network.
///
/// Threading: implementations are thread-safe; watchers and completion handlers may be called
/// from any thread (RedisStore calls them on its own I/O thread) and must not block.
#pragma once

#include <pvwire/data/value.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvwire::store {

/// The outcome of a create(), write() or remove(): success, or a sentence saying why not
/// (shown to the client whose put failed).
class Status {
public:
    /// Success.
    static Status ok() { return Status(); }
    /// Failure, with the reason.
    static Status failure(std::string message) { return Status(std::move(message)); }
    /// True on success.
    bool success() const noexcept { return !failed_; }
    /// The reason of a failure ("" on success).
    const std::string& message() const noexcept { return message_; }

private:
    Status() = default;
    explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
    bool failed_ = false;
    std::string message_;
};

/// A store of named, typed values (see the file's description).
class Store {
public:
    /// Receives each change of one channel: the value after the change, the changed fields marked.
    using Watcher = std::function<void(const Value& update)>;
    /// Receives each channel created (`present` true) or removed (false), by anyone.
    using CatalogWatcher = std::function<void(const std::string& name, bool present)>;
    /// The completion of a change, called exactly once.
    using Done = std::function<void(Status)>;
    /// The completion of create(): `created` is false when the channel already existed with the
    /// same type (it keeps its stored value); a different type is a failure.
    using CreateDone = std::function<void(Status, bool created)>;

    virtual ~Store() = default;

    /// Creates `name` with the structure `initial` (its type fixes the channel's type).
    virtual void create(const std::string& name, const Value& initial, CreateDone done) = 0;
    /// A copy of this process's current value of `name`, or a null Value if it does not exist.
    /// Never waits for the network.
    virtual Value read(std::string_view name) const = 0;
    /// Merges the marked fields of `delta` into the stored value; watchers then receive the
    /// merged value with the written fields marked. Fails if `name` does not exist, the types
    /// do not match, or the store cannot be reached.
    virtual void write(std::string_view name, const Value& delta, Done done) = 0;
    /// Calls `watcher` for every later change of `name` until the handle is dropped; null if
    /// `name` does not exist. A call already under way on another thread when the handle is
    /// dropped still completes: what the watcher uses must outlive the store, or the call.
    virtual std::shared_ptr<void> watch(std::string_view name, Watcher watcher) = 0;
    /// Removes `name` (its watchers hear nothing more).
    virtual void remove(std::string_view name, Done done) = 0;
    /// Whether `name` exists (answered from this process's copy: quick, for every search).
    virtual bool contains(std::string_view name) const = 0;
    /// The names of every channel.
    virtual std::vector<std::string> names() const = 0;
    /// Calls `watcher` for every later creation and removal until the handle is dropped.
    virtual std::shared_ptr<void> watch_catalog(CatalogWatcher watcher) = 0;
};

namespace detail {

/// While a store calls the watchers of one change (ChangeScope): that change's number, unique in
/// the process; 0 otherwise. Watchers that share work between them per change (the server
/// encodes a post once for all its subscribers) key it by this number: never by the value's
/// address, which a store may reuse or modify in place between changes.
std::uint64_t change_in_progress() noexcept;

/// Marks this thread's calls of the watchers of one change (MemoryStore and RedisStore do; a
/// store of your own may, else its subscribers simply do not share work).
class ChangeScope {
public:
    ChangeScope() noexcept;
    ~ChangeScope();
    ChangeScope(const ChangeScope&) = delete;
    ChangeScope& operator=(const ChangeScope&) = delete;

private:
    std::uint64_t outer_;
};

}  // namespace detail

/// The embedded in-memory store: every change completes before the call returns.
class MemoryStore : public Store {
public:
    MemoryStore();
    ~MemoryStore() override;
    void create(const std::string& name, const Value& initial, CreateDone done) override;
    Value read(std::string_view name) const override;
    void write(std::string_view name, const Value& delta, Done done) override;
    std::shared_ptr<void> watch(std::string_view name, Watcher watcher) override;
    void remove(std::string_view name, Done done) override;
    bool contains(std::string_view name) const override;
    std::vector<std::string> names() const override;
    std::shared_ptr<void> watch_catalog(CatalogWatcher watcher) override;

    /// Writes and reports the outcome at once (write() calls it): what a SharedPV uses when it
    /// knows its store is a MemoryStore, sparing a completion handler per put.
    Status write_now(std::string_view name, const Value& delta);

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace pvwire::store
