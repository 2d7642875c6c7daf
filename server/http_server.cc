#include "server/http_server.h"

#include <unistd.h>

#include <chrono>

#include "reactor/listener.h"
#include "server/auth/token_file.h"
#include "server/loop_acks.h"

namespace httpkv::server {

namespace {

// SO_REUSEPORT lets any process of the same user join a port's group, so a second
// server would silently share our port. A probe bound WITHOUT SO_REUSEPORT fails with
// EADDRINUSE if anyone holds the port; it also resolves port 0 to a concrete port.
// (A process could still grab the port between the probe and our binds; that window
// is a few microseconds at start-up.)
bool ProbePortIsFree(reactor::InetAddress* addr, std::string* error) {
  int fd = reactor::Listener::OpenSocket(*addr, /*reuse_port=*/false, error);
  if (fd < 0) return false;
  auto local = reactor::InetAddress::LocalOf(fd);
  ::close(fd);
  if (!local) {
    *error = "getsockname failed";
    return false;
  }
  *addr = *local;
  return true;
}

}  // namespace

HttpServer::HttpServer(ServerOptions opts) : opts_(std::move(opts)) {}

HttpServer::~HttpServer() {
  Drain();
  for (int fd : listen_fds_) ::close(fd);
}

bool HttpServer::OpenAccessLog(std::string* error) {
  if (opts_.access_log.empty()) return true;
  access_log_ = AccessLog::Open(opts_.access_log, error);
  return access_log_ != nullptr;
}

bool HttpServer::LoadAuthFile(std::string* error, std::string* warning) {
  warning->clear();
  if (opts_.auth_file.empty()) return true;
  auto tokens = std::make_shared<TokenSet>();
  if (!LoadTokenFile(opts_.auth_file, tokens.get(), error, warning)) return false;
  tokens_ = std::move(tokens);
  return true;
}

bool HttpServer::ReloadAuthFile(std::string* error, std::string* warning) {
  warning->clear();
  if (opts_.auth_file.empty()) return true;
  auto tokens = std::make_shared<TokenSet>();
  if (!LoadTokenFile(opts_.auth_file, tokens.get(), error, warning)) return false;
  tokens_ = std::move(tokens);
  // Each loop swaps the set in between two requests; wait until all of them have, so
  // the caller (and a test) knows the old tokens are no longer accepted anywhere.
  LoopAcks acks(workers_.size());
  for (auto& w : workers_) w->PostTokens(tokens_, acks.Ack());
  // Loops answer posted work between events; the bound only guards against a stopped one.
  if (!acks.WaitFor(std::chrono::seconds(10))) {
    *warning = "not every reactor thread took the new tokens within 10 s";
  }
  return true;
}

bool HttpServer::LoadPlacement(std::string* error) {
  placement_ = std::make_unique<PublishedOwnerMap>(storage::FileSystem::Default(), opts_.data_dir);
  // A change is in force once every other loop has finished what it was serving (see
  // published_owner_map.h); the loop publishing it is busy with that request itself.
  placement_->SetBarrier([this] {
    size_t others = 0;
    for (auto& w : workers_) others += w->InLoopThread() ? 0 : 1;
    LoopAcks acks(others);
    for (auto& w : workers_) {
      if (!w->InLoopThread()) w->Post(acks.Ack());
    }
    return acks.WaitFor(std::chrono::seconds(10));
  });
  return placement_->Load(error);
}

bool HttpServer::Bind(std::string* error) {
  auto addr = reactor::InetAddress::Parse(opts_.listen, error);
  if (!addr) return false;
  const bool reuse_port = opts_.threads > 1;
  if (reuse_port && !ProbePortIsFree(&*addr, error)) return false;
  for (unsigned i = 0; i < opts_.threads; ++i) {
    int fd = reactor::Listener::OpenSocket(*addr, reuse_port, error);
    if (fd < 0) return false;
    listen_fds_.push_back(fd);
    if (i == 0) {
      // Port 0: every other thread must bind the port the kernel just chose.
      auto local = reactor::InetAddress::LocalOf(fd);
      if (!local) {
        *error = "getsockname failed";
        return false;
      }
      addr = *local;
      address_ = *local;
    }
  }
  return true;
}

void HttpServer::Start(storage::LogStore* store) {
  store_ = store;
  // Now the store's files and the listeners are open: the reserve counts them.
  slots_ =
      std::make_unique<ConnectionSlots>(SizeConnectionCap(opts_.max_connections, opts_.threads));
  auto render = [this](std::string* out) { RenderMetrics(out); };
  for (int fd : listen_fds_) {
    workers_.push_back(std::make_unique<HttpWorker>(fd, store, &opts_, render, access_log_.get(),
                                                    slots_.get(), &feed_bus_, repl_,
                                                    repl_ != nullptr ? &ship_bus_ : nullptr));
    if (tls_) workers_.back()->SetTlsContext(tls_);
  }
  listen_fds_.clear();        // now owned by the workers' listeners
  for (auto& w : workers_) {  // before the threads start
    w->SetTokens(tokens_);
    w->SetPlacement(placement_.get());
  }
  // Expire records are written by the store's own thread: it wakes the watchers (and the
  // replicas' fetches) too.
  store->SetChangeListener(
      [](void* ctx) {
        auto* self = static_cast<HttpServer*>(ctx);
        self->feed_bus_.Notify();
        self->ship_bus_.Notify();
      },
      this);
  if (repl_ != nullptr) {
    // The commit seq advanced (acknowledgements held for replicas may go, the feed may show
    // more) or a replica applied records (its feed may show them).
    repl_->SetProgressListener(
        [](void* ctx) {
          auto* self = static_cast<HttpServer*>(ctx);
          self->feed_bus_.Notify();
          for (auto& w : self->workers_) w->PostReplicationProgress();
        },
        this);
  }
  for (auto& w : workers_) threads_.emplace_back([w = w.get()] { w->Run(); });
}

void HttpServer::Drain() {
  // Once: the destructor drains again, and by then the caller may have closed the store.
  if (store_ != nullptr) store_->SetChangeListener(nullptr, nullptr);
  for (auto& w : workers_) w->BeginDrain();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  store_ = nullptr;  // the workers (and /metrics) are done with it
}

void HttpServer::ReopenLogs() {
  if (access_log_) access_log_->Reopen();
}

void HttpServer::RenderMetrics(std::string* out) const {
  std::vector<const WorkerMetrics*> blocks;
  for (const auto& w : workers_) blocks.push_back(&w->metrics());
  RenderPrometheus(blocks, store_->stats(), out);
  if (repl_ != nullptr) repl_->AppendMetrics(out);
}

}  // namespace httpkv::server
