#include <pvwire/net/pipe_transport.hpp>

#include <pvwire/net/detail/framed_stream.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>

namespace pvwire::net {
namespace {

// Bytes written by one end for the other.
struct Direction {
    std::deque<std::byte> bytes;
    bool writer_closed = false;  // the reader gets eof once it has drained `bytes`
    bool reader_closed = false;  // writes fail with broken_pipe
};

struct PipeShared {
    std::mutex mu;          // guards both directions and the I/O state of both ends
    Direction dir[2];       // dir[i] is written by end i
};

class PipeTransportImpl final : public PipeTransport, private detail::FramedStream::Io {
public:
    PipeTransportImpl(asio::any_io_executor ex, const TransportLimits& limits, std::shared_ptr<PipeShared> shared,
                      int side)
        : strand_(asio::make_strand(ex)),
          shared_(std::move(shared)),
          side_(side),
          core_(*this, strand_, limits, side ? "pipe:a" : "pipe:b") {}  // named after the other end

    void set_peer(const std::shared_ptr<PipeTransportImpl>& peer) { peer_ = peer; }

    void start(std::weak_ptr<Handler> handler) override { core_.start(std::move(handler)); }
    bool send(wire::OutBuffer&& data) override { return core_.send(std::move(data)); }
    void close(const std::string& reason) override { core_.close({}, reason); }
    void close_after_sending(const std::string& reason) override { core_.close_after_sending(reason); }
    bool is_open() const override { return core_.is_open(); }
    std::size_t pending_output() const override { return core_.pending_output(); }
    std::string peer_name() const override { return core_.peer_name(); }
    asio::any_io_executor executor() const override { return strand_; }

    void fail_write_after(std::size_t n) override {
        std::lock_guard lock(shared_->mu);
        fail_write_at_ = n ? writes_started_ + n : 0;
    }
    void fail_read_after(std::size_t n) override {
        std::lock_guard lock(shared_->mu);
        fail_read_at_ = n ? reads_started_ + n : 0;
    }
    void set_chunking(std::size_t bytes) override {
        std::lock_guard lock(shared_->mu);
        chunk_ = bytes;
    }
    void stop_reading() override {
        std::lock_guard lock(shared_->mu);
        stopped_ = true;
    }
    void resume_reading() override {
        {
            std::lock_guard lock(shared_->mu);
            stopped_ = false;
        }
        asio::post(strand_, [self = shared_from_this(), this] { try_read(); });
    }
    std::size_t writes() const override { return writes_.load(); }

private:
    Direction& incoming() { return shared_->dir[1 - side_]; }
    Direction& outgoing() { return shared_->dir[side_]; }

    std::shared_ptr<void> keep_alive() override { return shared_from_this(); }
    void post_flush() override {
        asio::post(strand_, [self = shared_from_this(), this] { core_.flush_queued(); });
    }
    bool on_strand() const override { return strand_.running_in_this_thread(); }

    void complete_read(boost::system::error_code ec, std::size_t n) {
        asio::post(strand_, [self = shared_from_this(), this, ec, n] { core_.read_done(ec, n); });
    }
    void complete_write(boost::system::error_code ec, std::size_t n) {
        asio::post(strand_, [self = shared_from_this(), this, ec, n] { core_.write_done(ec, n); });
    }
    // Lets the peer look at its waiting operation again (on its own strand).
    void poke_peer() {
        if (auto peer = peer_.lock())
            asio::post(peer->strand_, [peer] {
                peer->try_read();
                peer->try_write();
            });
    }

    void read_some(std::span<std::byte> into) override {
        {
            std::lock_guard lock(shared_->mu);
            ++reads_started_;
            if (reads_started_ == fail_read_at_) {
                complete_read(asio::error::connection_reset, 0);
                return;
            }
            read_into_ = into;
            reading_ = true;
        }
        try_read();
    }

    void try_read() {
        bool consumed = false;
        {
            std::lock_guard lock(shared_->mu);
            if (!reading_) return;
            Direction& in = incoming();
            if (!stopped_ && !in.bytes.empty()) {
                std::size_t n = std::min(read_into_.size(), in.bytes.size());
                if (chunk_) n = std::min(n, chunk_);
                std::copy_n(in.bytes.begin(), n, read_into_.begin());
                in.bytes.erase(in.bytes.begin(), in.bytes.begin() + std::ptrdiff_t(n));
                reading_ = false;
                consumed = true;
                complete_read({}, n);
            } else if (in.writer_closed && in.bytes.empty()) {
                reading_ = false;
                complete_read(asio::error::eof, 0);
            }
        }
        if (consumed) poke_peer();  // its write may be waiting for room
    }

    void write(const std::vector<asio::const_buffer>& buffers) override {
        ++writes_;
        {
            std::lock_guard lock(shared_->mu);
            ++writes_started_;
            if (writes_started_ == fail_write_at_) {
                complete_write(asio::error::broken_pipe, 0);
                return;
            }
            write_from_ = &buffers;
            written_ = 0;
            write_total_ = asio::buffer_size(buffers);
            writing_ = true;
        }
        try_write();
    }

    void try_write() {
        bool produced = false;
        {
            std::lock_guard lock(shared_->mu);
            if (!writing_) return;
            Direction& out = outgoing();
            if (out.reader_closed) {
                writing_ = false;
                complete_write(asio::error::broken_pipe, written_);
                return;
            }
            std::size_t room = capacity - std::min(capacity, out.bytes.size());
            std::size_t skip = written_;
            for (const auto& b : *write_from_) {
                if (room == 0) break;
                if (skip >= b.size()) {
                    skip -= b.size();
                    continue;
                }
                auto p = static_cast<const std::byte*>(b.data()) + skip;
                std::size_t n = std::min(room, b.size() - skip);
                out.bytes.insert(out.bytes.end(), p, p + n);
                skip = 0;
                room -= n;
                written_ += n;
                produced = true;
            }
            if (written_ == write_total_) {
                writing_ = false;
                complete_write({}, write_total_);
            }
        }
        if (produced) poke_peer();  // its read may be waiting for bytes
    }

    void shutdown() override {
        {
            std::lock_guard lock(shared_->mu);
            outgoing().writer_closed = true;
            incoming().reader_closed = true;
            incoming().bytes.clear();
            if (reading_) {
                reading_ = false;
                complete_read(asio::error::operation_aborted, 0);
            }
            if (writing_) {
                writing_ = false;
                complete_write(asio::error::operation_aborted, written_);
            }
        }
        poke_peer();  // it sees eof, or broken_pipe if it was writing to us
    }

    asio::strand<asio::any_io_executor> strand_;
    std::shared_ptr<PipeShared> shared_;
    const int side_;
    std::weak_ptr<PipeTransportImpl> peer_;
    std::atomic<std::size_t> writes_{0};

    // Guarded by shared_->mu.
    std::span<std::byte> read_into_;
    bool reading_ = false;
    const std::vector<asio::const_buffer>* write_from_ = nullptr;
    std::size_t written_ = 0;
    std::size_t write_total_ = 0;
    bool writing_ = false;
    bool stopped_ = false;
    std::size_t chunk_ = 0;
    std::size_t reads_started_ = 0;
    std::size_t writes_started_ = 0;
    std::size_t fail_read_at_ = 0;
    std::size_t fail_write_at_ = 0;

    detail::FramedStream core_;
};

}  // namespace

std::pair<std::shared_ptr<PipeTransport>, std::shared_ptr<PipeTransport>> PipeTransport::make_pair(
    asio::any_io_executor ex, TransportLimits limits) {
    auto shared = std::make_shared<PipeShared>();
    auto a = std::make_shared<PipeTransportImpl>(ex, limits, shared, 0);
    auto b = std::make_shared<PipeTransportImpl>(ex, limits, shared, 1);
    a->set_peer(b);
    b->set_peer(a);
    return {a, b};
}

}  // namespace pvwire::net
