/// @file
/// Context: a pvAccess client on Boost.Asio. It searches for channel names over UDP (and the
/// configured name servers over TCP), listens to beacons to notice new and restarted servers,
/// keeps one validated TCP connection per server shared by all channels to it, sends echo
/// keep-alives, detects dead peers within the EPICS timeout, and re-searches and reconnects
/// after a loss.
///
/// Threading: the context runs its own io_context on one thread (or the application's executor,
/// see the constructors). All its state lives on one
/// strand; every callback it makes (channel state changes, echo replies) runs there, one at a
/// time, and must not block. Public member functions may be called from any thread.
/// Lifetime: dropping a Channel handle stops searching for it; stop() or the destructor closes
/// everything and joins the thread.
#pragma once

#include <pvwire/client/result.hpp>
#include <pvwire/net/asio.hpp>
#include <pvwire/net/config.hpp>
#include <pvwire/net/connector.hpp>
#include <pvwire/wire/basic_types.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace pvwire::client {

class Context;

/// Options of a Context beyond the EPICS configuration (net::ClientConfig).
struct ClientOptions {
    /// Authentication methods we accept, in order of preference.
    std::vector<std::string> auth_methods{"ca", "anonymous"};
    std::string user;  ///< "ca" account name; empty: this process's login name
    std::string host;  ///< "ca" host name; empty: this host's name
    /// Connectors for direct server addresses, by transport name ("pva+<name>://..."), besides
    /// the built-in tcp, unix and ws (which an entry of the same name replaces).
    std::map<std::string, net::Connector> connectors;
    /// Search over UDP and listen to beacons. Off: the context opens no UDP socket and finds
    /// channels only through name servers or on a chosen server (OpOptions::server).
    bool search = true;
};

/// Counters of a Context since it started (Context::stats()).
struct ContextStats {
    std::uint64_t searches_sent = 0;        ///< SEARCH messages (datagrams and name-server messages)
    std::uint64_t search_responses = 0;     ///< SEARCH_RESPONSE messages received
    std::uint64_t beacons = 0;              ///< beacons received
    std::uint64_t servers_noticed = 0;      ///< new or restarted servers seen in beacons
    std::uint64_t connections_opened = 0;   ///< TCP connections to servers opened
    std::uint64_t connections_lost = 0;     ///< connections to servers that closed, for any reason
    std::uint64_t echoes_sent = 0;          ///< ECHO requests sent (keep-alives and echo())
};

/// One TCP connection to one server, validated, shared by every channel on that server.
class ServerLink {
public:
    /// Where the connection is in its life: connecting, in the handshake, usable, or closed.
    enum class State { Connecting, Validating, Validated, Closed };
    /// Receives the outcome of echo(): an error, or the payload the server sent back.
    using EchoHandler = std::function<void(std::error_code, std::vector<std::byte> payload)>;

    virtual ~ServerLink() = default;
    /// The connection's current state.
    virtual State state() const = 0;
    /// The server's TCP endpoint.
    virtual net::tcp::endpoint server() const = 0;
    /// The method the handshake settled on ("ca" or "anonymous"), once validating started.
    virtual std::string auth_method() const = 0;
    /// Sends an ECHO with `payload`; the handler gets the server's reply (or an error when the
    /// link closes first). Replies are matched in order.
    virtual void echo(std::vector<std::byte> payload, EchoHandler handler) = 0;
    /// Blocks until validated or closed or the timeout; true when validated.
    virtual bool wait_validated(std::chrono::milliseconds timeout) = 0;
    /// Closes the connection, as a loss would.
    virtual void close() = 0;
};

/// A channel name being searched for and kept connected.
class Channel {
public:
    /// Where the channel is: searching for a server, connecting to one, connected, or closed.
    enum class State { Searching, Connecting, Connected, Closed };
    /// Receives each new state (see on_state()).
    using StateHandler = std::function<void(State)>;

    virtual ~Channel() = default;
    /// The channel (PV) name.
    virtual const std::string& name() const = 0;
    /// The channel's current state.
    virtual State state() const = 0;
    /// The server currently serving the channel (when Connecting or Connected).
    virtual std::optional<net::tcp::endpoint> server() const = 0;
    /// Called on the context's strand at every state change (and once with the current state).
    virtual void on_state(StateHandler handler) = 0;
    /// Blocks until Connected or the timeout; true when connected.
    virtual bool wait_connected(std::chrono::milliseconds timeout) = 0;
    /// The validated connection this channel uses, when connected.
    virtual std::shared_ptr<ServerLink> link() const = 0;
};

/// Options of one operation.
struct OpOptions {
    std::string request;  ///< pvRequest text, e.g. "field(value,alarm)" (empty: everything)
    std::chrono::milliseconds timeout{5000};  ///< from the start, search and connection included (0: none)
    /// The server to use, without search: "host:port", "pva+unix:///run/pv.sock",
    /// "pva+ws://host:port/pva" (net::ServerAddress). Empty: found by search.
    std::string server{};
};

/// Options of a monitor (Context::monitor()).
struct MonitorOptions {
    std::string request;          ///< pvRequest text; record[queueSize=..,pipeline=..] is honoured
    std::uint32_t queue_size = 4; ///< used when the request names none
    /// Flow control: the server sends only what we acknowledged. Off by default, as in PVXS's
    /// and pvAccessCPP's clients (some servers stall with it); record[pipeline=true] turns it on.
    bool pipeline = false;
    std::string server{};         ///< as OpOptions::server
};

/// One update of a monitor, or an event in its life.
struct MonitorEvent {
    /// What the event is: an update (Data), the channel (re)connected or lost, the server ended
    /// the monitor (Finished), or it failed (Error).
    enum class Kind { Data, Connected, Disconnected, Finished, Error } kind = Kind::Data;  ///< this event's kind
    Value value;       ///< Data: the full current value; its marks are the fields that changed.
                       ///< Shared with the subscription (the next update reads it): treat it as
                       ///< read-only, clone() it to modify.
    BitSet overrun;    ///< Data: fields the server squashed (changed more than once)
    std::string message;  ///< Finished, Error: the server's status text
};

/// A running monitor. Events queue here (bounded: past `queue_size` the newest data is
/// squashed into the last queued one and counted); pop() takes them in batches.
/// Threading: the notify callback runs on the context's strand and must not block; pop()
/// and the counters may be called from any thread. Dropping the handle stops the monitor.
class Subscription {
public:
    virtual ~Subscription() = default;
    /// Takes every queued event.
    virtual std::vector<MonitorEvent> pop() = 0;
    /// Same, into `out` (emptied first); returns how many. A consumer that keeps one vector
    /// for this allocates nothing per batch: the queue and `out` trade their storage.
    virtual std::size_t pop(std::vector<MonitorEvent>& out) = 0;
    /// Blocks until an event is queued or the timeout passes; then pop().
    virtual std::vector<MonitorEvent> wait(std::chrono::milliseconds timeout) = 0;
    virtual std::uint64_t updates() const = 0;   ///< data events received
    virtual std::uint64_t squashed() const = 0;  ///< data events merged into a queued one
    /// The PV name monitored.
    virtual const std::string& name() const = 0;
};

/// A running one-shot operation. Dropping the handle before it completes cancels it: the
/// server gets CANCEL_REQUEST and DESTROY_REQUEST, and the completion runs with
/// errc::cancelled. Dropping it afterwards does nothing.
class Operation {
public:
    virtual ~Operation() = default;
    /// Cancels the operation now, as dropping the handle does (nothing once it completed).
    virtual void cancel() = 0;
};

/// A pvAccess client: finds channels, runs operations and monitors on them (see the file's
/// description for threading and lifetime).
class Context {
public:
    /// Runs on a thread of its own; `config` defaults to the EPICS_PVA_* environment.
    explicit Context(net::ClientConfig config = net::ClientConfig::from_env(), ClientOptions options = {});
    /// Runs on `executor`, an io_context's executor (or a strand of one), with no thread of its
    /// own; its callbacks run on a strand of it. Another kind of executor throws
    /// std::invalid_argument. The application runs the executor; then the blocking
    /// conveniences (get, put, rpc, info, monitor, link) must not be called from its threads.
    Context(net::ClientConfig config, ClientOptions options, net::asio::any_io_executor executor);
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    /// Starts searching for `name`; the handle keeps the search alive. With `server` (a
    /// net::ServerAddress text such as "pva+unix:///run/pv.sock"), connects to that server
    /// without search, and again after a loss (one attempt a second).
    std::shared_ptr<Channel> channel(std::string name, const std::string& server = {});
    /// A connection to one server, bypassing search (like PVXS's ConnectBuilder::server()).
    std::shared_ptr<ServerLink> link(const net::tcp::endpoint& server);
    // ---- operations ------------------------------------------------------------------------
    /// Each completes once with void(std::error_code, Result), through any Asio completion
    /// token: a callback (run on the context's strand), asio::use_future (a future of
    /// std::tuple<std::error_code, Result>), or asio::use_awaitable:
    /// @code
    ///     auto [ec, result] = co_await ctx.async_get(name, options, asio::use_awaitable);
    /// @endcode
    /// With g++ 12, pass named variables, not temporaries, to async_* inside a coroutine:
    /// that compiler mishandles temporaries that live across a co_await.
    /// Channels are found by search and cached by name; a repeated get or put on a connected
    /// channel reuses its initialized operation (one round trip).
    using Completion = std::function<void(std::error_code, Result)>;

    /// Reads the PV (GET); Result::value holds the fields the request selects.
    template <class Token> auto async_get(std::string name, OpOptions options, Token&& token) {
        return initiate(token, [this, name = std::move(name), options = std::move(options)](Completion c) mutable {
            start_get(std::move(name), std::move(options), std::move(c));
        });
    }
    /// Writes the marked fields of `value` (any value whose fields match the PV's by name; e.g.
    /// a structure with just `value`, or a scalar meaning the `value` field).
    template <class Token> auto async_put(std::string name, Value value, OpOptions options, Token&& token) {
        return initiate(token, [this, name = std::move(name), value = std::move(value), options = std::move(options)](Completion c) mutable {
            start_put(std::move(name), std::move(value), {}, std::move(options), std::move(c));
        });
    }
    /// Writes fields given as text: {{"value", "3.5"}} or {{"", "3.5"}} for `value`,
    /// {{"alarm.severity", "2"}}; JSON arrays ("[1,2,3]") for array fields.
    template <class Token>
    auto async_put(std::string name, std::vector<std::pair<std::string, std::string>> fields, OpOptions options,
                   Token&& token) {
        return initiate(token, [this, name = std::move(name), fields = std::move(fields), options = std::move(options)](Completion c) mutable {
            start_put(std::move(name), Value(), std::move(fields), std::move(options), std::move(c));
        });
    }
    /// Puts `value`, then returns the PV's value (PUT_GET; PVXS servers do not support it).
    template <class Token> auto async_put_get(std::string name, Value value, OpOptions options, Token&& token) {
        return initiate(token, [this, name = std::move(name), value = std::move(value), options = std::move(options)](Completion c) mutable {
            start_put_get(std::move(name), std::move(value), std::move(options), std::move(c));
        });
    }
    /// Calls the PV with `argument` (RPC, e.g. an NTURI); Result::value is the reply.
    template <class Token> auto async_rpc(std::string name, Value argument, OpOptions options, Token&& token) {
        return initiate(token, [this, name = std::move(name), argument = std::move(argument), options = std::move(options)](Completion c) mutable {
            start_rpc(std::move(name), std::move(argument), std::move(options), std::move(c));
        });
    }
    /// GET_FIELD: the PV's type (Result::type); `sub_field` "" for the whole PV.
    template <class Token> auto async_info(std::string name, std::string sub_field, OpOptions options, Token&& token) {
        return initiate(token, [this, name = std::move(name), sub_field = std::move(sub_field), options = std::move(options)](Completion c) mutable {
            start_info(std::move(name), std::move(sub_field), std::move(options), std::move(c));
        });
    }
    /// Asks the PV to process (PROCESS); no value.
    template <class Token> auto async_process(std::string name, OpOptions options, Token&& token) {
        return initiate(token, [this, name = std::move(name), options = std::move(options)](Completion c) mutable {
            start_process(std::move(name), std::move(options), std::move(c));
        });
    }
    /// ARRAY (pvAccessCPP servers): what to do with the array field the request selects.
    struct ArrayAction {
        /// What to do: read elements, write `data`, set the length, or read the length.
        enum class Kind { Get, Put, SetLength, GetLength } kind = Kind::Get;  ///< this action's kind
        ///@{
        /// Get and Put: the first element (`offset`), the element count (`count`, 0 = to the end)
        /// and the step (`stride`); SetLength: the new `length`.
        std::size_t offset = 0, count = 0, stride = 1, length = 0;
        ///@}
        Value data;  ///< Put: a value of the array's type (e.g. Value(TypeDesc::array(...)))
    };
    /// Runs `action` on the array field (ARRAY); Result::value or Result::length holds the answer.
    template <class Token> auto async_array(std::string name, ArrayAction action, OpOptions options, Token&& token) {
        return initiate(token, [this, name = std::move(name), action = std::move(action), options = std::move(options)](Completion c) mutable {
            start_array(std::move(name), std::move(action), std::move(options), std::move(c));
        });
    }

    /// The same operations as handles that cancel when dropped (see Operation).
    std::shared_ptr<Operation> get_op(std::string name, OpOptions options, Completion done);
    /// PUT of fields given as text (as async_put()), as a handle.
    std::shared_ptr<Operation> put_op(std::string name, std::vector<std::pair<std::string, std::string>> fields,
                                      OpOptions options, Completion done);
    /// RPC (as async_rpc()), as a handle.
    std::shared_ptr<Operation> rpc_op(std::string name, Value argument, OpOptions options, Completion done);

    /// Blocking conveniences: throw client::Error (code and server message) on failure.
    Result get(const std::string& name, OpOptions options = {});
    /// Blocking PUT of fields given as text (as async_put()).
    void put(const std::string& name, std::vector<std::pair<std::string, std::string>> fields, OpOptions options = {});
    /// Blocking RPC (as async_rpc()).
    Result rpc(const std::string& name, Value argument, OpOptions options = {});
    /// Blocking GET_FIELD: the PV's type (as async_info()).
    TypePtr info(const std::string& name, OpOptions options = {});

    /// A monitor; `notify` (optional) is called on the context's strand when events arrive.
    std::shared_ptr<Subscription> monitor(std::string name, MonitorOptions options = {},
                                          std::function<void()> notify = {});

    /// The strand every callback of this context runs on.
    net::asio::any_io_executor executor() const;

    /// Re-searches every pending name soon (as a beacon from a new server would).
    void hurry();
    /// Closes every channel and connection and joins the thread; the destructor calls it.
    void stop();

    /// Where this context listens for beacons.
    std::uint16_t beacon_port() const;
    /// The configuration the context uses.
    const net::ClientConfig& config() const;
    /// Counters since the context started.
    ContextStats stats() const;

    class Impl;

private:
    template <class Token, class Start> auto initiate(Token& token, Start start) {
        return net::asio::async_initiate<Token, void(std::error_code, Result)>(
            [ex = executor()](auto handler, Start start) mutable {
                auto h = std::make_shared<std::decay_t<decltype(handler)>>(std::move(handler));
                start([h, ex](std::error_code ec, Result r) mutable {
                    // the handler moves to its own executor and is invoked (and destroyed) there
                    auto handler = std::move(*h);
                    auto hex = net::asio::get_associated_executor(handler, ex);
                    net::asio::dispatch(hex, [handler = std::move(handler), ec, r = std::move(r)]() mutable {
                        handler(ec, std::move(r));
                    });
                });
            },
            token, std::move(start));
    }
    void start_get(std::string name, OpOptions o, Completion c);
    void start_put(std::string name, Value v, std::vector<std::pair<std::string, std::string>> fields, OpOptions o,
                   Completion c);
    void start_put_get(std::string name, Value v, OpOptions o, Completion c);
    void start_rpc(std::string name, Value arg, OpOptions o, Completion c);
    void start_info(std::string name, std::string sub, OpOptions o, Completion c);
    void start_process(std::string name, OpOptions o, Completion c);
    void start_array(std::string name, ArrayAction a, OpOptions o, Completion c);

    std::shared_ptr<Impl> impl_;
};

}  // namespace pvwire::client
