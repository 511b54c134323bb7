// FramedStream: the part of a stream transport that does not depend on what moves the bytes:
// the read buffer and framing, the write queue with batching, the limits and the close
// protocol. basic_stream_transport (TCP, UNIX, TLS, WebSocket) and PipeTransport own one each
// and supply the I/O through Io, so every stream, the in-memory pipe of the tests included,
// runs exactly the same framing code. Compiled into the library (src/net/framed_stream.cpp).
//
// Threading: read_done()/write_done() and every Io call but on_strand() happen on `strand`.
// send(), close() and the getters may be called from any thread; they take a short lock for
// the queue.
// An implementation detail of the transports: not an API.
#pragma once

#include <pvwire/net/stream_transport.hpp>

#include <pvwire/net/detail/raw_buffer.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace pvwire::net::detail {

class FramedStream {
public:
    // What the owning transport provides. Each operation completes by calling read_done() or
    // write_done() on the strand, later (never from inside the call).
    class Io {
    public:
        // Something that keeps the owning transport (and so this FramedStream) alive while a
        // posted handler is pending.
        virtual std::shared_ptr<void> keep_alive() = 0;
        // Reads at least one byte into `into` (which stays valid until read_done()).
        virtual void read_some(std::span<std::byte> into) = 0;
        // Called before each read_some(): the frame being received still needs `more` bytes
        // (0 between frames). A transport may then complete the read only once that much has
        // arrived (TCP: SO_RCVLOWAT), so a large message costs a few wake-ups instead of one
        // per arriving segment.
        virtual void expect(std::size_t more) { (void)more; }
        // Writes all of `buffers` (which stay valid until write_done()).
        virtual void write(const std::vector<asio::const_buffer>& buffers) = 0;
        // Writes what the stream takes at once, without waiting, and returns how many bytes
        // that was (0: nothing, or a stream that cannot). A batch the socket takes whole is
        // then done on the spot: no completion handler, no hop back to the strand.
        virtual std::size_t write_now(const std::vector<asio::const_buffer>& buffers) {
            (void)buffers;
            return 0;
        }
        // Cancels pending operations (they complete with operation_aborted) and closes.
        virtual void shutdown() = 0;
        // Runs flush_queued() on the strand later. The owner posts through its own strand
        // type: a post through the type-erased executor (as below for rare events) converts
        // the strand into a new any_io_executor, ~400 instructions and a heap allocation on
        // every message sent.
        virtual void post_flush() = 0;
        // The calling thread runs on the strand now: a send() may then leave its flush to the
        // end of the current SendBatch. The default (false) always posts.
        virtual bool on_strand() const { return false; }

    protected:
        ~Io() = default;
    };

    FramedStream(Io& io, asio::any_io_executor strand, const TransportLimits& limits, std::string peer);
    FramedStream(const FramedStream&) = delete;
    FramedStream& operator=(const FramedStream&) = delete;

    void start(std::weak_ptr<StreamTransport::Handler> handler);
    bool send(wire::OutBuffer&& data);
    // First call wins; on_closed() reports its code and reason. An empty code means the
    // owner asked for the close.
    void close(std::error_code ec, std::string reason);
    // StreamTransport::close_after_sending().
    void close_after_sending(std::string reason);

    bool is_open() const noexcept { return open_.load(std::memory_order_acquire); }
    std::size_t pending_output() const noexcept { return pending_.load(std::memory_order_relaxed); }
    const std::string& peer_name() const noexcept { return peer_; }
    const asio::any_io_executor& executor() const noexcept { return strand_; }

    // Completions, on the strand.
    void read_done(const boost::system::error_code& ec, std::size_t n);
    void write_done(const boost::system::error_code& ec, std::size_t n);
    // What Io::post_flush() runs.
    void flush_queued() { flush(); }
    // What the end of a SendBatch runs: the flush a send() left to it (posted instead if the
    // batch ended off the strand).
    void flush_deferred();

    // Pieces smaller than this are copied into one staging buffer when a batch is gathered,
    // so a burst of small messages leaves in one writev (Asio passes at most 64 iovecs per
    // call); larger pieces (array payloads) are written in place.
    static constexpr std::size_t copy_below = 1024;
    static constexpr std::size_t max_kept_staging = std::size_t(1) << 20;

private:
    using Buffer = RawBuffer;

    void begin_read();
    void deliver_frames();
    void prepare_buffer(std::size_t need);
    std::shared_ptr<Buffer> spare_buffer(std::size_t want);
    void flush();
    bool take_queued();
    void gather_inflight();
    void skip_written(std::size_t n);
    bool finish_write();
    void notify_sent();
    void finish_close();
    void notify_closed();

    Io& io_;
    asio::any_io_executor strand_;
    TransportLimits limits_;
    std::string peer_;

    // Strand only.
    std::weak_ptr<StreamTransport::Handler> handler_;
    bool started_ = false;
    bool shut_down_ = false;         // finish_close() ran
    bool closed_notified_ = false;   // on_closed() was called
    std::shared_ptr<Buffer> rbuf_;   // frames are handed up as views into this
    std::vector<std::shared_ptr<Buffer>> retired_;  // large read buffers, reused once unreferenced
    static constexpr std::size_t max_retired = 4;
    std::size_t rbegin_ = 0;         // first unconsumed byte
    std::size_t rend_ = 0;           // end of the bytes read
    std::vector<wire::OutBuffer> inflight_;    // the batch being written
    std::vector<asio::const_buffer> gather_;   // its pieces
    std::vector<std::byte> staging_;           // small pieces of the batch, copied
    std::size_t inflight_bytes_ = 0;

    // Guarded by mu_.
    mutable std::mutex mu_;
    std::vector<wire::OutBuffer> queue_;
    std::size_t queued_bytes_ = 0;   // queue_ + inflight_, mirrored in pending_
    bool writing_ = false;
    bool flush_due_ = false;         // a flush is posted, or left to the thread's SendBatch
    std::error_code close_ec_;
    std::string close_reason_;
    std::string linger_reason_;      // close_after_sending(): closed once the queue is written

    std::atomic<bool> lingering_{false};  // close_after_sending() called: no more frames, no more sends

    std::atomic<bool> open_{true};
    std::atomic<std::size_t> pending_{0};
};

}  // namespace pvwire::net::detail
