// Channels under load and abuse, end to end on loopback (isolated configuration): 10,000
// channels on one server, 100 clients monitoring one PV, a monitor whose consumer is slow,
// pvRequest field masks, malformed requests at the wire level, PVs that go away, the built-in
// "server" PV, and pvAccessCPP's PUT_GET / ARRAY / PROCESS requests replayed from captures.
// Every wait is bounded.
#include <catch2/catch.hpp>

#include "support/vector_file.hpp"

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/net/tcp_transport.hpp>
#include <pvwire/protocol/client_handshake.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>
#include <pvwire/wire/connection_codec.hpp>
#include <pvwire/wire/framing.hpp>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

using namespace pvwire;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

template <class Pred> bool eventually(Pred p, std::chrono::milliseconds limit = 5000ms) {
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
        if (p()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return p();
}

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Resident memory of this process in KiB (0 when /proc is not there).
long rss_kib() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    return 0;
}

// Serves "<prefix>0" .. "<prefix>N-1", each a double NTScalar made on first use.
class ManySource : public server::Source {
public:
    ManySource(std::string prefix, int count) : prefix_(std::move(prefix)), count_(count) {}
    bool claims(std::string_view name) override { return index(name) >= 0; }
    std::shared_ptr<server::PVHandler> open(std::string_view name, const server::Peer&) override {
        const int i = index(name);
        if (i < 0) return nullptr;
        std::lock_guard lock(mu_);
        auto& pv = pvs_[i];
        if (!pv) {
            Value v = nt::NTScalar{TypeCode::Float64}.create();
            v["value"] = double(i);
            pv = server::SharedPV::create(std::string(name), v);
        }
        return pv;
    }
    std::size_t opened() const {
        std::lock_guard lock(mu_);
        return pvs_.size();
    }

private:
    int index(std::string_view name) const {
        if (name.substr(0, prefix_.size()) != prefix_) return -1;
        name.remove_prefix(prefix_.size());
        int i = -1;
        const auto r = std::from_chars(name.data(), name.data() + name.size(), i);
        if (r.ec != std::errc() || r.ptr != name.data() + name.size() || i < 0 || i >= count_) return -1;
        return i;
    }
    std::string prefix_;
    int count_;
    mutable std::mutex mu_;
    std::unordered_map<int, std::shared_ptr<server::SharedPV>> pvs_;
};

// A bare client connection driven by hand: the handshake, then whatever the test sends; every
// decoded server message is queued for the test to take.
struct WireClient : net::StreamTransport::Handler, std::enable_shared_from_this<WireClient> {
    std::shared_ptr<net::StreamTransport> transport;
    wire::ConnectionCodec codec;
    protocol::ClientHandshake hs{protocol::ClientHandshake::Options{{"anonymous"}, "u", "h"}};
    std::mutex mu;
    std::condition_variable cv;
    std::deque<wire::Message> inbox;
    std::atomic<bool> validated{false}, closed{false};
    std::atomic<int> ignored{0}, errors{0};
    std::string close_reason;

    void on_frame(std::span<const std::byte> frame, const std::shared_ptr<const void>& owner) override {
        wire::Message m;
        wire::Diagnostic d;
        switch (codec.decode(frame, m, d, owner)) {
        case wire::ConnectionCodec::Result::Message: break;
        case wire::ConnectionCodec::Result::Ignored: ++ignored; return;
        case wire::ConnectionCodec::Result::Error: ++errors; return;
        case wire::ConnectionCodec::Result::Pending: return;
        }
        wire::OutBuffer out;
        if (hs.on_message(m, out)) {
            if (!out.empty()) transport->send(std::move(out));
            if (hs.validated()) {
                validated = true;
                cv.notify_all();
            }
            return;
        }
        if (std::holds_alternative<wire::Echo>(m.body)) return;
        {
            std::lock_guard lock(mu);
            inbox.push_back(std::move(m));
        }
        cv.notify_all();
    }
    void on_closed(std::error_code, const std::string& reason) override {
        {
            std::lock_guard lock(mu);
            close_reason = reason;
        }
        closed = true;
        cv.notify_all();
    }

    void send(wire::Body body) {
        wire::Message m;
        m.order = hs.order();
        m.body = std::move(body);
        wire::OutBuffer out;
        wire::encode(m, out);
        transport->send(std::move(out));
    }
    void send_bytes(std::vector<std::byte> bytes) {
        wire::OutBuffer out;
        out.bytes() = std::move(bytes);
        transport->send(std::move(out));
    }
    // The next message from the server (RemoteMessage included unless skipped), or nothing
    // after `timeout`.
    std::optional<wire::Message> next(std::chrono::milliseconds timeout = 3000ms, bool skip_messages = true) {
        std::unique_lock lock(mu);
        const auto end = Clock::now() + timeout;
        for (;;) {
            while (!inbox.empty()) {
                wire::Message m = std::move(inbox.front());
                inbox.pop_front();
                if (skip_messages && std::holds_alternative<wire::RemoteMessage>(m.body)) continue;
                return m;
            }
            if (closed) return std::nullopt;
            if (cv.wait_until(lock, end) == std::cv_status::timeout && inbox.empty()) return std::nullopt;
        }
    }
    template <class T> std::optional<T> request(wire::Body body, std::chrono::milliseconds timeout = 3000ms) {
        send(std::move(body));
        auto m = next(timeout);
        if (!m) return std::nullopt;
        if (auto* r = std::get_if<T>(&m->body)) return *r;
        return std::nullopt;
    }
    // CREATE_CHANNEL; the sid, or nothing when refused.
    std::optional<std::uint32_t> create_channel(const std::string& name, std::uint32_t cid) {
        auto r = request<wire::CreateChannelResponse>(wire::CreateChannelRequest{{wire::SearchChannel{cid, name}}});
        if (!r || !r->status.success()) return std::nullopt;
        return r->sid;
    }
};

struct WireSession {
    asio::io_context io;
    std::shared_ptr<WireClient> client = std::make_shared<WireClient>();
    std::thread thread;

    explicit WireSession(std::uint16_t port) {
        tcp::socket s(io);
        s.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
        client->transport = net::TcpTransport::create(std::move(s));
        client->transport->start(client);
        thread = std::thread([this] { io.run_for(30s); });
    }
    ~WireSession() {
        client->transport->close("done");
        io.stop();
        thread.join();
    }
    bool wait_validated() {
        return eventually([&] { return client->validated.load(); });
    }
    WireClient* operator->() { return client.get(); }
};

wire::GetRequest get_req(std::uint32_t sid, std::uint32_t ioid, std::uint8_t subcmd, Value pv_request = {}) {
    wire::GetRequest r;
    r.sid = sid;
    r.ioid = ioid;
    r.subcmd = subcmd;
    r.pv_request = std::move(pv_request);
    return r;
}

Value empty_request() { return protocol::parse_pv_request(""); }

// Every marked field of `v` lies within one of `roots` (dotted paths), and at least one is
// marked.
bool marked_only_within(const Value& v, std::initializer_list<std::string_view> roots) {
    const BitSet& marks = v.marks();
    if (marks.empty()) return false;
    for (std::size_t b = marks.next(0); b != BitSet::npos; b = marks.next(b + 1)) {
        bool inside = false;
        for (auto r : roots) {
            const auto off = v.type().offset_of(r);
            if (!off) continue;
            Value f = v.field(r);
            if (b >= *off && b < *off + f.type().offset_count()) inside = true;
        }
        if (!inside) return false;
    }
    return true;
}

double last_data(client::Subscription& sub, std::vector<MonitorEventKindDummy>* = nullptr);

}  // namespace
