// HttpServer: N HttpWorkers, one per thread, each with its own SO_REUSEPORT listening
// socket on the same address. Bind() happens before the store is opened, so a busy
// port is reported without touching the data dir.
//
// Threading model: workers share nothing but the LogStore (thread-safe, see
// storage/log_store.h) and read-only options. Start/Drain are called from the owning
// (main) thread.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "reactor/inet_address.h"
#include "reactor/tls_context.h"
#include "server/access_log.h"
#include "server/auth/token_set.h"
#include "server/base/server_options.h"
#include "server/connection_cap.h"
#include "server/http_worker.h"
#include "storage/log_store.h"

namespace httpkv::server {

class HttpServer {
 public:
  explicit HttpServer(ServerOptions opts);
  ~HttpServer();

  // Opens --access-log if set. False with a one-line *error.
  bool OpenAccessLog(std::string* error);
  // --auth-file: reads and parses the token file (server/auth/token_file.h). True if there is
  // none. False with a one-line *error; *warning for a file other users can read.
  bool LoadAuthFile(std::string* error, std::string* warning);
  // SIGHUP: re-reads the token file; on success every worker serves with the new tokens
  // when this returns. On failure the old tokens stay in force (*error says why).
  bool ReloadAuthFile(std::string* error, std::string* warning);
  // The tokens in force (nullptr without --auth-file). Owning thread only.
  const TokenSet* tokens() const { return tokens_.get(); }

  // After the store opened its data dir: reads DATA_DIR/placement.json (the keys this node
  // owns, /admin/placement) if there is one. False with a one-line *error.
  bool LoadPlacement(std::string* error);
  // The placement in force (nullptr: every key is served here). Any thread.
  const placement::OwnerMap* placement() const {
    return placement_ ? placement_->current() : nullptr;
  }

  // Creates opts.threads listening sockets. False with a one-line *error on failure.
  bool Bind(std::string* error);
  // The bound address, with the real port when --listen asked for port 0.
  const reactor::InetAddress& address() const { return address_; }

  // Before Start: this server is a member of a replicated shard (server/replication).
  void SetReplication(replication::ReplicationNode* repl) { repl_ = repl; }

  // Sizes the connection cap (logged), then starts one worker thread per listening
  // socket, serving from `store`.
  void Start(storage::LogStore* store);
  // The process-wide --max-connections in force (after Start).
  uint64_t max_connections() const { return slots_ ? slots_->cap() : 0; }
  // Graceful stop: stop accepting, finish in-flight requests (bounded by
  // opts.drain_timeout), join the threads.
  void Drain();

  // SIGHUP: reopen the access log (after logrotate moved it).
  void ReopenLogs();

  // HTTPS (http_server_tls.cc). LoadTls: before Start, builds the context from
  // --tls-cert/--tls-key (a no-op without them); false with a one-line *error.
  bool LoadTls(std::string* error);
  // SIGHUP: re-reads both files; new connections get the new context, open ones keep
  // theirs. False (the old context stays in force) with a one-line *error. Posted to every
  // loop; returns once all have it, or after 10 s with a one-line *warning.
  bool ReloadTls(std::string* error, std::string* warning);
  bool tls() const { return static_cast<bool>(tls_); }
  const reactor::TlsContext& tls_context() const { return tls_; }

  // Prometheus text of every worker plus store statistics. Any thread.
  void RenderMetrics(std::string* out) const;

 private:
  ServerOptions opts_;
  reactor::InetAddress address_;
  std::vector<int> listen_fds_;
  storage::LogStore* store_ = nullptr;
  std::unique_ptr<AccessLog> access_log_;
  std::shared_ptr<const TokenSet> tokens_;
  std::unique_ptr<PublishedOwnerMap> placement_;
  std::unique_ptr<ConnectionSlots> slots_;  // shared by every worker
  FeedBus feed_bus_;                        // before workers_: they register with it
  FeedBus ship_bus_;                        // replication: wakes workers holding fetches
  replication::ReplicationNode* repl_ = nullptr;
  std::vector<std::unique_ptr<HttpWorker>> workers_;
  std::vector<std::thread> threads_;
  reactor::TlsContext tls_;  // the context new connections get (empty: plain HTTP)
};

}  // namespace httpkv::server
