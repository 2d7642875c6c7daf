#include "tools/server/replication_flags.h"

#include <chrono>
#include <cstdio>

#include "reactor/inet_address.h"
#include "server/etcd/etcd_client.h"
#include "server/replication/log_shipping.h"

namespace httpkv::tools {
namespace {

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

}  // namespace

void AddReplicationFlags(CLI::App& app, ReplicationFlags* f) {
  auto& r = f->repl;
  app.add_option("--shard", r.shard,
                 "name of this member's shard: turns on replication and election (needs --etcd)");
  app.add_option("--etcd", f->etcd, "etcd client URLs, comma-separated (http://127.0.0.1:2379)");
  app.add_option("--node-name", r.node_name,
                 "this member's name in its shard (default: --advertise)");
  app.add_option("--advertise", r.advertise,
                 "HOST:PORT the other members and HAProxy reach this one at (default: --listen)");
  app.add_option("--cluster-name", r.cluster_name, "etcd keys live under /httpkv/NAME/")
      ->capture_default_str();
  app.add_option("--sync", r.sync,
                 "acknowledge a write only once this many replicas hold it (0: asynchronous)")
      ->check(CLI::Range(0u, 16u))
      ->capture_default_str();
  auto seconds = [&](const char* name, double* v, const char* what) {
    app.add_option(name, *v, what)->check(CLI::Range(0.01, 3600.0))->capture_default_str();
  };
  seconds("--sync-timeout", &f->sync_timeout_s,
          "seconds a write waits for --sync replicas before it gets 503");
  seconds("--leader-ttl", &f->leader_ttl_s, "seconds of the primary's lease in etcd");
  seconds("--loop-wait", &f->loop_wait_s, "seconds between two rounds of the election loop");
  seconds("--retry-timeout", &f->retry_timeout_s, "seconds each etcd round trip may take");
}

int CheckReplicationFlags(const std::string& listen, ReplicationFlags* f) {
  auto& r = f->repl;
  r.sync_timeout = Millis(f->sync_timeout_s);
  r.leader_ttl = Millis(f->leader_ttl_s);
  r.loop_wait = Millis(f->loop_wait_s);
  r.retry_timeout = Millis(f->retry_timeout_s);
  auto fail = [](const std::string& msg) {
    std::fprintf(stderr, "httpkv-server: %s\n", msg.c_str());
    return 2;
  };
  if (!r.enabled()) {
    if (!f->etcd.empty() || r.sync != 0) return fail("--etcd and --sync need --shard");
    return -1;
  }
  std::string error;
  if (f->etcd.empty()) return fail("--shard needs --etcd");
  if (!httpkv::etcd::EtcdClient::ParseEndpoints(f->etcd, &r.etcd_endpoints, &error)) {
    return fail("--etcd: " + error);
  }
  using httpkv::server::replication::ValidMemberToken;
  if (!ValidMemberToken(r.shard) || r.shard.find(':') != std::string::npos) {
    return fail("--shard must be 1-64 of [A-Za-z0-9._-]");
  }
  if (!ValidMemberToken(r.cluster_name))
    return fail("--cluster-name must be 1-64 of [A-Za-z0-9._-]");
  if (r.advertise.empty()) r.advertise = listen;
  const auto addr = httpkv::reactor::InetAddress::Parse(r.advertise, &error);
  if (!addr) return fail("--advertise: " + error);
  if (addr->port() == 0)
    return fail("a replicated member needs a fixed port (--listen/--advertise)");
  if (r.node_name.empty()) r.node_name = r.advertise;
  if (const auto bound = reactor::InetAddress::Parse(listen, &error)) {
    const std::string text = bound->ToString();
    const std::string host = text.substr(0, text.rfind(':'));
    if (host != "0.0.0.0" && host != "[::]") {
      r.source_ip = host.front() == '[' ? host.substr(1, host.size() - 2) : host;
    }
  }
  if (!ValidMemberToken(r.node_name)) return fail("--node-name must be 1-64 of [A-Za-z0-9._:-]");
  if (!r.TimingsValid()) {
    return fail(
        "--loop-wait + 2 x --retry-timeout must not exceed --leader-ttl (a primary "
        "must be able to renew its lease, with retries, before it expires)");
  }
  return -1;
}

}  // namespace httpkv::tools
