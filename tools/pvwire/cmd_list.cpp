// pvwire list: without an argument, the pvAccess servers seen for -w seconds (like pvxlist):
// a discovery search (a SEARCH naming no channel, reply required) goes to the search
// destinations once a second, and the beacons reaching the broadcast port are watched too.
// With HOST[:PORT] arguments: the PVs each server lists, from an RPC to its "server" PV with
// op="channels" (what pvxlist does), or with -i its implementation and version (op="info",
// pvxlist -i). The query itself is in server_query.cpp (`pvwire top` asks it too).
#include "client_common.hpp"
#include "commands.hpp"
#include "server_query.hpp"

#include <pvwire/wire/datagram.hpp>

#include <pvwire/net/address.hpp>
#include <pvwire/net/interfaces.hpp>
#include <pvwire/net/search_forwarding.hpp>
#include <pvwire/net/udp_transport.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <random>
#include <set>

namespace pvwire::tool {

namespace {

namespace asio = net::asio;

struct ListArgs : ClientArgs {
    std::vector<std::string> servers;
    bool sort = false;
    bool info = false;  // -i: op=info (implementation and version) instead of op=channels
};

// ---- discovery -------------------------------------------------------------------------------

int run_discover(const ListArgs& a) {
    auto& interrupted = install_interrupt_handler();
    const auto cfg = client_config(a);
    asio::io_context io;
    const auto bind_addr =
        cfg.interfaces.empty() ? asio::ip::address(asio::ip::address_v4::any()) : cfg.interfaces.front();
    std::set<std::string> seen;
    auto report = [&](const wire::Guid& guid, const asio::ip::address& addr, std::uint16_t port, const char* how) {
        const std::string ep = addr.to_string() + ":" + std::to_string(port);
        if (!seen.insert(ep + " " + guid.to_string()).second) return;
        if (a.json) {
            json j = json::object();
            j["server"] = ep;
            j["guid"] = guid.to_string();
            j["via"] = how;
            std::cout << j.dump() << std::endl;
        } else {
            std::cout << ep << " guid " << guid.to_string() << " (" << how << ")" << std::endl;
        }
    };
    auto on_datagram = [&](const net::Datagram& d, bool beacon_port) {
        wire::for_each_datagram_message(d.bytes, [&](const wire::Message& m) {
            if (auto* b = std::get_if<wire::Beacon>(&m.body); b && beacon_port) {
                if (b->protocol != "tcp") return;
                const auto addr = b->server_address.is_unspecified() ? d.from.address() : net::from_wire(b->server_address);
                report(b->guid, addr, b->server_port, "beacon");
            } else if (auto* r = std::get_if<wire::SearchResponse>(&m.body); r && !beacon_port) {
                if (r->protocol != "tcp") return;
                const auto addr = r->server_address.is_unspecified() ? d.from.address() : net::from_wire(r->server_address);
                report(r->guid, addr, r->server_port ? r->server_port : d.from.port(), "search reply");
            }
        });
    };

    std::shared_ptr<net::UdpTransport> search_sock, beacon_sock;
    try {
        net::UdpOptions o;
        o.reuse_port = false;
        search_sock = net::UdpTransport::open(io.get_executor(), net::udp::endpoint(bind_addr, 0), o);
    } catch (const std::exception& e) {
        std::cerr << "pvwire list: cannot open a UDP socket: " << e.what() << "\n";
        return 1;
    }
    try {
        net::UdpOptions b;
        b.multicast_groups = {net::local_fanout_group()};
        b.multicast_interface = asio::ip::address_v4::loopback();
        beacon_sock = net::UdpTransport::open(io.get_executor(), net::udp::endpoint(bind_addr, cfg.broadcast_port), b);
    } catch (const std::exception& e) {
        std::cerr << "warning: not listening for beacons on UDP port " << cfg.broadcast_port << ": " << e.what() << "\n";
    }
    search_sock->start([&](const net::Datagram& d) { on_datagram(d, false); });
    // The beacon socket shares the broadcast port with the servers of this host: a unicast
    // search (ours included) that the kernel hands to it goes on to them through the group.
    if (beacon_sock)
        beacon_sock->start([&](const net::Datagram& d) {
            if (!net::forward_unicast_search(*beacon_sock, d)) on_datagram(d, true);
        });

    const auto dests = cfg.search_destinations();
    const auto bcasts = net::broadcast_addresses();
    std::mt19937 rng(std::random_device{}());
    std::uint32_t seq = rng();
    auto ping = [&] {
        wire::Search s;
        s.sequence = seq++;
        s.response_port = search_sock->local_endpoint().port();
        for (const auto& dest : dests) {
            const auto ad = dest.address();
            const bool broadcast = ad.is_multicast() ||
                                   (ad.is_v4() && (ad.to_v4() == asio::ip::address_v4::broadcast() ||
                                                   std::find(bcasts.begin(), bcasts.end(), ad.to_v4()) != bcasts.end()));
            s.flags = std::uint8_t(wire::Search::reply_required | (broadcast ? 0 : wire::Search::unicast));
            wire::Message m;
            m.order = wire::ByteOrder::Big;
            m.body = s;
            search_sock->send_to(wire::encode_to_bytes(m), dest);
        }
    };
    if (a.verbose || a.debug)
        for (const auto& d : dests) std::cerr << "discovery search to " << net::to_string(d) << "\n";

    const auto start = std::chrono::steady_clock::now();
    const auto end = start + a.timeout_ms();
    auto next_ping = start;
    while (!interrupted && std::chrono::steady_clock::now() < end) {
        if (std::chrono::steady_clock::now() >= next_ping) {
            ping();
            next_ping += std::chrono::seconds(1);
        }
        io.run_for(std::chrono::milliseconds(50));
    }
    search_sock->close();
    if (beacon_sock) beacon_sock->close();
    io.run_for(std::chrono::milliseconds(20));
    if (seen.empty()) {
        std::cerr << "No servers found\n";
        return 1;
    }
    return 0;
}

// ---- the "server" PV of one server: see server_query.hpp --------------------------------------

// op=info as pvxlist -i prints it: HOST version="..." lang="..."
void print_info(const std::string& server, const Value& result, bool as_json) {
    auto text = [&](const char* name) {
        Value f = result.field(name);
        return f ? f.try_as<std::string>().value_or("") : std::string();
    };
    if (as_json) {
        json j = json::object();
        j["server"] = server;
        j["version"] = text("version");
        j["implLang"] = text("implLang");
        for (const char* extra : {"hostName", "replica"})  // pvwire's own (a replica of a scaled-out server)
            if (result.field(extra)) j[extra] = text(extra);
        std::cout << j.dump() << "\n";
        return;
    }
    std::cout << server << " version=\"" << text("version") << "\" lang=\"" << text("implLang") << "\"\n";
}

void print_channels(const std::string& server, const std::vector<std::string>& names, const ListArgs& a) {
    if (a.json) {
        json j = json::object();
        j["server"] = server;
        j["pvs"] = names;
        std::cout << j.dump() << "\n";
        return;
    }
    if (a.verbose || a.servers.size() > 1) std::cout << "# From " << server << "\n";
    for (const auto& n : names) std::cout << n << "\n";
}

int run_query(const ListArgs& a) {
    const auto cfg = client_config(a);
    int status = 0;
    for (const auto& s : a.servers) {
        std::string err;
        const auto ep = resolve_server(s, cfg.server_port, err);
        if (!ep) {
            std::cerr << "pvwire list: " << s << ": " << err << "\n";
            status = 1;
            continue;
        }
        const auto result = query_server(net::tcp::endpoint(ep->address(), ep->port()), a.timeout_ms(),
                                         a.info ? "info" : "channels", err);
        const auto names = result && !a.info ? channel_names(*result, a.sort) : std::nullopt;
        if (!result || (!a.info && !names)) {
            std::cerr << "From " << s << ": " << (result ? "unexpected reply (no string[] value)" : err) << "\n";
            status = 1;
            continue;
        }
        const std::string server = net::to_string(*ep);  // HOST:PORT, as discovery prints servers
        if (a.info) print_info(server, *result, a.json);
        else print_channels(a.json ? server : s, *names, a);
        std::cout.flush();
    }
    return status;
}

}  // namespace

void register_list(CLI::App& app) {
    auto a = std::make_shared<ListArgs>();
    a->timeout = 3.0;
    auto* cmd = app.add_subcommand("list", "List the servers seen, or the PVs of servers (like pvxlist)");
    cmd->add_option("-w,--timeout", a->timeout,
                    "Discovery: listen this many seconds (default 3); query: timeout per server (default 3)")
        ->check(CLI::PositiveNumber);
    cmd->add_flag("-s,--sort", a->sort, "Sort the PV names");
    cmd->add_flag("-i,--info", a->info, "With HOST: the server's implementation and version (op=info), as pvxlist -i");
    add_client_options(cmd, *a, opt_json);
    cmd->add_option("server", a->servers, "HOST[:PORT] of servers to list the PVs of (default port "
                                          "EPICS_PVA_SERVER_PORT, 5075)");
    cmd->callback([a] {
        const int status = a->servers.empty() ? run_discover(*a) : run_query(*a);
        if (status) throw CLI::RuntimeError(status);
    });
}

}  // namespace pvwire::tool
