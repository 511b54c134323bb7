// pvwire-bench wire: the physical limit. Messages of the given payload size, each behind an
// 8-byte header, pushed through a plain Asio TCP connection on loopback (one sending thread,
// one receiving thread, no pvAccess at all). Everything that could only make it faster is
// done: socket buffers as large as pvwire's (PVWIRE_TCP_BUFFER_BYTES, 4 MiB by default), small
// messages batched into 256 KiB writes, a large one written from a buffer prepared once, a
// receiver reading into a large reused buffer, and both threads polling non-blocking sockets
// instead of sleeping. Every MB/s figure of the suite is compared to this.
#include "programs.hpp"

#include <pvwire/net/asio.hpp>
#include <pvwire/net/config.hpp>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>

namespace pvwire::bench {

namespace asio = net::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t header_bytes = 8;
constexpr std::size_t batch_bytes = 256 * 1024;

std::vector<std::byte> make_batch(std::size_t payload) {
    const std::size_t msg = header_bytes + payload;
    const std::size_t n = msg >= batch_bytes ? 1 : batch_bytes / msg;
    std::vector<std::byte> out(n * msg, std::byte{0x5A});
    for (std::size_t i = 0; i < n; ++i) {
        auto* h = out.data() + i * msg;
        h[0] = std::byte{0xCA};
        const auto len = static_cast<std::uint32_t>(payload);
        std::memcpy(h + 4, &len, 4);
    }
    return out;
}

}  // namespace

int run_wire(const WireArgs& a) {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    tcp::socket tx(io), rx(io);
    tx.connect(acceptor.local_endpoint());
    acceptor.accept(rx);
    tx.set_option(tcp::no_delay(true));
    // what pvwire's own connections use (the client's setting; the server reads the same variable)
    const int socket_buffer_bytes = int(net::ClientConfig::from_env().transport_limits().socket_buffer_bytes);
    for (auto* s : {&tx, &rx}) {
        if (socket_buffer_bytes > 0) {
            s->set_option(asio::socket_base::send_buffer_size(socket_buffer_bytes));
            s->set_option(asio::socket_base::receive_buffer_size(socket_buffer_bytes));
        }
        s->non_blocking(true);
    }

    std::atomic<bool> stop{false};
    const auto batch = make_batch(a.size);
    std::thread sender([&] {
        boost::system::error_code ec;
        std::size_t at = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            const std::size_t n = tx.write_some(asio::buffer(batch.data() + at, batch.size() - at), ec);
            if (ec == asio::error::would_block) continue;
            if (ec) break;
            at = (at + n) % batch.size();
        }
    });

    install_signals();
    std::vector<std::byte> buf(std::max<std::size_t>(header_bytes + a.size, std::size_t(4) << 20));
    std::uint64_t messages = 0, bytes = 0;
    std::size_t need = header_bytes;  // bytes left of the current header or payload
    bool in_header = true;
    std::size_t header_fill = 0;
    std::byte header[header_bytes];
    const auto t0 = Clock::now();
    const double cpu0 = cpu_seconds();
    boost::system::error_code ec;
    while (!interrupted && since(t0) < a.seconds) {
        const std::size_t n = rx.read_some(asio::buffer(buf), ec);
        if (ec == asio::error::would_block) continue;
        if (ec) break;
        bytes += n;
        std::size_t at = 0;
        while (at < n) {
            const std::size_t take = std::min(need, n - at);
            if (in_header) {
                std::memcpy(header + header_fill, buf.data() + at, take);
                header_fill += take;
            }
            at += take;
            need -= take;
            if (need) break;
            if (in_header) {
                std::uint32_t len = 0;
                std::memcpy(&len, header + 4, 4);
                in_header = false;
                header_fill = 0;
                need = len;
                if (need) continue;
            }
            ++messages;
            in_header = true;
            need = header_bytes;
        }
    }
    const double dt = since(t0), cpu = cpu_seconds() - cpu0;
    stop = true;
    rx.close(ec);
    sender.join();
    const double mbs = double(messages) * double(a.size) / dt / 1e6;
    std::printf("pvwire-bench wire: %zu-byte messages over loopback TCP, %.2f s: %.0f messages/s, %.1f MB/s of "
                "payload (%.1f MB/s on the wire), CPU %.2f s\n",
                a.size, dt, double(messages) / dt, mbs, double(bytes) / dt / 1e6, cpu);
    ResultLine("wire")
        .add("size", std::uint64_t(a.size))
        .add("seconds", dt)
        .add("messages", messages)
        .add("msgs_per_s", double(messages) / dt, 1)
        .add("mb_per_s", mbs)
        .add("cpu_s", cpu)
        .print();
    return messages > 0 ? 0 : 1;
}

}  // namespace pvwire::bench
