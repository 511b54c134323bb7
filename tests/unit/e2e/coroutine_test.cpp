// Client operations awaited in a C++20 coroutine (asio::use_awaitable), end to end on loopback.
//
// This runs under g++ and under clang, the compiler of the sanitizer build:
// pvwire/net/asio.hpp enables Boost 1.74's co_await support for clang with libstdc++, which
// Asio leaves off there. In the sanitizer build this one file is compiled without
// -fsanitize=function (CMakeLists.txt): clang 14 cannot generate code for a coroutine with
// that check ("Cannot represent a difference across sections", llvm-project issue 49689).
#include <catch2/catch.hpp>

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#if !defined(BOOST_ASIO_HAS_CO_AWAIT)
#error "Asio's co_await support is off: see pvwire/net/asio.hpp"
#endif

using namespace pvwire;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

struct AwaitedResults {
    std::error_code put_ec, get_ec, missing_ec;
    double got = 0;
    bool finished = false;
};

// Puts 2.5, reads it back, then asks for a name nobody serves (which must time out).
asio::awaitable<void> put_then_get(client::Context& ctx, AwaitedResults& out) {
    // named arguments: g++ 12 mishandles temporaries that live across a co_await
    const std::string name = "co:dbl";
    client::OpOptions options;
    std::vector<std::pair<std::string, std::string>> fields{{"value", "2.5"}};
    auto [put_ec, put_result] = co_await ctx.async_put(name, fields, options, asio::use_awaitable);
    out.put_ec = put_ec;
    auto [get_ec, get_result] = co_await ctx.async_get(name, options, asio::use_awaitable);
    out.get_ec = get_ec;
    if (!get_ec) out.got = get_result.value["value"].as<double>();
    const std::string nobody = "co:nobody";
    client::OpOptions short_wait;
    short_wait.timeout = 300ms;
    auto [missing_ec, missing_result] = co_await ctx.async_get(nobody, short_wait, asio::use_awaitable);
    out.missing_ec = missing_ec;
    out.finished = true;
}

}  // namespace

TEST_CASE("operations awaited in a coroutine complete with their results and errors", "[e2e][channels]") {
    server::Server srv(net::ServerConfig::isolated());
    Value initial = nt::NTScalar{TypeCode::Float64}.create();
    initial["value"] = 1.5;
    srv.add_pv("co:dbl", server::SharedPV::create("co:dbl", initial));
    srv.start();
    client::Context ctx(srv.client_config());

    asio::io_context io;
    AwaitedResults results;
    asio::co_spawn(io, put_then_get(ctx, results), asio::detached);
    io.run_for(10s);
    REQUIRE(results.finished);
    CHECK_FALSE(results.put_ec);
    CHECK_FALSE(results.get_ec);
    CHECK(results.got == 2.5);
    CHECK(results.missing_ec == client::errc::timeout);
}
