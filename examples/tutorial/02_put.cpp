// 02_put: write a PV's value from text, then read it back.
//   02_put PV VALUE
#include <pvwire/client/context.hpp>

#include <iostream>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: 02_put PV VALUE\n";
        return 2;
    }
    pvwire::client::Context ctx;
    try {
        // "" names the `value` field; other fields by path: {"alarm.severity", "2"}
        ctx.put(argv[1], {{"", argv[2]}});
        std::cout << argv[1] << " = " << ctx.get(argv[1]).value["value"].as<std::string>() << "\n";
    } catch (const pvwire::client::Error& e) {
        std::cerr << e.what() << "\n";  // e.g. the server's reason for refusing the put
        return 1;
    }
    return 0;
}
