#include <pvwire/store/store.hpp>

#include "catalog_watchers.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <vector>

namespace pvwire::store {

namespace detail {

namespace {
std::atomic<std::uint64_t> last_change{0};
thread_local std::uint64_t current_change = 0;
}  // namespace

std::uint64_t change_in_progress() noexcept { return current_change; }

ChangeScope::ChangeScope() noexcept : outer_(current_change) {
    current_change = last_change.fetch_add(1, std::memory_order_relaxed) + 1;
}

ChangeScope::~ChangeScope() { current_change = outer_; }

}  // namespace detail

struct MemoryStore::Impl {
    struct Entry;
    struct WatchHandle {
        std::weak_ptr<Impl> store;
        std::string name;
        std::uint64_t id;
        ~WatchHandle();
    };
    // By id. Replaced whole (copy on write, of pointers) when one is added or removed, so that a
    // post takes the current list with one reference count instead of copying every watcher.
    using Watchers = std::vector<std::pair<std::uint64_t, std::shared_ptr<const Watcher>>>;

    mutable std::mutex mu;
    // The values by name, and apart from them the watchers of the watched ones: a map node of
    // a name and a Value is 88 bytes, a 96-byte heap block, and with a watcher list beside
    // the value it was 104 in a 112-byte block, for every PV of a server (issue 13).
    std::map<std::string, Value, std::less<>> entries;
    std::map<std::string, std::shared_ptr<const Watchers>, std::less<>> watchers;  // never an empty list
    std::uint64_t next_id = 1;
    detail::CatalogWatchers catalog;
};

MemoryStore::Impl::WatchHandle::~WatchHandle() {
    if (auto s = store.lock()) {
        std::lock_guard lock(s->mu);
        auto it = s->watchers.find(name);
        if (it == s->watchers.end()) return;
        auto rest = std::make_shared<Watchers>();
        for (const auto& e : *it->second)
            if (e.first != id) rest->push_back(e);
        if (rest->empty()) s->watchers.erase(it);
        else it->second = std::move(rest);
    }
}

MemoryStore::MemoryStore() : impl_(std::make_shared<Impl>()) {}
MemoryStore::~MemoryStore() = default;

void MemoryStore::create(const std::string& name, const Value& initial, CreateDone done) {
    if (!initial) return done(Status::failure("channel '" + name + "' needs an initial value"), false);
    {
        std::lock_guard lock(impl_->mu);
        auto [it, fresh] = impl_->entries.try_emplace(name);
        if (!fresh) {
            if (it->second.type() == initial.type()) return done(Status::ok(), false);
            return done(Status::failure("channel '" + name + "' exists with another type"), false);
        }
        it->second = initial.clone();
        it->second.unmark();
    }
    impl_->catalog.tell(name, true);
    done(Status::ok(), true);
}

Value MemoryStore::read(std::string_view name) const {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->entries.find(name);
    if (it == impl_->entries.end()) return {};
    return it->second.clone();
}

void MemoryStore::write(std::string_view name, const Value& delta, Done done) { done(write_now(name, delta)); }

Status MemoryStore::write_now(std::string_view name, const Value& delta) {
    Value update;
    std::shared_ptr<const Impl::Watchers> watchers;
    {
        std::lock_guard lock(impl_->mu);
        auto it = impl_->entries.find(name);
        if (it == impl_->entries.end()) return Status::failure("no channel '" + std::string(name) + "' in the store");
        if (!delta || !(delta.type() == it->second.type()))
            return Status::failure("the value's type is not the type of '" + std::string(name) + "'");
        Value& stored = it->second;
        // copy each marked field (a marked structure copies its whole subtree)
        const TypeDesc& t = stored.type();
        const BitSet& marks = delta.marks();
        for (std::size_t b = marks.next(0); b != BitSet::npos && b < t.offset_count();) {
            Value dst(stored.store_ptr(), std::uint32_t(b)), src(delta.store_ptr(), std::uint32_t(b));
            dst.assign(src);
            b = marks.next(b + src.type().offset_count());
        }
        update = stored.clone();
        update.unmark();
        update.marks() = marks;
        stored.unmark();
        if (!impl_->watchers.empty()) {
            auto w = impl_->watchers.find(name);
            if (w != impl_->watchers.end()) watchers = w->second;
        }
    }
    if (!watchers) return Status::ok();
    detail::ChangeScope change;
    for (const auto& [id, w] : *watchers) (*w)(update);  // outside the lock: a watcher may call back in
    return Status::ok();
}

std::shared_ptr<void> MemoryStore::watch(std::string_view name, Watcher watcher) {
    std::lock_guard lock(impl_->mu);
    if (impl_->entries.find(name) == impl_->entries.end()) return nullptr;
    const auto id = impl_->next_id++;
    auto& list = impl_->watchers.try_emplace(std::string(name)).first->second;
    auto more = list ? std::make_shared<Impl::Watchers>(*list) : std::make_shared<Impl::Watchers>();
    more->emplace_back(id, std::make_shared<const Watcher>(std::move(watcher)));
    list = std::move(more);
    auto h = std::make_shared<Impl::WatchHandle>();
    h->store = impl_;
    h->name = std::string(name);
    h->id = id;
    return h;
}

void MemoryStore::remove(std::string_view name, Done done) {
    {
        std::lock_guard lock(impl_->mu);
        auto it = impl_->entries.find(name);
        if (it == impl_->entries.end()) return done(Status::failure("no channel '" + std::string(name) + "' in the store"));
        impl_->entries.erase(it);
        if (auto w = impl_->watchers.find(name); w != impl_->watchers.end()) impl_->watchers.erase(w);
    }
    impl_->catalog.tell(std::string(name), false);
    done(Status::ok());
}

std::shared_ptr<void> MemoryStore::watch_catalog(CatalogWatcher watcher) { return impl_->catalog.add(std::move(watcher)); }

bool MemoryStore::contains(std::string_view name) const {
    std::lock_guard lock(impl_->mu);
    return impl_->entries.find(name) != impl_->entries.end();
}

std::vector<std::string> MemoryStore::names() const {
    std::lock_guard lock(impl_->mu);
    std::vector<std::string> out;
    for (const auto& [n, e] : impl_->entries) out.push_back(n);
    return out;
}

}  // namespace pvwire::store
