// The stream transport's framing, batching, limits and close protocol, driven through the
// in-memory pipe with fault injection (the same code runs under TcpTransport).
#include <catch2/catch.hpp>

#include "transport_test_support.hpp"

#include <pvwire/net/pipe_transport.hpp>
#include <pvwire/wire/error.hpp>

#include <random>

using namespace pvwire;
using namespace pvwire::net;
using namespace pvwire::net::test;
using namespace std::chrono_literals;

namespace {

struct Pair {
    explicit Pair(asio::io_context& io, TransportLimits limits = {}, bool keep_owners = false)
        : a_rec(std::make_shared<Recorder>(keep_owners)), b_rec(std::make_shared<Recorder>(keep_owners)) {
        std::tie(a, b) = PipeTransport::make_pair(io.get_executor(), limits);
    }
    void start() {
        a->start(a_rec);
        b->start(b_rec);
    }
    std::shared_ptr<PipeTransport> a, b;
    std::shared_ptr<Recorder> a_rec, b_rec;
    // b received frame(i, 16) for i = 0 .. n-1, in order.
    void check_received_16(std::uint32_t n) const {
        auto got = b_rec->frames();
        REQUIRE(got.size() >= n);
        for (std::uint32_t i = 0; i < n; ++i) CHECK(got[i] == frame_bytes(i, 16));
    }
};

}  // namespace

TEST_CASE("pipe: frames split at every byte boundary are reassembled", "[net][pipe]") {
    const std::vector<std::size_t> bodies = {0, 1, 7, 8, 9, 100, 1500, 5000, 0, 3};
    for (std::size_t chunk : {1u, 2u, 3u, 5u, 8u, 13u, 4096u}) {
        CAPTURE(chunk);
        asio::io_context io;
        Pair p(io, TransportLimits{.max_message_bytes = 1 << 20, .max_pending_output = 1 << 20, .read_buffer_bytes = 64});
        p.b->set_chunking(chunk);
        p.start();
        for (std::size_t i = 0; i < bodies.size(); ++i) REQUIRE(p.a->send(frame(std::uint32_t(i), bodies[i])));
        REQUIRE(run_until(io, [&] { return p.b_rec->frame_count() == bodies.size(); }));
        auto got = p.b_rec->frames();
        for (std::size_t i = 0; i < bodies.size(); ++i) CHECK(got[i] == frame_bytes(std::uint32_t(i), bodies[i]));
        CHECK_FALSE(p.b_rec->closed());
    }
}

TEST_CASE("pipe: many small sends coalesce into one write", "[net][pipe]") {
    asio::io_context io;
    Pair p(io);
    p.start();
    // Queued before the strand runs: they all leave in the first write.
    for (std::uint32_t i = 0; i < 500; ++i) REQUIRE(p.a->send(frame(i, 16)));
    CHECK(p.a->pending_output() == 500 * 24);
    REQUIRE(run_until(io, [&] { return p.b_rec->frame_count() == 500; }));
    CHECK(p.a->writes() == 1);
    CHECK(p.a->pending_output() == 0);
    p.check_received_16(500);
}

TEST_CASE("pipe: replies sent while handling a batch of frames leave in one write", "[net][pipe]") {
    asio::io_context io;
    Pair p(io);
    auto b = p.b;
    p.b_rec->on_frame_hook = [b](std::span<const std::byte> f) {
        wire::OutBuffer reply;
        reply.bytes().assign(f.begin(), f.end());
        b->send(std::move(reply));
    };
    p.start();
    for (std::uint32_t i = 0; i < 100; ++i) REQUIRE(p.a->send(frame(i, 10)));
    REQUIRE(run_until(io, [&] { return p.a_rec->frame_count() == 100; }));
    // Pipe reads take up to the 64 KiB read buffer, so all 100 arrive in one read.
    CHECK(p.b->writes() == 1);
}

TEST_CASE("pipe: sends in a SendBatch on the strand leave in one write when the batch ends", "[net][pipe]") {
    asio::io_context io;
    Pair p(io);
    p.start();
    std::size_t writes_inside = 99, writes_after = 99;
    asio::post(p.a->executor(), [&] {
        {
            SendBatch batch;
            for (std::uint32_t i = 0; i < 50; ++i) REQUIRE(p.a->send(frame(i, 16)));
            {
                SendBatch inner;  // nested: only the outermost one writes
                REQUIRE(p.a->send(frame(50, 16)));
            }
            writes_inside = p.a->writes();
        }
        writes_after = p.a->writes();  // written at the batch's end, not by a posted flush
    });
    REQUIRE(run_until(io, [&] { return p.b_rec->frame_count() == 51; }));
    CHECK(writes_inside == 0);
    CHECK(writes_after == 1);
    CHECK(p.a->writes() == 1);
    p.check_received_16(51);
}

TEST_CASE("pipe: a SendBatch off the transport's strand leaves the flush posted", "[net][pipe]") {
    asio::io_context io;
    Pair p(io);
    p.start();
    {
        SendBatch batch;  // this thread is not on a's strand: the batch's end must not write
        for (std::uint32_t i = 0; i < 10; ++i) REQUIRE(p.a->send(frame(i, 16)));
    }
    CHECK(p.a->writes() == 0);
    REQUIRE(run_until(io, [&] { return p.b_rec->frame_count() == 10; }));
    CHECK(p.a->writes() == 1);
}

TEST_CASE("pipe: array payloads referenced by an OutBuffer are written in place, in order", "[net][pipe]") {
    asio::io_context io;
    Pair p(io);
    p.start();
    auto payload = std::make_shared<std::vector<std::byte>>(5000);
    for (std::size_t i = 0; i < payload->size(); ++i) (*payload)[i] = std::byte(i * 13);
    std::vector<std::byte> expected;
    for (int m = 0; m < 3; ++m) {
        // header | 3 prefix bytes | 5000 external bytes | 2 suffix bytes
        wire::OutBuffer out;
        wire::Header h;
        h.size = 3 + 5000 + 2;
        out.bytes().resize(8);
        h.write(out.bytes().data());
        for (int i = 0; i < 3; ++i) out.bytes().push_back(std::byte(m));
        out.add_external(payload->data(), payload->size(), payload);
        for (int i = 0; i < 2; ++i) out.bytes().push_back(std::byte(0xEE));
        auto flat = out.flatten();
        expected.insert(expected.end(), flat.begin(), flat.end());
        REQUIRE(p.a->send(std::move(out)));
        REQUIRE(p.a->send(frame(std::uint32_t(m), 4)));  // a small one between
        auto small = frame_bytes(std::uint32_t(m), 4);
        expected.insert(expected.end(), small.begin(), small.end());
    }
    REQUIRE(run_until(io, [&] { return p.b_rec->frame_count() == 6; }));
    std::vector<std::byte> got;
    for (auto& f : p.b_rec->frames()) got.insert(got.end(), f.begin(), f.end());
    CHECK(got == expected);
    CHECK(payload.use_count() == 1);  // released once written
}

TEST_CASE("pipe: a kept owner keeps its frame intact while later frames arrive", "[net][pipe]") {
    asio::io_context io;
    Pair p(io, TransportLimits{.read_buffer_bytes = 256}, /*keep_owners=*/true);
    p.start();
    REQUIRE(p.a->send(frame(1, 100)));
    REQUIRE(run_until(io, [&] { return p.b_rec->frame_count() == 1; }));
    // Later frames, in later reads, that would overwrite a reused buffer.
    for (std::uint32_t round = 0; round < 20; ++round) {
        REQUIRE(p.a->send(frame(1000 + round, 200)));
        REQUIRE(run_until(io, [&] { return p.b_rec->frame_count() == 2 + round; }));
    }
    const auto& first = p.b_rec->kept_.front();
    const auto expected = frame_bytes(1, 100);
    CHECK(std::equal(first.view.begin(), first.view.end(), expected.begin(), expected.end()));
    for (std::uint32_t round = 0; round < 20; ++round) {
        const auto& k = p.b_rec->kept_[1 + round];
        const auto e = frame_bytes(1000 + round, 200);
        CHECK(std::equal(k.view.begin(), k.view.end(), e.begin(), e.end()));
    }
}

TEST_CASE("pipe: without a kept owner the read buffer is reused", "[net][pipe]") {
    asio::io_context io;
    Pair p(io);
    p.start();
    for (std::uint32_t round = 0; round < 5; ++round) {
        REQUIRE(p.a->send(frame(round, 50)));
        REQUIRE(run_until(io, [&] { return p.b_rec->frame_count() == 1 + round; }));
    }
    const auto& seen = p.b_rec->owners_seen_;
    CHECK(std::all_of(seen.begin(), seen.end(), [&](const void* o) { return o == seen.front(); }));
}

TEST_CASE("pipe: a frame larger than the read buffer is received whole", "[net][pipe]") {
    asio::io_context io;
    Pair p(io, TransportLimits{.read_buffer_bytes = 128});
    p.start();
    REQUIRE(p.a->send(frame(7, 300000)));
    REQUIRE(p.a->send(frame(8, 10)));
    REQUIRE(run_until(io, [&] { return p.b_rec->frame_count() == 2; }));
    CHECK(p.b_rec->frames()[0] == frame_bytes(7, 300000));
    CHECK(p.b_rec->frames()[1] == frame_bytes(8, 10));
}

TEST_CASE("pipe: a header announcing more than max_message_bytes closes with a reason", "[net][pipe]") {
    asio::io_context io;
    Pair p(io, TransportLimits{.max_message_bytes = 1024});
    p.start();
    REQUIRE(p.a->send(frame(1, 1024)));  // at the limit: fine
    wire::Header h;
    h.size = 1025;
    std::vector<std::byte> hdr(8);
    h.write(hdr.data());
    REQUIRE(p.a->send(raw(hdr)));  // the body never needs to arrive
    REQUIRE(run_until(io, [&] { return p.b_rec->closed() && p.a_rec->closed(); }));
    CHECK(p.b_rec->frame_count() == 1);
    CHECK(p.b_rec->error() == wire::errc::too_large);
    CHECK_THAT(p.b_rec->reason(), Catch::Contains("1025 bytes exceeds the limit of 1024"));
    CHECK_FALSE(p.b->is_open());
    CHECK(p.a_rec->error() == std_error(asio::error::eof));  // the sender sees the connection go
}

TEST_CASE("pipe: a bad header closes with a reason naming it", "[net][pipe]") {
    asio::io_context io;
    Pair p(io);
    p.start();
    REQUIRE(p.a->send(raw(std::vector<std::byte>(8, std::byte(0x42)))));
    REQUIRE(run_until(io, [&] { return p.b_rec->closed(); }));
    CHECK(p.b_rec->error() == wire::errc::bad_magic);
    CHECK_THAT(p.b_rec->reason(), Catch::Contains("0xCA"));
    CHECK(p.b_rec->frame_count() == 0);
}

TEST_CASE("pipe: a peer that stops reading trips max_pending_output and other pairs keep working", "[net][pipe]") {
    asio::io_context io;
    const TransportLimits limits{.max_pending_output = 256 * 1024};
    Pair slow(io, limits), other(io, limits);
    slow.start();
    other.start();
    slow.b->stop_reading();
    bool refused = false;
    for (std::uint32_t i = 0; i < 1000 && !refused; ++i) {
        refused = !slow.a->send(frame(i, 4096));
        settle(io, 1ms);
    }
    REQUIRE(refused);
    REQUIRE(run_until(io, [&] { return slow.a_rec->closed(); }));
    CHECK(slow.a_rec->error() == std::errc::no_buffer_space);
    CHECK_THAT(slow.a_rec->reason(), Catch::Contains("too slow") && Catch::Contains("bytes pending"));
    CHECK_FALSE(slow.a->is_open());
    CHECK(slow.a->pending_output() == 0);  // the queue was dropped
    CHECK_FALSE(slow.a->send(frame(0, 1)));

    for (std::uint32_t i = 0; i < 50; ++i) REQUIRE(other.a->send(frame(i, 4096)));
    REQUIRE(run_until(io, [&] { return other.b_rec->frame_count() == 50; }));
    CHECK_FALSE(other.a_rec->closed());
    CHECK_FALSE(other.b_rec->closed());
}

TEST_CASE("pipe: output waits while the peer is not reading and flows when it resumes", "[net][pipe]") {
    asio::io_context io;
    Pair p(io);
    p.start();
    p.b->stop_reading();
    for (std::uint32_t i = 0; i < 40; ++i) REQUIRE(p.a->send(frame(i, 4000)));
    settle(io, 50ms);
    CHECK(p.b_rec->frame_count() == 0);
    CHECK(p.a->pending_output() > 0);
    p.b->resume_reading();
    REQUIRE(run_until(io, [&] { return p.b_rec->frame_count() == 40; }));
    REQUIRE(run_until(io, [&] { return p.a->pending_output() == 0; }));
}

TEST_CASE("pipe: fail_write_after closes the writer with an error and the peer sees the close", "[net][pipe]") {
    asio::io_context io;
    Pair p(io);
    p.start();
    p.a->fail_write_after(2);
    REQUIRE(p.a->send(frame(1, 10)));
    REQUIRE(run_until(io, [&] { return p.b_rec->frame_count() == 1; }));
    REQUIRE(p.a->send(frame(2, 10)));
    REQUIRE(run_until(io, [&] { return p.a_rec->closed() && p.b_rec->closed(); }));
    CHECK(p.a_rec->error() == std_error(asio::error::broken_pipe));
    CHECK_THAT(p.a_rec->reason(), Catch::Contains("write to pipe:b failed"));
    CHECK(p.b_rec->error() == std_error(asio::error::eof));
    CHECK(p.b_rec->frame_count() == 1);
    CHECK(p.a_rec->closed_count() == 1);
    CHECK(p.b_rec->closed_count() == 1);
}

TEST_CASE("pipe: fail_read_after closes the reader with an error and the peer sees the close", "[net][pipe]") {
    asio::io_context io;
    Pair p(io);
    p.start();
    settle(io);  // the first read is now waiting
    p.b->fail_read_after(1);
    REQUIRE(p.a->send(frame(1, 10)));  // completes the waiting read; the next read fails
    REQUIRE(run_until(io, [&] { return p.a_rec->closed() && p.b_rec->closed(); }));
    CHECK(p.b_rec->frame_count() == 1);
    CHECK(p.b_rec->error() == std_error(asio::error::connection_reset));
    CHECK_THAT(p.b_rec->reason(), Catch::Contains("read from pipe:a failed"));
    CHECK(p.a_rec->error() == std_error(asio::error::eof));
}

TEST_CASE("pipe: close reports once, drops queued output and delivers nothing after", "[net][pipe]") {
    asio::io_context io;
    Pair p(io);
    p.start();
    p.b->stop_reading();
    for (std::uint32_t i = 0; i < 40; ++i) REQUIRE(p.a->send(frame(i, 4000)));
    settle(io);
    p.b->resume_reading();
    p.a->close("done here");
    p.a->close("again");
    CHECK_FALSE(p.a->is_open());
    CHECK(p.a->pending_output() == 0);
    CHECK_FALSE(p.a->send(frame(99, 1)));
    REQUIRE(run_until(io, [&] { return p.a_rec->closed() && p.b_rec->closed(); }));
    settle(io);
    CHECK(p.a_rec->closed_count() == 1);
    CHECK_FALSE(p.a_rec->error());
    CHECK(p.a_rec->reason() == "done here");
    CHECK(p.b_rec->closed_count() == 1);
    CHECK_FALSE(p.b_rec->frame_after_close());
    CHECK(p.b_rec->frame_count() < 40);
}

TEST_CASE("pipe: closing from inside on_frame stops delivery at once", "[net][pipe]") {
    asio::io_context io;
    Pair p(io);
    auto b = p.b;
    p.b_rec->on_frame_hook = [b](std::span<const std::byte>) { b->close("seen enough"); };
    p.start();
    for (std::uint32_t i = 0; i < 10; ++i) REQUIRE(p.a->send(frame(i, 10)));
    REQUIRE(run_until(io, [&] { return p.b_rec->closed(); }));
    settle(io);
    CHECK(p.b_rec->frame_count() == 1);
    CHECK(p.b_rec->reason() == "seen enough");
}

TEST_CASE("pipe: a transport closed before start reports the close at start", "[net][pipe]") {
    asio::io_context io;
    Pair p(io);
    p.a->close("never mind");
    settle(io);
    p.start();
    REQUIRE(run_until(io, [&] { return p.a_rec->closed() && p.b_rec->closed(); }));
    CHECK(p.a_rec->reason() == "never mind");
}

TEST_CASE("pipe: random frames at random chunkings survive the round trip", "[net][pipe]") {
    std::mt19937 rng(12345);
    asio::io_context io;
    Pair p(io, TransportLimits{.read_buffer_bytes = 512});
    p.b->set_chunking(1 + rng() % 700);
    p.start();
    std::vector<std::size_t> sizes;
    for (std::uint32_t i = 0; i < 300; ++i) {
        sizes.push_back(rng() % 3 == 0 ? rng() % 20000 : rng() % 64);
        REQUIRE(p.a->send(frame(i, sizes.back())));
        if (rng() % 10 == 0) settle(io, 1ms);
    }
    REQUIRE(run_until(io, [&] { return p.b_rec->frame_count() == sizes.size(); }));
    auto got = p.b_rec->frames();
    for (std::uint32_t i = 0; i < sizes.size(); ++i) CHECK(got[i] == frame_bytes(i, sizes[i]));
}
