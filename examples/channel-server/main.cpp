// channel-server: a program that embeds the pvwire server and serves its own PVs. This is
// the tutorial to copy from:
//
//   example:setpoint   NTScalar double, writable; puts outside [-100, 100] are rejected
//   example:counter    NTScalar uint32 that counts up every second (read-only)
//   example:waveform   NTScalarArray double
//   example:add        RPC: {a, b} (or an NTURI query with a and b) -> NTScalar double a + b
//
// Try it with pvwire get/put/monitor/call, or PVXS's pvxget/pvxput/pvxmonitor/pvxcall.
//   channel-server              # EPICS configuration from the environment
//   channel-server --isolated   # loopback only, ephemeral ports (printed)
#include <pvwire/data/nt.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <csignal>
#include <iostream>
#include <string_view>
#include <thread>

using namespace pvwire;

namespace {
volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }
}  // namespace

int main(int argc, char** argv) {
    const std::string_view option = argc > 1 ? argv[1] : "";
    const char* const usage =
        "usage: channel-server [--isolated]\n"
        "Serves example:setpoint, example:counter, example:waveform and the RPC example:add.\n"
        "  --isolated  loopback only, ephemeral ports (printed); default: the EPICS_PVAS_* /\n"
        "              EPICS_PVA_* environment\n";
    if (option == "-h" || option == "--help") {
        std::cout << usage;
        return 0;
    }
    if (argc > 2 || (argc == 2 && option != "--isolated")) {
        std::cerr << usage;
        return 2;
    }
    const bool isolated = option == "--isolated";
    server::Server srv(isolated ? net::ServerConfig::isolated() : net::ServerConfig::from_env());

    // 1. a writable setpoint whose put handler validates the new value
    Value initial = nt::NTScalar{TypeCode::Float64}.create();
    initial["value"] = 0.0;
    nt::set_time_now(initial["timeStamp"]);
    auto setpoint = server::SharedPV::create("example:setpoint", initial);
    setpoint->on_put([](Value& v, const server::Peer& peer, server::PVHandler::Done done) {
        const double x = v["value"].as<double>();
        if (x < -100 || x > 100) {
            done(wire::Status::error("setpoint must be within [-100, 100], got " + std::to_string(x)));
            return;
        }
        nt::set_time_now(v["timeStamp"]);  // the server stamps accepted values
        v["timeStamp"].mark_all();
        std::cout << peer.credentials.user << "@" << peer.address << " set example:setpoint to " << x << std::endl;
        done(wire::Status::ok());
    });
    srv.add_pv("example:setpoint", setpoint);

    // 2. a read-only counter that the program itself updates
    auto counter = server::SharedPV::create("example:counter", nt::NTScalar{TypeCode::UInt32}.create());
    counter->set_read_only(true);
    srv.add_pv("example:counter", counter);

    // 3. an array
    Value wave = nt::NTScalarArray{TypeCode::Float64}.create();
    wave["value"].set(std::vector<double>{0.0, 0.5, 1.0, 0.5, 0.0, -0.5, -1.0, -0.5});
    srv.add_pv("example:waveform", server::SharedPV::create("example:waveform", wave));

    // 4. an RPC service
    auto add = server::SharedPV::create("example:add", nt::NTScalar{TypeCode::Float64}.create());
    add->on_rpc([](Value arg, const server::Peer&, server::PVHandler::ResultDone done) {
        auto a = arg.field("query.a") ? arg.field("query.a") : arg.field("a");
        auto b = arg.field("query.b") ? arg.field("query.b") : arg.field("b");
        if (!a || !b) {
            done(wire::Status::error("expected arguments a and b"), Value());
            return;
        }
        auto r = nt::NTScalar{TypeCode::Float64}.create();
        auto x = a.try_as<double>(), y = b.try_as<double>();
        if (!x || !y) {
            done(wire::Status::error("a and b must be numbers"), Value());
            return;
        }
        r["value"] = *x + *y;
        done(wire::Status::ok(), r);
    });
    srv.add_pv("example:add", add);

    srv.start();
    std::cout << "channel-server: TCP port " << srv.tcp_port() << ", UDP port " << srv.udp_port() << std::endl;

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::uint32_t n = 0;
    while (!stop_requested) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        Value v = nt::NTScalar{TypeCode::UInt32}.create();
        v["value"] = ++n;
        nt::set_time_now(v["timeStamp"]);
        v["value"].mark();
        v["timeStamp"].mark_all();
        counter->post(v);  // every subscriber gets the update
    }
    srv.stop();
    return 0;
}
