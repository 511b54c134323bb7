#include "pvws_front_end.hpp"

#include <pvwire/log.hpp>

namespace pvwire::server::detail {

namespace asio = net::asio;
using Clock = std::chrono::steady_clock;

struct PvwsSession::Sub {
    explicit Sub(asio::any_io_executor ex) : timer(std::move(ex)) {}
    std::string name;      // as the client gave it: the "pv" of its updates
    std::string pva;       // the name served
    std::uint32_t cid = 0, sid = 0, ioid = 0;  // sid 0: not open
    pvws::SentState sent;
    bool said_down = false;   // the "disconnected" update went out since the last value
    Value pending;            // the newest value not yet sent (throttle)
    Clock::time_point last_sent{};
    asio::steady_timer timer;  // the throttle's next send, or the next attempt to open
    bool timer_armed = false;
};

PvwsSession::PvwsSession(std::shared_ptr<net::MessageSocket> socket, Peer peer, ChannelCore::Open open,
                         Options options, Closed closed)
    : socket_(std::move(socket)), options_(std::move(options)), closed_(std::move(closed)),
      core_(std::make_shared<ChannelCore>(socket_->executor(), std::move(peer), std::move(open),
                                          static_cast<CoreEvents&>(*this), options_.limits)) {}

PvwsSession::~PvwsSession() { core_->close(); }

void PvwsSession::start() { socket_->start(weak_from_this()); }

void PvwsSession::on_closed(const std::string& reason) {
    if (closed_flag_) return;
    closed_flag_ = true;
    for (auto& [name, sub] : subs_) sub->timer.cancel();
    core_->close();
    log::server().debug("PVWS socket from {} closed: {}", socket_->identity().peer, reason);
    if (closed_) closed_(*this);
}

void PvwsSession::pv_removed(std::string name) {
    asio::post(socket_->executor(), [weak = weak_from_this(), name = std::move(name)] {
        if (auto self = weak.lock(); self && !self->closed_flag_) self->core_->close_channels(name);
    });
}

void PvwsSession::access_changed() {
    asio::post(socket_->executor(), [weak = weak_from_this()] {
        if (auto self = weak.lock(); self && !self->closed_flag_) self->core_->recheck_access();
    });
}

// Called from within the core's re-check: the channel is closed later, outside it.
void PvwsSession::monitor_finished(std::uint32_t ioid, const std::string& why) {
    auto it = by_ioid_.find(ioid);
    if (it == by_ioid_.end()) return;
    send(pvws::error_json(it->second->name + ": " + why));
    asio::post(socket_->executor(), [weak = weak_from_this(), name = it->second->name, ioid] {
        auto self = weak.lock();
        if (!self || self->closed_flag_) return;
        auto s = self->subs_.find(name);
        if (s == self->subs_.end() || s->second->ioid != ioid) return;
        Sub& sub = *s->second;
        self->core_->destroy_channel(sub.sid);
        self->went_down(sub);  // opened again every retry period: the rules may allow it again
    });
}

void PvwsSession::on_message(std::string_view text) {
    std::string error;
    auto request = pvws::parse_request(text, error);
    if (!request) return send(pvws::error_json(error));
    using K = pvws::Request::Kind;
    switch (request->kind) {
    case K::subscribe:
        for (const auto& n : request->pvs) subscribe(n);
        break;
    case K::clear:
        for (const auto& n : request->pvs) clear(n);
        break;
    case K::list: {
        std::vector<std::string> names;
        for (const auto& [name, sub] : subs_) names.push_back(name);
        send(pvws::list_json(names));
        break;
    }
    case K::write: write(*request); break;
    case K::ping: socket_->ping(); break;
    case K::echo: send(std::string(text)); break;
    }
}

// ---- subscriptions ---------------------------------------------------------------------------

void PvwsSession::subscribe(const std::string& name) {
    if (subs_.count(name)) return;  // already subscribed: nothing new to say (as PVWS)
    std::string error;
    auto pva = pvws::pva_name(name, error);
    if (!pva) return send(pvws::error_json(name + ": " + error));
    if (subs_.size() >= options_.max_subscriptions)
        return send(pvws::error_json(name + ": too many subscriptions on this socket (limit " +
                                     std::to_string(options_.max_subscriptions) + ")"));
    auto sub = std::make_unique<Sub>(socket_->executor());
    sub->name = name;
    sub->pva = std::move(*pva);
    Sub& s = *sub;
    subs_.emplace(name, std::move(sub));
    open(s);
}

void PvwsSession::open(Sub& sub) {
    sub.cid = next_id_++;
    auto opened = core_->create_channel(sub.pva, sub.cid);
    if (opened.status.success()) {
        sub.ioid = next_id_++;
        auto init = core_->init(opened.sid, sub.ioid, OpKind::monitor, Value(), ChannelCore::MonitorStart{});
        if (init.status.success()) {
            sub.sid = opened.sid;
            by_cid_[sub.cid] = &sub;
            by_ioid_[sub.ioid] = &sub;
            core_->monitor_start(sub.ioid);  // the first update carries the whole value
            return;
        }
        core_->destroy_channel(opened.sid);
        // the PV is there but may not be read (access rules, say): why, once per outage
        if (!sub.said_down) send(pvws::error_json(sub.name + ": " + init.status.message));
    }
    went_down(sub);
}

void PvwsSession::went_down(Sub& sub) {
    by_cid_.erase(sub.cid);
    by_ioid_.erase(sub.ioid);
    sub.sid = sub.ioid = 0;
    sub.pending = Value();
    if (!sub.said_down) send(pvws::disconnected_json(sub.name, sub.sent));
    sub.said_down = true;
    arm(sub, Clock::now() + options_.retry);
}

void PvwsSession::clear(const std::string& name) {
    auto it = subs_.find(name);
    if (it == subs_.end()) return;
    Sub& sub = *it->second;
    sub.timer.cancel();
    if (sub.sid) core_->destroy_channel(sub.sid);
    by_cid_.erase(sub.cid);
    by_ioid_.erase(sub.ioid);
    subs_.erase(it);
}

void PvwsSession::channel_closed(std::uint32_t, std::uint32_t cid) {
    if (auto it = by_cid_.find(cid); it != by_cid_.end()) went_down(*it->second);
}

// ---- updates: the throttle -------------------------------------------------------------------

// The newest value waits for the throttle period since the last send; the core's monitor
// queue squashes behind it, and holds back while the socket's backlog is high.
std::size_t PvwsSession::monitor_update(std::uint32_t ioid, const Value& value, const BitSet&, const BitSet&,
                                        protocol::detail::SharedEncoding*) {
    auto it = by_ioid_.find(ioid);
    if (it == by_ioid_.end()) return 0;
    Sub& sub = *it->second;
    const auto due = sub.last_sent + options_.throttle;
    if (options_.throttle.count() == 0 || Clock::now() >= due) return send_update(sub, value);
    sub.pending = value;
    if (!sub.timer_armed) arm(sub, due);
    return 0;
}

std::size_t PvwsSession::send_update(Sub& sub, const Value& value) {
    const bool readonly = !(options_.web_write && core_->channel_writable(sub.sid));
    std::string text = pvws::update_json(sub.name, value, readonly, sub.sent);
    const std::size_t bytes = text.size();
    send(std::move(text));
    sub.said_down = false;
    sub.last_sent = Clock::now();
    sub.pending = Value();
    return bytes;
}

void PvwsSession::arm(Sub& sub, Clock::time_point when) {
    sub.timer_armed = true;
    sub.timer.expires_at(when);
    sub.timer.async_wait([weak = weak_from_this(), name = sub.name](boost::system::error_code ec) {
        if (ec) return;
        if (auto self = weak.lock(); self && !self->closed_flag_) self->on_timer(name);
    });
}

void PvwsSession::on_timer(const std::string& name) {
    auto it = subs_.find(name);
    if (it == subs_.end()) return;
    Sub& sub = *it->second;
    sub.timer_armed = false;
    if (!sub.sid) return open(sub);
    if (sub.pending) send_update(sub, sub.pending);
}

// ---- writes ----------------------------------------------------------------------------------

namespace {
// The index of `choice` among an enum's `choices` (or the text as a number).
std::optional<std::int32_t> choice_index(const Value& choices, const std::string& choice) {
    if (choices) {
        const auto a = choices.array();
        if (a.holds<std::string>())
            for (std::size_t i = 0; i < a.size(); ++i)
                if (a.span<std::string>()[i] == choice) return std::int32_t(i);
    }
    try {
        return std::stoi(choice);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// `data` (of the PV's type) with its value field set from a PVWS write: a number or a text; an
// enum takes its index or one of its choices (those of `now`, the PV's current value).
bool fill_put(Value& data, const Value& now, const pvws::Request& r, std::string& error) {
    Value field = data.field("value");
    if (!field) return error = "the PV has no value field", false;
    if (field.code() == TypeCode::Struct && field.field("index")) {
        Value index = field["index"];
        if (r.number) return index.try_set(*r.number) || (error = "not a choice index", false);
        const auto i = choice_index(now ? now.field("value.choices") : Value(), r.text);
        return (i && index.try_set(*i)) || (error = "'" + r.text + "' is not one of the choices", false);
    }
    if (r.number) return field.try_set(*r.number) || (error = "the PV does not take a number", false);
    return field.try_set(r.text) || (error = "the PV does not take '" + r.text + "'", false);
}
}  // namespace

void PvwsSession::write(const pvws::Request& r) {
    const auto fail = [&](std::string_view why) { send(pvws::error_json("cannot write " + r.pv + ": " + std::string(why))); };
    if (!options_.web_write) return fail(web_write_disabled);
    auto it = subs_.find(r.pv);
    if (it == subs_.end()) return fail("not subscribed (PVWS writes only to subscribed PVs)");
    Sub& sub = *it->second;
    if (!sub.sid) return fail("the PV is not connected");
    auto [st, type] = core_->field_type(sub.sid, "");
    if (!st.success() || !type) return fail(st.success() ? "the PV has no type" : st.message);
    const std::uint32_t ioid = next_id_++;
    auto init = core_->init(sub.sid, ioid, OpKind::put, Value(), ChannelCore::MonitorStart{});
    if (!init.status.success()) return fail(init.status.message);
    Value data(type);
    std::string error;
    if (!fill_put(data, core_->current(ioid).value, r, error)) {
        core_->destroy_op(ioid);
        return fail(error);
    }
    core_->put(ioid, data, data.marks(), [weak = weak_from_this(), ioid, pv = r.pv](wire::Status status) {
        auto self = weak.lock();
        if (!self) return;
        self->core_->destroy_op(ioid);
        if (!status.success()) self->send(pvws::error_json("cannot write " + pv + ": " + status.message));
    });
}

}  // namespace pvwire::server::detail
