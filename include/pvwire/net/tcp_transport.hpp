/// @file
/// TcpTransport and UnixTransport: basic_stream_transport over a connected TCP or UNIX domain
/// socket (see basic_stream_transport.hpp for reading, writing, limits and threading).
///
/// Reading: bytes are read into a buffer that is handed up together with every whole frame
/// found in it (zero copy). While a handler keeps that owner, the transport reads on into a
/// fresh buffer, so kept frames never change; otherwise the buffer is reused. A header that
/// is bad or announces more than max_message_bytes closes the connection, naming the cause.
///
/// Writing: send() queues; when no write is in flight, everything queued leaves in one gather
/// write (small pieces are coalesced, array payloads are written in place), handed whole to
/// each sendmsg. More than max_pending_output bytes queued closes the connection ("peer ...
/// too slow").
///
/// create() sets TCP_NODELAY (TCP) and the socket buffer sizes of TransportLimits.
#pragma once

#include <pvwire/net/basic_stream_transport.hpp>

namespace pvwire::net {

using TcpTransport = basic_stream_transport<tcp::socket>;
using UnixTransport = basic_stream_transport<asio::local::stream_protocol::socket>;

}  // namespace pvwire::net
