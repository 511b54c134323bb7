/// @file
/// What a Server counts (ServerStats, from Server::stats()) and its rendering as Prometheus
/// text (format_prometheus(), what Server::metrics_text() and GET /metrics answer).
/// docs/metrics.md lists every metric and what it counts.
///
/// The counters cost the hot path almost nothing: each connection counts into a block of its
/// own, written only by its strand, and Server::stats() adds the blocks up when asked.
///
/// Threading: plain values; format_prometheus() is a pure function.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pvwire::server {

/// The operations a channel offers, in every protocol.
enum class OpKind : std::uint8_t { get, put, put_get, monitor, array, process, rpc };
/// How many OpKinds there are (the size of ServerStats::operations).
inline constexpr std::size_t op_kind_count = 7;
/// The kind's name as the metrics spell it: "get", "put", "put_get", "monitor", "array",
/// "process", "rpc".
std::string_view op_kind_name(OpKind kind) noexcept;

/// Counters of a Server since it started (Server::stats()). Counters only grow; the fields
/// marked "now" are gauges.
struct ServerStats {
    std::uint64_t connections_accepted = 0; ///< client connections accepted, on every listener
    std::uint64_t connections_open = 0;     ///< client connections open now
    std::uint64_t connections_dropped = 0;  ///< closed by us for a protocol error, limit or timeout
    std::uint64_t searches = 0;             ///< SEARCH messages received (UDP and TCP)
    std::uint64_t search_replies = 0;       ///< SEARCH_RESPONSE messages sent
    std::uint64_t searches_forwarded = 0;   ///< unicast searches passed on to the other servers of the host
    std::uint64_t beacons = 0;              ///< beacons sent
    std::uint64_t echoes = 0;               ///< ECHO requests answered
    /// Refused at a limit (ServerConfig::max_*): connections closed at once, channels and
    /// operations answered with an error status.
    std::uint64_t connections_refused = 0;
    std::uint64_t channels_refused = 0;     ///< channels refused at a limit
    std::uint64_t operations_refused = 0;   ///< operations refused at a limit
    /// UDP searches left unanswered over ServerConfig::search_rate_per_source or search_rate_total.
    std::uint64_t searches_limited = 0;
    /// Connections closed because more than ServerConfig::max_pending_output bytes were queued.
    std::uint64_t connections_too_slow = 0;
    /// Times a listener paused accepting because the process or system ran out of file
    /// descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) instead of retrying at once.
    std::uint64_t accept_backoffs = 0;

    std::uint64_t channels_open = 0;        ///< channels open now, on every connection
    std::uint64_t operations_open = 0;      ///< operations open now (monitors included)
    std::uint64_t bytes_received = 0;       ///< message bytes received from clients
    std::uint64_t bytes_sent = 0;           ///< message bytes queued for clients
    /// Requests executed, by kind (index: OpKind): each get, put, put_get, array, process and
    /// rpc execution, and each monitor subscription created.
    std::array<std::uint64_t, op_kind_count> operations{};
    std::uint64_t monitor_updates_sent = 0;      ///< monitor updates sent
    std::uint64_t monitor_updates_squashed = 0;  ///< updates merged into a newer one in a full queue
    /// The fullest monitor queue over the last second or so: entries / queueSize, 0..1.
    double monitor_queue_fill = 0;

    /// Errors, by kind (none counted twice: errors() is their sum).
    std::uint64_t protocol_errors = 0;   ///< connections dropped for a bad message or framing
    std::uint64_t timeouts = 0;          ///< connections closed for idleness or no validation
    std::uint64_t channel_errors = 0;    ///< channel creations refused (unknown name, limit)
    std::uint64_t operation_errors = 0;  ///< requests answered with an error status (limits included)
    /// Channels and operations the access rules refused (docs/security.md; also counted in
    /// channel_errors or operation_errors), and monitors they ended.
    std::uint64_t access_denied = 0;
    /// Connections the transport closed: too much output pending (a slow reader, also in
    /// connections_too_slow), a socket error.
    std::uint64_t transport_errors = 0;
    /// Every error kind added up, connections refused at a limit included.
    std::uint64_t errors() const noexcept {
        return protocol_errors + timeouts + channel_errors + operation_errors + transport_errors + connections_refused;
    }

    /// Store writes (SharedPV puts and posts to a networked store, e.g. RedisStore) of this
    /// process since it started; 0 with the embedded memory store.
    std::uint64_t store_writes = 0;
    /// Their latency, write to acknowledgement, added up (seconds).
    double store_write_seconds = 0;
    /// Median write latency over the last second or so (seconds; 0 when nothing was written).
    double store_write_latency_p50 = 0;
};

/// `stats` as Prometheus text exposition format 0.0.4: HELP and TYPE lines, metric names
/// prefixed "pvwire_", counters suffixed "_total", one line per sample, ending in a newline.
std::string format_prometheus(const ServerStats& stats);

}  // namespace pvwire::server
