// ClientProxySource: upstream PVs served downstream (include/pvwire/server/proxy_source.hpp).
//
// Each upstream name is an Upstream (a PVHandler): one client monitor, whose updates are the
// PV's value and are fanned out to the downstream subscribers, and whose Disconnected event
// clears that value. The client posts that event before it searches again (it batches searches
// for 10 ms), so this server stops claiming the name before its own client's search could reach
// it: a gateway never answers itself. Gets, puts, RPC and PROCESS use the same client channel
// (the context caches channels by name).
#include <pvwire/server/proxy_source.hpp>

#include <pvwire/data/nt.hpp>
#include <pvwire/log.hpp>

#include <fnmatch.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

namespace pvwire::server {

namespace asio = net::asio;
using wire::Status;
using Clock = std::chrono::steady_clock;

namespace {

// The downstream status of a forwarded operation: upstream's own status when it answered.
Status status_of(std::error_code ec, const client::Result& r) {
    if (!ec) return r.status;
    if (ec == client::errc::remote_error && !r.status.success()) return r.status;
    return Status::error("upstream: " + client::describe(ec, r));
}

bool is_glob(std::string_view pattern) { return pattern.find_first_of("*?[") != std::string_view::npos; }

}  // namespace

struct ClientProxySource::State {
    std::shared_ptr<client::Context> ctx;
    ProxyOptions options;
    std::vector<std::string> exact, globs;
    mutable std::mutex mu;
    std::map<std::string, std::shared_ptr<Upstream>, std::less<>> upstream;
    CloseChannels close;

    State(std::shared_ptr<client::Context> c, ProxyOptions o) : ctx(std::move(c)), options(std::move(o)) {}
    void closed(const std::string& name);
    void sweep();
    // Sweeps every options.idle / 4 while the state lives.
    static void schedule_sweep(const std::shared_ptr<State>& st);
};

// One upstream PV, shared by every downstream channel of its name.
class ClientProxySource::Upstream : public PVHandler, public std::enable_shared_from_this<Upstream> {
public:
    using Listeners = std::vector<std::pair<std::uint64_t, Listener>>;

    Upstream(std::string name, bool pinned, std::weak_ptr<State> state)
        : name_(std::move(name)), pinned_(pinned), state_(std::move(state)) {}

    // On the context's strand: the channel's state handler and the monitor.
    void start(client::Context& ctx, const std::string& server) {
        std::weak_ptr<Upstream> weak = weak_from_this();
        client::MonitorOptions mo;
        mo.server = server;
        mo.queue_size = 8;
        auto sub = ctx.monitor(name_, mo, [weak] {
            if (auto self = weak.lock()) self->drain();
        });
        {
            std::lock_guard lock(mu_);
            sub_ = std::move(sub);
        }
        drain();  // events queued before sub_ was set
    }

    // Connected upstream, with a value.
    bool connected() const {
        std::lock_guard lock(mu_);
        return bool(value_);
    }
    bool pinned() const noexcept { return pinned_; }
    std::size_t subscriber_count() const {
        std::lock_guard lock(mu_);
        return listeners_->size();
    }
    bool has_monitor() const {
        std::lock_guard lock(mu_);
        return bool(sub_);
    }
    // The sweep's idle bookkeeping (under the source's lock).
    std::optional<Clock::time_point> idle_since;

    TypePtr type() const override {
        std::lock_guard lock(mu_);
        return type_;
    }
    Value current() const override {
        std::lock_guard lock(mu_);
        return value_ ? value_.clone() : Value();
    }
    void put(Value value, const Peer&, Done done) override {
        auto st = state_.lock();
        if (!st) return done(Status::error("the gateway is stopping"));
        st->ctx->async_put(name_, std::move(value), op_options(*st),
                           [done = std::move(done)](std::error_code ec, client::Result r) { done(status_of(ec, r)); });
    }
    void rpc(Value argument, const Peer&, ResultDone done) override {
        auto st = state_.lock();
        if (!st) return done(Status::error("the gateway is stopping"), Value());
        st->ctx->async_rpc(name_, std::move(argument), op_options(*st),
                           [done = std::move(done)](std::error_code ec, client::Result r) {
                               done(status_of(ec, r), std::move(r.value));
                           });
    }
    void process(const Peer&, Done done) override {
        auto st = state_.lock();
        if (!st) return done(Status::error("the gateway is stopping"));
        st->ctx->async_process(name_, op_options(*st),
                               [done = std::move(done)](std::error_code ec, client::Result r) { done(status_of(ec, r)); });
    }
    std::shared_ptr<void> subscribe(Listener listener) override;

private:
    static client::OpOptions op_options(const State& st) {
        client::OpOptions o;
        o.server = st.options.server;
        return o;
    }
    void drain();
    void on_data(const Value& v);
    void on_lost(const std::string& why);
    void ended(const std::string& why);
    void unsubscribe(std::uint64_t id);

    const std::string name_;
    const bool pinned_;
    std::weak_ptr<State> state_;
    std::vector<client::MonitorEvent> events_;       // the strand's (drain's scratch)
    mutable std::mutex mu_;
    std::shared_ptr<client::Subscription> sub_;
    TypePtr type_;
    Value value_;  // the newest upstream value, our own copy; never modified (shared with the subscribers)
    // copied on write, so that an update calls the listeners without holding the lock
    std::shared_ptr<const Listeners> listeners_ = std::make_shared<Listeners>();
    std::uint64_t next_listener_ = 1;
};

void ClientProxySource::Upstream::drain() {
    std::shared_ptr<client::Subscription> sub;
    {
        std::lock_guard lock(mu_);
        sub = sub_;
    }
    if (!sub) return;
    sub->pop(events_);
    for (auto& e : events_) {
        using K = client::MonitorEvent::Kind;
        // a copy: the client recycles the storage of values it no longer sees referenced,
        // and the server's fan-out cache takes a live storage address for the same value
        if (e.kind == K::Data) on_data(e.value.clone());
        else if (e.kind == K::Disconnected) on_lost("upstream disconnected");
        else if (e.kind == K::Finished || e.kind == K::Error) ended(e.message);
    }
    events_.clear();
}

void ClientProxySource::Upstream::on_data(const Value& v) {
    std::shared_ptr<const Listeners> listeners;
    bool retyped = false;
    {
        std::lock_guard lock(mu_);
        const TypeDesc* now = v.store()->type.get();
        retyped = type_ && type_.get() != now && !(*type_ == *now);
        if (retyped) listeners_ = std::make_shared<Listeners>();  // they expect the old type
        if (!type_ || retyped) type_ = v.type_ptr();
        value_ = v;
        listeners = listeners_;
    }
    if (retyped) {
        log::server().info("gateway: {} changed type upstream: closing its downstream channels", name_);
        if (auto st = state_.lock()) st->closed(name_);
        return;
    }
    for (const auto& [id, listener] : *listeners) listener(v);
}

// Lost upstream: searches are no longer answered for it (value_ cleared) and its downstream
// channels close, so that clients search again and find it wherever it comes back.
void ClientProxySource::Upstream::on_lost(const std::string& why) {
    auto st = state_.lock();
    const bool closing = st && [&] {
        std::lock_guard lock(st->mu);
        return bool(st->close);
    }();
    {
        std::lock_guard lock(mu_);
        if (!value_) return;  // already lost, or never had a value
        value_ = Value();
        if (closing) listeners_ = std::make_shared<Listeners>();
    }
    log::server().debug("gateway: {}: {}", name_, why);
    if (closing) st->closed(name_);
}

// Upstream ended or refused the monitor, which the client does not restart: this name is
// forgotten, and the next search or open for it starts afresh.
void ClientProxySource::Upstream::ended(const std::string& why) {
    on_lost("upstream ended the monitor: " + why);
    auto st = state_.lock();
    if (!st) return;
    std::shared_ptr<Upstream> self;  // released unlocked
    std::lock_guard lock(st->mu);
    if (auto it = st->upstream.find(name_); it != st->upstream.end() && it->second.get() == this) {
        self = std::move(it->second);
        st->upstream.erase(it);
    }
}

std::shared_ptr<void> ClientProxySource::Upstream::subscribe(Listener listener) {
    std::uint64_t id;
    {
        std::lock_guard lock(mu_);
        id = next_listener_++;
        auto next = std::make_shared<Listeners>(*listeners_);
        next->emplace_back(id, std::move(listener));
        listeners_ = std::move(next);
    }
    // made in place: a temporary's destructor would unsubscribe
    struct Handle {
        Handle(std::weak_ptr<Upstream> p, std::uint64_t i) : pv(std::move(p)), id(i) {}
        Handle(const Handle&) = delete;
        Handle& operator=(const Handle&) = delete;
        ~Handle() {
            if (auto p = pv.lock()) p->unsubscribe(id);
        }
        std::weak_ptr<Upstream> pv;
        std::uint64_t id;
    };
    return std::make_shared<Handle>(weak_from_this(), id);
}

void ClientProxySource::Upstream::unsubscribe(std::uint64_t id) {
    std::lock_guard lock(mu_);
    auto next = std::make_shared<Listeners>();
    for (const auto& l : *listeners_)
        if (l.first != id) next->push_back(l);
    listeners_ = std::move(next);
}

void ClientProxySource::State::closed(const std::string& name) {
    CloseChannels f;
    {
        std::lock_guard lock(mu);
        f = close;
    }
    if (f) f(name);
}

// ---- the source -----------------------------------------------------------------------------

std::shared_ptr<ClientProxySource> ClientProxySource::create(std::shared_ptr<client::Context> upstream,
                                                             ProxyOptions options) {
    if (!upstream) throw std::invalid_argument("ClientProxySource: no client context");
    auto src = std::make_shared<ClientProxySource>(Key{}, std::move(upstream), std::move(options));
    for (const auto& name : src->state_->exact) src->claims(name);  // connected now, and kept
    State::schedule_sweep(src->state_);
    return src;
}

ClientProxySource::ClientProxySource(Key, std::shared_ptr<client::Context> upstream, ProxyOptions options)
    : state_(std::make_shared<State>(std::move(upstream), std::move(options))) {
    for (const auto& n : state_->options.names) {
        if (n.empty()) continue;
        (is_glob(n) ? state_->globs : state_->exact).push_back(n);
    }
}

ClientProxySource::~ClientProxySource() {
    std::map<std::string, std::shared_ptr<Upstream>, std::less<>> gone;
    std::lock_guard lock(state_->mu);
    state_->close = nullptr;
    gone.swap(state_->upstream);
}

void ClientProxySource::on_close_channels(CloseChannels close) {
    std::lock_guard lock(state_->mu);
    state_->close = std::move(close);
}

bool ClientProxySource::admits(std::string_view name) const {
    const auto& st = *state_;
    if (std::find(st.exact.begin(), st.exact.end(), name) != st.exact.end()) return true;
    const std::string n(name);
    return std::any_of(st.globs.begin(), st.globs.end(),
                       [&](const std::string& g) { return ::fnmatch(g.c_str(), n.c_str(), 0) == 0; });
}

bool ClientProxySource::claims(std::string_view name) {
    if (name.empty() || !admits(name)) return false;
    auto& st = *state_;
    std::shared_ptr<Upstream> up;
    {
        std::lock_guard lock(st.mu);
        if (auto it = st.upstream.find(name); it != st.upstream.end()) {
            up = it->second;
        } else {
            if (st.upstream.size() >= st.options.max_upstream) return false;
            const bool pinned = std::find(st.exact.begin(), st.exact.end(), name) != st.exact.end();
            up = std::make_shared<Upstream>(std::string(name), pinned, state_);
            st.upstream.emplace(std::string(name), up);
            // connect on the client's strand: claims() never waits for it (the handler runs
            // on the context's own thread, so the context lives while it runs)
            asio::post(st.ctx->executor(), [up, ctx = st.ctx.get(), server = st.options.server] { up->start(*ctx, server); });
            return false;
        }
    }
    return up->connected();
}

std::shared_ptr<PVHandler> ClientProxySource::open(std::string_view name, const Peer&) {
    std::lock_guard lock(state_->mu);
    auto it = state_->upstream.find(name);
    if (it == state_->upstream.end() || !it->second->connected()) return nullptr;
    it->second->idle_since.reset();
    return it->second;
}

std::vector<std::string> ClientProxySource::names() const {
    std::vector<std::string> out = state_->exact;
    {
        std::lock_guard lock(state_->mu);
        for (const auto& [name, up] : state_->upstream)
            if (!up->pinned() && up->connected()) out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

ProxyStats ClientProxySource::stats() const {
    ProxyStats s;
    std::lock_guard lock(state_->mu);
    s.upstream = state_->upstream.size();
    for (const auto& [name, up] : state_->upstream) {
        s.connected += up->connected();
        s.monitors += up->has_monitor();
        s.subscribers += up->subscriber_count();
    }
    return s;
}

// The timer lives in its own handler: once the state is gone the next tick ends the sweeps.
void ClientProxySource::State::schedule_sweep(const std::shared_ptr<State>& st) {
    const auto every = std::clamp<std::chrono::milliseconds>(st->options.idle / 4, std::chrono::milliseconds(50),
                                                             std::chrono::milliseconds(5000));
    auto timer = std::make_shared<asio::steady_timer>(st->ctx->executor(), every);
    timer->async_wait([weak = std::weak_ptr(st), timer](boost::system::error_code ec) {
        auto s = weak.lock();
        if (ec || !s) return;
        s->sweep();
        schedule_sweep(s);
    });
}

// Drops glob-matched upstream names with no downstream channel (only the source holds their
// handler) for options.idle: their monitor stops.
void ClientProxySource::State::sweep() {
    std::vector<std::shared_ptr<Upstream>> dropped;  // destroyed unlocked
    const auto now = Clock::now();
    std::lock_guard lock(mu);
    for (auto it = upstream.begin(); it != upstream.end();) {
        auto& up = it->second;
        if (up->pinned() || up.use_count() > 1) {
            up->idle_since.reset();
        } else if (!up->idle_since) {
            up->idle_since = now;
        } else if (now - *up->idle_since >= options.idle) {
            dropped.push_back(std::move(up));
            it = upstream.erase(it);
            continue;
        }
        ++it;
    }
}

}  // namespace pvwire::server
