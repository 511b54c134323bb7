// Connecting a TCP socket to a ServerAddress's host and port: an IP literal directly (no
// resolver round trip: a client opening links to thousands of servers found by search pays
// nothing extra), a name through the resolver, each resolved address in turn. Private to src/net.
#pragma once

#include <pvwire/net/asio.hpp>
#include <pvwire/net/server_address.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace pvwire::net::detail {

// `done(ec, socket, error_text)` runs once, on `ex`.
using TcpConnected = std::function<void(boost::system::error_code, tcp::socket, std::string)>;

// Opens `socket` for `to` and binds it to `local` (port 0); an error when they cannot be.
inline boost::system::error_code bind_local(tcp::socket& socket, const tcp::endpoint& to, const asio::ip::address& local) {
    boost::system::error_code ec;
    socket.open(to.protocol(), ec);
    if (!ec) socket.bind(tcp::endpoint(local, 0), ec);
    return ec;
}

// `local`: the address to connect from (the kernel picks one when it is unset); with a host
// name, the first resolved address of its family is tried.
inline void connect_tcp(const ServerAddress& address, asio::any_io_executor ex, TcpConnected done,
                        std::optional<asio::ip::address> local = std::nullopt) {
    auto socket = std::make_shared<tcp::socket>(ex);
    const std::string where = address.host + ":" + std::to_string(address.port);
    auto finish = [socket, where, done = std::move(done)](boost::system::error_code ec) {
        if (ec) return done(ec, tcp::socket(socket->get_executor()), "connect to " + where + " failed: " + ec.message());
        done({}, std::move(*socket), {});
    };
    auto connect_from_local = [socket, local, ex](const tcp::endpoint& to, auto finish) {
        if (const auto ec = bind_local(*socket, to, *local))
            return asio::post(ex, [finish = std::move(finish), ec]() mutable { finish(ec); });
        socket->async_connect(to, std::move(finish));
    };
    boost::system::error_code ec;
    const auto ip = asio::ip::make_address(address.host, ec);
    if (!ec) {
        if (local) return connect_from_local(tcp::endpoint(ip, address.port), std::move(finish));
        socket->async_connect(tcp::endpoint(ip, address.port), std::move(finish));
        return;
    }
    auto resolver = std::make_shared<tcp::resolver>(ex);
    resolver->async_resolve(address.host, std::to_string(address.port),
                            [resolver, socket, local, connect_from_local, finish = std::move(finish)](
                                boost::system::error_code ec, tcp::resolver::results_type results) mutable {
                                if (ec) return finish(ec);
                                if (local) {
                                    for (const auto& r : results)
                                        if (r.endpoint().address().is_v4() == local->is_v4())
                                            return connect_from_local(r.endpoint(), std::move(finish));
                                    return finish(asio::error::address_family_not_supported);
                                }
                                asio::async_connect(*socket, results,
                                                    [finish = std::move(finish)](boost::system::error_code ec,
                                                                                 const tcp::endpoint&) { finish(ec); });
                            });
}

}  // namespace pvwire::net::detail
