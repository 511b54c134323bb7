// A transport of your own, plugged into a pvwire server and client: a TCP stream that counts
// the bytes it moves (think of a tunnel, a compressor, a link-quality monitor). The stream is
// the only code; basic_stream_transport supplies the pvAccess framing, batched writes and
// limits, a Connector hands it to the client and Server::accept() to the server.
// The server and the client share one io_context: both embed in the application's loop.
//
//   custom-transport          gets and puts a PV through the stream, prints the byte counts
#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/net/basic_stream_transport.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include <atomic>
#include <iostream>
#include <thread>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace pvwire;

// Any Asio AsyncStream works: an executor, async_read_some and async_write_some. next_layer()
// lets pvwire find the socket underneath for TCP_NODELAY and the buffer sizes.
class CountingStream {
public:
    using executor_type = tcp::socket::executor_type;
    using next_layer_type = tcp::socket;

    explicit CountingStream(tcp::socket s, std::atomic<std::size_t>& in, std::atomic<std::size_t>& out)
        : socket_(std::move(s)), in_(&in), out_(&out) {}

    executor_type get_executor() { return socket_.get_executor(); }
    tcp::socket& next_layer() { return socket_; }
    const tcp::socket& next_layer() const { return socket_; }

    template <class Buffers, class Handler> void async_read_some(const Buffers& b, Handler&& h) {
        socket_.async_read_some(b, [in = in_, h = std::forward<Handler>(h)](boost::system::error_code ec,
                                                                            std::size_t n) mutable {
            *in += n;
            h(ec, n);
        });
    }
    template <class Buffers, class Handler> void async_write_some(const Buffers& b, Handler&& h) {
        socket_.async_write_some(b, [out = out_, h = std::forward<Handler>(h)](boost::system::error_code ec,
                                                                               std::size_t n) mutable {
            *out += n;
            h(ec, n);
        });
    }

private:
    tcp::socket socket_;
    std::atomic<std::size_t>* in_;
    std::atomic<std::size_t>* out_;
};

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cout << "usage: custom-transport\n"
                     "Serves a PV through a byte-counting TCP stream and reads and writes it with a\n"
                     "client that reaches the server through the same kind of stream.\n";
        return std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ? 0 : 2;
    }
    asio::io_context io;
    std::atomic<std::size_t> server_in{0}, server_out{0}, client_in{0}, client_out{0};

    // The server: no UDP and no TCP of its own (never start()ed); connections come from our
    // acceptor, each wrapped in a CountingStream.
    server::Server srv(net::ServerConfig::isolated(), io.get_executor());
    Value initial = nt::NTScalar{TypeCode::Float64}.create();
    initial["value"] = 1.0;
    srv.add_pv("demo:counted", server::SharedPV::create("demo:counted", initial));
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    std::function<void()> accept_next = [&] {
        acceptor.async_accept(asio::make_strand(io), [&](boost::system::error_code ec, tcp::socket s) {
            if (ec) return;
            srv.accept(net::make_stream_transport(CountingStream(std::move(s), server_in, server_out)));
            accept_next();
        });
    };
    accept_next();

    // The client: "pva+counting://host:port" addresses go through our connector.
    client::ClientOptions options;
    options.search = false;
    options.connectors["counting"] = [&](const net::ServerAddress& a, asio::any_io_executor ex,
                                         const net::TransportLimits& limits, net::ConnectDone done) {
        auto socket = std::make_shared<tcp::socket>(ex);
        socket->async_connect(tcp::endpoint(asio::ip::make_address(a.host), a.port),
                              [&, socket, limits, done](boost::system::error_code ec) {
                                  if (ec) return done(ec, nullptr, "connect failed: " + ec.message());
                                  CountingStream stream(std::move(*socket), client_in, client_out);
                                  done({}, net::make_stream_transport(std::move(stream), limits), {});
                              });
    };
    client::Context ctx(net::ClientConfig::isolated(), options, io.get_executor());

    auto work = asio::make_work_guard(io);
    std::thread loop([&] { io.run(); });
    int status = 0;
    try {
        client::OpOptions where;
        where.server = "pva+counting://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
        ctx.put("demo:counted", {{"", "42"}}, where);
        const double v = ctx.get("demo:counted", where).value["value"].as<double>();
        std::cout << "demo:counted = " << v << " (through the counting stream)\n";
        status = v == 42.0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "custom-transport: " << e.what() << '\n';
        status = 1;
    }
    ctx.stop();
    srv.stop();
    asio::post(io, [&] { acceptor.close(); });
    work.reset();
    io.stop();
    loop.join();
    std::cout << "client sent " << client_out << " bytes, received " << client_in << "; server received "
              << server_in << ", sent " << server_out << '\n';
    return status == 0 && client_out > 0 && server_in > 0 ? 0 : 1;
}
