// ChannelEngine: the channels and operations of one client connection on the server side
// (protocol.md §4.9-4.21): CREATE/DESTROY_CHANNEL, GET_FIELD, GET, PUT, PUT_GET, MONITOR
// (with pipeline flow control and squashing), ARRAY, PROCESS, RPC, DESTROY_REQUEST,
// CANCEL_REQUEST. It turns decoded requests into calls on PVHandlers and their completions
// into replies. Every request gets an answer: an unsupported operation or a bad request gets
// an error status, never silence.
//
// Threading: everything runs on the connection's strand (`executor`); completions that PV
// handlers deliver from other threads are posted there.
#pragma once

#include <pvwire/net/asio.hpp>
#include <pvwire/server/source.hpp>
#include <pvwire/wire/message.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>

namespace pvwire::server::detail {

struct EngineLimits {
    std::size_t max_channels = 65536;           // per connection
    std::size_t max_operations_per_channel = 1024;
    std::uint32_t max_queue_size = 1000;         // monitor queueSize cap (memory bound)
    // Monitor updates wait in their (squashing) queues while this many bytes are already
    // queued on the connection: a slow reader gets the newest values, not an ever longer
    // backlog of old ones.
    std::size_t tx_high_water = 256 * 1024;
};

class ChannelEngine : public std::enable_shared_from_this<ChannelEngine> {
public:
    using Open = std::function<std::shared_ptr<PVHandler>(std::string_view name, const Peer& peer)>;
    using Send = std::function<void(wire::Message&&)>;
    // Sends bytes already encoded (monitor updates whose data part is shared).
    using SendRaw = std::function<void(wire::OutBuffer&&)>;
    // Bytes queued on the connection and not yet written.
    using Backlog = std::function<std::size_t()>;

    ChannelEngine(net::asio::any_io_executor executor, Peer peer, wire::ByteOrder order, Open open, Send send,
                  SendRaw send_raw, Backlog backlog, EngineLimits limits = {});
    ~ChannelEngine();

    // Handles a channel or operation message; false if it is not one.
    bool handle(const wire::Message& msg);
    // Drops every channel and operation (the connection is gone).
    void close();
    // The PV named `name` is no longer served: its channels are destroyed and the client is
    // told with DESTROY_CHANNEL (as PVXS does), so it searches again.
    void close_channels(std::string_view name);
    // The connection wrote some of its backlog: monitors held back by it send again.
    void writable();
    // A request whose data could not be decoded because its ioid is unknown (a PUT for an
    // operation never initialised): answered with an error status.
    void unknown_request(std::uint8_t command, std::uint32_t ioid, std::uint8_t subcmd) {
        reply_error(command, ioid, subcmd, "bad request id");
    }

    std::size_t channel_count() const noexcept { return channels_.size(); }
    std::size_t operation_count() const noexcept { return ops_.size(); }

    struct Update {
        Value value;      // the PV value, shared with every other subscriber: never modified
        BitSet changed;   // fields changed since the previous update
        BitSet overrun;   // fields that changed more than once since then (squashed)
    };
    struct Op;

private:
    struct Chan;
    struct Exec {
        Op* op;
        Chan* ch;
    };
    struct Chan {
        std::uint32_t sid = 0, cid = 0;
        std::string name;
        std::shared_ptr<PVHandler> pv;
        std::set<std::uint32_t> ops;
    };

    void create_channel(const wire::CreateChannelRequest& m);
    void destroy_channel(const wire::DestroyChannel& m);
    void get_field(const wire::GetFieldRequest& m);
    template <class Req> Chan* channel_for(const Req& m, std::uint8_t command);
    void init(std::uint8_t command, const wire::OperationRequest& m, Chan& ch);
    void get(const wire::GetRequest& m);
    void put(const wire::PutRequest& m);
    void put_get(const wire::PutGetRequest& m);
    void monitor(const wire::MonitorRequest& m);
    void array(const wire::ArrayRequest& m);
    void process(const wire::ProcessRequest& m);
    void rpc(const wire::RpcRequest& m);
    bool init_requested(std::uint8_t command, const wire::OperationRequest& m);
    std::optional<Exec> exec_target(std::uint8_t command, const wire::OperationRequest& m);
    void destroy_op(std::uint32_t ioid);
    void cancel_op(std::uint32_t ioid);

    struct Inbox;
    void on_update(std::uint32_t ioid, const std::shared_ptr<Inbox>& inbox);
    void pump(Op& op);
    bool tx_full(const Op& op) const;
    class Feed;
    void reply_error(std::uint8_t command, std::uint32_t ioid, std::uint8_t subcmd, std::string text);
    void message(std::uint32_t ioid, std::uint8_t type, std::string text);
    void send(wire::Body body);
    // Runs `f` on this engine's strand later, if the engine still lives.
    template <class F> auto on_strand(F f);
    template <class Reply> auto exec_done(Op& op, std::uint8_t subcmd, Reply reply);

    net::asio::any_io_executor ex_;
    Peer peer_;
    wire::ByteOrder order_;
    Open open_;
    Send send_;
    SendRaw send_raw_;
    Backlog backlog_;
    std::vector<std::uint32_t> held_;  // monitors waiting for the backlog to shrink
    EngineLimits limits_;
    std::uint32_t next_sid_ = 1;
    std::map<std::uint32_t, Chan> channels_;
    std::map<std::uint32_t, std::unique_ptr<Op>> ops_;
    bool closed_ = false;
};

}  // namespace pvwire::server::detail
