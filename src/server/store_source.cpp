#include <pvwire/server/store_source.hpp>

namespace pvwire::server {

StoreSource::StoreSource(std::shared_ptr<store::Store> store) : store_(std::move(store)) {
    catalog_watch_ = store_->watch_catalog([weak = std::weak_ptr<Opened>(opened_)](const std::string& name, bool present) {
        auto opened = weak.lock();
        if (present || !opened) return;
        std::lock_guard lock(opened->mu);
        opened->pvs.erase(name);  // a channel made again later gets a new PV (maybe of a new type)
    });
}

void StoreSource::adopt(std::shared_ptr<SharedPV> pv) {
    std::lock_guard lock(opened_->mu);
    opened_->pvs[pv->name()] = std::move(pv);
}

bool StoreSource::claims(std::string_view name) { return store_->contains(name); }

std::shared_ptr<PVHandler> StoreSource::open(std::string_view name, const Peer&) {
    std::lock_guard lock(opened_->mu);
    if (auto it = opened_->pvs.find(name); it != opened_->pvs.end()) return it->second;
    if (!store_->contains(name)) return nullptr;
    try {
        auto pv = SharedPV::attach(std::string(name), store_);
        if (put_handler_) pv->on_put(put_handler_);
        opened_->pvs.emplace(std::string(name), pv);
        return pv;
    } catch (const ValueError&) {
        return nullptr;  // removed between the check and the read
    }
}

std::vector<std::string> StoreSource::names() const { return store_->names(); }

}  // namespace pvwire::server
