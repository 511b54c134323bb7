// The access rules on the web's PVWS JSON front-end: a subscription the rules do not let read
// gets an error and no value, and new rules that take read away end a live one with the
// reason. PvwsSession runs over an in-memory MessageSocket with the web identity.
#include <catch2/catch.hpp>

#include "../../../src/server/client_identity.hpp"
#include "../../../src/server/pvws_front_end.hpp"

#include <pvwire/data/nt.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <mutex>

using namespace pvwire;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// A MessageSocket that keeps what is sent.
class RecordingSocket final : public net::MessageSocket {
public:
    RecordingSocket(asio::any_io_executor ex, std::string host) : ex_(std::move(ex)) {
        who_.peer_host = host;
        who_.peer = "ws:" + host + ":40000";
    }
    void start(std::weak_ptr<Handler> handler) override { handler_ = std::move(handler); }
    void send_text(std::string text) override { sent.push_back(std::move(text)); }
    void ping() override {}
    void close(const std::string&) override {}
    std::size_t pending_output() const override { return 0; }
    const net::HttpIdentity& identity() const override { return who_; }
    asio::any_io_executor executor() const override { return ex_; }

    std::vector<std::string> sent;

private:
    asio::any_io_executor ex_;
    net::HttpIdentity who_;
    std::weak_ptr<Handler> handler_;
};

struct WebSession {
    std::shared_ptr<RecordingSocket> socket;
    std::shared_ptr<server::detail::PvwsSession> session;
};

WebSession open_session(asio::io_context& io, const std::string& host, std::shared_ptr<server::SharedPV> pv,
                        std::shared_ptr<server::detail::AccessRulesSlot> slot) {
    WebSession w;
    w.socket = std::make_shared<RecordingSocket>(io.get_executor(), host);
    server::Peer peer{w.socket->identity().peer, {"anonymous", "", host},
                      server::detail::web_identity(w.socket->identity())};
    server::detail::PvwsSession::Options o;
    o.throttle = 0ms;
    o.limits.access = std::move(slot);
    w.session = std::make_shared<server::detail::PvwsSession>(
        w.socket, std::move(peer),
        [pv](std::string_view name, const server::Peer&) -> std::shared_ptr<server::PVHandler> {
            return name == pv->name() ? pv : nullptr;
        },
        o, nullptr);
    w.session->start();
    return w;
}

bool any_contains(const std::vector<std::string>& texts, std::string_view what) {
    for (const auto& t : texts)
        if (t.find(what) != std::string::npos) return true;
    return false;
}

std::shared_ptr<const server::AccessRules> rules(const char* acf) {
    server::AccessRulesOptions o;
    o.acf_name = "web.acf";
    return server::AccessRules::parse(acf, o);
}

}  // namespace

TEST_CASE("pvws: the rules see a web client as anonymous at its address, and hide what it may not read", "[acl]") {
    asio::io_context io;
    Value v = nt::NTScalar{TypeCode::Float64}.create();
    v["value"] = 2.5;
    auto pv = server::SharedPV::create("web:pump", v);
    pv->set_access_group("ops", 0);
    auto slot = std::make_shared<server::detail::AccessRulesSlot>();
    slot->set(rules(R"(HAG(console) { 10.0.0.1 }
ASG(DEFAULT) { RULE(1, READ) }
ASG(ops) { RULE(1, READ) { HAG(console) } }
)"));
    auto outside = open_session(io, "10.9.9.9", pv, slot);
    auto console = open_session(io, "10.0.0.1", pv, slot);
    const char* subscribe = R"({"type": "subscribe", "pvs": ["web:pump"]})";
    outside.session->on_message(subscribe);
    console.session->on_message(subscribe);
    io.run_for(100ms);
    CHECK(any_contains(outside.socket->sent, "read denied by ASG(ops) at web.acf:3"));
    CHECK(any_contains(outside.socket->sent, "anonymous client at 10.9.9.9"));
    CHECK_FALSE(any_contains(outside.socket->sent, "2.5"));
    CHECK(any_contains(console.socket->sent, "2.5"));

    // new rules: nobody reads ASG(ops); the console's live subscription ends, saying why
    slot->set(rules("ASG(DEFAULT) { RULE(1, READ) }\nASG(ops) { RULE(1, READ) { HAG(nowhere) } }\nHAG(nowhere) { 10.0.0.2 }\n"));
    console.socket->sent.clear();
    console.session->access_changed();
    io.restart();
    io.run_for(100ms);
    CHECK(any_contains(console.socket->sent, "web:pump: read denied by ASG(ops) at web.acf:2"));
    outside.session->on_closed("test over");
    console.session->on_closed("test over");
}
