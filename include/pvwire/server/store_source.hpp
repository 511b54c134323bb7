/// @file
/// StoreSource: serves every channel of a Store as a SharedPV, including channels created
/// later by anyone (another replica, `pvwire store create`): what each replica of a scaled-out
/// server adds to its Server. Channels that need handlers (rules for puts, RPC) are made by the
/// application and handed over with adopt(); the others get a plain SharedPV when first opened.
///
/// Threading: thread-safe.
#pragma once

#include <pvwire/server/shared_pv.hpp>
#include <pvwire/server/source.hpp>
#include <pvwire/store/store.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <vector>
#include <string>

namespace pvwire::server {

/// A Source for every channel of a Store (see the file's description).
class StoreSource : public Source {
public:
    /// Serves the channels of `store` (and follows its catalog while the source lives).
    explicit StoreSource(std::shared_ptr<store::Store> store);
    /// Serves `pv` (a SharedPV of this source's store, with its handlers) as its name.
    void adopt(std::shared_ptr<SharedPV> pv);
    /// The put handler of the PVs this source makes itself (not of adopted ones): what every
    /// channel created elsewhere gets, e.g. a fresh timeStamp per put. Set it before serving.
    void on_put(SharedPV::PutHandler handler) { put_handler_ = std::move(handler); }

    bool claims(std::string_view name) override;
    std::shared_ptr<PVHandler> open(std::string_view name, const Peer& peer) override;
    std::vector<std::string> names() const override;

private:
    /// The PVs opened or adopted; shared with the catalog watcher, which may still be running
    /// on the store's thread when the source goes.
    struct Opened {
        std::mutex mu;
        std::map<std::string, std::shared_ptr<SharedPV>, std::less<>> pvs;
    };
    std::shared_ptr<store::Store> store_;
    std::shared_ptr<Opened> opened_ = std::make_shared<Opened>();
    SharedPV::PutHandler put_handler_;
    std::shared_ptr<void> catalog_watch_;
};

}  // namespace pvwire::server
