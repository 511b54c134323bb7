// TcpTransport: a StreamTransport over a connected TCP socket.
//
// Reading: bytes are read into a buffer that is handed up together with every whole frame
// found in it (zero copy). While a handler keeps that owner, the transport reads on into a
// fresh buffer, so kept frames never change; otherwise the buffer is reused. A header that
// is bad or announces more than max_message_bytes closes the connection, naming the cause.
//
// Writing: send() queues; when no write is in flight, everything queued leaves in one gather
// write (small pieces are coalesced, array payloads are written in place). More than
// max_pending_output bytes queued closes the connection ("peer ... too slow").
//
// Threading: the transport runs on a strand of the socket's executor; handlers are called
// there, one at a time. All public member functions may be called from any thread.
// Lifetime: pending operations keep the transport alive; close() ends them. on_closed()
// reports an empty error_code when close() was called, the I/O or limit error otherwise.
#pragma once

#include <pvwire/net/stream_transport.hpp>

#include <memory>

namespace pvwire::net {

class TcpTransport : public StreamTransport, public std::enable_shared_from_this<TcpTransport> {
public:
    // Takes over a connected socket: sets TCP_NODELAY and makes a strand of its executor.
    static std::shared_ptr<TcpTransport> create(tcp::socket socket, TransportLimits limits = {});

protected:
    TcpTransport() = default;
};

}  // namespace pvwire::net
