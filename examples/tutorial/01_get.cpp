// 01_get: read a PV once and print it.
//   01_get PV
#include <pvwire/client/context.hpp>

#include <iostream>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: 01_get PV\n";
        return 2;
    }
    pvwire::client::Context ctx;  // EPICS_PVA_* from the environment
    try {
        const auto result = ctx.get(argv[1]);  // search, connect, GET; throws on failure
        std::cout << argv[1] << "\n" << result.value.to_string();
        std::cout << "value as double: " << result.value["value"].try_as<double>().value_or(0) << "\n";
    } catch (const pvwire::client::Error& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    return 0;
}
