// 03_monitor: print every change of a PV for a few seconds.
//   03_monitor PV [SECONDS]
#include <pvwire/client/context.hpp>

#include <chrono>
#include <iostream>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: 03_monitor PV [SECONDS]\n";
        return 2;
    }
    const auto run_for = std::chrono::seconds(argc > 2 ? std::stoi(argv[2]) : 5);
    pvwire::client::Context ctx;
    auto sub = ctx.monitor(argv[1]);  // pipelined, queue of 4; dropping `sub` stops it
    const auto end = std::chrono::steady_clock::now() + run_for;
    while (std::chrono::steady_clock::now() < end) {
        for (const auto& event : sub->wait(std::chrono::milliseconds(200))) {  // a batch at a time
            using Kind = pvwire::client::MonitorEvent::Kind;
            if (event.kind == Kind::Data)
                std::cout << argv[1] << " " << event.value["value"].try_as<std::string>().value_or("?")
                          << (event.overrun.empty() ? "" : " (some updates squashed)") << "\n";
            else if (event.kind == Kind::Disconnected)
                std::cout << argv[1] << " disconnected\n";
        }
    }
    std::cout << sub->updates() << " updates, " << sub->squashed() << " squashed\n";
    return 0;
}
