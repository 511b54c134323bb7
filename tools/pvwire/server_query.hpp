// The "server" PV of one given server (what pvxlist asks): an RPC with op="channels" lists
// its PVs, op="info" names its implementation, version, host and replica. Used by
// `pvwire list HOST` and by `pvwire top` (the PVs of a server, and its status prefix).
//
// The client Context has no way to open a channel on one given server (the "server" PV is
// not answered in searches, and Context::link() gives a connection but no channel on it), so
// the query speaks the protocol itself over one TCP connection: handshake, CREATE_CHANNEL
// "server", RPC INIT, RPC EXEC. It blocks the calling thread until the answer or the timeout.
#pragma once

#include <pvwire/data/value.hpp>
#include <pvwire/net/address.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace pvwire::tool {

// HOST[:PORT] (default port `default_port`) resolved to an endpoint; nullopt with `error` set.
std::optional<net::udp::endpoint> resolve_server(const std::string& host_port, std::uint16_t default_port,
                                                 std::string& error);

// The RPC's result for `op` ("channels" or "info"); nullopt with `error` set ("timeout",
// "cannot connect: ...", the server's status text). A message the server sends on the way
// goes to stderr.
std::optional<Value> query_server(const net::tcp::endpoint& server, std::chrono::milliseconds timeout,
                                  const std::string& op, std::string& error);

// op=channels: the names, in order (or sorted); nullopt for a reply that is not a string[].
std::optional<std::vector<std::string>> channel_names(const Value& result, bool sort);

}  // namespace pvwire::tool
