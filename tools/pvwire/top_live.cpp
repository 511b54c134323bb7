// The live side of `pvwire top` (see top_live.hpp).
#include "top_live.hpp"

#include <algorithm>
#include <exception>
#include <utility>

namespace pvwire::tool::top {

namespace {
constexpr std::size_t history_kept = 64;  // numbers per PV for the sparkline
}

struct LiveTable::Entry {
    Row row;
    RateMeter meter;
    std::deque<double> history;
    std::optional<double> last_number;  // for the change per second
    Clock::time_point last_arrival{};
    std::uint64_t counted = 0;  // the subscription's updates() the meter has counted
    std::shared_ptr<client::Subscription> sub;
};

LiveTable::LiveTable(client::Context& ctx, std::vector<std::string> names, std::vector<std::string> labels,
                     const std::string& server, RateKind rate_kind)
    : names_(std::move(names)), rate_kind_(rate_kind) {
    for (std::size_t i = 0; i < names_.size(); ++i) {
        auto e = std::make_unique<Entry>();
        e->row.name = labels.size() == names_.size() ? labels[i] : names_[i];
        e->row.reading.value = "(connecting)";
        entries_.push_back(std::move(e));
    }
    for (std::size_t i = 0; i < names_.size(); ++i) {
        client::MonitorOptions mo;
        mo.server = server;
        mo.queue_size = 8;
        auto sub = ctx.monitor(names_[i], mo, [this, i] {
            std::lock_guard lock(mu_);
            drain(i);
        });
        // Events that came before the handle was stored found no subscription to drain:
        // take them now.
        std::lock_guard lock(mu_);
        entries_[i]->sub = std::move(sub);
        drain(i);
    }
}

LiveTable::~LiveTable() {
    std::vector<std::shared_ptr<client::Subscription>> subs;
    std::shared_ptr<client::Operation> op;
    {
        std::lock_guard lock(mu_);
        for (auto& e : entries_) subs.push_back(std::move(e->sub));
        std::swap(op, put_op_);
    }
    // dropped outside the lock: stopping them may run a callback that takes it
    subs.clear();
    op.reset();
}

void LiveTable::drain(std::size_t i) {
    Entry& e = *entries_[i];
    if (!e.sub) return;
    e.sub->pop(batch_);
    for (auto& ev : batch_) {
        try {
            apply(e, ev);
        } catch (const std::exception& x) {  // a value we cannot show must not stop the client
            e.row.reading.value = std::string("cannot show: ") + x.what();
        }
    }
    batch_.clear();
    // The rate counts every update received, those squashed into a queued one included.
    const auto now = Clock::now();
    const std::uint64_t received = e.sub->updates();
    const std::uint64_t fresh = received >= e.counted ? received - e.counted : 0;
    for (std::uint64_t n = std::min<std::uint64_t>(fresh, 4096); n > 0; --n) e.meter.add(now);
    e.counted = received;
}

void LiveTable::apply(Entry& e, client::MonitorEvent& ev) {
    using K = client::MonitorEvent::Kind;
    switch (ev.kind) {
    case K::Connected: e.row.connected = true; return;
    case K::Disconnected: e.row.connected = false; return;
    case K::Finished:
    case K::Error:
        e.row.connected = false;
        e.row.has_data = false;
        e.row.reading.value = (ev.kind == K::Error ? "error: " : "finished: ") + ev.message;
        return;
    case K::Data: break;
    }
    const auto now = Clock::now();
    e.row.reading = read_update(ev.value, std::chrono::system_clock::now());
    e.row.has_data = e.row.connected = true;
    if (const auto& x = e.row.reading.number) {
        if (rate_kind_ == RateKind::Change && e.last_number && now > e.last_arrival)
            e.row.rate = (*x - *e.last_number) / std::chrono::duration<double>(now - e.last_arrival).count();
        e.last_number = x;
        e.last_arrival = now;
        e.history.push_back(*x);
        if (e.history.size() > history_kept) e.history.pop_front();
    }
}

std::vector<Row> LiveTable::rows(Clock::time_point now) {
    std::lock_guard lock(mu_);
    std::vector<Row> out;
    out.reserve(entries_.size());
    for (auto& e : entries_) {
        out.push_back(e->row);
        if (rate_kind_ == RateKind::Updates) out.back().rate = e->meter.rate(now);
        out.back().history.assign(e->history.begin(), e->history.end());
    }
    return out;
}

void LiveTable::put(client::Context& ctx, const std::string& name, const std::string& text,
                    const std::string& server) {
    client::OpOptions o;
    o.server = server;
    auto op = ctx.put_op(name, {{"value", text}}, o, [this, name, text](std::error_code ec, client::Result r) {
        std::lock_guard lock(mu_);
        outcome_ = ec ? name + ": put refused: " + client::describe(ec, r) : name + ": put " + text + " done";
    });
    std::unique_lock lock(mu_);
    outcome_ = name + ": putting " + text + "...";
    std::swap(put_op_, op);  // a new put replaces (cancels) one still running...
    lock.unlock();
    op.reset();  // ...outside the lock, as its completion takes it
}

std::string LiveTable::take_outcome() {
    std::lock_guard lock(mu_);
    return std::exchange(outcome_, {});
}

}  // namespace pvwire::tool::top
