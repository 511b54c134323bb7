/// @file
/// SearchScheduler: when each unresolved channel is searched for (protocol.md §6.2), and how
/// names are packed into SEARCH messages. No I/O and no clock of its own: the caller passes
/// the time.
///
/// Schedule (PVXS-like, bounded): a new name goes out with the next batch (the caller calls
/// due() after a short coalescing delay), then again after 1, 1, 2, 3, ... seconds, the gap
/// growing by one second per attempt up to 30 s, then every 30 s. hurry() (a new server seen
/// by beacon, a name server connected) brings every pending name forward to within the next
/// `hurry_spread`, spread out so a large number does not go out in one burst; at most one
/// hurry per 30 s.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace pvwire::protocol {

class SearchScheduler {
public:
    using Clock = std::chrono::steady_clock;
    using Duration = Clock::duration;

    struct Options {
        Duration max_interval = std::chrono::seconds(30);
        Duration hurry_spread = std::chrono::seconds(1);
        Duration hurry_holdoff = std::chrono::seconds(30);
        /// Largest SEARCH payload (PVXS keeps UDP searches under ~1400 bytes).
        std::size_t max_payload = 1400;
        /// Names searched in one call of due(): spreads a bulk connect over several ticks.
        std::size_t max_per_tick = 2000;
    };

    struct Entry {
        std::uint32_t cid;
        std::string name;
    };

    SearchScheduler() = default;
    explicit SearchScheduler(Options o) : opts_(o) {}

    /// Starts searching for `name` (cid chosen by the caller); due at once.
    void add(std::uint32_t cid, std::string name, Clock::time_point now);
    /// Stops searching (found, or the channel was dropped).
    void remove(std::uint32_t cid);
    bool contains(std::uint32_t cid) const { return channels_.count(cid) != 0; }
    std::size_t size() const noexcept { return channels_.size(); }

    /// Names due at `now`, grouped into batches that each fit one SEARCH message; each
    /// returned name is rescheduled.
    std::vector<std::vector<Entry>> due(Clock::time_point now);
    /// When the next name becomes due (time_point::max() if none).
    Clock::time_point next_due() const;
    /// Brings every pending name forward (see above). Returns false during the hold-off.
    bool hurry(Clock::time_point now);

    /// Bytes one name takes in a SEARCH payload: cid (4) + Size + name.
    static std::size_t entry_bytes(const std::string& name) noexcept {
        return 4 + (name.size() < 254 ? 1 : 5) + name.size();
    }

private:
    using Queue = std::multimap<Clock::time_point, std::uint32_t>;
    struct State {
        std::string name;
        unsigned attempts = 0;
        Queue::iterator pos;  ///< this channel's one entry in queue_
    };
    void schedule(std::uint32_t cid, Clock::time_point when);

    Options opts_;
    std::unordered_map<std::uint32_t, State> channels_;
    /// due time -> cid, one entry per channel: next_due() is the first, and a found channel
    /// leaves no stale entry behind (10,000 channels connect without a scan per event)
    Queue queue_;
    Clock::time_point last_hurry_{};
    bool hurried_ = false;
};

}  // namespace pvwire::protocol
