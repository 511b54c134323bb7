// 04_serve: serve one writable PV and update it from the program every second.
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
    server.add_pv(name, pv);
    server.start();
    std::cout << "serving " << name << " on TCP port " << server.tcp_port() << " for 30 s\n";

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
