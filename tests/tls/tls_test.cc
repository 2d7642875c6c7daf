// HTTPS end to end: round trips through the httpkv client library, large values and
// listings (back-pressure over TLS), --fsync always, protocol policy (TLS 1.1, ALPN),
// session resumption, plain HTTP on the TLS port, a stalled handshake, SIGHUP reload and
// the flag errors. Certificates are made by the test with the openssl CLI.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/e2e/server_process.h"
#include "tests/e2e/test_server.h"
#include "tests/tls/tls_support.h"
#include "tools/client/http_client.h"

namespace httpkv::tls_test {
namespace {

using client::ClientResponse;
using client::HttpClient;
using namespace std::chrono_literals;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cert_.ok) << "openssl req failed"; }

  void StartServer(storage::FsyncPolicy fsync = storage::FsyncPolicy::kNever,
                   reactor::Clock::duration header_timeout = 10s, unsigned threads = 2) {
    server::ServerOptions o = e2e::InProcessServer::Options(data_.path(), threads, fsync);
    o.tls_cert = cert_.cert;
    o.tls_key = cert_.key;
    o.timeouts.header = header_timeout;
    srv_ = std::make_unique<e2e::InProcessServer>(o);
    ASSERT_TRUE(srv_->ok());
  }
  HttpClient Connect() {
    std::string error;
    auto address = reactor::InetAddress::Parse("127.0.0.1:" + std::to_string(srv_->port()), &error);
    client::TlsOptions tls{true, cert_.cert};
    auto c = HttpClient::Connect(*address, "127.0.0.1:" + std::to_string(srv_->port()), 10s, &error,
                                 tls);
    EXPECT_TRUE(c.has_value()) << error;
    return std::move(*c);
  }
  ClientResponse Do(HttpClient& c, const client::ClientRequest& req) {
    ClientResponse resp;
    std::string error;
    EXPECT_TRUE(c.RoundTrip(req, &resp, &error)) << error;
    return resp;
  }
  std::string Metric(std::string_view name) {
    HttpClient c = Connect();
    const std::string body = Do(c, client::MakeRequest("GET", "/metrics")).body;
    const size_t at = body.find("\n" + std::string(name) + " ");
    return at == std::string::npos
               ? ""
               : body.substr(at + name.size() + 2, body.find('\n', at + 1) - at - name.size() - 2);
  }

  e2e::TempDir certs_;
  e2e::TempDir data_;
  TestCertificate cert_{certs_.path()};
  std::unique_ptr<e2e::InProcessServer> srv_;
};

// A SIGHUP right after start-up (issue 21): the reload is posted to every loop, also to one
// whose thread has not bound itself yet, and each loop then serves with the new context.
// Before, a loop that had not bound its thread yet had tls_ assigned from the reloading
// thread while its own thread read it at the next accept (a data race TSan reports here).
TEST_F(TlsTest, ReloadRightAfterStartIsTakenByEveryLoop) {
  for (int round = 0; round < 20; ++round) {
    StartServer();
    std::string error, warning;
    ASSERT_TRUE(srv_->server()->ReloadTls(&error, &warning)) << error;
    EXPECT_EQ(warning, "");
    for (int i = 0; i < 4; ++i) {  // SO_REUSEPORT spreads them over both loops
      HttpClient c = Connect();
      EXPECT_EQ(Do(c, client::MakeRequest("GET", "/healthz")).status, 200);
    }
    srv_.reset();
  }
}

TEST_F(TlsTest, RoundTripsPutGetDelete) {
  StartServer();
  HttpClient c = Connect();
  ASSERT_NE(c.tls(), nullptr);
  EXPECT_EQ(Do(c, client::PutKeyRequest("k1", "v1")).status, 201);
  EXPECT_EQ(Do(c, client::PutKeyRequest("k1", "v2")).status, 204);
  const ClientResponse got = Do(c, client::GetKeyRequest("k1"));
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "v2");
  EXPECT_EQ(Do(c, client::DeleteKeyRequest("k1")).status, 204);
  EXPECT_EQ(Do(c, client::GetKeyRequest("k1")).status, 404);
  EXPECT_EQ(Do(c, client::PairRequest("POST", "/create", "seed:1")).status, 201);
  EXPECT_EQ(Metric("httpkv_tls_handshakes_total"), "2");
  EXPECT_EQ(Metric("httpkv_tls_ktls_send_connections_total").empty(), false);
}

TEST_F(TlsTest, PipelinedSixteenAnsweredInOrder) {
  StartServer();
  HttpClient c = Connect();
  std::string error;
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(c.Send(client::PutKeyRequest("p" + std::to_string(i), std::to_string(i)), &error));
  }
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(c.Send(client::GetKeyRequest("p" + std::to_string(i)), &error));
  }
  ClientResponse r;
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(c.Receive(false, &r, &error)) << error;
    EXPECT_EQ(r.status, 201);
  }
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(c.Receive(false, &r, &error)) << error;
    EXPECT_EQ(r.body, std::to_string(i));
  }
}

// 1 MiB answers are at the output high-water mark: the connection pauses reading and
// resumes as TLS records drain. Eight pipelined GETs must all arrive whole.
TEST_F(TlsTest, OneMebibyteValueBackPressure) {
  StartServer();
  HttpClient c = Connect();
  std::string value(1 << 20, 'x');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>('a' + i * 7 % 26);
  EXPECT_EQ(Do(c, client::PutKeyRequest("big", value)).status, 201);
  std::string error;
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(c.Send(client::GetKeyRequest("big"), &error));
  for (int i = 0; i < 8; ++i) {
    ClientResponse r;
    ASSERT_TRUE(c.Receive(false, &r, &error)) << error;
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body == value) << "answer " << i << " differs (" << r.body.size() << " bytes)";
  }
}

TEST_F(TlsTest, StreamedListingOfManyKeys) {
  StartServer();
  HttpClient c = Connect();
  std::string error;
  constexpr int kKeys = 5000;
  const std::string value(200, 'v');
  for (int i = 0; i < kKeys; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "key%05d", i);
    ASSERT_TRUE(c.Send(client::PutKeyRequest(key, value), &error));
    if (i % 256 == 255 || i == kKeys - 1) {
      for (int j = i - i % 256; j <= i; ++j) {
        ClientResponse r;
        ASSERT_TRUE(c.Receive(false, &r, &error)) << error;
        ASSERT_EQ(r.status, 201);
      }
    }
  }
  const ClientResponse list = Do(c, client::ListRequest({}));
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.Header("Transfer-Encoding"), "chunked");
  std::string expected;
  for (int i = 0; i < kKeys; ++i) {
    char line[16];
    std::snprintf(line, sizeof line, "key%05d:", i);
    expected.append(line).append(value).append("\n");
  }
  EXPECT_TRUE(list.body == expected) << list.body.size() << " bytes vs " << expected.size();
  EXPECT_EQ(Do(c, client::GetKeyRequest("key00042")).body, value);  // still in sync
}

TEST_F(TlsTest, FsyncAlwaysAcknowledgesOverTls) {
  StartServer(storage::FsyncPolicy::kAlways);
  HttpClient c = Connect();
  std::string error;
  for (int i = 0; i < 16; ++i)
    ASSERT_TRUE(c.Send(client::PutKeyRequest("d" + std::to_string(i), "x"), &error));
  for (int i = 0; i < 16; ++i) {
    ClientResponse r;
    ASSERT_TRUE(c.Receive(false, &r, &error)) << error;
    EXPECT_EQ(r.status, 201);
  }
  EXPECT_EQ(srv_->store()->stats().keys, 16u);
  EXPECT_EQ(Do(c, client::GetKeyRequest("d15")).body, "x");
}

TEST_F(TlsTest, ClientRefusesACertificateFromAnotherCa) {
  StartServer();
  TestCertificate stranger(certs_.path(), "stranger", "localhost");
  ASSERT_TRUE(stranger.ok);
  std::string error;
  const std::string target = "127.0.0.1:" + std::to_string(srv_->port());
  auto address = reactor::InetAddress::Parse(target, &error);
  auto c = HttpClient::Connect(*address, target, 10s, &error, {true, stranger.cert});
  EXPECT_FALSE(c.has_value());
  EXPECT_NE(error.find("server certificate not trusted"), std::string::npos) << error;
}

TEST_F(TlsTest, PlainHttpOnTheTlsPortGets400AndClose) {
  StartServer();
  e2e::RawClient plain(srv_->port());
  ASSERT_TRUE(plain.connected());
  plain.Send(e2e::BuildRequest("GET", "/healthz"));
  const std::string all = plain.ReadToEof();
  EXPECT_EQ(all.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << all;
  EXPECT_NE(all.find("\r\n\r\nthis port speaks HTTPS\n"), std::string::npos) << all;
  EXPECT_NE(all.find("Connection: close"), std::string::npos);
  EXPECT_EQ(Metric("httpkv_tls_plain_http_total"), "1");
}

TEST_F(TlsTest, Tls11IsRefusedByTheServer) {
  StartServer();
  SSL_CTX* ctx = NewClientContext(cert_.cert);
  SSL_CTX_set_security_level(ctx, 0);  // OpenSSL 3 would refuse TLS 1.1 on our side too
  SSL_CTX_set_min_proto_version(ctx, TLS1_1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
  {
    TlsSocket s(ctx, srv_->port());
    EXPECT_FALSE(s.ok());
    // The alert came from the server: it refused the version the client offered.
    EXPECT_EQ(ERR_GET_REASON(s.error_code()), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) << s.error();
  }
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  {
    TlsSocket s(ctx, srv_->port());
    EXPECT_TRUE(s.ok()) << s.error();  // the same client at 1.2 gets in
  }
  SSL_CTX_free(ctx);
}

TEST_F(TlsTest, AlpnNegotiatesHttp11AndRefusesH2Only) {
  StartServer();
  SSL_CTX* ctx = NewClientContext(cert_.cert);
  static constexpr unsigned char kBoth[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx, kBoth, sizeof kBoth);
  {
    TlsSocket s(ctx, srv_->port());
    ASSERT_TRUE(s.ok()) << s.error();
    const unsigned char* proto = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(s.ssl(), &proto, &len);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(proto), len), "http/1.1");
  }
  static constexpr unsigned char kH2[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(ctx, kH2, sizeof kH2);
  {
    TlsSocket s(ctx, srv_->port());
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(ERR_GET_REASON(s.error_code()), SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL)
        << s.error();
  }
  SSL_CTX_free(ctx);
}

// A session from one connection resumes on the next (TLS 1.3 tickets, the TLS 1.2 cache).
TEST_F(TlsTest, SessionResumption) {
  StartServer();
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SCOPED_TRACE(version == TLS1_2_VERSION ? "TLS 1.2" : "TLS 1.3");
    SSL_CTX* ctx = NewClientContext(cert_.cert);
    SSL_CTX_set_max_proto_version(ctx, version);
    SSL_SESSION* session = nullptr;
    {
      TlsSocket first(ctx, srv_->port());
      ASSERT_TRUE(first.ok()) << first.error();
      EXPECT_FALSE(SSL_session_reused(first.ssl()));
      first.Send(e2e::BuildRequest("GET", "/healthz"));
      EXPECT_NE(first.ReadAtLeast(17).find("200 OK"), std::string::npos);  // tickets came too
      session = SSL_get1_session(first.ssl());
    }
    TlsSocket second(ctx, srv_->port(), session);
    ASSERT_TRUE(second.ok()) << second.error();
    EXPECT_TRUE(SSL_session_reused(second.ssl()));
    second.Send(e2e::BuildRequest("GET", "/healthz"));
    EXPECT_NE(second.ReadAtLeast(17).find("200 OK"), std::string::npos);
    SSL_SESSION_free(session);
    SSL_CTX_free(ctx);
  }
  EXPECT_EQ(Metric("httpkv_tls_resumed_handshakes_total"), "2");
}

// A client that sends half a ClientHello and stalls is closed at the head deadline;
// other clients are served meanwhile by the same (single) reactor thread.
TEST_F(TlsTest, StalledHandshakeIsClosedAtTheHeaderTimeout) {
  StartServer(storage::FsyncPolicy::kNever, std::chrono::milliseconds(500), /*threads=*/1);
  e2e::RawClient stalled(srv_->port());
  ASSERT_TRUE(stalled.connected());
  // A TLS record header announcing 512 bytes of handshake, and only 5 of them.
  stalled.Send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9));
  for (int i = 0; i < 4; ++i) {  // others are served while it stalls
    HttpClient c = Connect();
    EXPECT_EQ(Do(c, client::MakeRequest("GET", "/healthz")).status, 200);
  }
  EXPECT_TRUE(stalled.WaitReadable(5000)) << "the stalled handshake was never closed";
  EXPECT_EQ(stalled.ReadToEof(), "");  // closed without an answer: no TLS to carry one
  EXPECT_EQ(Metric("httpkv_connection_timeouts_total"), "1");
  EXPECT_EQ(Metric("httpkv_tls_handshake_failures_total"), "1");
}

// Process-level cases: flags, SIGHUP.
class TlsProcessTest : public TlsTest {
 protected:
  std::vector<std::string> Args(const std::string& cert, const std::string& key) {
    return {"--listen", "127.0.0.1:0", "--data-dir", data_.path() + "/d", "--threads",
            "2",        "--tls-cert",  cert,         "--tls-key",         key};
  }
  std::string ServedSerial(uint16_t port) {
    SSL_CTX* ctx = NewClientContext(cert_.cert);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // the new cert is another CA
    TlsSocket s(ctx, port);
    std::string serial;
    if (s.ok()) {
      X509* peer = SSL_get1_peer_certificate(s.ssl());
      serial = SerialOf(peer);
      X509_free(peer);
    }
    SSL_CTX_free(ctx);
    return serial;
  }
  static std::string SerialOfFile(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "r");
    X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    std::string s = SerialOf(x);
    X509_free(x);
    return s;
  }
};

TEST_F(TlsProcessTest, SighupReloadsTheCertificateAndKeepsItWhenTheNewOneIsBroken) {
  // The server reads live.crt/live.key; the test replaces them between SIGHUPs.
  const std::string live_cert = certs_.path() + "/live.crt", live_key = certs_.path() + "/live.key";
  std::filesystem::copy_file(cert_.cert, live_cert);
  std::filesystem::copy_file(cert_.key, live_key);
  e2e::ServerProcess p;
  ASSERT_TRUE(p.Start(Args(live_cert, live_key))) << p.log();
  const std::string first = ServedSerial(p.port());
  EXPECT_EQ(first, SerialOfFile(cert_.cert));
  SSL_CTX* ctx = NewClientContext(cert_.cert);
  TlsSocket old_conn(ctx, p.port());  // opened before the reload: keeps the old context
  ASSERT_TRUE(old_conn.ok()) << old_conn.error();

  TestCertificate next(certs_.path(), "next", "localhost");
  ASSERT_TRUE(next.ok);
  std::filesystem::copy_file(next.cert, live_cert,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(next.key, live_key, std::filesystem::copy_options::overwrite_existing);
  p.Signal(SIGHUP);
  ASSERT_TRUE(p.WaitForLog("reloaded the TLS certificate")) << p.log();
  const std::string second = ServedSerial(p.port());
  EXPECT_EQ(second, SerialOfFile(next.cert));
  EXPECT_NE(second, first);
  old_conn.Send(e2e::BuildRequest("GET", "/healthz"));
  EXPECT_NE(old_conn.ReadAtLeast(17).find("200 OK"), std::string::npos);

  // A broken certificate file: the server says why and keeps serving the previous one.
  {
    std::FILE* f = std::fopen(live_cert.c_str(), "w");
    std::fputs("not a certificate\n", f);
    std::fclose(f);
  }
  p.Signal(SIGHUP);
  ASSERT_TRUE(p.WaitForLog("keeping the previous TLS certificate")) << p.log();
  EXPECT_EQ(ServedSerial(p.port()), second);
  SSL_CTX_free(ctx);
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(), 0) << p.log();
}

TEST_F(TlsProcessTest, BadTlsFlagsExit2WithOneLine) {
  std::string err;
  auto args = Args(cert_.cert, cert_.key);
  std::vector<std::string> only_cert(args.begin(), args.end() - 2);
  EXPECT_EQ(e2e::RunServerToExit(only_cert, &err), 2);
  EXPECT_NE(err.find("--tls-cert and --tls-key go together"), std::string::npos) << err;

  EXPECT_EQ(e2e::RunServerToExit(Args(certs_.path() + "/missing.crt", cert_.key), &err), 2);
  EXPECT_NE(err.find("cannot load certificate"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;

  TestCertificate other(certs_.path(), "other", "localhost");
  ASSERT_TRUE(other.ok);
  EXPECT_EQ(e2e::RunServerToExit(Args(cert_.cert, other.key), &err), 2);
  EXPECT_NE(err.find("does not match"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(data_.path() + "/d")) << "the data dir was touched";
}

}  // namespace
}  // namespace httpkv::tls_test
