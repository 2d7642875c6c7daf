// httpkv-server: flags (SPEC), start-up, signals. Everything else lives in server/.
#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "reactor/inet_address.h"
#include "server/http_server.h"
#include "server/replication/replication_node.h"
#include "storage/check.h"
#include "storage/log_store.h"
#include "tools/server/replication_flags.h"

namespace {

using httpkv::server::ServerOptions;
namespace storage = httpkv::storage;

constexpr const char* kVersion = "0.1.0";

struct Flags {
  ServerOptions opts;
  std::string fsync = "everysec";
  std::string log_level = "info";
  double drain_timeout_s = 5.0;
  double idle_timeout_s = 60, header_timeout_s = 10, body_timeout_s = 30, write_timeout_s = 30;
  uint64_t segment_mib = 64;
  bool check = false;
  bool repair = false;
  std::string compat;  // "seed" or empty
  std::string protected_mode = "on";
  std::string tls_ktls = "on";
  httpkv::tools::ReplicationFlags replication;
};

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// Returns -1 to continue, or the exit code (0 for --help/--version, 2 for bad flags).
int ParseFlags(int argc, char** argv, Flags* f) {
  CLI::App app{"httpkv-server — HTTP/1.1 key-value server over an append-only log"};
  app.set_version_flag("--version", std::string("httpkv-server ") + kVersion);
  f->opts.threads = std::max(1u, std::thread::hardware_concurrency());
  app.add_option("--listen", f->opts.listen, "HOST:PORT to listen on; port 0 picks a free port")
      ->capture_default_str();
  app.add_option("--data-dir", f->opts.data_dir, "data directory (created if missing, locked)")
      ->capture_default_str();
  app.add_option("--threads", f->opts.threads, "reactor threads, one event loop each")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  app.add_option("--fsync", f->fsync, "when an acknowledged write is on disk")
      ->check(CLI::IsMember({"always", "everysec", "never"}))
      ->capture_default_str();
  app.add_option("--max-value", f->opts.max_value, "largest accepted body in bytes (else 413)")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 31))
      ->capture_default_str();
  app.add_option("--log-level", f->log_level, "trace|debug|info|warn|error|critical|off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  app.add_option("--drain-timeout", f->drain_timeout_s,
                 "seconds SIGTERM waits for in-flight requests")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  auto seconds = [&](const char* name, double* v, const char* what) {
    app.add_option(name, *v, what)->check(CLI::Range(0.001, 86400.0))->capture_default_str();
  };
  seconds("--idle-timeout", &f->idle_timeout_s, "seconds an idle keep-alive connection stays open");
  seconds("--header-timeout", &f->header_timeout_s,
          "seconds to receive a whole request head (408)");
  seconds("--body-timeout", &f->body_timeout_s, "seconds allowed between body bytes (408)");
  seconds("--write-timeout", &f->write_timeout_s, "seconds a client may stall reading a response");
  app.add_option("--max-connections", f->opts.max_connections,
                 "open connections (whole process) beyond this get 503 and are closed; "
                 "default: RLIMIT_NOFILE soft limit minus a reserve (logged)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}));
  app.add_option("--feed-max-lag", f->opts.feed_max_lag,
                 "a watcher whose output is full while it trails the log by more than this "
                 "many SEQs is closed")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--segment-mib", f->segment_mib, "log segment size before rolling over (MiB)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{4096}))
      ->capture_default_str();
  app.add_option("--access-log", f->opts.access_log,
                 "append one line per request to FILE (async; reopened on SIGHUP)");
  app.add_option("--compat", f->compat, "also accept the original assignment's client (seed)")
      ->check(CLI::IsMember({"seed"}));
  app.add_option("--auth-file", f->opts.auth_file,
                 "bearer tokens: one 'TOKEN SCOPE [NAME]' per line, scope read|write|admin "
                 "(re-read on SIGHUP)");
  app.add_option("--protected-mode", f->protected_mode,
                 "without --auth-file, answer only loopback clients (others get 403)")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  app.add_option(
      "--tls-cert", f->opts.tls_cert,
      "PEM certificate chain: serve HTTPS on --listen (with --tls-key; SIGHUP re-reads)");
  app.add_option("--tls-key", f->opts.tls_key, "PEM private key for --tls-cert");
  app.add_option("--tls-ktls", f->tls_ktls, "hand TLS sends to the kernel where it offers kTLS")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  AddReplicationFlags(app, &f->replication);
  app.add_flag("--check", f->check, "verify every record in --data-dir, report damage, exit");
  app.add_flag("--repair", f->repair, "rewrite damaged segments keeping every good record, exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "httpkv-server: %s\n", e.what());
    return 2;
  }
  f->opts.fsync = *storage::ParseFsyncPolicy(f->fsync);
  f->opts.compat_seed = f->compat == "seed";
  f->opts.protected_mode = f->protected_mode == "on";
  f->opts.tls_ktls = f->tls_ktls == "on";
  f->opts.drain_timeout = Millis(f->drain_timeout_s);
  f->opts.timeouts.idle = Millis(f->idle_timeout_s);
  f->opts.timeouts.header = Millis(f->header_timeout_s);
  f->opts.timeouts.body = Millis(f->body_timeout_s);
  f->opts.timeouts.write = Millis(f->write_timeout_s);
  if (f->opts.tls_cert.empty() != f->opts.tls_key.empty()) {
    std::fprintf(stderr, "httpkv-server: --tls-cert and --tls-key go together\n");
    return 2;
  }
  std::string error;
  if (!httpkv::reactor::InetAddress::Parse(f->opts.listen, &error)) {
    std::fprintf(stderr, "httpkv-server: --listen: %s\n", error.c_str());
    return 2;
  }
  return CheckReplicationFlags(f->opts.listen, &f->replication);
}

void SetUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("httpkv");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(level));
}

// Blocks the shutdown signals in every thread (threads inherit the mask) so the main
// thread alone receives them with sigwait — no async-signal-safety puzzles.
sigset_t BlockSignals() {
  ::signal(SIGPIPE, SIG_IGN);  // sends use MSG_NOSIGNAL; this covers everything else
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR2);  // replication: restart to cut the log back (tools/server)
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Who may talk to the server, logged once at start-up (never a token).
void LogAccessPolicy(const httpkv::server::HttpServer& server, const ServerOptions& opts) {
  using httpkv::server::Scope;
  if (const auto* t = server.tokens()) {
    spdlog::info("auth: {} tokens from {} (read {}, write {}, admin {}); /healthz and /readyz open",
                 t->size(), opts.auth_file, t->CountWithScope(Scope::kRead),
                 t->CountWithScope(Scope::kWrite), t->CountWithScope(Scope::kAdmin));
  } else if (opts.protected_mode) {
    spdlog::info(
        "protected mode: only loopback clients are answered (--auth-file or "
        "--protected-mode off to serve others)");
  } else {
    spdlog::warn(
        "--protected-mode off without --auth-file: anyone who reaches {} can read and "
        "write every key",
        server.address().ToString());
  }
}

// SIGHUP: a token file that no longer parses keeps the tokens in force.
void ReloadAuth(httpkv::server::HttpServer& server, const ServerOptions& opts) {
  if (opts.auth_file.empty()) return;
  std::string error, warning;
  if (!server.ReloadAuthFile(&error, &warning)) {
    spdlog::error("SIGHUP: kept the previous tokens: {}", error);
    return;
  }
  if (!warning.empty()) spdlog::warn("{}", warning);
  spdlog::info("SIGHUP: reloaded {} tokens from {}", server.tokens()->size(), opts.auth_file);
}

void LogRecovery(const storage::LogStore& store) {
  const auto& r = store.recovery();
  for (const auto& w : r.warnings) spdlog::warn("recovery: {}", w);
  spdlog::info("recovered {} keys from {} records ({} bytes) in {:.3f}s", r.live_keys, r.records,
               r.bytes_scanned, r.seconds);
}

}  // namespace

// --check / --repair: offline verification of a data dir (refused while a server holds it).
int CheckOrRepair(const Flags& flags) {
  storage::CheckReport report;
  storage::Status st = flags.repair ? storage::RepairDataDir(flags.opts.data_dir, &report)
                                    : storage::CheckDataDir(flags.opts.data_dir, &report);
  for (const auto& line : report.Lines()) std::printf("%s\n", line.c_str());
  if (st.code() == storage::Status::Code::kBusy || st.code() == storage::Status::Code::kIOError ||
      st.code() == storage::Status::Code::kInvalidArgument) {
    std::fprintf(stderr, "httpkv-server: %s\n", st.ToString().c_str());
    return 2;
  }
  if (!st.ok()) {
    std::fprintf(stderr, "httpkv-server: %s\n", st.ToString().c_str());
    return 1;
  }
  std::printf("%s: %s\n", flags.opts.data_dir.c_str(), flags.repair ? "repaired" : "no damage");
  return 0;
}

// Opens the store and serves until SIGTERM/SIGINT, or until replication asks for a restart
// (SIGUSR2 from its follower thread: the log must be cut back at the next Open).
int Serve(const Flags& flags, bool* restart) {
  const sigset_t signals = BlockSignals();
  httpkv::server::HttpServer server(flags.opts);
  std::string error;
  if (!server.OpenAccessLog(&error)) {
    std::fprintf(stderr, "httpkv-server: %s\n", error.c_str());
    return 2;
  }
  if (std::string warning; !server.LoadAuthFile(&error, &warning)) {
    std::fprintf(stderr, "httpkv-server: --auth-file %s\n", error.c_str());
    return 2;
  } else if (!warning.empty()) {
    spdlog::warn("{}", warning);
  }
  if (!server.LoadTls(&error)) {
    std::fprintf(stderr, "httpkv-server: %s\n", error.c_str());
    return 2;
  }
  if (!server.Bind(&error)) {  // before the store: a busy port touches no data
    std::fprintf(stderr, "httpkv-server: %s\n", error.c_str());
    return 1;
  }
  storage::Options sopts;
  sopts.dir = flags.opts.data_dir;
  sopts.fsync = flags.opts.fsync;
  sopts.group_commit = true;  // --fsync always: one fdatasync per group, off the loops
  sopts.segment_bytes = flags.segment_mib << 20;
  std::unique_ptr<storage::LogStore> store;
  if (storage::Status st = storage::LogStore::Open(sopts, &store); !st.ok()) {
    std::fprintf(stderr, "httpkv-server: cannot use data dir %s: %s\n", sopts.dir.c_str(),
                 st.ToString().c_str());
    return 2;
  }
  spdlog::info("httpkv-server {} data-dir={} fsync={} threads={} max-value={}", kVersion, sopts.dir,
               flags.fsync, flags.opts.threads, flags.opts.max_value);
  LogRecovery(*store);
  if (!server.LoadPlacement(&error)) {
    std::fprintf(stderr, "httpkv-server: %s\n", error.c_str());
    return 2;
  }
  if (const auto* p = server.placement()) {
    spdlog::info("placement: this node is {} of {} owners{} ({})", p->self(), p->owners().size(),
                 p->before().empty() ? "" : ", keys moving in", httpkv::server::kPlacementFile);
  }
  if (flags.opts.compat_seed)
    spdlog::info("--compat seed: Host \"HOST/PATH\" on / is served as /PATH");
  if (server.tls()) {
    spdlog::info("HTTPS: certificate {}; kernel TLS for sends: {}",
                 server.tls_context().description(),
                 !flags.opts.tls_ktls ? "off (--tls-ktls off)"
                 : httpkv::reactor::KernelOffersKtls()
                     ? "offered by the kernel"
                     : "not offered by this kernel (no \"tls\" in tcp_available_ulp), "
                       "OpenSSL writes the records");
  }
  std::unique_ptr<httpkv::server::replication::ReplicationNode> replication;
  if (flags.replication.repl.enabled()) {
    auto repl = flags.replication.repl;
    if (const auto* tokens = server.tokens()) {
      repl.bearer_token = tokens->FirstWithScope(httpkv::server::Scope::kAdmin);
      if (repl.bearer_token.empty()) {
        std::fprintf(stderr,
                     "httpkv-server: --auth-file %s has no admin token: a replica presents the "
                     "first one to its primary to fetch the log (--shard)\n",
                     flags.opts.auth_file.c_str());
        return 2;
      }
    }
    replication = std::make_unique<httpkv::server::replication::ReplicationNode>(
        repl, store.get(), [] { ::kill(::getpid(), SIGUSR2); });
    server.SetReplication(replication.get());
    spdlog::info("replication: shard {} as {} ({}), etcd {}, sync {}", flags.replication.repl.shard,
                 flags.replication.repl.node_name, flags.replication.repl.advertise,
                 flags.replication.etcd, flags.replication.repl.sync);
  }
  server.Start(store.get());
  if (replication) replication->Start();
  LogAccessPolicy(server, flags.opts);
  spdlog::info("listening on {}", server.address().ToString());

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      server.ReopenLogs();
      spdlog::info("SIGHUP: reopened the access log");
      ReloadAuth(server, flags.opts);
      if (std::string warning; server.tls()) {
        if (server.ReloadTls(&error, &warning)) {
          if (!warning.empty()) spdlog::warn("SIGHUP: {}", warning);
          spdlog::info("SIGHUP: reloaded the TLS certificate {}",
                       server.tls_context().description());
        } else {
          spdlog::error("SIGHUP: keeping the previous TLS certificate: {}", error);
        }
      }
      continue;
    }
    if (sig == SIGUSR2) {
      if (!replication) continue;
      *restart = true;
      spdlog::warn("replication: restarting to cut the log back");
      break;
    }
    spdlog::info("{}: draining connections", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  server.Drain();
  if (replication) replication->Stop();  // a primary hands leadership over
  if (storage::Status st = store->Sync(); !st.ok()) {
    spdlog::error("final fsync failed: {}", st.ToString());
    return 1;
  }
  store.reset();
  if (*restart) {
    spdlog::info("stopped; starting again");
  } else {
    spdlog::info("stopped cleanly");
  }
  return 0;
}

int main(int argc, char** argv) {
  // After a restart by re-exec of /proc/self/exe the kernel would name the process "exe":
  // keep the name tools (pgrep, cluster.sh) know it by.
  ::pthread_setname_np(::pthread_self(), "httpkv-server");
  Flags flags;
  if (int rc = ParseFlags(argc, argv, &flags); rc >= 0) return rc;
  if (flags.check || flags.repair) return CheckOrRepair(flags);
  SetUpLogging(flags.log_level);
  bool restart = false;
  const int rc = Serve(flags, &restart);
  if (!restart) return rc;
  spdlog::default_logger()->flush();
  // Same pid, same flags: cluster.sh and systemd see the same process. The store is closed
  // (its lock released) and every socket of the old image is closed.
  ::execv("/proc/self/exe", argv);
  std::fprintf(stderr, "httpkv-server: cannot restart: %s\n", std::strerror(errno));
  return 1;
}
