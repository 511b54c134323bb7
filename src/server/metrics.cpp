#include <pvwire/server/metrics.hpp>

#include <fmt/format.h>

#include <iterator>

namespace pvwire::server {

std::string_view op_kind_name(OpKind kind) noexcept {
    switch (kind) {
    case OpKind::get: return "get";
    case OpKind::put: return "put";
    case OpKind::put_get: return "put_get";
    case OpKind::monitor: return "monitor";
    case OpKind::array: return "array";
    case OpKind::process: return "process";
    case OpKind::rpc: return "rpc";
    }
    return "unknown";
}

namespace {

// Writes the families of the Prometheus text format: a HELP and a TYPE line, then its samples.
class Exposition {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        fmt::format_to(std::back_inserter(out_), "# HELP pvwire_{} {}\n# TYPE pvwire_{} {}\n", name, help, name, type);
    }
    // A sample of the family just begun: `name` may carry a suffix (_sum) and `labels` a
    // label set ("{kind=\"get\"}").
    template <class T> void sample(std::string_view name, T value, std::string_view labels = {}) {
        fmt::format_to(std::back_inserter(out_), "pvwire_{}{} {}\n", name, labels, value);
    }
    template <class T> void one(std::string_view name, std::string_view type, std::string_view help, T value) {
        family(name, type, help);
        sample(name, value);
    }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

// A family of one sample from a ServerStats field.
struct Single {
    const char* name;
    const char* type;
    const char* help;
    std::uint64_t ServerStats::*field;
};
constexpr Single head[] = {
    {"connections", "gauge", "Client connections open now.", &ServerStats::connections_open},
    {"connections_accepted_total", "counter", "Client connections accepted.", &ServerStats::connections_accepted},
    {"connections_dropped_total", "counter", "Connections closed by the server for a protocol error, limit or timeout.",
     &ServerStats::connections_dropped},
    {"channels", "gauge", "Channels open now.", &ServerStats::channels_open},
    {"operations", "gauge", "Operations open now (monitors included).", &ServerStats::operations_open},
    {"bytes_received_total", "counter", "Message bytes received from clients.", &ServerStats::bytes_received},
    {"bytes_sent_total", "counter", "Message bytes queued for clients.", &ServerStats::bytes_sent},
};
constexpr Single updates[] = {
    {"monitor_updates_sent_total", "counter", "Monitor updates sent.", &ServerStats::monitor_updates_sent},
    {"monitor_updates_squashed_total", "counter", "Monitor updates merged into a newer one in a full queue.",
     &ServerStats::monitor_updates_squashed},
};
constexpr Single tail[] = {
    {"searches_limited_total", "counter", "UDP searches left unanswered over the search rate limits.",
     &ServerStats::searches_limited},
    {"connections_too_slow_total", "counter", "Connections closed with more than the maximum output pending.",
     &ServerStats::connections_too_slow},
    {"accept_backoffs_total", "counter", "Listener pauses for lack of file descriptors or memory.",
     &ServerStats::accept_backoffs},
    {"searches_total", "counter", "SEARCH messages received (UDP and TCP).", &ServerStats::searches},
    {"search_replies_total", "counter", "SEARCH_RESPONSE messages sent.", &ServerStats::search_replies},
    {"searches_forwarded_total", "counter", "Unicast searches passed on to the other servers of the host.",
     &ServerStats::searches_forwarded},
    {"beacons_total", "counter", "Beacons sent.", &ServerStats::beacons},
    {"echoes_total", "counter", "ECHO requests answered.", &ServerStats::echoes},
    {"access_denied_total", "counter", "Channels and operations refused, and monitors ended, by the access rules.",
     &ServerStats::access_denied},
};
// One sample of a labelled family.
struct Labelled {
    const char* labels;
    std::uint64_t ServerStats::*field;
};
constexpr Labelled errors[] = {
    {"{kind=\"protocol\"}", &ServerStats::protocol_errors},
    {"{kind=\"timeout\"}", &ServerStats::timeouts},
    {"{kind=\"connection_limit\"}", &ServerStats::connections_refused},
    {"{kind=\"channel\"}", &ServerStats::channel_errors},
    {"{kind=\"operation\"}", &ServerStats::operation_errors},
    {"{kind=\"transport\"}", &ServerStats::transport_errors},
};
constexpr Labelled refused[] = {
    {"{what=\"connection\"}", &ServerStats::connections_refused},
    {"{what=\"channel\"}", &ServerStats::channels_refused},
    {"{what=\"operation\"}", &ServerStats::operations_refused},
};

template <std::size_t N> void singles(Exposition& e, const ServerStats& s, const Single (&list)[N]) {
    for (const auto& m : list) e.one(m.name, m.type, m.help, s.*m.field);
}
template <std::size_t N>
void labelled(Exposition& e, const ServerStats& s, std::string_view name, const Labelled (&list)[N]) {
    for (const auto& m : list) e.sample(name, s.*m.field, m.labels);
}

}  // namespace

std::string format_prometheus(const ServerStats& s) {
    Exposition e;
    singles(e, s, head);
    e.family("operations_total", "counter", "Requests executed by kind (a monitor counts once, when it is created).");
    for (std::size_t i = 0; i < op_kind_count; ++i)
        e.sample("operations_total", s.operations[i],
                 fmt::format("{{kind=\"{}\"}}", op_kind_name(static_cast<OpKind>(i))));
    singles(e, s, updates);
    e.one("monitor_queue_fill", "gauge", "Fullest monitor queue over the last second (entries / queueSize).",
          s.monitor_queue_fill);
    e.family("errors_total", "counter", "Errors by kind.");
    labelled(e, s, "errors_total", errors);
    e.family("refused_total", "counter", "Refused at a configured limit (PVWIRE_MAX_*).");
    labelled(e, s, "refused_total", refused);
    singles(e, s, tail);
    e.family("store_write_latency_seconds", "summary",
             "Store write latency, write to acknowledgement (networked stores); the quantile over the last second.");
    e.sample("store_write_latency_seconds", s.store_write_latency_p50, "{quantile=\"0.5\"}");
    e.sample("store_write_latency_seconds_sum", s.store_write_seconds);
    e.sample("store_write_latency_seconds_count", s.store_writes);
    return e.take();
}

}  // namespace pvwire::server
