// 04_serve: serve one writable PV, refuse puts of 100 or more, and update it from the program
// every second.
//   04_serve NAME
#include <pvwire/data/nt.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <iostream>
#include <thread>

int main(int argc, char** argv) {
    const std::string name = argc > 1 ? argv[1] : "tutorial:value";
    pvwire::server::Server server;  // EPICS_PVAS_* / EPICS_PVA_* from the environment

    auto initial = pvwire::nt::NTScalar{pvwire::TypeCode::Float64}.create();
    auto pv = pvwire::server::SharedPV::create(name, initial);  // clients may get, put, monitor
    // every client put passes here first: an error status refuses it, and the client sees the text
    pv->on_put([](pvwire::Value& v, const pvwire::server::Peer&, pvwire::server::PVHandler::Done done) {
        done(v["value"].as<double>() < 100 ? pvwire::wire::Status::ok() : pvwire::wire::Status::error("too big"));
    });
    server.add_pv(name, pv);
    server.start();
    // flushed: a script or a pipe waiting for this line gets it now, not at exit
    std::cout << "serving " << name << " on TCP port " << server.tcp_port() << " for 30 s" << std::endl;

    for (int i = 0; i < 30; ++i) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        auto v = pv->current();
        v["value"] = v["value"].as<double>() + 1;  // marks `value`: only it is posted
        pvwire::nt::set_time_now(v["timeStamp"]);
        v["timeStamp"].mark_all();
        pv->post(v);  // every monitor gets the change
    }
    return 0;
}
