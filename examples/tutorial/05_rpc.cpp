// 05_rpc: call an RPC service with arguments (an NTURI, as pvxcall sends).
//   05_rpc PV name=value ...
#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>

#include <iostream>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: 05_rpc PV [name=value ...]\n";
        return 2;
    }
    pvwire::nt::NTURI uri;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        uri.add_arg(pvwire::TypeCode::String, arg.substr(0, arg.find('=')));
    }
    auto request = uri.create();
    request["scheme"] = "pva";
    request["path"] = argv[1];
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto eq = arg.find('=');
        request["query." + arg.substr(0, eq)] = eq == std::string::npos ? "" : arg.substr(eq + 1);
    }
    pvwire::client::Context ctx;
    try {
        std::cout << ctx.rpc(argv[1], request).value.to_string();
    } catch (const pvwire::client::Error& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    return 0;
}
