/// @file
/// BeaconSchedule: when a server sends beacons (protocol.md §4.8): one at start, then a burst
/// of `burst_count` at the fast period (EPICS_PVAS_BEACON_PERIOD, 15 s by default), then
/// every `slow_period` (180 s, or the fast period if that is longer). The sequence number
/// wraps at 256.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace pvwire::protocol {

class BeaconSchedule {
public:
    using Duration = std::chrono::steady_clock::duration;

    explicit BeaconSchedule(Duration fast = std::chrono::seconds(15), unsigned burst_count = 10,
                            Duration slow = std::chrono::seconds(180))
        : fast_(fast), slow_(std::max(slow, fast)), burst_(burst_count) {}

    /// Call after sending beacon number sequence(); returns the wait before the next one and
    /// advances the sequence.
    Duration next() noexcept {
        ++sent_;
        ++seq_;
        return sent_ <= burst_ ? fast_ : slow_;
    }
    std::uint8_t sequence() const noexcept { return seq_; }
    /// Back to the burst (e.g. after the served names changed).
    void restart_burst() noexcept { sent_ = 0; }

private:
    Duration fast_, slow_;
    unsigned burst_;
    unsigned sent_ = 0;
    std::uint8_t seq_ = 0;
};

}  // namespace pvwire::protocol
