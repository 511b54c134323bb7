#include <pvwire/net/detail/framed_stream.hpp>

#include <pvwire/wire/framing.hpp>

#include <algorithm>
#include <cstring>
#include <utility>

namespace pvwire::net {

namespace {

// The SendBatches open on this thread, and the streams whose flush they owe (each once,
// kept alive until it is done). The vector keeps its capacity: no allocation per batch.
struct DeferredFlushes {
    int depth = 0;
    std::vector<std::pair<detail::FramedStream*, std::shared_ptr<void>>> streams;
};
thread_local DeferredFlushes deferred_flushes;

}  // namespace

SendBatch::SendBatch() noexcept { ++deferred_flushes.depth; }

SendBatch::~SendBatch() {
    auto& d = deferred_flushes;
    if (--d.depth > 0) return;
    // With depth 0 a flush cannot add to the list (a send now posts), so the index stays valid.
    for (std::size_t i = 0; i < d.streams.size(); ++i) d.streams[i].first->flush_deferred();
    d.streams.clear();
}

}  // namespace pvwire::net

namespace pvwire::net::detail {

FramedStream::FramedStream(Io& io, asio::any_io_executor strand, const TransportLimits& limits, std::string peer)
    : io_(io), strand_(std::move(strand)), limits_(limits), peer_(std::move(peer)) {
    limits_.read_buffer_bytes = std::max(limits_.read_buffer_bytes, wire::header_size);
}

void FramedStream::start(std::weak_ptr<StreamTransport::Handler> handler) {
    asio::post(strand_, [keep = io_.keep_alive(), this, handler = std::move(handler)]() mutable {
        if (started_) return;
        started_ = true;
        handler_ = std::move(handler);
        if (shut_down_) {
            notify_closed();  // closed before start(): report it now
            return;
        }
        if (!is_open()) return;  // finish_close() is queued and will report
        rbuf_ = std::make_shared<Buffer>(limits_.read_buffer_bytes);
        begin_read();
    });
}

void FramedStream::begin_read() {
    io_.read_some(std::span<std::byte>(rbuf_->data() + rend_, rbuf_->size() - rend_));
}

void FramedStream::read_done(const boost::system::error_code& ec, std::size_t n) {
    if (!is_open()) return;  // closing: finish_close() reports
    if (ec) {
        if (ec == asio::error::eof)
            close(ec, "peer " + peer_ + " closed the connection");
        else
            close(ec, "read from " + peer_ + " failed: " + ec.message());
        return;
    }
    rend_ += n;
    deliver_frames();
}

void FramedStream::deliver_frames() {
    std::size_t need = wire::header_size;
    {
        std::shared_ptr<const void> owner;  // made once per batch, only if a frame is delivered
        SendBatch replies;                  // what the frames' handlers send leaves in one write
        while (is_open() && !lingering_.load(std::memory_order_relaxed)) {
            std::span<const std::byte> avail(rbuf_->data() + rbegin_, rend_ - rbegin_);
            wire::Diagnostic diag;
            std::size_t len = limits_.frame_length(avail, limits_.max_message_bytes, diag);
            if (diag) {
                const std::string reason = "bad message header from " + peer_ + ": " + diag.message();
                if (auto handler = handler_.lock()) handler->on_framing_error(reason);
                if (!lingering_.load(std::memory_order_relaxed)) close(diag.code, reason);
                return;
            }
            if (len == 0 || len > avail.size()) {
                need = std::max(len, wire::header_size);
                break;
            }
            auto handler = handler_.lock();
            if (!handler) {
                close({}, "the handler of " + peer_ + " is gone");
                return;
            }
            if (!owner) owner = rbuf_;
            rbegin_ += len;
            handler->on_frame(avail.first(len), owner);
        }
        if (!is_open() || lingering_.load(std::memory_order_relaxed)) return;  // the handler closed us
    }
    prepare_buffer(need);
    io_.expect(need > rend_ ? need - rend_ : 0);
    begin_read();
}

// Makes room for the next read: at least `need` bytes from the start of the unconsumed tail.
// The tail moves to another buffer when the handler kept a reference to this one (the frames
// it holds must not be overwritten), when this one is too small, or when it is a large one
// and the next frame is not (back to the usual size); otherwise the buffer is reused.
void FramedStream::prepare_buffer(std::size_t need) {
    const std::size_t tail = rend_ - rbegin_;
    const std::size_t want = std::max(limits_.read_buffer_bytes, need);
    const bool kept = rbuf_.use_count() > 1;
    const bool large = rbuf_->size() > limits_.read_buffer_bytes;
    const bool oversized = large && want == limits_.read_buffer_bytes;
    if (kept || oversized || rbuf_->size() < want) {
        auto next = spare_buffer(want);
        if (tail) std::memcpy(next->data(), rbuf_->data() + rbegin_, tail);
        if (large) retired_.push_back(std::move(rbuf_));
        rbuf_ = std::move(next);
    } else if (rbegin_ != 0 && tail) {
        std::memmove(rbuf_->data(), rbuf_->data() + rbegin_, tail);
    }
    rbegin_ = 0;
    rend_ = tail;
}

// A buffer of at least `want` bytes: a retired large one that no received value refers to
// any more (zero-copy views of the frames it held are gone), or a new one. A stream of large
// frames thus cycles through a few buffers instead of allocating (and zero-filling, and
// faulting in) one per frame.
std::shared_ptr<FramedStream::Buffer> FramedStream::spare_buffer(std::size_t want) {
    for (auto it = retired_.begin(); it != retired_.end(); ++it) {
        if (it->use_count() == 1 && (*it)->size() >= want && (*it)->size() <= 2 * want) {
            auto b = std::move(*it);
            retired_.erase(it);
            return b;
        }
    }
    // keep a handful: the oldest is dropped (freed once its views are)
    while (retired_.size() >= max_retired) retired_.erase(retired_.begin());
    return std::make_shared<Buffer>(want);
}

bool FramedStream::send(wire::OutBuffer&& data) {
    const std::size_t n = data.size();
    bool post_flush = false, defer_flush = false;
    {
        std::unique_lock lock(mu_);
        if (!open_.load(std::memory_order_relaxed) || lingering_.load(std::memory_order_relaxed)) return false;
        if (n == 0) return true;
        if (queued_bytes_ + n > limits_.max_pending_output) {
            const std::size_t total = queued_bytes_ + n;
            lock.unlock();
            close(std::make_error_code(std::errc::no_buffer_space),
                  "peer " + peer_ + " too slow: " + std::to_string(total) + " bytes pending (limit " +
                      std::to_string(limits_.max_pending_output) + ")");
            return false;
        }
        queued_bytes_ += n;
        pending_.store(queued_bytes_, std::memory_order_relaxed);
        queue_.push_back(std::move(data));
        if (!writing_ && !flush_due_) {
            flush_due_ = true;
            defer_flush = deferred_flushes.depth > 0 && io_.on_strand();
            post_flush = !defer_flush;
        }
    }
    // Not written at once, so that everything sent until the strand gets to it (e.g. all
    // replies made while handling one batch of frames, all updates of one drain) leaves in
    // one write: at the end of the SendBatch this strand handler runs in, or posted.
    if (defer_flush) deferred_flushes.streams.emplace_back(this, io_.keep_alive());
    if (post_flush) io_.post_flush();
    return true;
}

void FramedStream::flush_deferred() {
    if (io_.on_strand())
        flush();
    else
        io_.post_flush();
}

// Writes the queue, batch after batch, while the stream takes each whole at once; a batch it
// does not take whole is left to an asynchronous write (write_done() carries on from there).
void FramedStream::flush() {
    bool written_here = false;
    while (take_queued()) {
        gather_inflight();
        const std::size_t now = io_.write_now(gather_);
        if (now < inflight_bytes_) {
            skip_written(now);
            io_.write(gather_);
            break;
        }
        written_here = true;
        if (!finish_write()) break;
    }
    if (written_here) notify_sent();
}

// Moves the queue to the batch in flight; false when there is nothing to write now.
bool FramedStream::take_queued() {
    std::lock_guard lock(mu_);
    flush_due_ = false;
    if (!open_.load(std::memory_order_relaxed) || writing_ || queue_.empty()) return false;
    writing_ = true;
    inflight_.swap(queue_);  // queue_ gets the emptied vector back, capacity kept
    return true;
}

// The gather list of the batch in flight: small pieces copied together into the staging
// buffer, large ones (array payloads) in place.
void FramedStream::gather_inflight() {
    std::size_t staged = 0;
    for (const auto& b : inflight_)
        b.for_each_piece([&](std::span<const std::byte> p) {
            if (p.size() < copy_below) staged += p.size();
        });
    staging_.resize(staged);  // sized once, so the pointers taken below stay valid
    gather_.clear();
    inflight_bytes_ = 0;
    std::size_t at = 0;
    bool last_staged = false;
    for (const auto& b : inflight_)
        b.for_each_piece([&](std::span<const std::byte> p) {
            inflight_bytes_ += p.size();
            if (p.size() < copy_below) {
                std::memcpy(staging_.data() + at, p.data(), p.size());
                if (last_staged)
                    gather_.back() = asio::const_buffer(gather_.back().data(), gather_.back().size() + p.size());
                else
                    gather_.emplace_back(staging_.data() + at, p.size());
                at += p.size();
                last_staged = true;
            } else {
                gather_.emplace_back(p.data(), p.size());
                last_staged = false;
            }
        });
}

// Drops the first `n` bytes of the gather list (written already).
void FramedStream::skip_written(std::size_t n) {
    auto first = gather_.begin();
    while (n > 0 && n >= first->size()) n -= (first++)->size();
    first = gather_.erase(gather_.begin(), first);
    if (n > 0) *first += n;
}

void FramedStream::write_done(const boost::system::error_code& ec, std::size_t) {
    if (ec) {
        inflight_.clear();
        if (is_open()) close(ec, "write to " + peer_ + " failed: " + ec.message());
        return;
    }
    if (finish_write()) flush();
    notify_sent();
}

// The batch in flight is written: releases it, and closes if close_after_sending() waited
// for it. True when more is queued.
bool FramedStream::finish_write() {
    inflight_.clear();  // releases the array payloads the batch referenced
    // A burst can leave the staging buffer large; keep only a usual batch's worth.
    if (staging_.capacity() > max_kept_staging) std::vector<std::byte>().swap(staging_);
    bool more = false;
    std::string reason;  // set: the last write before closing is done
    {
        std::lock_guard lock(mu_);
        if (!open_.load(std::memory_order_relaxed)) return false;
        writing_ = false;
        queued_bytes_ -= inflight_bytes_;
        pending_.store(queued_bytes_, std::memory_order_relaxed);
        more = !queue_.empty();
        if (!more && lingering_.load(std::memory_order_relaxed)) reason = linger_reason_;
    }
    if (!reason.empty()) close({}, std::move(reason));
    return more && reason.empty();
}

void FramedStream::notify_sent() {
    if (!is_open()) return;
    SendBatch released;  // what on_sent() sends (held-back updates) leaves in one write
    if (auto h = handler_.lock()) h->on_sent();
}

void FramedStream::close(std::error_code ec, std::string reason) {
    {
        std::lock_guard lock(mu_);
        if (!open_.load(std::memory_order_relaxed)) return;
        open_.store(false, std::memory_order_release);
        close_ec_ = ec;
        close_reason_ = std::move(reason);
        queue_.clear();
        queued_bytes_ = 0;
        pending_.store(0, std::memory_order_relaxed);
    }
    asio::post(strand_, [keep = io_.keep_alive(), this] { finish_close(); });
}

void FramedStream::close_after_sending(std::string reason) {
    if (reason.empty()) reason = "closed";
    {
        std::lock_guard lock(mu_);
        if (!open_.load(std::memory_order_relaxed) || lingering_.load(std::memory_order_relaxed)) return;
        lingering_.store(true, std::memory_order_relaxed);
        if (writing_ || flush_due_ || !queue_.empty()) {
            linger_reason_ = std::move(reason);
            return;  // write_done() closes
        }
    }
    close({}, std::move(reason));
}

void FramedStream::finish_close() {
    if (shut_down_) return;
    shut_down_ = true;
    io_.shutdown();
    notify_closed();
}

void FramedStream::notify_closed() {
    if (!started_ || closed_notified_) return;
    closed_notified_ = true;
    std::error_code ec;
    std::string reason;
    {
        std::lock_guard lock(mu_);
        ec = close_ec_;
        reason = close_reason_;
    }
    if (auto handler = handler_.lock()) handler->on_closed(ec, reason);
}

}  // namespace pvwire::net::detail
