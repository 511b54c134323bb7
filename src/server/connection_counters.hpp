// ConnectionCounters: what one client connection counts for ServerStats. Written only on the
// connection's strand, read by Server::stats() from any thread: relaxed atomics written with a
// plain load and store (one writer, so no read-modify-write and no lock prefix), each
// connection on its own block, so the hot path never shares a cache line with another
// connection. The server keeps the blocks and adds them up when asked; a closed connection's
// block is folded into the server's totals.
#pragma once

#include <pvwire/server/metrics.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>

namespace pvwire::server::detail {

struct ConnectionCounters {
    using Counter = std::atomic<std::uint64_t>;

    // The single writer's increment (the strand's).
    static void add(Counter& c, std::uint64_t n = 1) noexcept {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    static void set(Counter& c, std::uint64_t v) noexcept { c.store(v, std::memory_order_relaxed); }
    static std::uint64_t get(const Counter& c) noexcept { return c.load(std::memory_order_relaxed); }

    void operation(OpKind kind) noexcept { add(operations[static_cast<std::size_t>(kind)]); }
    // A monitor queue holding `size` of its `limit` entries: the peak since the reader last
    // took it (queue_fill_peak(), in millionths).
    void queue_fill(std::size_t size, std::size_t limit) noexcept {
        if (limit == 0) return;
        const std::uint64_t fill = std::min<std::uint64_t>(size * 1000000 / limit, 1000000);
        if (fill > get(fill_peak)) set(fill_peak, fill);
    }
    // Read and restart the peak (the reader's; a racing write may survive the reset).
    std::uint64_t take_queue_fill_peak() noexcept { return fill_peak.exchange(0, std::memory_order_relaxed); }

    // Adds this block's counters to `s` (gauges included: a closed connection's are 0).
    void add_to(ServerStats& s) const noexcept {
        s.bytes_received += get(bytes_in);
        s.bytes_sent += get(bytes_out);
        for (std::size_t i = 0; i < op_kind_count; ++i) s.operations[i] += get(operations[i]);
        s.monitor_updates_sent += get(updates_sent);
        s.monitor_updates_squashed += get(updates_squashed);
        s.protocol_errors += get(protocol_errors);
        s.timeouts += get(timeouts);
        s.channel_errors += get(channel_errors);
        s.operation_errors += get(operation_errors);
        s.access_denied += get(access_denied);
        s.transport_errors += get(transport_errors);
        s.channels_open += get(channels);
        s.operations_open += get(operations_open);
    }

    Counter bytes_in{0}, bytes_out{0};
    std::array<Counter, op_kind_count> operations{};
    Counter updates_sent{0}, updates_squashed{0};
    Counter protocol_errors{0}, timeouts{0}, channel_errors{0}, operation_errors{0}, transport_errors{0};
    Counter access_denied{0};  // refused by the access rules
    Counter channels{0}, operations_open{0};  // gauges: open now
    Counter fill_peak{0};                      // millionths; the reader resets it
};

}  // namespace pvwire::server::detail
