// The catalog watchers of a store (Store::watch_catalog), for MemoryStore and RedisStore alike:
// a list of its own, shared with the handles, which take their entry out when dropped (also
// after the store is gone). Private to src/store.
#pragma once

#include <pvwire/store/store.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace pvwire::store::detail {

class CatalogWatchers {
public:
    /// Adds `watcher` until the returned handle is dropped.
    std::shared_ptr<void> add(Store::CatalogWatcher watcher) {
        std::lock_guard lock(list_->mu);
        const auto id = list_->next_id++;
        list_->watchers.emplace_back(id, std::move(watcher));
        return std::make_shared<Handle>(list_, id);
    }
    /// Tells every watcher, outside the list's lock (a watcher may add or drop one).
    void tell(const std::string& name, bool present) const {
        std::vector<Store::CatalogWatcher> targets;
        {
            std::lock_guard lock(list_->mu);
            for (const auto& [id, w] : list_->watchers) targets.push_back(w);
        }
        for (auto& w : targets) w(name, present);
    }

private:
    struct List {
        std::mutex mu;
        std::vector<std::pair<std::uint64_t, Store::CatalogWatcher>> watchers;
        std::uint64_t next_id = 1;
    };
    struct Handle {
        Handle(const std::shared_ptr<List>& l, std::uint64_t i) : list(l), id(i) {}
        ~Handle() {
            if (auto l = list.lock()) {
                std::lock_guard lock(l->mu);
                std::erase_if(l->watchers, [&](const auto& e) { return e.first == id; });
            }
        }
        std::weak_ptr<List> list;
        std::uint64_t id;
    };
    std::shared_ptr<List> list_ = std::make_shared<List>();
};

}  // namespace pvwire::store::detail
