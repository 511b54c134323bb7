// MessageFrontEnd: the channel and operation messages (wire::Message structs, protocol.md
// §4.9-4.21) in front of one connection's ChannelCore: CREATE/DESTROY_CHANNEL, GET_FIELD, GET,
// PUT, PUT_GET, MONITOR (pipeline acknowledgements, start, stop), ARRAY, PROCESS, RPC,
// DESTROY_REQUEST, CANCEL_REQUEST. It turns decoded requests into core calls and their results
// into replies. The messages come from whichever protocol the connection speaks: pvAccess
// decodes to these structs directly, the msgpack protocol's codec translates its messages to
// them (docs/msgpack-protocol.md), so both protocols share one set of request semantics.
// Every request gets an answer: an unsupported operation or a bad request gets an error
// status, never silence. It counts the requests executed and the errors answered
// (ConnectionCounters).
//
// Threading: everything runs on the connection's strand (`executor`).
#pragma once

#include "channel_core.hpp"

#include <pvwire/wire/message.hpp>

namespace pvwire::server::detail {

class MessageFrontEnd final : private CoreEvents {
public:
    using Open = ChannelCore::Open;
    using Send = std::function<void(wire::Message&&)>;
    // Sends a monitor update (CoreEvents::monitor_update); returns the bytes queued.
    using SendUpdate = std::function<std::size_t(std::uint32_t ioid, const Value& value, const BitSet& changed,
                                                 const BitSet& overrun, protocol::detail::SharedEncoding* share)>;
    // Bytes queued on the connection and not yet written.
    using Backlog = std::function<std::size_t()>;

    MessageFrontEnd(net::asio::any_io_executor executor, Peer peer, wire::ByteOrder order, Open open, Send send,
                    SendUpdate send_update, Backlog backlog, EngineLimits limits = {},
                    std::shared_ptr<ConnectionCounters> counters = std::make_shared<ConnectionCounters>());
    ~MessageFrontEnd();
    MessageFrontEnd(const MessageFrontEnd&) = delete;
    MessageFrontEnd& operator=(const MessageFrontEnd&) = delete;

    // Handles a channel or operation message; false if it is not one.
    bool handle(const wire::Message& msg);
    void close() { core_->close(); }
    void close_channels(std::string_view name) { core_->close_channels(name); }
    void writable() { core_->writable(); }
    void recheck_access() { core_->recheck_access(); }
    // A request whose data could not be decoded because its ioid is unknown (a PUT for an
    // operation never initialised): answered with an error status.
    void unknown_request(std::uint8_t command, std::uint32_t ioid, std::uint8_t subcmd) {
        reply_error(command, ioid, subcmd, "bad request id");
    }

    std::size_t channel_count() const noexcept { return core_->channel_count(); }
    std::size_t operation_count() const noexcept { return core_->operation_count(); }

private:
    // CoreEvents
    std::size_t monitor_update(std::uint32_t ioid, const Value& value, const BitSet& changed, const BitSet& overrun,
                               protocol::detail::SharedEncoding* share) override;
    void channel_closed(std::uint32_t sid, std::uint32_t cid) override;
    void op_message(std::uint32_t ioid, std::uint8_t severity, std::string text) override;
    std::size_t backlog() const override { return backlog_ ? backlog_() : 0; }
    void monitor_finished(std::uint32_t ioid, const std::string& why) override {
        // not an INIT: the reply is the monitor's finish (0x10) with the error status
        reply_error(std::uint8_t(wire::Command::Monitor), ioid, 0, why);
    }

    void create_channel(const wire::CreateChannelRequest& m);
    void destroy_channel(const wire::DestroyChannel& m);
    void get_field(const wire::GetFieldRequest& m);
    void init(wire::Command command, const wire::OperationRequest& m);
    // True when `m` was an INIT request (then init() answered it).
    bool handled_as_init(wire::Command command, const wire::OperationRequest& m);
    // True when `m` names an idle operation of `command`; otherwise an error reply and false.
    bool exec_ok(wire::Command command, const wire::OperationRequest& m);
    void get(const wire::GetRequest& m);
    void put(const wire::PutRequest& m);
    void put_get(const wire::PutGetRequest& m);
    void monitor(const wire::MonitorRequest& m);
    void array(const wire::ArrayRequest& m);
    void process(const wire::ProcessRequest& m);
    void rpc(const wire::RpcRequest& m);
    // Replies to a request that ran synchronously, honouring its destroy bit.
    template <class Resp> void reply_now(const wire::OperationRequest& m, Resp r);
    // The completion of an execution: replies, then honours the destroy bit.
    template <class Resp, class Fill> auto reply_later(const wire::OperationRequest& m, Fill fill);
    void reply_error(std::uint8_t command, std::uint32_t ioid, std::uint8_t subcmd, std::string text);
    void send(wire::Body body);

    wire::ByteOrder order_;
    Send send_;
    SendUpdate send_update_;
    Backlog backlog_;
    std::shared_ptr<ChannelCore> core_;
    ConnectionCounters& counters_;  // the core's: operations executed, errors answered
};

}  // namespace pvwire::server::detail
