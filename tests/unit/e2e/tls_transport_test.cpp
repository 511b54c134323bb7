// basic_stream_transport over asio::ssl::stream<tcp::socket>: the real client and server speak
// every operation through TLS, with a certificate made here (no files), the client verifying
// the server against it. Configuration, certificates and pva+tls:// belong to the Trust issue;
// this shows the transport seam carries TLS unchanged.
#include "support/every_operation.hpp"

#include <pvwire/net/basic_stream_transport.hpp>
#include <pvwire/net/tls.hpp>  // stream_traits<ssl::stream<tcp::socket>>: one definition in every test

#include <boost/asio/ssl.hpp>
#if defined(BOOST_ASIO_SEPARATE_COMPILATION)
#include <boost/asio/ssl/impl/src.hpp>  // Asio's SSL code, compiled once here
#endif

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <thread>

using namespace pvwire;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using tls_stream = ssl::stream<tcp::socket>;

namespace {

// A self-signed certificate for CN=localhost and its key.
struct SelfSigned {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();

    SelfSigned() {
        REQUIRE(key);
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), -60);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
        X509_set_issuer_name(cert, name);
        REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
    }
    ~SelfSigned() {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
};

}  // namespace

TEST_CASE("every operation over TLS through basic_stream_transport<ssl::stream>", "[e2e][transports]") {
    SelfSigned identity;
    ssl::context server_tls(ssl::context::tls_server);
    REQUIRE(SSL_CTX_use_certificate(server_tls.native_handle(), identity.cert) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(server_tls.native_handle(), identity.key) == 1);
    ssl::context client_tls(ssl::context::tls_client);
    REQUIRE(X509_STORE_add_cert(SSL_CTX_get_cert_store(client_tls.native_handle()), identity.cert) == 1);
    client_tls.set_verify_mode(ssl::verify_peer);

    server::Server srv(net::ServerConfig::isolated());
    test::add_test_pvs(srv);
    srv.start();

    // The server side: our own acceptor; each connection is handed over after the handshake.
    tcp::acceptor acceptor(srv.executor(), tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    std::atomic<int> handshakes{0};
    std::function<void()> accept_next = [&] {
        acceptor.async_accept(asio::make_strand(srv.executor()), [&](boost::system::error_code ec, tcp::socket s) {
            if (ec) return;
            auto stream = std::make_shared<tls_stream>(std::move(s), server_tls);
            stream->async_handshake(ssl::stream_base::server, [&, stream](boost::system::error_code ec) {
                if (ec) return;
                ++handshakes;
                srv.accept(net::make_stream_transport(std::move(*stream)));
            });
            accept_next();
        });
    };
    asio::post(srv.executor(), accept_next);

    client::ClientOptions options;
    options.search = false;
    options.connectors["tls-test"] = [&](const net::ServerAddress& a, asio::any_io_executor ex,
                                         const net::TransportLimits& limits, net::ConnectDone done) {
        auto stream = std::make_shared<tls_stream>(tcp::socket(ex), client_tls);
        stream->next_layer().async_connect(
            tcp::endpoint(asio::ip::make_address(a.host), a.port), [stream, limits, done](boost::system::error_code ec) {
                if (ec) return done(ec, nullptr, "connect: " + ec.message());
                stream->async_handshake(ssl::stream_base::client, [stream, limits, done](boost::system::error_code ec) {
                    if (ec) return done(ec, nullptr, "TLS handshake: " + ec.message());
                    done({}, net::make_stream_transport(std::move(*stream), limits), {});
                });
            });
    };
    client::Context ctx(net::ClientConfig::isolated(), options);
    test::check_every_operation(ctx, "pva+tls-test://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()));
    CHECK(handshakes == 1);
    CHECK(srv.stats().connections_accepted == 1);
    ctx.stop();
    asio::post(srv.executor(), [&] { acceptor.close(); });
    srv.stop();
}
