// pvwire-bench flood: the load server. Each subscriber of a counter PV gets its own
// incrementing uint32 (or a uint32 array whose first element counts), as fast as its monitor
// flow control and the connection allow and never faster: updates are made on demand
// (PVHandler::feeder), so a subscriber sees no gaps unless it asks for fewer updates than
// exist. This is what PVXS's `spam` test server does, so either client can consume either.
#include "programs.hpp"

#include <pvwire/data/nt.hpp>
#include <pvwire/data/value_recycler.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

namespace pvwire::bench {

namespace {

// One subscriber's counter and, for arrays, a small pool of payload buffers: a buffer is
// reused once nothing (queue, socket write, fan-out cache) references it any more, so an
// update costs neither an allocation of the payload nor page faults. Scalar updates reuse
// their values the same way (ValueRecycler).
class CounterFeed {
public:
    CounterFeed(TypePtr type, std::size_t length, std::uint32_t skip_every)
        : type_(std::move(type)), length_(length), skip_every_(skip_every) {}

    Value next() {
        // Scalar counters reuse the values the server has finished sending (arrays are not
        // recycled, their payloads come from the buffer pool below).
        Value v = values_.make(type_);
        ++counter_;
        if (skip_every_ && counter_ % skip_every_ == 0) ++counter_;  // an injected gap
        if (length_ == 0) {
            v["value"] = counter_;
            return v;
        }
        auto buf = free_buffer();
        (*buf)[0] = counter_;  // the counter; the other elements keep what they held
        v["value"].set_array(SharedArray::view(TypeCode::UInt32, buf->data(), buf->size(), buf));
        return v;
    }

private:
    using Buffer = std::vector<std::uint32_t>;
    std::shared_ptr<Buffer> free_buffer() {
        for (auto& b : pool_)
            if (b.use_count() == 1) return b;
        pool_.push_back(std::make_shared<Buffer>(length_, 0u));
        return pool_.back();
    }

    TypePtr type_;
    std::size_t length_;
    std::uint32_t skip_every_;
    std::uint32_t counter_ = 0;
    std::vector<std::shared_ptr<Buffer>> pool_;
    ValueRecycler values_;
};

// A read-only counter PV: gets return the initial value; monitors are fed on demand.
class CounterPV final : public server::PVHandler {
public:
    CounterPV(Value initial, std::size_t length, std::uint32_t skip_every)
        : initial_(std::move(initial)), length_(length), skip_every_(skip_every) {}

    TypePtr type() const override { return initial_.type_ptr(); }
    Value current() const override { return initial_.clone(); }
    void put(Value, const server::Peer&, Done done) override {
        done(wire::Status::error("pvwire-bench flood: counter PVs are read-only"));
    }
    // Never called: feeder() serves every subscriber.
    std::shared_ptr<void> subscribe(Listener) override { return nullptr; }
    Feeder feeder(const server::Peer&) override {
        auto feed = std::make_shared<CounterFeed>(initial_.type_ptr(), length_, skip_every_);
        return [feed](server::MonitorFeed& out) {
            for (auto n = out.room(); n > 0; --n) out.try_post(feed->next());
        };
    }

private:
    Value initial_;
    std::size_t length_;
    std::uint32_t skip_every_;
};

Value initial_value(std::size_t length) {
    if (length == 0) {
        Value v = nt::NTScalar{TypeCode::UInt32}.create();
        v["value"] = std::uint32_t(0);
        return v;
    }
    Value v = nt::NTScalarArray{TypeCode::UInt32}.create();
    v["value"].set_array(SharedArray::from(std::vector<std::uint32_t>(length, 0u)));
    return v;
}

}  // namespace

int run_flood(const FloodArgs& a) {
    auto cfg = a.isolated ? net::ServerConfig::isolated() : net::ServerConfig::from_env();
    if (!a.unix_path.empty()) cfg.unix_path = a.unix_path;
    if (a.http_port >= 0) cfg.http_port = std::uint16_t(a.http_port);
    if (a.msgpack_port >= 0) cfg.msgpack_port = std::uint16_t(a.msgpack_port);
    server::Server srv(cfg);
    const Value initial = initial_value(a.array_length);
    // one store holds every idle PV (as a server of many PVs would), not one store each
    auto store = std::make_shared<store::MemoryStore>();
    for (unsigned i = 0; i < a.count; ++i) {
        const std::string name = a.prefix + std::to_string(i);
        if (a.idle) {
            auto pv = server::SharedPV::create(name, initial, store);
            pv->set_read_only(!a.writable);
            srv.add_pv(name, pv);
        } else {
            srv.add_pv(name, std::make_shared<CounterPV>(initial, a.array_length, a.skip_every));
        }
    }
    std::shared_ptr<server::SharedPV> ham;
    if (!a.ham.empty()) {
        ham = server::SharedPV::create(a.ham, initial_value(0));
        ham->set_read_only(true);
        srv.add_pv(a.ham, ham);
    }
    try {
        srv.start();
    } catch (const std::exception& e) {
        std::cerr << "pvwire-bench flood: cannot start the server: " << e.what() << "\n";
        return 1;
    }
    const auto eff = srv.config();
    const std::string client_addr = eff.interfaces.empty() || eff.interfaces.front().is_unspecified()
                                        ? std::string("127.0.0.1")
                                        : eff.interfaces.front().to_string();
    std::cout << "pvwire-bench flood: " << a.count << " PVs " << a.prefix << "0.." << a.prefix << (a.count - 1)
              << " (" << (a.array_length ? "uint32[" + std::to_string(a.array_length) + "]" : std::string("uint32"))
              << (a.idle ? (a.writable ? ", idle, writable" : ", idle") : ", fed on demand") << ")"
              << (ham ? ", ham PV " + a.ham : std::string()) << " on TCP " << srv.tcp_port() << ", UDP "
              << srv.udp_port() << (cfg.unix_path.empty() ? "" : ", UNIX " + cfg.unix_path)
              << (srv.http_port() ? ", HTTP " + std::to_string(srv.http_port()) : std::string())
              << (srv.msgpack_port() ? ", msgpack " + std::to_string(srv.msgpack_port()) : std::string()) << "\n"
              << "pvwire-bench flood: clients find it with EPICS_PVA_ADDR_LIST=" << client_addr << ":"
              << srv.udp_port() << " EPICS_PVA_AUTO_ADDR_LIST=NO EPICS_PVA_BROADCAST_PORT=0"
              << " EPICS_PVA_SERVER_PORT=" << srv.tcp_port() << "\n"
              << "pvwire-bench flood: running" << (a.seconds > 0 ? "" : ", Ctrl-C to stop") << std::endl;

    install_signals();
    const auto t0 = Clock::now();
    const double cpu0 = cpu_seconds();
    std::uint32_t ham_count = 0;
    auto next_ham = Clock::now();
    while (!interrupted && (a.seconds <= 0 || since(t0) < a.seconds)) {
        if (ham && Clock::now() >= next_ham) {
            Value v(ham->type());
            v["value"] = ++ham_count;
            ham->post(v);
            next_ham += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.ham_period));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const double dt = since(t0), cpu = cpu_seconds() - cpu0;
    const auto stats = srv.stats();
    srv.stop();
    ResultLine("flood").add("pvs", std::uint64_t(a.count)).add("seconds", dt).add("cpu_s", cpu)
        .add("rss_kb", std::uint64_t(rss_kb())).add("connections", std::uint64_t(stats.connections_accepted)).print();
    return 0;
}

}  // namespace pvwire::bench
