// echo-client: finds a server that serves the name "echo" (or connects to --server host:port),
// sends N echoes and checks that every payload comes back intact.
//
//   echo-client [-n COUNT] [--size BYTES] [--server HOST:PORT] [--timeout SECONDS]
// Exit status 0 when every echo came back intact, 1 otherwise.
#include <pvwire/client/context.hpp>
#include <pvwire/net/address.hpp>

#include <future>
#include <iostream>
#include <random>
#include <string>
#include <string_view>

int main(int argc, char** argv) {
    std::size_t count = 10, size = 64;
    double timeout = 5;
    std::string server;
    const char* const usage =
        "usage: echo-client [-n COUNT] [--size BYTES] [--server HOST:PORT] [--timeout S]\n"
        "Sends COUNT echoes (default 10) of BYTES random bytes (default 64) to the server of the PV\n"
        "\"echo\" (found by search) or to HOST:PORT, and checks that each comes back intact.\n";
    for (int i = 1; i < argc; ++i) {
        const std::string_view option = argv[i];
        if (option == "-h" || option == "--help") {
            std::cout << usage;
            return 0;
        }
        if (i + 1 == argc) {  // every other option takes a value
            std::cerr << usage;
            return 2;
        }
        const char* value = argv[++i];
        if (option == "-n") count = std::stoul(value);
        else if (option == "--size") size = std::stoul(value);
        else if (option == "--server") server = value;
        else if (option == "--timeout") timeout = std::stod(value);
        else {
            std::cerr << usage;
            return 2;
        }
    }
    const auto wait = std::chrono::milliseconds(static_cast<long>(timeout * 1000));
    auto config = pvwire::net::ClientConfig::from_env();
    pvwire::client::Context ctx(config);

    std::shared_ptr<pvwire::client::ServerLink> link;
    if (!server.empty()) {
        std::string err;
        auto hp = pvwire::net::parse_host_port(server, config.server_port, &err);
        auto ep = hp ? pvwire::net::resolve(*hp, pvwire::net::Resolve::names, &err) : std::nullopt;
        if (!ep) {
            std::cerr << "echo-client: bad server address '" << server << "': " << err << '\n';
            return 2;
        }
        link = ctx.link(pvwire::net::tcp::endpoint(ep->address(), ep->port()));
    } else {
        auto channel = ctx.channel("echo");
        if (!channel->wait_connected(wait)) {
            std::cerr << "echo-client: no server answered a search for \"echo\" within " << timeout << " s\n";
            return 1;
        }
        link = channel->link();
    }
    if (!link || !link->wait_validated(wait)) {
        std::cerr << "echo-client: could not connect and validate\n";
        return 1;
    }
    std::cout << "connected to " << link->server().address().to_string() << ":" << link->server().port()
              << " (auth " << link->auth_method() << ")\n";

    std::mt19937 rng(42);
    std::size_t intact = 0;
    std::vector<std::future<bool>> replies;
    for (std::size_t i = 0; i < count; ++i) {
        std::vector<std::byte> payload(size);
        for (auto& b : payload) b = std::byte(rng());
        auto done = std::make_shared<std::promise<bool>>();
        replies.push_back(done->get_future());
        link->echo(payload, [done, payload](std::error_code ec, std::vector<std::byte> back) {
            done->set_value(!ec && back == payload);
        });
    }
    for (auto& r : replies)
        if (r.wait_for(wait) == std::future_status::ready && r.get()) ++intact;
    std::cout << intact << " of " << count << " echoes came back intact\n";
    return intact == count ? 0 : 1;
}
