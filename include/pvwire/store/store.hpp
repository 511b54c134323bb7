/// @file
/// Store: where served values live. The embedded MemoryStore is the default; a store shared by
/// several server replicas (Redis, later) implements the same interface, and then writes and
/// updates may come from elsewhere: a SharedPV learns of every change, local or not, through
/// watch(), exactly like a local put.
///
/// Threading: implementations are thread-safe; watchers may be called from any thread.
#pragma once

#include <pvwire/data/value.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvwire::store {

class Store {
public:
    using Watcher = std::function<void(const Value& update)>;

    virtual ~Store() = default;

    /// Creates `name` with an initial value (its type fixes the PV's type). False if it exists.
    virtual bool create(const std::string& name, const Value& initial) = 0;
    /// A copy of the current value, or a null Value if `name` does not exist.
    virtual Value read(std::string_view name) const = 0;
    /// Merges the marked fields of `delta` into the stored value; watchers then receive the
    /// merged value with the written fields marked. False if `name` does not exist or the
    /// types do not match.
    virtual bool write(std::string_view name, const Value& delta) = 0;
    /// Calls `watcher` for every later write of `name` until the handle is dropped.
    virtual std::shared_ptr<void> watch(std::string_view name, Watcher watcher) = 0;
    virtual bool remove(std::string_view name) = 0;
    virtual std::vector<std::string> names() const = 0;
};

/// The embedded in-memory store.
class MemoryStore : public Store {
public:
    MemoryStore();
    ~MemoryStore() override;
    bool create(const std::string& name, const Value& initial) override;
    Value read(std::string_view name) const override;
    bool write(std::string_view name, const Value& delta) override;
    std::shared_ptr<void> watch(std::string_view name, Watcher watcher) override;
    bool remove(std::string_view name) override;
    std::vector<std::string> names() const override;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace pvwire::store
