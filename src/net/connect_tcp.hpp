// Connecting a TCP socket to a ServerAddress's host and port: an IP literal directly (no
// resolver round trip: a client opening links to thousands of servers found by search pays
// nothing extra), a name through the resolver, each resolved address in turn. Private to src/net.
#pragma once

#include <pvwire/net/asio.hpp>
#include <pvwire/net/server_address.hpp>

#include <functional>
#include <memory>
#include <string>

namespace pvwire::net::detail {

// `done(ec, socket, error_text)` runs once, on `ex`.
using TcpConnected = std::function<void(boost::system::error_code, tcp::socket, std::string)>;

inline void connect_tcp(const ServerAddress& address, asio::any_io_executor ex, TcpConnected done) {
    auto socket = std::make_shared<tcp::socket>(ex);
    const std::string where = address.host + ":" + std::to_string(address.port);
    auto finish = [socket, where, done = std::move(done)](boost::system::error_code ec) {
        if (ec) return done(ec, tcp::socket(socket->get_executor()), "connect to " + where + " failed: " + ec.message());
        done({}, std::move(*socket), {});
    };
    boost::system::error_code ec;
    const auto ip = asio::ip::make_address(address.host, ec);
    if (!ec) {
        socket->async_connect(tcp::endpoint(ip, address.port), std::move(finish));
        return;
    }
    auto resolver = std::make_shared<tcp::resolver>(ex);
    resolver->async_resolve(address.host, std::to_string(address.port),
                            [resolver, socket, finish = std::move(finish)](boost::system::error_code ec,
                                                                           tcp::resolver::results_type results) mutable {
                                if (ec) return finish(ec);
                                asio::async_connect(*socket, results,
                                                    [finish = std::move(finish)](boost::system::error_code ec,
                                                                                 const tcp::endpoint&) { finish(ec); });
                            });
}

}  // namespace pvwire::net::detail
