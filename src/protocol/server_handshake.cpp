#include <pvwire/protocol/server_handshake.hpp>

#include <algorithm>

namespace pvwire::protocol {

void ServerHandshake::start(wire::OutBuffer& out) {
    wire::Message sbo;
    sbo.order = opts_.order;
    sbo.from_server = true;
    sbo.body = wire::Control{wire::ControlCommand::SetByteOrder, 0};
    send(sbo, out);

    wire::Message req;
    req.order = opts_.order;
    req.from_server = true;
    req.body = wire::ValidationRequest{opts_.buffer_size, opts_.registry_size, opts_.auth_methods};
    send(req, out);
    state_ = State::AwaitingValidation;
}

bool ServerHandshake::on_message(const wire::Message& msg, wire::OutBuffer& out) {
    const auto* resp = std::get_if<wire::ValidationResponse>(&msg.body);
    if (!resp || msg.from_server) return false;

    wire::Message reply;
    reply.order = opts_.order;
    reply.from_server = true;
    const bool offered = std::find(opts_.auth_methods.begin(), opts_.auth_methods.end(),
                                   resp->auth_method) != opts_.auth_methods.end();
    if (!offered) {
        reply.body = wire::ConnectionValidated{wire::Status::error("Client selects unadvertised auth")};
        state_ = State::Failed;
    } else {
        creds_ = PeerCredentials{resp->auth_method, {}, {}};
        if (resp->auth_method == "ca" && resp->auth_data && resp->auth_data.code() == TypeCode::Struct) {
            if (auto u = resp->auth_data.field("user")) creds_.user = u.try_as<std::string>().value_or("");
            if (auto h = resp->auth_data.field("host")) creds_.host = h.try_as<std::string>().value_or("");
        }
        reply.body = wire::ConnectionValidated{wire::Status::ok()};
        state_ = State::Validated;
    }
    send(reply, out);
    return true;
}

}  // namespace pvwire::protocol
