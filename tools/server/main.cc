// httpkv-server: flags (SPEC), start-up, signals. Everything else lives in server/.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <thread>

#include "reactor/inet_address.h"
#include "server/http_server.h"
#include "storage/log_store.h"

namespace {

using httpkv::server::ServerOptions;
namespace storage = httpkv::storage;

constexpr const char* kVersion = "0.1.0";

struct Flags {
  ServerOptions opts;
  std::string fsync = "everysec";
  std::string log_level = "info";
  double drain_timeout_s = 5.0;
};

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
  f->opts.drain_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(f->drain_timeout_s * 1000));
  std::string error;
  if (!httpkv::reactor::InetAddress::Parse(f->opts.listen, &error)) {
    std::fprintf(stderr, "httpkv-server: --listen: %s\n", error.c_str());
    return 2;
  }
  return -1;
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
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

void LogRecovery(const storage::LogStore& store) {
  const auto& r = store.recovery();
  for (const auto& w : r.warnings) spdlog::warn("recovery: {}", w);
  spdlog::info("recovered {} keys from {} records ({} bytes) in {:.3f}s", r.live_keys, r.records,
               r.bytes_scanned, r.seconds);
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (int rc = ParseFlags(argc, argv, &flags); rc >= 0) return rc;
  SetUpLogging(flags.log_level);
  const sigset_t signals = BlockSignals();

  httpkv::server::HttpServer server(flags.opts);
  std::string error;
  if (!server.Bind(&error)) {  // before the store: a busy port touches no data
    std::fprintf(stderr, "httpkv-server: %s\n", error.c_str());
    return 1;
  }
  storage::Options sopts;
  sopts.dir = flags.opts.data_dir;
  sopts.fsync = flags.opts.fsync;
  std::unique_ptr<storage::LogStore> store;
  if (storage::Status st = storage::LogStore::Open(sopts, &store); !st.ok()) {
    std::fprintf(stderr, "httpkv-server: cannot use data dir %s: %s\n", sopts.dir.c_str(),
                 st.ToString().c_str());
    return 2;
  }
  spdlog::info("httpkv-server {} data-dir={} fsync={} threads={} max-value={}", kVersion, sopts.dir,
               flags.fsync, flags.opts.threads, flags.opts.max_value);
  LogRecovery(*store);
  server.Start(store.get());
  spdlog::info("listening on {}", server.address().ToString());

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      spdlog::info("SIGHUP: logs go to stderr, nothing to reopen");
      continue;
    }
    spdlog::info("{}: draining connections", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  server.Drain();
  if (storage::Status st = store->Sync(); !st.ok()) {
    spdlog::error("final fsync failed: {}", st.ToString());
    return 1;
  }
  store.reset();
  spdlog::info("stopped cleanly");
  return 0;
}
