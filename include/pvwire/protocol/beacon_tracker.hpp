/// @file
/// BeaconTracker: the servers a client has heard beacons from (protocol.md §6.3), bounded in
/// number and expiring, so a busy or hostile network cannot make it grow without end.
/// A server not heard before, or one whose GUID changed (it restarted), is reported so the
/// client can hurry its pending searches.
#pragma once

#include <pvwire/wire/basic_types.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace pvwire::protocol {

class BeaconTracker {
public:
    using Clock = std::chrono::steady_clock;

    enum class Seen { Known, New, Restarted };

    struct Options {
        std::size_t max_servers = 20000;                  ///< PVXS's bound
        std::chrono::seconds expiry{360};                  ///< 2 x the slow beacon period
    };

    BeaconTracker() = default;
    explicit BeaconTracker(Options o) : opts_(o) {}

    /// `server` names the server's TCP endpoint ("10.0.0.5:5075"). When full, the entry heard
    /// from longest ago is dropped first.
    Seen on_beacon(const std::string& server, const wire::Guid& guid, Clock::time_point now);
    /// Drops entries not heard from within the expiry; returns how many.
    std::size_t expire(Clock::time_point now);
    std::size_t size() const noexcept { return servers_.size(); }
    /// The last GUID heard from `server`, if any.
    const wire::Guid* guid_of(const std::string& server) const;

private:
    struct Entry {
        wire::Guid guid;
        Clock::time_point last;
    };
    Options opts_;
    std::map<std::string, Entry> servers_;
};

}  // namespace pvwire::protocol
