#include "status_pvs.hpp"

#include <pvwire/data/nt.hpp>
#include <pvwire/store/store.hpp>

namespace pvwire::server::detail {

namespace {

// The status PVs, in the order publish() gives their values.
struct StatusPV {
    const char* name;
    bool integer;
    const char* units;
    const char* description;
};
constexpr StatusPV status_pvs[] = {
    {"connections", true, "", "client connections open"},
    {"channels", true, "", "channels open"},
    {"operations", true, "", "operations open"},
    {"bytes_in", true, "B", "bytes received"},
    {"bytes_out", true, "B", "bytes sent"},
    {"bytes_in_rate", false, "B/s", "bytes received per second"},
    {"bytes_out_rate", false, "B/s", "bytes sent per second"},
    {"ops:get", true, "", "get requests executed"},
    {"ops:put", true, "", "put requests executed"},
    {"ops:put_get", true, "", "put-get requests executed"},
    {"ops:monitor", true, "", "monitors created"},
    {"ops:array", true, "", "array requests executed"},
    {"ops:process", true, "", "process requests executed"},
    {"ops:rpc", true, "", "RPC requests executed"},
    {"updates_sent", true, "", "monitor updates sent"},
    {"updates_squashed", true, "", "monitor updates squashed in full queues"},
    {"queue_fill", false, "", "fullest monitor queue over the last second (0..1)"},
    {"errors", true, "", "errors of every kind"},
    {"store_latency_us", false, "us", "store write latency, median over the last second"},
};

double rate(std::uint64_t now, std::uint64_t before, double seconds) {
    return seconds > 0 && now >= before ? static_cast<double>(now - before) / seconds : 0.0;
}

}  // namespace

StatusPVs::StatusPVs(const std::string& prefix) : prefix_(prefix) {
    auto store = std::make_shared<store::MemoryStore>();  // local to this server, never shared
    for (const auto& s : status_pvs) {
        nt::NTScalar shape{s.integer ? TypeCode::UInt64 : TypeCode::Float64, true};
        Value initial = shape.create();
        initial["display.units"] = std::string(s.units);
        initial["display.description"] = std::string(s.description);
        nt::set_time_now(initial["timeStamp"]);
        const std::string name = prefix + ":" + s.name;
        auto pv = SharedPV::create(name, initial, store);
        pv->set_read_only(true);
        pvs_.emplace_back(name, pv);
    }
}

void StatusPVs::post(SharedPV& pv, double value) {
    Value v(pv.type());
    v["value"] = value;
    nt::set_time_now(v["timeStamp"]);
    pv.post(v);
}

void StatusPVs::publish(const ServerStats& s, std::chrono::steady_clock::time_point now) {
    const double seconds =
        last_.at == std::chrono::steady_clock::time_point{} ? 0.0 : std::chrono::duration<double>(now - last_.at).count();
    std::vector<double> values{double(s.connections_open), double(s.channels_open), double(s.operations_open),
                               double(s.bytes_received),  double(s.bytes_sent),
                               rate(s.bytes_received, last_.bytes_in, seconds),
                               rate(s.bytes_sent, last_.bytes_out, seconds)};
    for (auto n : s.operations) values.push_back(double(n));
    values.push_back(double(s.monitor_updates_sent));
    values.push_back(double(s.monitor_updates_squashed));
    values.push_back(s.monitor_queue_fill);
    values.push_back(double(s.errors()));
    values.push_back(s.store_write_latency_p50 * 1e6);
    for (std::size_t i = 0; i < pvs_.size() && i < values.size(); ++i) post(*pvs_[i].second, values[i]);
    last_ = Last{now, s.bytes_received, s.bytes_sent};
}

}  // namespace pvwire::server::detail
