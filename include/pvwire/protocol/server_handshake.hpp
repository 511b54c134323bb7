/// @file
/// ServerHandshake: the server side of a TCP connection's opening (protocol.md §7.1), as a
/// state machine without I/O: it writes set-byte-order and the validation request when the
/// connection opens, reads the client's choice, and answers CONNECTION_VALIDATED.
///
/// The owner feeds it decoded messages and sends what it appends to the OutBuffer.
#pragma once

#include <pvwire/wire/message.hpp>

#include <functional>
#include <string>
#include <vector>

namespace pvwire::protocol {

/// How a handshake writes its messages: pvAccess's codec when empty; a connection speaking
/// another protocol (msgpack) gives its own.
using Encode = std::function<void(const wire::Message&, wire::OutBuffer&)>;

/// Who the client says it is (never verified at this stage; access control is per PV).
struct PeerCredentials {
    std::string method;  ///< "anonymous" or "ca"
    std::string user;    ///< "ca": the account name the client gave
    std::string host;    ///< "ca": the host name the client gave (not trusted)
};

class ServerHandshake {
public:
    enum class State { Idle, AwaitingValidation, Validated, Failed };

    struct Options {
        std::vector<std::string> auth_methods{"anonymous", "ca"};  ///< least preferred first
        wire::ByteOrder order = wire::host_order();
        std::uint32_t buffer_size = 0x10000;
        std::uint16_t registry_size = 0x7FFF;
        Encode encode;  ///< empty: pvAccess
    };

    ServerHandshake() = default;
    explicit ServerHandshake(Options o) : opts_(std::move(o)) {}

    /// Appends set-byte-order and the validation request (one write, as PVXS does).
    void start(wire::OutBuffer& out);

    /// Handles the client's CONNECTION_VALIDATION; appends CONNECTION_VALIDATED. Returns false
    /// if `msg` is not part of the handshake (the caller handles it). A client choosing a
    /// method we did not offer gets an ERROR status and the state becomes Failed (as PVXS).
    bool on_message(const wire::Message& msg, wire::OutBuffer& out);

    State state() const noexcept { return state_; }
    bool validated() const noexcept { return state_ == State::Validated; }
    const PeerCredentials& credentials() const noexcept { return creds_; }
    wire::ByteOrder order() const noexcept { return opts_.order; }

private:
    void send(const wire::Message& m, wire::OutBuffer& out) const {
        if (opts_.encode) opts_.encode(m, out);
        else wire::encode(m, out);
    }

    Options opts_;
    State state_ = State::Idle;
    PeerCredentials creds_;
};

}  // namespace pvwire::protocol
