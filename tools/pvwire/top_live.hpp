// The live side of `pvwire top`: one monitor per PV, and the table of their latest readings
// that the client's callbacks fill and the UI thread copies from.
//
// Threading: Context runs the monitors' notify callbacks on its strand. Each callback takes
// its subscription's queued events, turns every update into a Reading (the only place that
// reads an update's Value) and stores it under the table's mutex; it never waits for the UI.
// The UI thread calls rows() about ten times a second, which copies the table under the same
// mutex. Puts complete on the strand too; their outcome waits in the table for the UI.
// Lifetime: the callbacks hold `this`, so stop the Context before the table is destroyed.
#pragma once

#include "top_model.hpp"

#include <pvwire/client/context.hpp>

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pvwire::tool::top {

class LiveTable {
public:
    // What rows()' rate column holds: updates per second, or the value's change per second
    // (for the server's counters).
    enum class RateKind { Updates, Change };

    // Monitors `names` through `ctx` (on `server` when not empty). `labels` (same length, or
    // empty for the names themselves) are what the rows show as their name.
    LiveTable(client::Context& ctx, std::vector<std::string> names, std::vector<std::string> labels,
              const std::string& server, RateKind rate_kind);
    LiveTable(const LiveTable&) = delete;
    LiveTable& operator=(const LiveTable&) = delete;
    ~LiveTable();

    // A copy of every row, rates computed at `now`.
    std::vector<Row> rows(Clock::time_point now);
    // The PV name behind row `i` (rows() keeps the construction order).
    const std::string& name(std::size_t i) const { return names_[i]; }

    // Starts a put of `text` to the value field of `name`; take_outcome() tells how it went.
    void put(client::Context& ctx, const std::string& name, const std::string& text, const std::string& server);
    // The newest put's outcome once (empty while none is new).
    std::string take_outcome();

private:
    struct Entry;
    void drain(std::size_t i);  // with mu_ held
    void apply(Entry& e, client::MonitorEvent& ev);

    std::vector<std::string> names_;
    RateKind rate_kind_;
    std::mutex mu_;
    std::vector<std::unique_ptr<Entry>> entries_;
    std::vector<client::MonitorEvent> batch_;  // pop()'s storage, reused
    std::string outcome_;
    std::shared_ptr<client::Operation> put_op_;
};

}  // namespace pvwire::tool::top
