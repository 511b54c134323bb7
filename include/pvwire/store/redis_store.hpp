/// @file
/// RedisStore: channels kept in a RESP server (Redis, Valkey, Dragonfly) and shared by every
/// pvwire server replica that opens the same store. docs/scale-out.md specifies the data
/// layout and the consistency model; in short:
///
/// - Each channel is one hash: its type (msgpack, written once), an incarnation id, a version,
///   and one field per leaf of the structure holding that leaf's value (msgpack).
/// - Every change is one Lua script: it writes the leaves a put marked, bumps the version and
///   publishes the change, atomically. A partial put thus merges without a read-modify-write
///   race between replicas.
/// - Each replica keeps a copy of every channel, changed only by the published changes in the
///   order Redis applied them (so all replicas' subscribers see one order). A gap in the
///   versions, a new subscriber connection or a reconnect resynchronises from a snapshot.
/// - A put completes once Redis has applied it and this replica's copy shows it (a get after a
///   successful put sees it). While Redis is unreachable puts fail and reads return the last
///   value with alarm severity INVALID and the message "store unreachable".
///
/// Threading: thread-safe; watchers and completion handlers run on the store's strand (on its
/// own thread, or on the executor it was given).
#pragma once

#include <pvwire/store/store.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace pvwire::store {

/// Where and how a RedisStore connects.
struct RedisConfig {
    std::string host = "127.0.0.1";  ///< name or address of the RESP server
    std::uint16_t port = 6379;       ///< its TCP port
    unsigned db = 0;                 ///< the database number (SELECT)
    std::string prefix = "pvwire";   ///< the prefix of every key and pub/sub channel
    /// Commands awaiting a reply on the command connection: beyond it writes fail at once
    /// ("store busy") rather than queue without bound.
    std::size_t max_pending = 65536;
    std::chrono::milliseconds connect_timeout{2000};       ///< per connection attempt
    std::chrono::milliseconds retry_min{100};              ///< first reconnection delay
    std::chrono::milliseconds retry_max{5000};             ///< delays double up to this
    /// This replica's name in the replica set (owns()); "" = the host name. `pvwire serve`
    /// passes PVWIRE_REPLICA, else HOSTNAME (the pod name under Kubernetes).
    std::string replica;

    /// Parses "redis://HOST[:PORT][/DB][?prefix=P]" (IPv6 hosts in brackets). Throws
    /// std::invalid_argument naming what is wrong.
    static RedisConfig from_url(std::string_view url);
    /// The URL form (for messages).
    std::string url() const;
};

/// A store in a RESP server (see the file's description).
class RedisStore : public Store {
public:
    /// Starts connecting at once, on a thread of its own; reconnects with back-off for ever.
    explicit RedisStore(RedisConfig config);
    /// The same on `executor` (through a strand of its own), which the caller runs: a server
    /// replica passes its own executor, so that a put and a change reach the store and the
    /// connections without a hand-over between threads.
    RedisStore(RedisConfig config, boost::asio::any_io_executor executor);
    ~RedisStore() override;
    RedisStore(const RedisStore&) = delete;
    RedisStore& operator=(const RedisStore&) = delete;

    /// Waits until the store is connected and holds a snapshot of every channel; false on
    /// timeout (the store keeps trying).
    bool wait_ready(std::chrono::milliseconds timeout) const;
    /// Whether both connections are up and the copy is synchronised.
    bool reachable() const;
    /// Why the store is not reachable ("" when it is).
    std::string last_error() const;
    /// How often the copy was resynchronised from a snapshot (connection losses, gaps).
    std::uint64_t resync_count() const;
    const RedisConfig& config() const noexcept;
    /// Whether this replica owns `name` among the live replicas of the store (rendezvous
    /// hashing over the replica set each replica renews in Redis every second), so that only
    /// one replica answers a UDP search for it (Server::set_udp_search_filter()):
    /// `among_all_hosts` for a broadcast, which every replica receives; otherwise among the
    /// replicas of this host, which share a unicast search (a replica alone on its host, as in
    /// a Kubernetes pod, owns every name then). True while the set is not known (not
    /// connected): every replica answers then.
    bool owns(std::string_view name, bool among_all_hosts = true) const;
    /// The live replicas ("replica@host/random"), as of the last renewal.
    std::vector<std::string> replicas() const;

    void create(const std::string& name, const Value& initial, CreateDone done) override;
    Value read(std::string_view name) const override;
    void write(std::string_view name, const Value& delta, Done done) override;
    std::shared_ptr<void> watch(std::string_view name, Watcher watcher) override;
    void remove(std::string_view name, Done done) override;
    bool contains(std::string_view name) const override;
    std::vector<std::string> names() const override;
    std::shared_ptr<void> watch_catalog(CatalogWatcher watcher) override;

    struct Impl;

private:
    struct OwnThread;
    std::unique_ptr<OwnThread> own_;  // declared first: destroyed after impl_ is released
    std::shared_ptr<Impl> impl_;
};

/// Opens the store a URL names: "" or "memory:" for a new MemoryStore, "redis://..." for a
/// RedisStore (see RedisConfig::from_url). Throws std::invalid_argument when the URL is not
/// understood.
std::shared_ptr<Store> open_store(std::string_view url);

}  // namespace pvwire::store
