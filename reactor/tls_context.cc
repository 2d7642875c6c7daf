#include "reactor/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string_view>
#include <utility>

namespace httpkv::reactor {

namespace {

constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char kSessionIdContext[] = "httpkv";

// ALPN (RFC 7301): pick http/1.1 from the client's list; a list without it is refused.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, kHttp11, sizeof kHttp11, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // no_application_protocol
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

std::string Describe(SSL_CTX* ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (cert == nullptr) return "no certificate";
  char subject[256];
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
  std::string out = subject;
  BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  if (serial != nullptr) {
    char* hex = BN_bn2hex(serial);
    if (hex != nullptr) out.append(" serial=").append(hex);
    OPENSSL_free(hex);
    BN_free(serial);
  }
  return out;
}

}  // namespace

std::string TakeOpenSslError(std::string_view if_none) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return std::string(if_none);
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

SSL_CTX* NewClientSslCtx(const std::string& cacert, std::string* error) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    *error = "cannot create a TLS context: " + TakeOpenSslError();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn);
  const int loaded = cacert.empty() ? SSL_CTX_set_default_verify_paths(ctx)
                                    : SSL_CTX_load_verify_locations(ctx, cacert.c_str(), nullptr);
  if (loaded != 1) {
    *error = "cannot load CA certificates " + (cacert.empty() ? "(system store)" : cacert) + ": " +
             TakeOpenSslError();
    SSL_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

TlsContext TlsContext::LoadServer(const std::string& cert_file, const std::string& key_file,
                                  std::string* error, bool ktls) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    *error = "cannot create a TLS context: " + TakeOpenSslError();
    return {};
  }
  TlsContext out(ctx);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    *error = "cannot load certificate " + cert_file + ": " + TakeOpenSslError();
    return {};
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    *error = mismatch ? "private key " + key_file + " does not match certificate " + cert_file
                      : "cannot load private key " + key_file + ": " + TakeOpenSslError();
    ERR_clear_error();
    return {};
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    *error = "private key " + key_file + " does not match certificate " + cert_file;
    ERR_clear_error();
    return {};
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  // Partial writes: SSL_write reports what it took, like send(2). Moving buffer: a retry
  // after WANT_WRITE may come from another Buffer (Connection's shared scratch buffers).
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Buffers stay with the connection between records (SSL_MODE_RELEASE_BUFFERS off):
  // releasing them would mean a malloc/free pair per read batch.
  // EOF without close_notify reads as a close (SSL_ERROR_ZERO_RETURN): the server then
  // answers what it received, as over plain TCP; a truncated request is never parsed
  // as complete, so nothing is lost by not treating the EOF as an attack.
  SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (!ktls) SSL_CTX_clear_options(ctx, SSL_OP_ENABLE_KTLS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1);
  SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
  out.description_ = Describe(ctx);
  return out;
}

TlsContext::TlsContext(const TlsContext& other)
    : ctx_(other.ctx_), description_(other.description_) {
  if (ctx_ != nullptr) SSL_CTX_up_ref(ctx_);
}

TlsContext& TlsContext::operator=(const TlsContext& other) {
  if (this != &other) {
    TlsContext copy(other);
    *this = std::move(copy);
  }
  return *this;
}

TlsContext::TlsContext(TlsContext&& other) noexcept
    : ctx_(std::exchange(other.ctx_, nullptr)), description_(std::move(other.description_)) {}

TlsContext& TlsContext::operator=(TlsContext&& other) noexcept {
  if (this != &other) {
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
    description_ = std::move(other.description_);
  }
  return *this;
}

TlsContext::~TlsContext() {
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

bool KernelOffersKtls() {
  std::ifstream in("/proc/sys/net/ipv4/tcp_available_ulp");
  std::string ulps((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t pos = 0; (pos = ulps.find("tls", pos)) != std::string::npos; pos += 3) {
    const bool starts = pos == 0 || ulps[pos - 1] == ' ';
    const bool ends = pos + 3 == ulps.size() || ulps[pos + 3] == ' ' || ulps[pos + 3] == '\n';
    if (starts && ends) return true;
  }
  return false;
}

}  // namespace httpkv::reactor
