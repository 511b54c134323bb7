/// @file
/// ClientProxySource: a Source that serves the PVs of other pvAccess servers (pvwire, PVXS,
/// pvAccessCPP) through pvwire's client, the heart of `pvwire gateway` (docs/gateway.md).
///
/// One upstream monitor per PV name, shared by every downstream channel: current() is the
/// newest upstream value, subscribe() fans that monitor's updates out, put/rpc/process go
/// upstream and complete with upstream's status. Searches are answered only for names that are
/// connected upstream; a search for an unknown name that the patterns admit starts connecting
/// it, so that the client's next search hits (as p4p's gateway does). Names given exactly (no
/// glob characters) are connected at construction and kept, so clients that open by name
/// without searching (msgpack, PVWS) find them at once.
///
/// An upstream disconnect or type change closes the downstream channels of that name (clients
/// search again, as with any server that went away); an upstream name with no downstream
/// channel for `idle` is dropped.
///
/// Threading: everything is thread-safe; upstream events run on the client context's strand.
#pragma once

#include <pvwire/client/context.hpp>
#include <pvwire/server/source.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pvwire::server {

/// What a ClientProxySource forwards and how.
struct ProxyOptions {
    /// The names served: exact names and globs (`*` any run of characters, `?` one, `[...]`
    /// a set, as fnmatch(3)); "*" serves any name the upstream servers have.
    std::vector<std::string> names{"*"};
    /// The upstream server without search ("host:port", "pva+ws://..."); empty: found by search.
    std::string server;
    /// An upstream name matched by a glob is dropped after this long without downstream channels.
    std::chrono::milliseconds idle{30000};
    /// At most this many upstream names at once; searches for more are not forwarded.
    std::size_t max_upstream = 10000;
};

/// Counters of a ClientProxySource (ClientProxySource::stats()).
struct ProxyStats {
    std::size_t upstream = 0;     ///< upstream names being searched for or connected
    std::size_t connected = 0;    ///< those connected, with a value
    std::size_t monitors = 0;     ///< upstream monitors (one per upstream name)
    std::size_t subscribers = 0;  ///< downstream subscriptions fed by them
};

/// A Source forwarding to upstream pvAccess servers (see the file's description).
class ClientProxySource : public Source, public std::enable_shared_from_this<ClientProxySource> {
public:
    /// Called with a name whose downstream channels must close (upstream lost or changed type).
    using CloseChannels = std::function<void(const std::string& name)>;

    /// Forwards through `upstream` (which must outlive no one: the source keeps it alive).
    static std::shared_ptr<ClientProxySource> create(std::shared_ptr<client::Context> upstream,
                                                     ProxyOptions options = {});
    ~ClientProxySource() override;

    /// Sets what closes downstream channels; typically `server.remove_pv(name)` of the Server
    /// this source is added to. Without one, downstream channels stay open, with INVALID alarm.
    void on_close_channels(CloseChannels close);
    /// Whether `name` is admitted by the configured names and globs.
    bool admits(std::string_view name) const;
    /// Counters, for tests and status.
    ProxyStats stats() const;

    bool claims(std::string_view name) override;
    std::shared_ptr<PVHandler> open(std::string_view name, const Peer& peer) override;
    /// The exact names configured, and every name connected upstream now.
    std::vector<std::string> names() const override;

    class Upstream;

private:
    struct Key {};

public:
    /// For create() only.
    ClientProxySource(Key, std::shared_ptr<client::Context> upstream, ProxyOptions options);

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace pvwire::server
