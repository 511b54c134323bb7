// The inside of client::Context: the context state (search, beacons, channels, links), one
// LinkImpl per server connection, one ChannelImpl per channel, and one ClientOp per
// operation. Everything runs on the context's strand unless a comment says otherwise.
#pragma once

#include <pvwire/client/context.hpp>
#include <pvwire/net/connector.hpp>
#include <pvwire/net/stream_transport.hpp>
#include <pvwire/net/udp_transport.hpp>
#include <pvwire/protocol/beacon_tracker.hpp>
#include <pvwire/protocol/client_handshake.hpp>
#include <pvwire/protocol/search_scheduler.hpp>
#include <pvwire/wire/connection_codec.hpp>

#include "../protocol/message_codec.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace pvwire::client {

namespace asio = net::asio;
using net::tcp;
using net::udp;
using Clock = std::chrono::steady_clock;

class LinkImpl;
// The lock and condition variable that guard the state of every channel of a context, and
// that wait_connected() waits on: one pair per context instead of one per channel.
struct ChannelSync {
    std::mutex mu;
    std::condition_variable cv;
};

class ChannelImpl;
class ClientOp;

class Context::Impl : public std::enable_shared_from_this<Context::Impl> {
public:
    // Runs on `executor` when given, else on an io_context and thread of its own.
    Impl(net::ClientConfig cfg, ClientOptions opts, std::optional<asio::any_io_executor> executor = std::nullopt);

    void start();
    void stop();

    std::shared_ptr<ChannelImpl> make_channel(std::string name, const std::string& server = {});
    void register_channel(const std::shared_ptr<ChannelImpl>& c);
    // A channel for operations: the cached one for `name` (on `server`: "" = found by
    // search), or a new one.
    std::shared_ptr<ChannelImpl> op_channel(const std::string& name, const std::string& server = {});
    std::shared_ptr<LinkImpl> get_link(const net::ServerAddress& address, bool for_name_server = false);
    // A link to a server found by search: pvAccess over TCP, or over TLS ("tls").
    std::shared_ptr<LinkImpl> get_link(const tcp::endpoint& ep, bool for_name_server = false,
                                       const char* transport = "tcp");
    // The connector for a transport: the options' own, else a built-in one; empty if none.
    net::Connector connector_for(const std::string& transport) const;
    // `server` parsed for a direct channel; "" and the reason when it cannot be used.
    std::optional<net::ServerAddress> direct_address(const std::string& server, std::string& error) const;

    void forget_channel(std::uint32_t cid);
    void link_validated(LinkImpl& link);
    void link_closed(LinkImpl& link);
    // The channel lost its server (link closed, channel destroyed by the server): search again.
    void research(ChannelImpl& ch);
    void on_search_response(const wire::SearchResponse& r, const asio::ip::address& source, std::uint16_t source_port);
    void reschedule_search();
    void hurry_now();
    // A channel on a chosen server: connects (or reconnects, after a pause) without search.
    void connect_direct(ChannelImpl& ch);

    net::ClientConfig cfg_;
    ClientOptions opts_;
    std::unique_ptr<asio::io_context> owned_io_;  // null when running on the user's executor
    asio::strand<asio::io_context::executor_type> strand_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    std::thread thread_;
    std::atomic<bool> running_{false};

    std::shared_ptr<net::UdpTransport> search_sock_, beacon_sock_;
    std::shared_ptr<net::UdpTransport> search_sock6_, beacon_sock6_;  // IPv6, when the host has it
    std::uint16_t beacon_port_ = 0;
    // Secure PVAccess (cfg_.tls with a usable keychain): the connector of "tls" links; with
    // it, searches list "tls" before "tcp" and a "tls" answer is connected over TLS.
    net::Connector tls_connector_;
    protocol::SearchScheduler sched_;
    protocol::BeaconTracker beacons_;
    asio::steady_timer search_timer_, nameserver_timer_, direct_timer_;
    bool direct_timer_armed_ = false;
    Clock::time_point timer_at_ = Clock::time_point::max();
    std::shared_ptr<ChannelSync> channel_sync_ = std::make_shared<ChannelSync>();
    std::atomic<std::uint32_t> next_cid_{0x12345678};  // Context::channel() takes ids off the strand
    std::uint32_t next_ioid_ = 0x10002000;
    std::uint32_t search_seq_ = 1;
    std::map<std::uint32_t, std::weak_ptr<ChannelImpl>> channels_;
    std::map<std::string, std::shared_ptr<ChannelImpl>> op_channels_;  // reused by operations
    std::map<std::string, std::shared_ptr<LinkImpl>> links_;  // by ServerAddress::to_string()
    std::vector<std::shared_ptr<LinkImpl>> name_servers_;

    struct Counters {
        std::atomic<std::uint64_t> searches{0}, responses{0}, beacons{0}, noticed{0}, opened{0}, lost{0}, echoes{0};
    } counters_;

private:
    void open_udp();
    void open_udp6();
    void search_tick();
    void on_beacon_datagram(const net::Datagram& d);
    void on_search_datagram(const net::Datagram& d);
    void connect_name_servers();
    void retry_direct();
};

// ---- one connection to one server ---------------------------------------------------------------

class LinkImpl : public ServerLink, public net::StreamTransport::Handler, public std::enable_shared_from_this<LinkImpl> {
public:
    LinkImpl(std::shared_ptr<Context::Impl> ctx, net::ServerAddress address, bool name_server);

    void connect();

    // ServerLink
    State state() const override { return state_.load(); }
    tcp::endpoint server() const override { return ep_; }
    const net::ServerAddress& address() const noexcept { return address_; }
    std::string auth_method() const override;
    void echo(std::vector<std::byte> payload, EchoHandler handler) override;
    bool wait_validated(std::chrono::milliseconds timeout) override;
    void close() override;

    // StreamTransport::Handler
    void on_frame(std::span<const std::byte> frame, const std::shared_ptr<const void>& owner) override;
    void on_closed(std::error_code ec, const std::string& reason) override;

    bool is_name_server() const noexcept { return name_server_; }
    bool validated() const noexcept { return state_ == State::Validated; }
    // Why the link closed before it was validated ("TLS handshake with ... failed: ..."); "".
    const std::string& failure() const noexcept { return failure_; }
    void send(wire::Message m);

    // channels and operations on this connection
    void create_channel(const std::shared_ptr<ChannelImpl>& ch);
    void destroy_channel(ChannelImpl& ch);
    void attach(const std::shared_ptr<ClientOp>& op);
    void detach(std::uint32_t ioid);

private:
    void set_state(State s);
    void keepalive();
    void fail_echoes(std::error_code ec);
    void dispatch(const wire::Message& m);

    void on_connected(std::error_code ec, std::shared_ptr<net::StreamTransport> transport, const std::string& error);

    std::weak_ptr<Context::Impl> ctx_;
    net::ServerAddress address_;
    std::string failure_;
    bool closing_ = false;  // close() was called: no failure to report
    tcp::endpoint ep_;  // TCP links to an IP address: the server's endpoint
    bool name_server_;
    std::shared_ptr<net::StreamTransport> transport_;
    std::unique_ptr<protocol::detail::MessageCodec> codec_;  // the address's protocol
    asio::steady_timer echo_timer_;
    protocol::ClientHandshake handshake_;
    Clock::time_point last_rx_ = Clock::now();
    std::deque<EchoHandler> echoes_;  // replies are matched in order; keep-alives have no handler
    std::map<std::uint32_t, std::weak_ptr<ChannelImpl>> creating_;  // cid -> channel awaiting its sid
    std::map<std::uint32_t, std::weak_ptr<ChannelImpl>> by_sid_;
    std::map<std::uint32_t, std::shared_ptr<ClientOp>> ops_;       // by ioid
    wire::Message msg_;
    wire::OutBuffer out_;
    std::atomic<State> state_{State::Connecting};
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::string method_;
};

// ---- one channel ----------------------------------------------------------------------------------

class ChannelImpl : public Channel, public std::enable_shared_from_this<ChannelImpl> {
public:
    ChannelImpl(std::shared_ptr<Context::Impl> ctx, std::string name, std::uint32_t cid);
    // A channel on a chosen server (no search), or one whose server address is unusable
    // (every operation on it fails at once with bad_address).
    ChannelImpl(std::shared_ptr<Context::Impl> ctx, std::string name, std::uint32_t cid, const std::string& server);
    ~ChannelImpl() override;

    // Channel
    const std::string& name() const override { return name_; }
    State state() const override;
    std::optional<tcp::endpoint> server() const override;
    void on_state(StateHandler handler) override;
    bool wait_connected(std::chrono::milliseconds timeout) override;
    std::shared_ptr<ServerLink> link() const override;

    // on the strand
    std::uint32_t cid() const noexcept { return cid_; }
    std::uint32_t sid() const noexcept { return sid_; }
    std::shared_ptr<LinkImpl> current_link() const;
    void set(State s, std::optional<tcp::endpoint> server, std::shared_ptr<LinkImpl> link);
    void created(std::uint32_t sid);   // CREATE_CHANNEL succeeded
    void lost();                        // disconnected: operations learn it, search again
    // Runs `f` once connected (at once if already).
    void when_connected(std::function<void()> f);
    // Operations that live across reconnections (monitors) and are restarted on connect.
    void keep(const std::shared_ptr<ClientOp>& op);
    void unkeep(ClientOp* op);
    // Initialized GET and PUT operations kept for reuse, by kind and pvRequest text ("get:",
    // "put:" + request): a repeated get or put on a connected channel skips the INIT round
    // trip. Several per key (pipelined operations), at most max_parked_per_key.
    std::shared_ptr<ClientOp> take_parked(const std::string& key);
    bool park(const std::string& key, const std::shared_ptr<ClientOp>& op);
    std::shared_ptr<Context::Impl> context() const { return ctx_.lock(); }
    const std::optional<net::ServerAddress>& direct() const noexcept { return direct_; }
    const std::string& address_error() const noexcept { return address_error_; }
    // Why the last connection to a server failed before it was usable (shown by operations
    // that time out unconnected); "" once connected.
    const std::string& connect_failure() const noexcept { return connect_failure_; }
    void note_connect_failure(const std::string& why) { connect_failure_ = why; }
    // The context stops: drop every operation this channel holds (they hold the channel too).
    void shutdown();

private:
    std::weak_ptr<Context::Impl> ctx_;
    std::string name_;
    std::uint32_t cid_;
    std::uint32_t sid_ = 0;
    std::shared_ptr<ChannelSync> sync_;  // shared by the context's channels (memory: 10,000 channels)
    State state_ = State::Searching;
    std::optional<tcp::endpoint> server_;
    std::shared_ptr<LinkImpl> link_;
    StateHandler handler_;
    std::vector<std::function<void()>> waiting_;  // (a deque allocates ~600 bytes even empty)
    std::vector<std::weak_ptr<ClientOp>> kept_;
    // Finished GET/PUT operations kept for reuse, by kind and request; several per key so
    // that pipelined operations are reused too (at most max_parked_per_key each).
    static constexpr std::size_t max_parked_per_key = 64;
    std::multimap<std::string, std::shared_ptr<ClientOp>> parked_;
    std::optional<net::ServerAddress> direct_;  // the chosen server, if any
    std::string address_error_;                 // why the chosen server cannot be used
    std::string connect_failure_;
};

// ---- one operation ----------------------------------------------------------------------------------

class ClientOp : public std::enable_shared_from_this<ClientOp> {
public:
    ClientOp(std::shared_ptr<ChannelImpl> ch, std::uint8_t command, OpOptions options, Context::Completion done);
    virtual ~ClientOp() = default;

    // Starts (waits for the channel, then sends INIT); arms the timeout.
    void begin();
    // Starts this execution's timeout. One timer wait serves every execution of a reused
    // operation: it re-checks `deadline_` when it fires instead of being re-armed and
    // cancelled per execution (which cost two handlers and a timerfd update per get).
    void arm_timer();
    void wait_for_deadline();
    // A parked operation runs again: new options and completion, a fresh timeout.
    void rearm(OpOptions options, Context::Completion done);
    // A reply for this operation's ioid.
    virtual void on_reply(const wire::Message& m) = 0;
    // The connection went away.
    virtual void on_disconnect();
    // A MESSAGE from the server about this operation.
    void on_message(const wire::RemoteMessage& m);
    std::uint32_t ioid() const noexcept { return ioid_; }
    std::uint8_t command() const noexcept { return command_; }
    const ChannelImpl* channel() const noexcept { return ch_.get(); }
    // Cancels: CANCEL_REQUEST + DESTROY_REQUEST, completion with errc::cancelled.
    void cancel();
    bool finished() const noexcept { return finished_; }
    // A parked GET runs again with new options and completion (EXEC only).
    virtual void again(OpOptions, Context::Completion) {}
    // A parked PUT writes again (no INIT).
    virtual void again_put(Value, std::vector<std::pair<std::string, std::string>>, OpOptions, Context::Completion) {}

protected:
    // Sends the INIT request (the channel is connected).
    virtual void send_init() = 0;
    void send(wire::Body body);
    void finish(std::error_code ec, Result r = {});
    void destroy_remote();  // DESTROY_REQUEST, detach from the link
    // DESTROY_REQUEST and complete with the result.
    void succeed(Result r);
    // DESTROY_REQUEST and complete with an error.
    void fail(std::error_code ec, Result r = {});
    // A status that is not success fails the operation (remote_error, the server's text).
    bool remote_failed(const wire::Status& st);
    // Sends a request of this operation with just its head (sid, ioid, sub-command).
    template <class Req> void send_request(std::uint8_t subcmd) {
        Req r;
        static_cast<wire::OperationRequest&>(r) = head(subcmd);
        send(std::move(r));
    }
    wire::OperationRequest head(std::uint8_t subcmd) const;

    std::shared_ptr<ChannelImpl> ch_;
    std::shared_ptr<LinkImpl> link_;
    std::uint8_t command_;
    OpOptions options_;
    Value pv_request_;
    std::uint32_t ioid_ = 0;
    Context::Completion done_;
    asio::steady_timer timer_;
    Clock::time_point deadline_ = Clock::time_point::max();
    bool timer_waiting_ = false;
    bool finished_ = false;
    std::vector<std::string> messages_;
};

// The operation objects (operations.cpp).
std::shared_ptr<ClientOp> make_get(std::shared_ptr<ChannelImpl>, OpOptions, Context::Completion);
std::shared_ptr<ClientOp> make_put(std::shared_ptr<ChannelImpl>, Value, std::vector<std::pair<std::string, std::string>>,
                                   OpOptions, Context::Completion);
std::shared_ptr<ClientOp> make_put_get(std::shared_ptr<ChannelImpl>, Value, OpOptions, Context::Completion);
std::shared_ptr<ClientOp> make_rpc(std::shared_ptr<ChannelImpl>, Value, OpOptions, Context::Completion);
std::shared_ptr<ClientOp> make_info(std::shared_ptr<ChannelImpl>, std::string, OpOptions, Context::Completion);
std::shared_ptr<ClientOp> make_process(std::shared_ptr<ChannelImpl>, OpOptions, Context::Completion);
std::shared_ptr<ClientOp> make_array(std::shared_ptr<ChannelImpl>, Context::ArrayAction, OpOptions, Context::Completion);
std::shared_ptr<Subscription> make_monitor(std::shared_ptr<ChannelImpl>, MonitorOptions, std::function<void()> notify);

}  // namespace pvwire::client
