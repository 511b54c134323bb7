// A server::Server on the test's own io_context (never started: no sockets) serving one end of
// an in-memory pipe (Server::accept), with the test speaking pvAccess frames on the other end
// (test::WireClient). The test runs the io_context itself until no handler is ready, so every
// step is deterministic and "the server holds" means it has nothing left to do.
#pragma once

#include "support/wire_client.hpp"

#include <catch2/catch.hpp>

#include <pvwire/net/pipe_transport.hpp>
#include <pvwire/server/server.hpp>

#include <chrono>
#include <memory>
#include <tuple>

namespace pvwire::test {

struct PipeServerSession {
    net::asio::io_context io;
    server::Server srv{net::ServerConfig::isolated(), io.get_executor()};
    std::shared_ptr<net::PipeTransport> client_end, server_end;
    std::shared_ptr<WireClient> client = std::make_shared<WireClient>();

    PipeServerSession() = default;
    ~PipeServerSession() {
        if (!client_end) return;
        client_end->close("done");
        settle();
    }
    PipeServerSession(const PipeServerSession&) = delete;
    PipeServerSession& operator=(const PipeServerSession&) = delete;

    // Opens the pipe and validates the connection (after the PVs were added).
    void connect() {
        std::tie(client_end, server_end) = net::PipeTransport::make_pair(io.get_executor());
        client->transport = client_end;
        client_end->start(client);
        srv.accept(server_end);
        REQUIRE(settle());
        REQUIRE(client->validated);
    }
    // Runs ready handlers, one at a time; false when none was ready.
    bool step() {
        io.restart();
        return io.poll_one() > 0;
    }
    // Runs handlers until none is ready (timers are not waited for). False if there was still
    // work after 20 s: a server that never holds.
    bool settle() {
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (step())
            if (std::chrono::steady_clock::now() > end) return false;
        return true;
    }
    // Sends `body` and returns the next message received.
    wire::Message exchange(wire::Body body) {
        client->send(std::move(body));
        REQUIRE(settle());
        auto reply = client->next(std::chrono::milliseconds(0));
        REQUIRE(reply);
        return std::move(*reply);
    }
};

}  // namespace pvwire::test
