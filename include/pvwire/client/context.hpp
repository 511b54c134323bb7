// Context: a pvAccess client on Boost.Asio. It searches for channel names over UDP (and the
// configured name servers over TCP), listens to beacons to notice new and restarted servers,
// keeps one validated TCP connection per server shared by all channels to it, sends echo
// keep-alives, detects dead peers within the EPICS timeout, and re-searches and reconnects
// after a loss.
//
// Threading: the context runs its own io_context on one thread. All its state lives on one
// strand; every callback it makes (channel state changes, echo replies) runs there, one at a
// time, and must not block. Public member functions may be called from any thread.
// Lifetime: dropping a Channel handle stops searching for it; stop() or the destructor closes
// everything and joins the thread.
#pragma once

#include <pvwire/net/asio.hpp>
#include <pvwire/net/config.hpp>
#include <pvwire/wire/basic_types.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace pvwire::client {

class Context;

struct ClientOptions {
    // Authentication methods we accept, in order of preference.
    std::vector<std::string> auth_methods{"ca", "anonymous"};
    std::string user;  // "ca" account name; empty: this process's login name
    std::string host;  // "ca" host name; empty: this host's name
};

struct ContextStats {
    std::uint64_t searches_sent = 0;        // SEARCH messages (datagrams and name-server messages)
    std::uint64_t search_responses = 0;
    std::uint64_t beacons = 0;
    std::uint64_t servers_noticed = 0;      // new or restarted servers seen in beacons
    std::uint64_t connections_opened = 0;
    std::uint64_t connections_lost = 0;
    std::uint64_t echoes_sent = 0;
};

// One TCP connection to one server, validated, shared by every channel on that server.
class ServerLink {
public:
    enum class State { Connecting, Validating, Validated, Closed };
    using EchoHandler = std::function<void(std::error_code, std::vector<std::byte> payload)>;

    virtual ~ServerLink() = default;
    virtual State state() const = 0;
    virtual net::tcp::endpoint server() const = 0;
    // The method the handshake settled on ("ca" or "anonymous"), once validating started.
    virtual std::string auth_method() const = 0;
    // Sends an ECHO with `payload`; the handler gets the server's reply (or an error when the
    // link closes first). Replies are matched in order.
    virtual void echo(std::vector<std::byte> payload, EchoHandler handler) = 0;
    // Blocks until validated or closed or the timeout; true when validated.
    virtual bool wait_validated(std::chrono::milliseconds timeout) = 0;
    virtual void close() = 0;
};

// A channel name being searched for and kept connected.
class Channel {
public:
    enum class State { Searching, Connecting, Connected, Closed };
    using StateHandler = std::function<void(State)>;

    virtual ~Channel() = default;
    virtual const std::string& name() const = 0;
    virtual State state() const = 0;
    // The server currently serving the channel (when Connecting or Connected).
    virtual std::optional<net::tcp::endpoint> server() const = 0;
    // Called on the context's strand at every state change (and once with the current state).
    virtual void on_state(StateHandler handler) = 0;
    // Blocks until Connected or the timeout; true when connected.
    virtual bool wait_connected(std::chrono::milliseconds timeout) = 0;
    // The validated connection this channel uses, when connected.
    virtual std::shared_ptr<ServerLink> link() const = 0;
};

class Context {
public:
    explicit Context(net::ClientConfig config = net::ClientConfig::from_env(), ClientOptions options = {});
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    // Starts searching for `name`; the handle keeps the search alive.
    std::shared_ptr<Channel> channel(std::string name);
    // A connection to one server, bypassing search (like PVXS's ConnectBuilder::server()).
    std::shared_ptr<ServerLink> link(const net::tcp::endpoint& server);
    // Re-searches every pending name soon (as a beacon from a new server would).
    void hurry();
    void stop();

    // Where this context listens for beacons.
    std::uint16_t beacon_port() const;
    const net::ClientConfig& config() const;
    ContextStats stats() const;

    class Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace pvwire::client
