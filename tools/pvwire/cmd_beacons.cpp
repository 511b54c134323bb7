// pvwire beacons: watch the pvAccess UDP traffic (like PVXS's pvxvct): print every beacon and
// search request that reaches the broadcast port, with a timestamp and the sender.
//
// The socket shares the port with the servers of this host and joins the local fan-out group,
// as pvxvct's does. A unicast search that the kernel hands to it instead of a server is passed
// on through the group (net::forward_unicast_search) and printed when its copy comes back, so
// that watching never makes discovery worse for anyone else.
#include "commands.hpp"

#include <pvwire/net/address.hpp>
#include <pvwire/net/config.hpp>
#include <pvwire/net/search_forwarding.hpp>
#include <pvwire/net/udp_transport.hpp>
#include <pvwire/wire/describe.hpp>
#include <pvwire/wire/message.hpp>

#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <ctime>
#include <iostream>
#include <thread>

namespace pvwire::tool {

namespace {

std::atomic<bool> interrupted{false};

std::string timestamp() {
    const auto now = std::chrono::system_clock::now();
    const auto t = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    char buf[64];
    std::tm tm{};
    localtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[80];
    std::snprintf(out, sizeof out, "%s.%03lld", buf, static_cast<long long>(ms));
    return out;
}

struct BeaconsOptions {
    double seconds = 0;  // 0: until Ctrl-C
    bool beacons_only = false, searches_only = false;
    std::uint16_t port = 0;
};

std::string endpoint_text(const net::asio::ip::address& a, std::uint16_t port) {
    return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(port);
}

// A forwarded search (after ORIGIN_TAG) comes from the process that passed it on; the
// searcher is the reply address inside it, which is what pvxvct prints too.
std::string searcher(const wire::Search& s, const std::string& sender) {
    if (s.response_address.is_unspecified()) return sender;
    return endpoint_text(net::from_wire(s.response_address), s.response_port);
}

void print_datagram(const net::Datagram& d, const BeaconsOptions& o) {
    std::span<const std::byte> rest = d.bytes;
    const std::string peer = endpoint_text(d.from.address(), d.from.port());
    bool forwarded = false;
    while (rest.size() >= wire::header_size) {
        wire::Diagnostic diag;
        auto h = wire::Header::parse(rest, &diag);
        if (!h || rest.size() < wire::header_size + h->body_size()) {
            std::cout << timestamp() << " " << peer << " undecodable datagram (" << d.bytes.size() << " bytes)\n";
            return;
        }
        wire::Message m;
        wire::DecodeContext ctx;
        const bool ok = wire::decode(*h, rest.subspan(wire::header_size, h->body_size()), ctx, m, diag);
        rest = rest.subspan(wire::header_size + h->body_size());
        if (!ok) {
            std::cout << timestamp() << " " << peer << " error: " << diag.message() << "\n";
            return;
        }
        if (auto* b = std::get_if<wire::Beacon>(&m.body)) {
            if (o.searches_only) continue;
            std::cout << timestamp() << " " << peer << " Beacon GUID " << b->guid.to_string() << " seq "
                      << int(b->sequence) << " change " << b->change_count << " server "
                      << (b->server_address.is_unspecified() ? d.from.address().to_string() : b->server_address.to_string())
                      << ":" << b->server_port << "\n";
        } else if (auto* s = std::get_if<wire::Search>(&m.body)) {
            if (o.beacons_only) continue;
            const std::string from = forwarded ? searcher(*s, peer) : peer;
            if (s->channels.empty()) {
                std::cout << timestamp() << " " << from << " Discover (seq " << s->sequence << ")\n";
            }
            for (const auto& c : s->channels)
                std::cout << timestamp() << " " << from << " Searching for: \"" << c.name << "\"\n";
        } else if (std::holds_alternative<wire::OriginTag>(m.body)) {
            forwarded = true;
        } else if (!o.beacons_only && !o.searches_only) {
            std::cout << timestamp() << " " << peer << " " << wire::summary(m) << "\n";
        }
    }
    std::cout.flush();
}

}  // namespace

void register_beacons(CLI::App& app) {
    auto opts = std::make_shared<BeaconsOptions>();
    auto* cmd = app.add_subcommand("beacons", "Print the beacons and searches seen on the network (like pvxvct)");
    cmd->add_option("-w,--wait", opts->seconds, "Stop after this many seconds (default: until Ctrl-C)");
    cmd->add_flag("-B,--beacons", opts->beacons_only, "Only beacons");
    cmd->add_flag("-S,--searches", opts->searches_only, "Only searches");
    cmd->add_option("-p,--port", opts->port, "UDP port (default: EPICS_PVA_BROADCAST_PORT, 5076)");
    cmd->callback([opts] {
        auto cfg = net::ClientConfig::from_env();
        for (const auto& w : cfg.warnings) std::cerr << "warning: " << w << "\n";
        const std::uint16_t port = opts->port ? opts->port : cfg.broadcast_port;
        net::asio::io_context io;
        net::UdpOptions uo;
        uo.multicast_groups = {net::local_fanout_group()};
        uo.multicast_interface = net::asio::ip::address_v4::loopback();
        std::shared_ptr<net::UdpTransport> sock;
        try {
            const auto bind_addr = cfg.interfaces.empty() ? net::asio::ip::address(net::asio::ip::address_v4::any())
                                                          : cfg.interfaces.front();
            sock = net::UdpTransport::open(io.get_executor(), net::udp::endpoint(bind_addr, port), uo);
        } catch (const std::exception& e) {
            std::cerr << "pvwire beacons: cannot listen on UDP port " << port << ": " << e.what() << "\n";
            throw CLI::RuntimeError(1);
        }
        std::cerr << "listening on UDP " << sock->local_endpoint().address().to_string() << ":"
                  << sock->local_endpoint().port() << "\n";
        sock->start([o = *opts, &sock = *sock](const net::Datagram& d) {
            if (!net::forward_unicast_search(sock, d)) print_datagram(d, o);
        });
        std::signal(SIGINT, [](int) { interrupted = true; });
        std::signal(SIGTERM, [](int) { interrupted = true; });
        const auto end = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(static_cast<long>(opts->seconds * 1000));
        while (!interrupted && (opts->seconds <= 0 || std::chrono::steady_clock::now() < end))
            io.run_for(std::chrono::milliseconds(100));
        sock->close();
        io.run_for(std::chrono::milliseconds(50));
    });
}

}  // namespace pvwire::tool
