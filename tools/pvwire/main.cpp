// pvwire: command line tools for EPICS pvAccess. Every subcommand registers itself here.
#include "commands.hpp"

#include <pvwire/version.hpp>

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    CLI::App app{"pvwire: tools for the EPICS pvAccess protocol", "pvwire"};
    app.set_version_flag("-V,--version", std::string("pvwire ") + pvwire::version_string());
    app.require_subcommand(1);
    app.fallthrough();

    pvwire::tool::register_decode(app);

    try {
        CLI11_PARSE(app, argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "pvwire: " << e.what() << "\n";
        return 2;
    }
    return 0;
}
