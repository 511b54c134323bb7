/// @file
/// SendBatch: the sends made on a connection's strand during one handler leave in one write.
#pragma once

namespace pvwire::net {

/// While one lives on a thread, a send() made there on the transport's own strand is written
/// when the outermost SendBatch ends (one write per transport for everything sent in it)
/// instead of through a flush posted to the strand: that hop cost about a quarter of the
/// instructions of a small monitor update. Open one inside a handler that sends on its own
/// connection, never around a run of the io_context. The transports open one around frame
/// delivery and on_sent(); the server's update drain opens its own. Sends from other threads
/// post their flush as before.
class SendBatch {
public:
    SendBatch() noexcept;
    ~SendBatch();
    SendBatch(const SendBatch&) = delete;
    SendBatch& operator=(const SendBatch&) = delete;
};

}  // namespace pvwire::net
