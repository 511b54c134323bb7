// Who a client is, for the access rules: server::ClientIdentity made once per connection from
// what the socket established (net::PeerFacts) and what the handshake said, or from the HTTP
// request of a web connection. The rules (docs/security.md, "Identity"):
//   - TLS with a client certificate: method "x509", user = the subject's CN, authority = the
//     issuer's CN, protocol TLS;
//   - else the handshake's method ("ca": the user it claims; "anonymous": user ""), protocol
//     TLS or TCP as the socket is;
//   - address = the socket's peer address, never the host name a client claims;
//   - UNIX socket: address 127.0.0.1, method "ca", user = the account of the peer's uid
//     (SO_PEERCRED, established by the kernel), roles = that account's groups;
//   - web (/pvws/pv, msgpack over WebSocket): the trusted user header's user ("ca") or
//     anonymous, from the peer's address.
#pragma once

#include <pvwire/net/http_routes.hpp>
#include <pvwire/net/stream_transport.hpp>
#include <pvwire/protocol/server_handshake.hpp>
#include <pvwire/server/access_rules.hpp>

namespace pvwire::server::detail {

// The identity of a pvAccess or msgpack connection (see the file's description).
ClientIdentity client_identity(const net::PeerFacts& facts, const protocol::PeerCredentials& handshake);

// The identity of a web connection.
ClientIdentity web_identity(const net::HttpIdentity& who);

// The account name of `uid` and the names of its groups (primary `gid` first); the name is the
// number in decimal when the account is unknown. Reads the system's user database (may block
// on NSS: called once per UNIX connection, when its channels are first used).
std::pair<std::string, std::vector<std::string>> local_account(unsigned uid, std::optional<unsigned> gid);

}  // namespace pvwire::server::detail
