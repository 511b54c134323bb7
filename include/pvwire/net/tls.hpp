/// @file
/// Secure PVAccess: pvAccess over TLS 1.3 through basic_stream_transport<ssl::stream<tcp::socket>>,
/// with PKCS#12 keychains as the SLAC PVXS fork uses them (docs/security.md "TLS").
///
/// A keychain holds this side's certificate and private key (a client may have none) and the
/// CA certificates that sign the peer's: every self-signed CA in it is trusted, every CA in it
/// is sent along as the chain. Both sides offer the ALPN protocol "pva/1", as PVXS does. The
/// server certificate is checked against the trusted CAs, not against a host name (PVXS does
/// the same: search answers give addresses, not names).
///
/// Certificate status (PVACMS, OCSP stapling) is not implemented: a certificate is good from
/// its notBefore to its notAfter, and revocation is not checked.
///
/// Threading: contexts are immutable once made and shared by every connection. A connector's
/// `done` and a listener's `accepted` run on the executor they were given.
#pragma once

#include <pvwire/net/basic_stream_transport.hpp>
#include <pvwire/net/config.hpp>
#include <pvwire/net/connector.hpp>

#include <boost/asio/ssl.hpp>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace pvwire::net {

namespace ssl = boost::asio::ssl;
using tls_stream = ssl::stream<tcp::socket>;

/// A keychain that cannot be used: the text says which file and why.
class TlsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The TLS context of a server: the keychain's certificate, key and CAs, TLS 1.3 only, client
/// certificates verified against the keychain's CAs, required or optional as configured.
/// Throws TlsError (no file, wrong password, no certificate, expired with on_expiration=shutdown).
std::shared_ptr<ssl::context> make_server_tls_context(const TlsConfig& tls);
/// The TLS context of a client: the server's certificate verified against the keychain's CAs;
/// the keychain's certificate, if any, offered to servers that ask. Throws TlsError.
std::shared_ptr<ssl::context> make_client_tls_context(const TlsConfig& tls);

/// Why a handshake failed, in words: the verification result when the peer's certificate was
/// refused here ("certificate has expired", "unable to get local issuer certificate"), else
/// the alert or error ("tlsv13 alert certificate required").
std::string tls_failure_reason(tls_stream& stream, const boost::system::error_code& ec);

/// The facts of a TLS connection (after the handshake): tls = true, the IP address, and with a
/// verified peer certificate its subject's CN and its issuer's CN.
PeerFacts tls_peer_facts(tls_stream& stream);

/// Connects over TCP, then TLS; `done` gets "TLS handshake with 10.0.0.5:5076 failed: ..." on
/// a refused handshake.
Connector tls_connector(std::shared_ptr<ssl::context> context);

/// Accepts on a bound, listening acceptor and hands each connection over once its handshake is
/// done (a peer gets 10 s for it). A refused handshake is logged (pvwire.net) and passed to
/// `refused` ("TLS handshake from 10.0.0.9:40112 failed: certificate has expired"). A peer
/// whose address `screen` refuses gets no handshake: it is held, then reset, as tcp_listener()
/// does.
using TlsRefused = std::function<void(const std::string& why)>;
std::shared_ptr<Listener> tls_listener(tcp::acceptor acceptor, std::shared_ptr<ssl::context> context,
                                       TransportLimits limits, TlsRefused refused = {}, AddressScreen screen = {});

/// TLS streams: what the plain traits do, and the certificate names in the peer facts.
template <> struct stream_traits<tls_stream> : basic_stream_traits<tls_stream> {
    static PeerFacts peer_facts(tls_stream& stream) { return tls_peer_facts(stream); }
};

}  // namespace pvwire::net
