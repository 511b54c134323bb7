#include <pvwire/protocol/client_handshake.hpp>

#include <pwd.h>
#include <unistd.h>

#include <algorithm>

namespace pvwire::protocol {

std::string local_user_name() {
    if (const passwd* pw = getpwuid(geteuid())) return pw->pw_name;
    if (const char* u = std::getenv("USER")) return u;
    return {};
}

std::string local_host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) == 0) return buf;
    return {};
}

ClientHandshake::ClientHandshake(Options o) : opts_(std::move(o)) {
    if (opts_.user.empty()) opts_.user = local_user_name();
    if (opts_.host.empty()) opts_.host = local_host_name();
}

bool ClientHandshake::on_message(const wire::Message& msg, wire::OutBuffer& out) {
    if (!msg.from_server) return false;
    if (const auto* c = std::get_if<wire::Control>(&msg.body)) {
        if (c->code != wire::ControlCommand::SetByteOrder) return false;
        order_ = msg.order;  // the new order is the control message's own flag
        return true;
    }
    if (const auto* req = std::get_if<wire::ValidationRequest>(&msg.body)) {
        order_ = msg.order;
        // the server lists methods least preferred first: take the last one we support,
        // trying our methods in our order of preference
        method_.clear();
        for (const auto& want : opts_.methods) {
            if (std::find(req->auth_methods.begin(), req->auth_methods.end(), want) != req->auth_methods.end()) {
                method_ = want;
                break;
            }
        }
        if (method_.empty()) method_ = "anonymous";  // what PVXS sends when nothing matches

        wire::ValidationResponse resp;
        resp.auth_method = method_;
        if (method_ == "ca") {
            static const TypePtr ca_type = TypeDesc::structure(
                "", {{"user", TypeDesc::scalar(TypeCode::String)}, {"host", TypeDesc::scalar(TypeCode::String)}});
            Value auth(ca_type);
            auth["user"] = opts_.user;
            auth["host"] = opts_.host;
            resp.auth_data = auth;
        }
        wire::Message m;
        m.order = order_;
        m.body = std::move(resp);
        send(m, out);
        state_ = State::AwaitingValidated;
        return true;
    }
    if (const auto* v = std::get_if<wire::ConnectionValidated>(&msg.body)) {
        status_ = v->status;
        state_ = State::Validated;  // PVXS goes on without credentials on a failed status
        return true;
    }
    return false;
}

}  // namespace pvwire::protocol
