// Certificates for the TLS tests, made with OpenSSL's API: CAs, certificates they sign (valid,
// expired), and PKCS#12 keychains written into a temporary directory.
#pragma once

#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace pvwire::test {

// A key and a certificate; a CA signs others.
class TestIdentity {
public:
    // Self-signed CA.
    static TestIdentity ca(const std::string& cn) { return TestIdentity(cn, nullptr, true, -60, 86400); }
    // Signed by `issuer`, valid from now + not_before_s to now + not_after_s (seconds).
    static TestIdentity signed_by(const TestIdentity& issuer, const std::string& cn, long not_before_s = -60,
                                  long not_after_s = 86400) {
        return TestIdentity(cn, &issuer, false, not_before_s, not_after_s);
    }

    EVP_PKEY* key() const { return key_.get(); }
    X509* cert() const { return cert_.get(); }

private:
    TestIdentity(const std::string& cn, const TestIdentity* issuer, bool is_ca, long not_before_s, long not_after_s)
        : key_(EVP_EC_gen("P-256"), EVP_PKEY_free), cert_(X509_new(), X509_free) {
        REQUIRE(key_);
        X509* c = cert_.get();
        static long serial = 1;
        X509_set_version(c, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
        X509_gmtime_adj(X509_getm_notBefore(c), not_before_s);
        X509_gmtime_adj(X509_getm_notAfter(c), not_after_s);
        X509_set_pubkey(c, key_.get());
        X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
        X509_set_issuer_name(c, X509_get_subject_name(issuer ? issuer->cert() : c));
        X509V3_CTX v3;
        X509V3_set_ctx(&v3, issuer ? issuer->cert() : c, c, nullptr, nullptr, 0);
        add_extension(v3, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
        add_extension(v3, NID_key_usage, is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
        add_extension(v3, NID_subject_key_identifier, "hash");
        REQUIRE(X509_sign(c, issuer ? issuer->key() : key_.get(), EVP_sha256()) > 0);
    }

    void add_extension(X509V3_CTX& v3, int nid, const char* value) {
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
        REQUIRE(ext);
        X509_add_ext(cert_.get(), ext, -1);
        X509_EXTENSION_free(ext);
    }

    std::shared_ptr<EVP_PKEY> key_;
    std::shared_ptr<X509> cert_;
};

// A temporary directory, removed with its files at the end of the test.
class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/pvwire-tls-XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Writes a PKCS#12 keychain: `who`'s certificate and key (none: CAs only) and the `cas`.
inline std::string write_keychain(const std::string& path, const TestIdentity* who,
                                  const std::vector<const TestIdentity*>& cas, const std::string& password = "") {
    STACK_OF(X509)* stack = sk_X509_new_null();
    for (const auto* ca : cas) sk_X509_push(stack, ca->cert());
    PKCS12* p12 = PKCS12_create(password.c_str(), "pvwire test", who ? who->key() : nullptr,
                                who ? who->cert() : nullptr, stack, 0, 0, 0, 0, 0);
    sk_X509_free(stack);
    REQUIRE(p12);
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    REQUIRE(i2d_PKCS12_fp(f, p12) == 1);
    std::fclose(f);
    PKCS12_free(p12);
    return path;
}

}  // namespace pvwire::test
