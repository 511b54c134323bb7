// LatencyHistogram: a lock-free histogram of durations with four buckets per octave (a bucket
// is about 19 % wide), from 1 µs to 2^24 µs (17 s; longer ones land in the last bucket). Its
// snapshots subtract, so a reader gets the median of any interval between two of them.
// store_write_latency() is the process's histogram of store writes (SharedPV::post to a
// networked store, write to acknowledgement), which Server::stats() reports.
//
// Threading: record() from any thread (relaxed atomic adds); snapshot() from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace pvwire::server::detail {

class LatencyHistogram {
public:
    static constexpr std::size_t buckets = 24 * 4 + 1;

    struct Snapshot {
        std::array<std::uint64_t, buckets> counts{};
        std::uint64_t total = 0;
        std::uint64_t sum_ns = 0;
    };

    void record(std::chrono::nanoseconds d) noexcept;
    Snapshot snapshot() const noexcept;
    // The median of the durations recorded between `before` and `now` (seconds; the middle of
    // its bucket), 0 when none were.
    static double median(const Snapshot& now, const Snapshot& before) noexcept;
    // The bucket of `d`, and the middle of a bucket (seconds): exposed for the tests.
    static std::size_t bucket_of(std::chrono::nanoseconds d) noexcept;
    static double bucket_middle(std::size_t bucket) noexcept;

private:
    std::array<std::atomic<std::uint64_t>, buckets> counts_{};
    std::atomic<std::uint64_t> total_{0}, sum_ns_{0};
};

LatencyHistogram& store_write_latency();

}  // namespace pvwire::server::detail
