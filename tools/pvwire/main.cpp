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
    pvwire::tool::register_beacons(app);
    pvwire::tool::register_get(app);
    pvwire::tool::register_put(app);
    pvwire::tool::register_monitor(app);
    pvwire::tool::register_info(app);
    pvwire::tool::register_call(app);
    pvwire::tool::register_list(app);
    pvwire::tool::register_serve(app);
    pvwire::tool::register_store(app);
    pvwire::tool::register_top(app);
    pvwire::tool::register_gateway(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::RuntimeError& e) {  // a subcommand's exit status (it printed why)
        return e.get_exit_code();
    } catch (const CLI::ParseError& e) {  // help, version, or a usage error (status 2)
        const int status = app.exit(e);
        return status == 0 ? 0 : 2;
    } catch (const std::exception& e) {
        std::cerr << "pvwire: " << e.what() << "\n";
        return 2;
    }
    return 0;
}
