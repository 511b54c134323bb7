/// @file
/// PipeTransport: an in-memory duplex pair of StreamTransports for tests, with fault injection
/// (after Beast's test stream). It shares the framing, batching and limits code with
/// TcpTransport; only the byte moving differs: each direction holds up to `capacity` bytes
/// (like a socket buffer), a writer waits while it is full, a reader while it is empty.
///
/// Fault injection applies to the end it is called on:
/// @code{.unparsed}
///   fail_write_after(n)  the n-th write started from now fails (1 = the next one): the end
///                        closes with the error, its peer then sees the connection closed;
///   fail_read_after(n)   the same for reads;
///   set_chunking(b)      incoming bytes are handed to the framer at most b at a time
///                        (1 = byte by byte), so every split of a frame is exercised;
///   stop_reading()       this end stops consuming: its peer's writes stall and the peer's
///                        pending output grows until max_pending_output closes it;
///   writes()             gather writes started so far (each carries a whole batch).
/// @endcode
///
/// Threading: each end runs on its own strand of the executor given to make_pair(); all
/// member functions may be called from any thread.
#pragma once

#include <pvwire/net/stream_transport.hpp>

#include <cstddef>
#include <memory>
#include <utility>

namespace pvwire::net {

class PipeTransport : public StreamTransport, public std::enable_shared_from_this<PipeTransport> {
public:
    /// Bytes one direction holds before the writer has to wait.
    static constexpr std::size_t capacity = 64 * 1024;

    static std::pair<std::shared_ptr<PipeTransport>, std::shared_ptr<PipeTransport>> make_pair(
        asio::any_io_executor ex, TransportLimits limits = {});

    virtual void fail_write_after(std::size_t n) = 0;
    virtual void fail_read_after(std::size_t n) = 0;
    /// 0 = no limit (as much as the read buffer takes).
    virtual void set_chunking(std::size_t bytes) = 0;
    virtual void stop_reading() = 0;
    virtual void resume_reading() = 0;
    virtual std::size_t writes() const = 0;

protected:
    PipeTransport() = default;
};

}  // namespace pvwire::net
