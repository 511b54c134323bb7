// Serves a PV from pvwire on this program's own io_context, next to the program's own Asio
// timer, and reads it back with a pvwire client: Asio is header-only here as in pvwire.
#ifdef BOOST_ASIO_SEPARATE_COMPILATION
#error "pvwire must not make its consumers compile Asio separately"
#endif

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>

int main() {
    boost::asio::io_context io;
    pvwire::server::Server server(pvwire::net::ServerConfig::isolated(), io.get_executor());
    auto initial = pvwire::nt::NTScalar{pvwire::TypeCode::Float64}.create();
    initial["value"] = 42.5;
    server.add_pv("consumer:pv", pvwire::server::SharedPV::create("consumer:pv", initial));
    server.start();

    boost::asio::steady_timer deadline(io, std::chrono::seconds(10));
    deadline.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) io.stop();
    });

    double got = -1;
    pvwire::client::Context client(server.client_config());
    // The completion runs on the client's thread; hand the result to this program's loop.
    client.async_get("consumer:pv", {}, [&](std::error_code ec, pvwire::client::Result result) {
        boost::asio::post(io, [&, ec, result = std::move(result)] {
            if (!ec) got = result.value["value"].as<double>();
            deadline.cancel();
            server.stop();  // posts the closing of its sockets to `io`
            // A server on a caller's executor leaves its connections' work on it after stop();
            // end the loop once the closing above has run.
            boost::asio::post(io, [&] { io.stop(); });
        });
    });
    io.run();
    std::printf("asio consumer: got %g\n", got);
    return got == 42.5 ? 0 : 1;
}
