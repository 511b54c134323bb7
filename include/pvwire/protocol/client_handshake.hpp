/// @file
/// ClientHandshake: the client side of a TCP connection's opening (protocol.md §7.1), without
/// I/O. It waits for the server's validation request, adopts the server's byte order, picks
/// an auth method (the last one offered that we support, "ca" before "anonymous", as PVXS
/// does), and reports the server's CONNECTION_VALIDATED status.
#pragma once

#include <pvwire/protocol/server_handshake.hpp>

#include <optional>

namespace pvwire::protocol {

class ClientHandshake {
public:
    enum class State { AwaitingRequest, AwaitingValidated, Validated, Failed };

    struct Options {
        /// Methods we are willing to use, in order of preference.
        std::vector<std::string> methods{"ca", "anonymous"};
        std::string user;  ///< "ca" user; empty: the login name of this process
        std::string host;  ///< "ca" host; empty: this host's name
        Encode encode;     ///< empty: pvAccess
    };

    ClientHandshake() : ClientHandshake(Options{}) {}
    explicit ClientHandshake(Options o);

    /// Handles set-byte-order, the validation request and CONNECTION_VALIDATED; appends our
    /// CONNECTION_VALIDATION. Returns false for anything else (the caller handles it).
    bool on_message(const wire::Message& msg, wire::OutBuffer& out);

    State state() const noexcept { return state_; }
    bool validated() const noexcept { return state_ == State::Validated; }
    /// The byte order to send in: the server's, once announced.
    wire::ByteOrder order() const noexcept { return order_; }
    const std::string& method() const noexcept { return method_; }
    /// The status of CONNECTION_VALIDATED (PVXS clients proceed even when it is not success).
    const std::optional<wire::Status>& status() const noexcept { return status_; }

private:
    void send(const wire::Message& m, wire::OutBuffer& out) const {
        if (opts_.encode) opts_.encode(m, out);
        else wire::encode(m, out);
    }

    Options opts_;
    State state_ = State::AwaitingRequest;
    wire::ByteOrder order_ = wire::host_order();
    std::string method_;
    std::optional<wire::Status> status_;
};

/// This process's login name and host name, for "ca" credentials.
std::string local_user_name();
std::string local_host_name();

}  // namespace pvwire::protocol
