#include "latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace pvwire::server::detail {

std::size_t LatencyHistogram::bucket_of(std::chrono::nanoseconds d) noexcept {
    const double us = std::chrono::duration<double, std::micro>(d).count();
    if (!(us > 1.0)) return 0;
    const auto b = static_cast<std::size_t>(std::log2(us) * 4.0);
    return std::min(b, buckets - 1);
}

double LatencyHistogram::bucket_middle(std::size_t bucket) noexcept {
    return std::exp2((static_cast<double>(bucket) + 0.5) / 4.0) * 1e-6;
}

void LatencyHistogram::record(std::chrono::nanoseconds d) noexcept {
    counts_[bucket_of(d)].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(d.count(), 0)), std::memory_order_relaxed);
    total_.fetch_add(1, std::memory_order_relaxed);
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const noexcept {
    Snapshot s;
    for (std::size_t i = 0; i < buckets; ++i) s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.total = total_.load(std::memory_order_relaxed);
    s.sum_ns = sum_ns_.load(std::memory_order_relaxed);
    return s;
}

double LatencyHistogram::median(const Snapshot& now, const Snapshot& before) noexcept {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < buckets; ++i) n += now.counts[i] - before.counts[i];
    if (n == 0) return 0;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets; ++i) {
        seen += now.counts[i] - before.counts[i];
        if (2 * seen >= n) return bucket_middle(i);
    }
    return bucket_middle(buckets - 1);
}

LatencyHistogram& store_write_latency() {
    static LatencyHistogram histogram;
    return histogram;
}

}  // namespace pvwire::server::detail
