// PvwsSession: the PVWS JSON dialect (docs/pvws.md) on one /pvws/pv WebSocket, a protocol
// front-end beside MessageFrontEnd. Its subscriptions are channels and monitors of a
// ChannelCore, like those of the other protocols, so the server's limits, monitor queues,
// backlog hold-back and access rules apply alike; what it adds is PVWS's: JSON updates with
// metadata once and then changes, a per-PV throttle where the newest value wins, "readonly",
// and opening again, every retry period, a PV that is not served (yet, or any more).
//
// Threading: everything runs on the socket's strand; pv_removed() may be called from any thread.
#pragma once

#include "channel_core.hpp"
#include "pvws_json.hpp"

#include <pvwire/net/http_routes.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace pvwire::server::detail {

class PvwsSession final : public net::MessageSocket::Handler,
                          private CoreEvents,
                          public std::enable_shared_from_this<PvwsSession> {
public:
    struct Options {
        std::chrono::milliseconds throttle{1000};  // per PV; 0 = every update (backlog permitting)
        bool web_write = false;                    // ServerConfig::web_write
        std::chrono::milliseconds retry{2000};     // opening a PV that is not served, again
        std::size_t max_subscriptions = 10000;     // per socket; past it a subscribe gets an error
        EngineLimits limits;
    };
    using Closed = std::function<void(PvwsSession&)>;

    PvwsSession(std::shared_ptr<net::MessageSocket> socket, Peer peer, ChannelCore::Open open, Options options,
                Closed closed);
    ~PvwsSession() override;

    void start();
    void close(const std::string& reason) { socket_->close(reason); }
    // The PV `name` is no longer served: its subscriptions say so and try again later.
    void pv_removed(std::string name);
    // The access rules changed: the subscriptions are checked again (any thread).
    void access_changed();

    void on_message(std::string_view text) override;
    void on_sent() override { core_->writable(); }
    void on_closed(const std::string& reason) override;

private:
    struct Sub;

    // CoreEvents
    std::size_t monitor_update(std::uint32_t ioid, const Value& value, const BitSet& changed, const BitSet& overrun,
                               protocol::detail::SharedEncoding* share) override;
    void channel_closed(std::uint32_t sid, std::uint32_t cid) override;
    void op_message(std::uint32_t, std::uint8_t, std::string) override {}
    std::size_t backlog() const override { return socket_->pending_output(); }
    // The subscription lost read access: it says why and tries again later.
    void monitor_finished(std::uint32_t ioid, const std::string& why) override;

    void subscribe(const std::string& name);
    void clear(const std::string& name);
    void write(const pvws::Request& r);
    // Opens the channel and its monitor; on failure says "disconnected" and tries again later.
    void open(Sub& sub);
    void went_down(Sub& sub);
    std::size_t send_update(Sub& sub, const Value& value);
    void arm(Sub& sub, std::chrono::steady_clock::time_point when);
    void on_timer(const std::string& name);
    void send(std::string text) { socket_->send_text(std::move(text)); }

    std::shared_ptr<net::MessageSocket> socket_;
    Options options_;
    Closed closed_;
    std::shared_ptr<ChannelCore> core_;
    std::map<std::string, std::unique_ptr<Sub>> subs_;  // by the name the client gave
    std::map<std::uint32_t, Sub*> by_cid_, by_ioid_;
    std::uint32_t next_id_ = 1;
    bool closed_flag_ = false;
};

// The status text of every write refused because writing from the web is off.
inline constexpr std::string_view web_write_disabled = "writing from the web is disabled on this server";

}  // namespace pvwire::server::detail
