#include <pvwire/server/shared_pv.hpp>

#include "latency_histogram.hpp"

#include <pvwire/data/nt.hpp>

#include <chrono>

#include <future>

namespace pvwire::server {

void PVHandler::rpc(Value, const Peer&, ResultDone done) {
    done(wire::Status::error("RPC is not supported by this PV"), Value());
}

void PVHandler::process(const Peer&, Done done) { done(wire::Status::ok()); }
bool PVHandler::writable(const Peer&) const { return true; }
std::optional<AsgAssignment> PVHandler::access_group() const { return std::nullopt; }

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

namespace {

wire::Status to_wire(const store::Status& st) {
    return st.success() ? wire::Status::ok() : wire::Status::error(st.message());
}

}  // namespace

std::shared_ptr<SharedPV> SharedPV::make(std::string name, TypePtr type, std::shared_ptr<store::Store> store) {
    auto pv = std::make_shared<SharedPV>(Key{});
    pv->name_ = std::move(name);
    pv->type_ = std::move(type);
    pv->in_memory_ = dynamic_cast<store::MemoryStore*>(store.get()) != nullptr;
    pv->store_ = std::move(store);
    return pv;
}

std::shared_ptr<SharedPV> SharedPV::create(std::string name, const Value& initial, std::shared_ptr<store::Store> store) {
    if (!initial) throw ValueError("pvwire: SharedPV '" + name + "' needs an initial value");
    if (!store) store = std::make_shared<store::MemoryStore>();
    // a MemoryStore completes at once; a networked store is waited for (see the header)
    std::promise<store::Status> outcome;
    auto result = outcome.get_future();
    store->create(name, initial, [&outcome](store::Status st, bool) { outcome.set_value(std::move(st)); });
    const store::Status st = result.get();
    if (!st.success()) throw ValueError("pvwire: SharedPV '" + name + "': " + st.message());
    return attach(std::move(name), std::move(store));
}

std::shared_ptr<SharedPV> SharedPV::attach(std::string name, std::shared_ptr<store::Store> store) {
    Value existing = store->read(name);
    if (!existing) throw ValueError("pvwire: no channel '" + name + "' in the store");
    return make(std::move(name), existing.type_ptr(), std::move(store));
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

Value SharedPV::current() const {
    if (Value v = store_->read(name_)) return v;
    // removed from a shared store while clients still hold the channel: they keep a value of
    // its type, marked invalid, rather than nothing
    Value gone(type_);
    Value alarm = gone.field("alarm");
    if (!alarm || alarm.code() != TypeCode::Struct) return gone;
    try {
        nt::set_alarm(alarm, 3, 0, "channel deleted from the store");
    } catch (const ValueError&) {  // an "alarm" that is not an alarm_t
    }
    return gone;
}

void SharedPV::post(const Value& value, Done done) {
    if (in_memory_) {
        const auto st = static_cast<store::MemoryStore&>(*store_).write_now(name_, value);
        if (done) done(to_wire(st));
        return;
    }
    // a networked store: how long it takes to acknowledge is what Server::stats() reports
    store_->write(name_, value, [done = std::move(done), started = std::chrono::steady_clock::now()](store::Status st) {
        detail::store_write_latency().record(std::chrono::steady_clock::now() - started);
        if (done) done(to_wire(st));
    });
}

void SharedPV::put(Value value, const Peer& peer, Done done) {
    if (read_only()) {
        done(wire::Status::error("PV '" + name_ + "' is read-only"));
        return;
    }
    const auto handlers = handlers_.load();
    if (!handlers || !handlers->put) return post(value, std::move(done));
    auto v = std::make_shared<Value>(std::move(value));
    handlers->put(*v, peer, [self = shared_from_this(), v, done = std::move(done)](wire::Status st) mutable {
        if (!st.success()) return done(std::move(st));
        self->post(*v, std::move(done));
    });
}

std::shared_ptr<void> SharedPV::subscribe(Listener listener) { return store_->watch(name_, std::move(listener)); }

void SharedPV::rpc(Value argument, const Peer& peer, ResultDone done) {
    const auto handlers = handlers_.load();
    if (!handlers || !handlers->rpc) return PVHandler::rpc(std::move(argument), peer, std::move(done));
    handlers->rpc(std::move(argument), peer, std::move(done));
}

}  // namespace pvwire::server
