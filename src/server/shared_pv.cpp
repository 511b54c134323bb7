#include <pvwire/server/shared_pv.hpp>

namespace pvwire::server {

void PVHandler::rpc(Value, const Peer&, ResultDone done) {
    done(wire::Status::error("RPC is not supported by this PV"), Value());
}

void PVHandler::process(const Peer&, Done done) { done(wire::Status::ok()); }

PVHandler::Feeder PVHandler::feeder(const Peer&) { return {}; }

void StaticSource::add(std::string name, std::shared_ptr<PVHandler> pv) {
    std::lock_guard lock(mu_);
    pvs_[std::move(name)] = std::move(pv);
}
void StaticSource::remove(std::string_view name) {
    std::lock_guard lock(mu_);
    auto it = pvs_.find(name);
    if (it != pvs_.end()) pvs_.erase(it);
}
std::shared_ptr<PVHandler> StaticSource::find(std::string_view name) const {
    std::lock_guard lock(mu_);
    auto it = pvs_.find(name);
    return it == pvs_.end() ? nullptr : it->second;
}
std::vector<std::string> StaticSource::names() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [n, pv] : pvs_) out.push_back(n);
    return out;
}

std::shared_ptr<SharedPV> SharedPV::create(std::string name, const Value& initial, std::shared_ptr<store::Store> store) {
    if (!initial) throw ValueError("pvwire: SharedPV '" + name + "' needs an initial value");
    auto pv = std::make_shared<SharedPV>(Key{});
    pv->name_ = std::move(name);
    pv->store_ = store ? std::move(store) : std::make_shared<store::MemoryStore>();
    if (!pv->store_->create(pv->name_, initial)) {
        // it exists (a shared store): adopt its type
        Value existing = pv->store_->read(pv->name_);
        if (!existing) throw ValueError("pvwire: store refused PV '" + pv->name_ + "'");
        pv->type_ = existing.type_ptr();
    } else {
        pv->type_ = initial.type_ptr();
    }
    return pv;
}

template <class F> void SharedPV::update_handlers(F&& change) {
    auto old = handlers_.load();
    for (;;) {
        auto next = std::make_shared<Handlers>(old ? *old : Handlers{});
        change(*next);
        if (handlers_.compare_exchange_weak(old, std::shared_ptr<const Handlers>(std::move(next)))) return;
    }
}

void SharedPV::on_put(PutHandler handler) {
    update_handlers([&](Handlers& h) { h.put = handler; });
}
void SharedPV::on_rpc(RpcHandler handler) {
    update_handlers([&](Handlers& h) { h.rpc = handler; });
}

Value SharedPV::current() const { return store_->read(name_); }

void SharedPV::post(const Value& value) { store_->write(name_, value); }

void SharedPV::put(Value value, const Peer& peer, Done done) {
    if (read_only()) {
        done(wire::Status::error("PV '" + name_ + "' is read-only"));
        return;
    }
    const auto handlers = handlers_.load();
    if (!handlers || !handlers->put) {
        store_->write(name_, value) ? done(wire::Status::ok()) : done(wire::Status::error("write refused by the store"));
        return;
    }
    auto v = std::make_shared<Value>(std::move(value));
    handlers->put(*v, peer, [self = shared_from_this(), v, done = std::move(done)](wire::Status st) {
        if (!st.success()) {
            done(std::move(st));
            return;
        }
        if (!self->store_->write(self->name_, *v)) {
            done(wire::Status::error("write refused by the store"));
            return;
        }
        done(std::move(st));
    });
}

std::shared_ptr<void> SharedPV::subscribe(Listener listener) { return store_->watch(name_, std::move(listener)); }

void SharedPV::rpc(Value argument, const Peer& peer, ResultDone done) {
    const auto handlers = handlers_.load();
    if (!handlers || !handlers->rpc) return PVHandler::rpc(std::move(argument), peer, std::move(done));
    handlers->rpc(std::move(argument), peer, std::move(done));
}

}  // namespace pvwire::server
