// Protected mode with real non-loopback peers. The server (in-process) listens on
// 0.0.0.0:0, so a loopback client and a foreign one reach the same socket:
//   * NetnsPeer: the test makes a network namespace and a veth pair (needs root and
//     `ip`; skipped with the reason otherwise), and a client thread that entered the
//     namespace (setns) connects from 10.x.y.2 to the host end 10.x.y.1. Names and the /30
//     subnet come from the pid, so parallel runs do not collide; everything is deleted
//     in TearDown.
//   * LocalNonLoopbackAddress: no root needed; the host connects to one of its own
//     non-loopback addresses, so the peer is that address (skipped if the host has none).
// The classifier itself (127/8, ::1, ::ffff:127/104) is unit-tested in
// tests/server/auth_units_test.cc.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

const char kToken[] = "netns-t0ken.0123456789abcdef";

// A blocking client to an IPv4 address (RawClient knows only 127.0.0.1).
std::optional<Reply> RequestTo(const std::string& ip, uint16_t port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{10, 0};  // a safety net against a hang, not synchronisation
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
  std::string raw;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    raw.append(buf, static_cast<size_t>(n));
  ::close(fd);
  Reply r;
  const size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return r;
  r.status = std::atoi(raw.c_str() + 9);
  r.head = raw.substr(0, end + 2);
  r.body = raw.substr(end + 4);
  return r;
}

server::ServerOptions AnyAddressOptions(const std::string& dir) {
  auto o = InProcessServer::Options(dir, 2);
  o.listen = "0.0.0.0:0";
  return o;
}

int Sh(const std::string& cmd) {
  return std::system((cmd + " >/dev/null 2>&1").c_str());
}

class NetnsPeer : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to create a network namespace";
    if (Sh("command -v ip") != 0) GTEST_SKIP() << "needs the `ip` tool (iproute2)";
    const unsigned pid = static_cast<unsigned>(::getpid());
    ns_ = "httpkv-t" + std::to_string(pid);
    host_if_ = "hkv" + std::to_string(pid) + "a";
    peer_if_ = "hkv" + std::to_string(pid) + "b";
    const std::string net = "10." + std::to_string(64 + ((pid >> 14) & 63)) + "." +
                            std::to_string((pid >> 6) & 255) + ".";
    const unsigned base = (pid & 63) << 2;
    host_ip_ = net + std::to_string(base + 1);
    peer_ip_ = net + std::to_string(base + 2);
    Cleanup();
    if (Sh("ip netns add " + ns_) != 0) {
      GTEST_SKIP() << "`ip netns add` failed (no CAP_SYS_ADMIN in this container?)";
    }
    created_ = true;
    const std::string in_ns = "ip netns exec " + ns_ + " ";
    for (const std::string& cmd :
         {"ip link add " + host_if_ + " type veth peer name " + peer_if_,
          "ip link set " + peer_if_ + " netns " + ns_,
          "ip addr add " + host_ip_ + "/30 dev " + host_if_, "ip link set " + host_if_ + " up",
          in_ns + "ip addr add " + peer_ip_ + "/30 dev " + peer_if_,
          in_ns + "ip link set " + peer_if_ + " up", in_ns + "ip link set lo up"}) {
      // The namespace works but the host lacks veth or the like: not what is tested here.
      if (Sh(cmd) != 0) GTEST_SKIP() << "network set-up failed: " << cmd;
    }
  }
  void TearDown() override {
    if (created_) Cleanup();
  }
  void Cleanup() {
    Sh("ip netns del " + ns_);  // takes the namespace's veth end, and so the pair, with it
    Sh("ip link del " + host_if_);
  }
  // Sends `bytes` from inside the namespace to the host end, on a thread that entered it.
  std::optional<Reply> FromNamespace(uint16_t port, const std::string& bytes) {
    std::optional<Reply> out;
    std::string error;
    std::thread t([&] {
      const int fd = ::open(("/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
        error = "cannot enter the namespace";
        if (fd >= 0) ::close(fd);
        return;
      }
      ::close(fd);
      out = RequestTo(host_ip_, port, bytes);  // this thread only is in the namespace
    });
    t.join();
    EXPECT_EQ(error, "");
    return out;
  }

  std::string ns_, host_if_, peer_if_, host_ip_, peer_ip_;
  bool created_ = false;
  TempDir dir_;
};

TEST_F(NetnsPeer, ProtectedModeRefusesTheForeignPeerAndServesLoopback) {
  InProcessServer srv(AnyAddressOptions(dir_.path()));
  ASSERT_TRUE(srv.ok());
  // Pipelined: only the first is answered, then the connection closes.
  const auto r = FromNamespace(srv.port(),
                               BuildRequest("GET", "/healthz") + BuildRequest("PUT", "/kv/a", "v"));
  ASSERT_TRUE(r.has_value()) << "no connection from " << peer_ip_ << " to " << host_ip_;
  EXPECT_EQ(r->status, 403);
  EXPECT_NE(r->body.find("--auth-file"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("--protected-mode off"), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find("HTTP/1.1"), std::string::npos) << "a second answer followed";
  EXPECT_NE(r->head.find("Connection: close"), std::string::npos);
  EXPECT_EQ(Request(srv.port(), "GET", "/kv/a").status, 404);  // loopback: served, PUT never ran
}

TEST_F(NetnsPeer, ProtectedModeOffServesTheForeignPeer) {
  auto o = AnyAddressOptions(dir_.path());
  o.protected_mode = false;
  InProcessServer srv(o);
  ASSERT_TRUE(srv.ok());
  const auto r = FromNamespace(srv.port(), BuildRequest("PUT", "/kv/a", "v"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 201);
}

TEST_F(NetnsPeer, WithAnAuthFileTheForeignPeerNeedsAToken) {
  auto o = AnyAddressOptions(dir_.path() + "/data");
  o.auth_file = dir_.path() + "/tokens";
  std::ofstream(o.auth_file) << kToken << " write\n";
  InProcessServer srv(o);
  ASSERT_TRUE(srv.ok());
  auto r = FromNamespace(srv.port(), BuildRequest("PUT", "/kv/a", "v"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 401);
  r = FromNamespace(
      srv.port(),
      BuildRequest("PUT", "/kv/a", "v", std::string("Authorization: Bearer ") + kToken + "\r\n"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 201);
}

// One of this host's own non-loopback IPv4 addresses, if it has one.
std::optional<std::string> LocalNonLoopbackV4() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> out;
  for (ifaddrs* i = list; i != nullptr && !out; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    char buf[INET_ADDRSTRLEN];
    if (::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf) != nullptr) out = buf;
  }
  ::freeifaddrs(list);
  return out;
}

TEST(ProtectedModeLocal, ConnectionToANonLoopbackLocalAddressIsRefused) {
  const auto ip = LocalNonLoopbackV4();
  if (!ip) GTEST_SKIP() << "this host has no non-loopback IPv4 address";
  TempDir dir;
  InProcessServer srv(AnyAddressOptions(dir.path()));
  ASSERT_TRUE(srv.ok());
  const auto r = RequestTo(*ip, srv.port(), BuildRequest("GET", "/"));
  ASSERT_TRUE(r.has_value()) << "cannot connect to " << *ip;
  EXPECT_EQ(r->status, 403) << "peer " << *ip;
  EXPECT_EQ(Request(srv.port(), "GET", "/").status, 200);
}

}  // namespace
}  // namespace httpkv::e2e
