// EtcdClient against a real etcd (3.4, /usr/bin/etcd) started on free loopback ports.
#include "server/etcd/etcd_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <thread>

#include "tests/server/etcd_process.h"

namespace httpkv::etcd {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using etcd_test::EtcdCluster;

// A loopback listener that completes TCP handshakes (the kernel's backlog) but never
// reads or answers: a hung etcd.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 16) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      url_ = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    }
  }
  ~SilentListener() { ::close(fd_); }
  const std::string& url() const { return url_; }

 private:
  int fd_ = -1;
  std::string url_;
};

// A loopback port nobody listens on: connections are refused.
std::string RefusedUrl() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

template <typename Pred>
bool WaitUntil(Pred pred, milliseconds limit) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(50));  // poll interval
  }
  return pred();
}

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdCluster::Available()) {
      GTEST_SKIP() << EtcdCluster::Binary() << " is missing (Debian package etcd-server)";
    }
    std::string error;
    ASSERT_TRUE(etcd_.Start(1, &error)) << error;
    client_ = std::make_unique<EtcdClient>(etcd_.client_urls(), milliseconds(2000));
  }

  EtcdCluster etcd_;
  std::unique_ptr<EtcdClient> client_;
};

TEST(EtcdEndpoints, ParsesAndNormalisesLists) {
  std::vector<std::string> out;
  std::string error;
  ASSERT_TRUE(EtcdClient::ParseEndpoints("http://127.0.0.1:2379", &out, &error)) << error;
  EXPECT_EQ(out, std::vector<std::string>{"http://127.0.0.1:2379"});
  ASSERT_TRUE(EtcdClient::ParseEndpoints(
      "http://127.0.0.1:2379/, http://localhost:22379,http://[::1]:32379,http://127.0.0.2:1", &out,
      &error))
      << error;
  EXPECT_EQ(out, (std::vector<std::string>{"http://127.0.0.1:2379", "http://127.0.0.1:22379",
                                           "http://[::1]:32379", "http://127.0.0.2:1"}));
}

TEST(EtcdEndpoints, RejectsBadEndpoints) {
  for (const char* bad :
       {"", ",", "http://127.0.0.1:2379,", "http://127.0.0.1:2379,,x", "https://127.0.0.1:2379",
        "127.0.0.1:2379", "http://10.0.0.1:2379", "http://example.com:2379", "http://127.0.0.1",
        "http://127.0.0.1:", "http://127.0.0.1:0", "http://127.0.0.1:65536", "http://127.0.0.1:23x",
        "http://127.0.0.1:2379/v3", "http://[::2]:2379", "http://[::1]2379"}) {
    std::vector<std::string> out;
    std::string error;
    EXPECT_FALSE(EtcdClient::ParseEndpoints(bad, &out, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  std::vector<std::string> out;
  std::string error;
  EXPECT_FALSE(EtcdClient::ParseEndpoints("https://127.0.0.1:2379", &out, &error));
  EXPECT_NE(error.find("https"), std::string::npos) << error;
}

TEST(EtcdEndpoints, InvalidEndpointIsUnavailable) {
  EtcdClient client({"https://127.0.0.1:2379"}, milliseconds(100));
  std::optional<KeyValue> kv;
  EtcdError e = client.Get("k", &kv);
  EXPECT_EQ(e.kind, EtcdError::kUnavailable);
  EXPECT_NE(e.message.find("https"), std::string::npos) << e.message;
  EtcdClient none({}, milliseconds(100));
  EXPECT_EQ(none.Get("k", &kv).kind, EtcdError::kUnavailable);
}

TEST(EtcdUnavailable, RefusedAndSilentEndpointsTimeOut) {
  SilentListener silent;
  ASSERT_FALSE(silent.url().empty());
  EtcdClient client({RefusedUrl(), silent.url()}, milliseconds(300));
  auto start = Clock::now();
  std::optional<KeyValue> kv;
  EtcdError e = client.Get("k", &kv);
  auto took = Clock::now() - start;
  EXPECT_EQ(e.kind, EtcdError::kUnavailable) << e.message;
  EXPECT_NE(e.message.find("refused"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("timed out"), std::string::npos) << e.message;
  EXPECT_GE(took, milliseconds(290));
  EXPECT_LT(took, milliseconds(1000));
  // A second call waits again, bounded the same way (the silent connection was dropped).
  start = Clock::now();
  int64_t lease = 0;
  EXPECT_EQ(client.LeaseGrant(5, &lease).kind, EtcdError::kUnavailable);
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
}

TEST_F(EtcdClientTest, FailsOverToALiveEndpointInTheSameCall) {
  SilentListener silent;
  std::string live = etcd_.client_url(0);
  EtcdClient client({RefusedUrl(), silent.url(), live}, milliseconds(400));
  auto start = Clock::now();
  ASSERT_TRUE(client.Put("failover", "v").ok());
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
  EXPECT_EQ(client.last_endpoint(), live);
  // The next call starts with the endpoint that answered: no waiting on the silent one.
  start = Clock::now();
  std::optional<KeyValue> kv;
  ASSERT_TRUE(client.Get("failover", &kv).ok());
  EXPECT_LT(Clock::now() - start, milliseconds(300));
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "v");
}

TEST_F(EtcdClientTest, LeaseGrantKeepAliveRevoke) {
  int64_t lease = 0;
  ASSERT_TRUE(client_->LeaseGrant(5, &lease).ok());
  EXPECT_NE(lease, 0);
  int64_t ttl = 0;
  EtcdError e = client_->LeaseKeepAlive(lease, &ttl);
  ASSERT_TRUE(e.ok()) << e.message;
  EXPECT_EQ(ttl, 5);
  // The keep-alive answer is chunked; the connection stays usable for the next call.
  ASSERT_TRUE(client_->LeaseKeepAlive(lease, &ttl).ok());
  ASSERT_TRUE(client_->LeaseRevoke(lease).ok());
  EXPECT_EQ(client_->LeaseKeepAlive(lease, &ttl).kind, EtcdError::kNotFound);
  e = client_->LeaseRevoke(lease);
  EXPECT_EQ(e.kind, EtcdError::kNotFound) << e.message;
  EXPECT_NE(e.message.find("lease not found"), std::string::npos) << e.message;
}

TEST_F(EtcdClientTest, CreateIfAbsentWinsOnce) {
  int64_t a = 0, b = 0;
  ASSERT_TRUE(client_->LeaseGrant(10, &a).ok());
  ASSERT_TRUE(client_->LeaseGrant(10, &b).ok());
  bool created = false;
  KeyValue current;
  ASSERT_TRUE(client_->CreateIfAbsent("/shard/0/leader", "node-a", a, &created, &current).ok());
  EXPECT_TRUE(created);
  EXPECT_EQ(current.key, "/shard/0/leader");
  EXPECT_EQ(current.value, "node-a");
  EXPECT_EQ(current.lease, a);
  EXPECT_GT(current.create_revision, 0);
  EXPECT_EQ(current.mod_revision, current.create_revision);
  EXPECT_EQ(current.version, 1);
  int64_t rev = current.create_revision;

  KeyValue holder;
  ASSERT_TRUE(client_->CreateIfAbsent("/shard/0/leader", "node-b", b, &created, &holder).ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(holder.value, "node-a");
  EXPECT_EQ(holder.lease, a);
  EXPECT_EQ(holder.create_revision, rev);

  // Retrying with the holder's own lease (an answer lost on the way) reports it as ours.
  ASSERT_TRUE(client_->CreateIfAbsent("/shard/0/leader", "node-a", a, &created, &holder).ok());
  EXPECT_TRUE(created);
  EXPECT_EQ(holder.create_revision, rev);

  // A lease etcd does not know.
  EtcdError e = client_->CreateIfAbsent("/shard/1/leader", "x", 12345, &created, &holder);
  EXPECT_EQ(e.kind, EtcdError::kNotFound) << e.message;
}

TEST_F(EtcdClientTest, KeyVanishesWhenItsLeaseExpires) {
  int64_t lease = 0;
  ASSERT_TRUE(client_->LeaseGrant(1, &lease).ok());
  bool created = false;
  KeyValue first;
  ASSERT_TRUE(client_->CreateIfAbsent("/ttl/leader", "old", lease, &created, &first).ok());
  ASSERT_TRUE(created);
  bool gone = WaitUntil(
      [&] {
        std::optional<KeyValue> kv;
        return client_->Get("/ttl/leader", &kv).ok() && !kv.has_value();
      },
      milliseconds(10000));
  ASSERT_TRUE(gone);
  int64_t ttl = 0;
  EXPECT_EQ(client_->LeaseKeepAlive(lease, &ttl).kind, EtcdError::kNotFound);

  int64_t next = 0;
  ASSERT_TRUE(client_->LeaseGrant(5, &next).ok());
  KeyValue second;
  ASSERT_TRUE(client_->CreateIfAbsent("/ttl/leader", "new", next, &created, &second).ok());
  EXPECT_TRUE(created);
  EXPECT_GT(second.create_revision, first.create_revision);
}

TEST_F(EtcdClientTest, ConditionalPutAndDeleteActOnlyOnTheirRevision) {
  bool created = false, done = false, deleted = false;
  KeyValue kv;
  ASSERT_TRUE(client_->CreateIfAbsent("/c/leader", "v1", 0, &created, &kv).ok());
  ASSERT_TRUE(created);
  int64_t rev = kv.create_revision;

  ASSERT_TRUE(client_->PutIfCreateRevision("/c/leader", "stale", rev + 100, 0, &done).ok());
  EXPECT_FALSE(done);
  std::optional<KeyValue> got;
  ASSERT_TRUE(client_->Get("/c/leader", &got).ok());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->value, "v1");

  int64_t lease = 0;
  ASSERT_TRUE(client_->LeaseGrant(30, &lease).ok());
  ASSERT_TRUE(client_->PutIfCreateRevision("/c/leader", "v2", rev, lease, &done).ok());
  EXPECT_TRUE(done);
  ASSERT_TRUE(client_->Get("/c/leader", &got).ok());
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->value, "v2");
  EXPECT_EQ(got->create_revision, rev);
  EXPECT_EQ(got->version, 2);
  EXPECT_EQ(got->lease, lease);

  ASSERT_TRUE(client_->DeleteIfCreateRevision("/c/leader", rev - 1, &deleted).ok());
  EXPECT_FALSE(deleted);
  ASSERT_TRUE(client_->Get("/c/leader", &got).ok());
  EXPECT_TRUE(got.has_value());
  ASSERT_TRUE(client_->DeleteIfCreateRevision("/c/leader", rev, &deleted).ok());
  EXPECT_TRUE(deleted);
  ASSERT_TRUE(client_->Get("/c/leader", &got).ok());
  EXPECT_FALSE(got.has_value());
  ASSERT_TRUE(client_->DeleteIfCreateRevision("/c/leader", rev, &deleted).ok());
  EXPECT_FALSE(deleted);
  // Absent key: a conditional put on the old revision does not resurrect it.
  ASSERT_TRUE(client_->PutIfCreateRevision("/c/leader", "v3", rev, 0, &done).ok());
  EXPECT_FALSE(done);
}

TEST_F(EtcdClientTest, GetPutAndGetPrefixWithBinaryData) {
  const std::string binary("\0\"\\\xff\n", 5);
  ASSERT_TRUE(client_->Put("/p/a", "1").ok());
  ASSERT_TRUE(client_->Put("/p/c", binary).ok());
  ASSERT_TRUE(client_->Put("/p/b", "").ok());
  ASSERT_TRUE(client_->Put("/p0", "outside").ok());
  ASSERT_TRUE(client_->Put("/o", "outside").ok());
  ASSERT_TRUE(client_->Put("\xff\xff", "top").ok());

  std::optional<KeyValue> kv;
  int64_t header_rev = 0;
  ASSERT_TRUE(client_->Get("/p/c", &kv, &header_rev).ok());
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, binary);
  EXPECT_GE(header_rev, kv->mod_revision);
  ASSERT_TRUE(client_->Get("/p/b", &kv).ok());
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "");
  ASSERT_TRUE(client_->Get("/p/none", &kv).ok());
  EXPECT_FALSE(kv.has_value());

  std::vector<KeyValue> list;
  ASSERT_TRUE(client_->GetPrefix("/p/", &list).ok());
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].key, "/p/a");
  EXPECT_EQ(list[1].key, "/p/b");
  EXPECT_EQ(list[2].key, "/p/c");
  EXPECT_EQ(list[2].value, binary);
  ASSERT_TRUE(client_->GetPrefix("\xff", &list).ok());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].value, "top");
  ASSERT_TRUE(client_->GetPrefix("/nothing/", &list).ok());
  EXPECT_TRUE(list.empty());
  ASSERT_TRUE(client_->GetPrefix("", &list).ok());
  EXPECT_EQ(list.size(), 6u);
}

TEST(EtcdCluster3, SurvivesAMemberKillAndReportsLostQuorum) {
  if (!EtcdCluster::Available()) {
    GTEST_SKIP() << EtcdCluster::Binary() << " is missing (Debian package etcd-server)";
  }
  EtcdCluster cluster;
  std::string error;
  ASSERT_TRUE(cluster.Start(3, &error)) << error;
  EtcdClient client(cluster.client_urls(), milliseconds(1500));
  ASSERT_TRUE(client.Put("/k", "1").ok());
  std::string first = client.last_endpoint();
  int killed = 0;
  while (cluster.client_url(killed) != first) ++killed;
  cluster.Kill(killed);

  // If that was the leader, the other two elect a new one first (about the election
  // timeout): calls meanwhile are kUnavailable (timeouts, "leader changed"), never
  // another kind, and then another member answers.
  std::optional<KeyValue> kv;
  EtcdError e;
  ASSERT_TRUE(WaitUntil(
      [&] {
        e = client.Get("/k", &kv);
        EXPECT_TRUE(e.ok() || e.kind == EtcdError::kUnavailable) << e.message;
        return e.ok();
      },
      milliseconds(20000)))
      << e.message;
  EXPECT_NE(client.last_endpoint(), first);
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "1");

  // Two of three gone: no quorum, every call gives up within endpoints x timeout.
  int stopped = (killed + 1) % 3;
  cluster.Stop(stopped);
  auto start = Clock::now();
  e = client.Get("/k", &kv);
  EXPECT_EQ(e.kind, EtcdError::kUnavailable) << e.message;
  EXPECT_LT(Clock::now() - start, milliseconds(3 * 1500 + 500));

  // Back to a quorum: the restarted members serve again.
  ASSERT_TRUE(cluster.Restart(killed, &error)) << error;
  ASSERT_TRUE(WaitUntil([&] { return client.Get("/k", &kv).ok(); }, milliseconds(20000)));
  EXPECT_EQ(kv->value, "1");
}

}  // namespace
}  // namespace httpkv::etcd
