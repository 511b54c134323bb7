#include <pvwire/protocol/beacon_tracker.hpp>

#include <algorithm>

namespace pvwire::protocol {

BeaconTracker::Seen BeaconTracker::on_beacon(const std::string& server, const wire::Guid& guid,
                                             Clock::time_point now) {
    auto it = servers_.find(server);
    if (it != servers_.end()) {
        it->second.last = now;
        if (it->second.guid == guid) return Seen::Known;
        it->second.guid = guid;
        return Seen::Restarted;
    }
    if (servers_.size() >= opts_.max_servers) {
        expire(now);
        if (servers_.size() >= opts_.max_servers) {
            auto oldest = std::min_element(servers_.begin(), servers_.end(), [](const auto& a, const auto& b) {
                return a.second.last < b.second.last;
            });
            servers_.erase(oldest);
        }
    }
    servers_.emplace(server, Entry{guid, now});
    return Seen::New;
}

std::size_t BeaconTracker::expire(Clock::time_point now) {
    std::size_t n = 0;
    for (auto it = servers_.begin(); it != servers_.end();) {
        if (now - it->second.last > opts_.expiry) {
            it = servers_.erase(it);
            ++n;
        } else {
            ++it;
        }
    }
    return n;
}

const wire::Guid* BeaconTracker::guid_of(const std::string& server) const {
    auto it = servers_.find(server);
    return it == servers_.end() ? nullptr : &it->second.guid;
}

}  // namespace pvwire::protocol
