// TLS contexts from PKCS#12 keychains, the TLS connector and listener, and the peer facts of a
// TLS connection (include/pvwire/net/tls.hpp).
#include <pvwire/log.hpp>
#include <pvwire/net/tls.hpp>

#include "accept_backoff.hpp"
#include "connect_tcp.hpp"
#include "refused_connections.hpp"

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <chrono>

namespace pvwire::net {
namespace {

template <class T, void (*Free)(T*)> struct OsslDeleter {
    void operator()(T* p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, OsslDeleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, OsslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using P12Ptr = std::unique_ptr<PKCS12, OsslDeleter<PKCS12, PKCS12_free>>;
using BioPtr = std::unique_ptr<BIO, OsslDeleter<BIO, BIO_free_all>>;
void free_cert_stack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
using CertStackPtr = std::unique_ptr<STACK_OF(X509), OsslDeleter<STACK_OF(X509), free_cert_stack>>;

const unsigned char pva_alpn[] = "\x05pva/1";  // ALPN wire form: length, then "pva/1", as PVXS

// OpenSSL's reason for the last failure, and the error queue emptied.
std::string openssl_reason() {
    const unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    if (!e) return "unknown error";
    const char* reason = ERR_reason_error_string(e);
    return reason ? reason : "error " + std::to_string(e);
}

struct Keychain {
    X509Ptr cert;  // null: a client keychain with CAs only
    KeyPtr key;
    CertStackPtr cas;
};

Keychain load_keychain(const TlsConfig& tls) {
    const std::string& path = tls.keychain;
    BioPtr file(BIO_new_file(path.c_str(), "rb"));
    if (!file) throw TlsError("TLS keychain " + path + " cannot be opened: " + openssl_reason());
    P12Ptr p12(d2i_PKCS12_bio(file.get(), nullptr));
    if (!p12) throw TlsError("TLS keychain " + path + " is not a PKCS#12 file: " + openssl_reason());
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    STACK_OF(X509)* cas = nullptr;
    if (!PKCS12_parse(p12.get(), tls.password.c_str(), &key, &cert, &cas))
        throw TlsError("TLS keychain " + path + " cannot be read (wrong password?): " + openssl_reason());
    return Keychain{X509Ptr(cert), KeyPtr(key), CertStackPtr(cas)};
}

bool has_expired(X509* cert) { return X509_cmp_current_time(X509_get0_notAfter(cert)) < 0; }

// The keychain's CAs: self-signed ones become trust anchors, all of them the chain we send.
int trust_and_chain(SSL_CTX* ctx, const Keychain& k) {
    int anchors = 0;
    for (int i = 0; k.cas && i < sk_X509_num(k.cas.get()); ++i) {
        X509* ca = sk_X509_value(k.cas.get(), i);
        if (X509_get_extension_flags(ca) & EXFLAG_SS) {
            X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
            ++anchors;
        }
        SSL_CTX_add1_chain_cert(ctx, ca);
    }
    return anchors;
}

void use_identity(SSL_CTX* ctx, const Keychain& k, const TlsConfig& tls) {
    if (has_expired(k.cert.get()))
        throw TlsError("TLS keychain " + tls.keychain + ": its certificate has expired");
    if (SSL_CTX_use_certificate(ctx, k.cert.get()) != 1 || SSL_CTX_use_PrivateKey(ctx, k.key.get()) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        throw TlsError("TLS keychain " + tls.keychain + ": certificate and key do not match: " + openssl_reason());
}

int select_pva_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                    unsigned int inlen, void*) {
    unsigned char* chosen = nullptr;
    if (SSL_select_next_proto(&chosen, outlen, pva_alpn, sizeof pva_alpn - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;  // a peer without ALPN (or another protocol) is not refused for it
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

std::shared_ptr<ssl::context> tls13_context(ssl::context::method method) {
    auto ctx = std::make_shared<ssl::context>(method);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_3_VERSION);
    return ctx;
}

std::string common_name(const X509_NAME* name) {
    const int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (at < 0) return {};
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at)));
    if (n < 0) return {};
    std::string cn(reinterpret_cast<const char*>(utf8), std::size_t(n));
    OPENSSL_free(utf8);
    return cn;
}

std::string endpoint_text(const tcp::socket& socket) { return detail::socket_peer_name(socket); }

}  // namespace

std::shared_ptr<ssl::context> make_server_tls_context(const TlsConfig& tls) {
    auto k = load_keychain(tls);
    if (!k.cert) throw TlsError("TLS keychain " + tls.keychain + " has no certificate with its private key");
    auto ctx = tls13_context(ssl::context::tls_server);
    SSL_CTX* c = ctx->native_handle();
    use_identity(c, k, tls);
    trust_and_chain(c, k);
    // client certificates are checked against the keychain's CAs whenever one is sent
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | (tls.client_cert_required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nullptr);
    SSL_CTX_set_alpn_select_cb(c, &select_pva_alpn, nullptr);
    return ctx;
}

std::shared_ptr<ssl::context> make_client_tls_context(const TlsConfig& tls) {
    auto k = load_keychain(tls);
    auto ctx = tls13_context(ssl::context::tls_client);
    SSL_CTX* c = ctx->native_handle();
    if (k.cert) use_identity(c, k, tls);
    if (trust_and_chain(c, k) == 0)
        throw TlsError("TLS keychain " + tls.keychain +
                       " has no root CA certificate: a server's certificate could not be verified");
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_alpn_protos(c, pva_alpn, sizeof pva_alpn - 1);
    return ctx;
}

std::string tls_failure_reason(tls_stream& stream, const boost::system::error_code& ec) {
    const long verify = SSL_get_verify_result(stream.native_handle());
    if (verify != X509_V_OK) return X509_verify_cert_error_string(verify);
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated) return "the peer closed the connection";
    std::string text = ec.message();
    if (const auto paren = text.find(" ("); paren != std::string::npos) text.resize(paren);  // "(SSL routines)"
    return text;
}

PeerFacts tls_peer_facts(tls_stream& stream) {
    PeerFacts facts = detail::socket_peer_facts(stream.next_layer());
    facts.tls = true;
    SSL* ssl = stream.native_handle();
    X509* peer = SSL_get_peer_certificate(ssl);
    if (!peer) return facts;
    if (SSL_get_verify_result(ssl) == X509_V_OK) {
        facts.cert_subject = common_name(X509_get_subject_name(peer));
        facts.cert_issuer = common_name(X509_get_issuer_name(peer));
    }
    X509_free(peer);
    return facts;
}

Connector tls_connector(std::shared_ptr<ssl::context> context) {
    return [context](const ServerAddress& address, asio::any_io_executor ex, const TransportLimits& limits,
                     ConnectDone done) {
        const std::string where = address.host + ":" + std::to_string(address.port);
        detail::connect_tcp(address, ex, [context, limits, where, done](boost::system::error_code ec, tcp::socket s,
                                                                         std::string text) {
            if (ec) return done(ec, nullptr, std::move(text));
            auto stream = std::make_shared<tls_stream>(std::move(s), *context);
            stream->async_handshake(ssl::stream_base::client, [stream, context, limits, where,
                                                               done](boost::system::error_code ec) {
                if (ec)
                    return done(ec, nullptr,
                                "TLS handshake with " + where + " failed: " + tls_failure_reason(*stream, ec));
                done({}, basic_stream_transport<tls_stream>::create(std::move(*stream), limits), {});
            });
        });
    };
}

namespace {

// Accepts TCP connections, each on its own strand, and hands each over after its handshake.
class TlsListener final : public Listener, public std::enable_shared_from_this<TlsListener> {
public:
    TlsListener(tcp::acceptor acceptor, std::shared_ptr<ssl::context> context, TransportLimits limits,
                TlsRefused refused, AddressScreen screen)
        : acceptor_(std::move(acceptor)), strand_(acceptor_.get_executor()), backoff_(acceptor_.get_executor()),
          held_(strand_), context_(std::move(context)), limits_(limits_for(Protocol::pva, limits)),
          refused_(std::move(refused)), screen_(std::move(screen)) {
        boost::system::error_code ec;
        const auto ep = acceptor_.local_endpoint(ec);
        name_ = "pva tls " + ep.address().to_string() + ":" + std::to_string(ep.port());
    }

    void start(Accepted accepted) override {
        accepted_ = std::move(accepted);
        accept_next();
    }

    void stop() override {
        asio::dispatch(strand_, [self = shared_from_this()] {
            boost::system::error_code ignored;
            self->acceptor_.close(ignored);
            self->backoff_.cancel();
            self->held_.cancel();
        });
    }

    std::string describe() const override { return name_; }
    std::uint64_t accept_backoffs() const override { return backoff_.count(); }
    void spread_connections(ConnectionExecutor next) override { next_executor_ = std::move(next); }

private:
    static constexpr auto handshake_timeout = std::chrono::seconds(10);

    void accept_next() {
        detail::accept_each(shared_from_this(), acceptor_, strand_, backoff_, name_, next_executor_, [this](tcp::socket socket) {
            if (screened_out(socket))
                hold(socket);
            else
                handshake(std::move(socket));
        });
    }

    // Whether the screen (the server's connection limits) refuses this peer's address.
    bool screened_out(const tcp::socket& socket) const {
        if (!screen_) return false;
        boost::system::error_code ec;
        const auto ep = socket.remote_endpoint(ec);
        return !ec && !screen_(ep.address());
    }

    // A refused peer costs a descriptor for the hold, no handshake (detail::RefusedConnections).
    void hold(tcp::socket& socket) {
        boost::system::error_code ec;
        const int fd = socket.release(ec);
        if (ec) return;
        if (!held_.hold(fd)) detail::RefusedConnections::reset(fd);
    }

    // A peer that connects and never completes the handshake is closed after the timeout.
    void handshake(tcp::socket socket) {
        const std::string peer = endpoint_text(socket);
        auto stream = std::make_shared<tls_stream>(std::move(socket), *context_);
        auto timer = std::make_shared<asio::steady_timer>(stream->get_executor(), handshake_timeout);
        timer->async_wait([stream](boost::system::error_code ec) {
            boost::system::error_code ignored;
            if (!ec) stream->next_layer().close(ignored);
        });
        stream->async_handshake(ssl::stream_base::server, [self = shared_from_this(), stream, timer,
                                                           peer](boost::system::error_code ec) {
            timer->cancel();
            if (ec) return self->refuse("TLS handshake from " + peer + " failed: " + tls_failure_reason(*stream, ec));
            self->accepted_(basic_stream_transport<tls_stream>::create(std::move(*stream), self->limits_), Protocol::pva);
        });
    }

    void refuse(const std::string& why) {
        log::net().info("{}", why);
        if (refused_) refused_(why);
    }

    tcp::acceptor acceptor_;
    asio::strand<asio::any_io_executor> strand_;  ///< accept completions and held_
    detail::AcceptBackoff backoff_;
    detail::RefusedConnections held_;
    ConnectionExecutor next_executor_;  ///< set before start()
    std::shared_ptr<ssl::context> context_;
    TransportLimits limits_;
    TlsRefused refused_;
    AddressScreen screen_;
    std::string name_;
    Accepted accepted_;
};

}  // namespace

std::shared_ptr<Listener> tls_listener(tcp::acceptor acceptor, std::shared_ptr<ssl::context> context,
                                       TransportLimits limits, TlsRefused refused, AddressScreen screen) {
    return std::make_shared<TlsListener>(std::move(acceptor), std::move(context), limits, std::move(refused),
                                         std::move(screen));
}

}  // namespace pvwire::net
