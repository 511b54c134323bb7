#include <pvwire/protocol/search_scheduler.hpp>

#include <algorithm>

namespace pvwire::protocol {

void SearchScheduler::schedule(std::uint32_t cid, Clock::time_point when) {
    State& st = channels_.at(cid);
    queue_.erase(st.pos);
    st.pos = queue_.emplace(when, cid);
}

void SearchScheduler::add(std::uint32_t cid, std::string name, Clock::time_point now) {
    auto it = channels_.find(cid);
    if (it != channels_.end()) {  // added again: starts over
        it->second.name = std::move(name);
        it->second.attempts = 0;
        schedule(cid, now);
        return;
    }
    channels_.emplace(cid, State{std::move(name), 0, queue_.emplace(now, cid)});
}

void SearchScheduler::remove(std::uint32_t cid) {
    auto it = channels_.find(cid);
    if (it == channels_.end()) return;
    queue_.erase(it->second.pos);
    channels_.erase(it);
}

std::vector<std::vector<SearchScheduler::Entry>> SearchScheduler::due(Clock::time_point now) {
    std::vector<std::vector<Entry>> batches;
    std::size_t payload = 0, taken = 0;
    // fixed part of a SEARCH body: seq 4, flags 1, reserved 3, address 16, port 2,
    // protocols 1 + 4 ("tcp"), channel count 2
    constexpr std::size_t fixed = 33;
    while (!queue_.empty() && queue_.begin()->first <= now && taken < opts_.max_per_tick) {
        const std::uint32_t cid = queue_.begin()->second;
        State& st = channels_.at(cid);
        const std::size_t bytes = entry_bytes(st.name);
        if (batches.empty() || payload + bytes > opts_.max_payload - fixed || batches.back().size() == 0xFFFF) {
            batches.emplace_back();
            payload = 0;
        }
        batches.back().push_back(Entry{cid, st.name});
        payload += bytes;
        ++taken;
        // next gap: 1, 1, 2, 3, ... seconds, capped
        ++st.attempts;
        const auto gap = std::min<Duration>(std::chrono::seconds(std::max(1u, st.attempts - 1)), opts_.max_interval);
        schedule(cid, now + gap);
    }
    return batches;
}

SearchScheduler::Clock::time_point SearchScheduler::next_due() const {
    return queue_.empty() ? Clock::time_point::max() : queue_.begin()->first;
}

bool SearchScheduler::hurry(Clock::time_point now) {
    if (hurried_ && now - last_hurry_ < opts_.hurry_holdoff) return false;
    hurried_ = true;
    last_hurry_ = now;
    if (channels_.empty()) return true;
    // spread the pending names evenly over hurry_spread, in cid order for determinism
    std::vector<std::uint32_t> cids;
    cids.reserve(channels_.size());
    for (const auto& [cid, st] : channels_) cids.push_back(cid);
    std::sort(cids.begin(), cids.end());
    const auto step = opts_.hurry_spread / std::max<std::size_t>(1, cids.size());
    for (std::size_t i = 0; i < cids.size(); ++i) {
        State& st = channels_[cids[i]];
        const auto when = now + step * std::int64_t(i);
        if (when < st.pos->first) {
            st.attempts = std::min(st.attempts, 1u);
            schedule(cids[i], when);
        }
    }
    return true;
}

}  // namespace pvwire::protocol
