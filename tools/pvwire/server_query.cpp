// The "server" PV of one server (see server_query.hpp).
#include "server_query.hpp"

#include <pvwire/data/nt.hpp>
#include <pvwire/protocol/client_handshake.hpp>
#include <pvwire/protocol/pv_request.hpp>
#include <pvwire/wire/connection_codec.hpp>

#include <algorithm>
#include <array>
#include <iostream>

namespace pvwire::tool {

namespace {

namespace asio = net::asio;

class ServerQuery {
public:
    ServerQuery(net::tcp::endpoint ep, std::chrono::milliseconds timeout, std::string op)
        : ep_(ep), timeout_(timeout), op_(std::move(op)) {}

    // The RPC's result, or nullopt with error() set.
    std::optional<Value> run() {
        asio::steady_timer timer(io_);
        timer.expires_after(timeout_);
        timer.async_wait([this](boost::system::error_code ec) {
            if (!ec) fail("timeout");
        });
        sock_.async_connect(ep_, [this](boost::system::error_code ec) {
            if (ec) return fail("cannot connect: " + ec.message());
            read();
        });
        io_.run();
        if (!error_.empty()) return std::nullopt;
        return result_;
    }
    const std::string& error() const { return error_; }

private:
    void fail(std::string why) {
        if (done_) return;
        if (closing_) return finish();  // the answer is in: what happens while closing does not matter
        done_ = true;
        error_ = std::move(why);
        finish();
    }
    void finish() {
        done_ = true;
        boost::system::error_code ignored;
        sock_.close(ignored);
        io_.stop();
    }
    // Destroys the channel and closes once the server confirmed it (at most 0.5 s later):
    // closing at once would make the server's confirmation meet a closed socket, and the
    // kernel would reset the connection, which PVXS logs as an error.
    void close_politely() {
        closing_ = true;
        send(wire::DestroyChannel{sid_, 1});
        closing_timer_.expires_after(std::chrono::milliseconds(500));
        closing_timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec) finish();
        });
    }
    void read() {
        sock_.async_read_some(asio::buffer(chunk_), [this](boost::system::error_code ec, std::size_t n) {
            if (done_) return;
            if (ec) return fail(ec == asio::error::eof ? "the server closed the connection" : ec.message());
            const auto* p = reinterpret_cast<const std::byte*>(chunk_.data());
            in_.insert(in_.end(), p, p + n);
            if (!frames()) return;
            read();
        });
    }
    // Decodes every whole frame; false once finished.
    bool frames() {
        for (;;) {
            wire::Diagnostic diag;
            const std::size_t len = wire::ConnectionCodec::frame_length(in_, codec_.limits(), diag);
            if (len == 0) {
                if (diag) {
                    fail("bad message from the server: " + diag.message());
                    return false;
                }
                return true;
            }
            if (in_.size() < len) return true;
            wire::Message m;
            const auto r = codec_.decode(std::span<const std::byte>(in_.data(), len), m, diag);
            in_.erase(in_.begin(), in_.begin() + std::ptrdiff_t(len));
            if (r == wire::ConnectionCodec::Result::Error) {
                fail("bad message from the server: " + diag.message());
                return false;
            }
            if (r != wire::ConnectionCodec::Result::Message) continue;
            on_message(m);
            if (done_) return false;
        }
    }
    void send(wire::Body body) {
        wire::Message m;
        m.order = hs_.order();
        m.body = std::move(body);
        wire::OutBuffer out;
        wire::encode(m, out);
        write(out);
    }
    void write(const wire::OutBuffer& out) {
        const auto bytes = out.flatten();
        boost::system::error_code ec;
        asio::write(sock_, asio::buffer(bytes.data(), bytes.size()), ec);
        if (ec) fail("write failed: " + ec.message());
    }
    void on_message(const wire::Message& m) {
        const bool was_validated = hs_.validated();
        wire::OutBuffer out;
        if (hs_.on_message(m, out)) {
            if (!out.empty()) write(out);
            if (hs_.state() == protocol::ClientHandshake::State::Failed) return fail("handshake failed");
            if (!was_validated && hs_.validated())
                send(wire::CreateChannelRequest{{wire::SearchChannel{1, "server"}}});
            return;
        }
        if (auto* c = std::get_if<wire::CreateChannelResponse>(&m.body)) {
            if (!c->status.success()) return fail("no \"server\" PV: " + c->status.message);
            sid_ = c->sid;
            wire::RpcRequest r;
            r.sid = sid_;
            r.ioid = 1;
            r.subcmd = wire::subcmd::init;
            r.pv_request = protocol::parse_pv_request("");
            send(std::move(r));
        } else if (auto* r = std::get_if<wire::RpcResponse>(&m.body)) {
            if (!r->status.success()) return fail(r->status.message.empty() ? "error status" : r->status.message);
            if (r->is_init()) {
                nt::NTURI uri;
                uri.add_arg(TypeCode::String, "op");
                wire::RpcRequest e;
                e.sid = sid_;
                e.ioid = 1;
                e.subcmd = wire::subcmd::exec;
                e.argument = uri.call("server", {{"op", op_}});
                send(std::move(e));
                return;
            }
            if (!r->result) return fail("the server sent no result");
            result_ = r->result;
            close_politely();
        } else if (std::holds_alternative<wire::DestroyChannel>(m.body)) {
            if (closing_) finish();
        } else if (auto* msg = std::get_if<wire::RemoteMessage>(&m.body)) {
            std::cerr << "message from the server: " << msg->text << "\n";
        }
    }

    net::tcp::endpoint ep_;
    std::chrono::milliseconds timeout_;
    asio::io_context io_;
    net::tcp::socket sock_{io_};
    std::array<char, 16384> chunk_{};
    std::vector<std::byte> in_;
    wire::ConnectionCodec codec_;
    protocol::ClientHandshake hs_;
    std::uint32_t sid_ = 0;
    bool done_ = false;
    bool closing_ = false;  // the result is in; waiting for the DESTROY_CHANNEL confirmation
    asio::steady_timer closing_timer_{io_};
    std::string op_;
    std::string error_;
    Value result_;
};

}  // namespace

std::optional<net::udp::endpoint> resolve_server(const std::string& host_port, std::uint16_t default_port,
                                                 std::string& error) {
    auto hp = net::parse_host_port(host_port, default_port, &error);
    std::optional<net::udp::endpoint> ep;
    if (hp) ep = net::resolve(*hp, net::Resolve::names, &error);
    if (!ep && error.empty()) error = "bad address";
    return ep;
}

std::optional<Value> query_server(const net::tcp::endpoint& server, std::chrono::milliseconds timeout,
                                  const std::string& op, std::string& error) {
    ServerQuery q(server, timeout, op);
    auto result = q.run();
    if (!result) error = q.error();
    return result;
}

std::optional<std::vector<std::string>> channel_names(const Value& result, bool sort) {
    Value v = result.field("value");
    if (!v || v.code() != TypeCode::StringA) return std::nullopt;
    std::vector<std::string> names;
    for (const auto& s : v.array().span<std::string>()) names.push_back(s);
    if (sort) std::sort(names.begin(), names.end());
    return names;
}

}  // namespace pvwire::tool
