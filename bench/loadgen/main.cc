// httpkv-bench: HTTP/1.1 load generator (see SPEC.md, section httpkv-bench).
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "bench/loadgen/client_tls.h"
#include "bench/loadgen/report.h"
#include "bench/loadgen/runner.h"
#include "cluster/routes.h"

namespace httpkv::bench {
namespace {

constexpr const char* kHelp = R"(HTTP/1.1 load generator for httpkv (and any HTTP/1.1 server).

Requests: get = GET /kv/key-N, put = PUT /kv/key-N (raw value body), post = POST /create
(body key-N:value; 409 counts as non-2xx), update = PUT /update (body key-N:value).
Closed loop by default: every connection keeps --pipeline requests in flight. With --rate,
open loop: requests leave at fixed intended times spread over the connections and latency
is measured from the intended time (no coordinated omission); late connections catch up
back-to-back. When the mix has get or update, every key is PUT once first (--no-preload).
--path P sends GET P for every get (plain servers such as nginx); it disables preload.
--tls speaks HTTPS (--cacert FILE to trust a private CA); --new-connection opens a fresh
connection per request, so that with --tls every request pays a full handshake.
--cluster FILE (a cluster.json of tools/cluster.sh, instead of --target): every connection
is one keep-alive connection to each owner (node, or shard primary with replicas), and each
request, preload included, goes to its key's owner (placement as the HAProxy front). A 421
(X-Primary) or 503 answer re-reads FILE, finds the primary again and sends that request once
more ("stale answers sent again"); a refused connect re-reads FILE and finds the primary
before reconnecting. Not with --tls, --path, --watchers.
Durations: 10s, 500ms, 2m, 1h or plain seconds. Exit: 0 ok, 1 target unreachable, 2 bad flags.)";

std::atomic<bool> g_stop{false};
void OnSignal(int) {
  g_stop.store(true);
}

// "10s", "500ms", "1.5m", "1h", "250us" or plain seconds.
std::optional<double> ParseDuration(const std::string& s) {
  size_t pos = 0;
  double v;
  try {
    v = std::stod(s, &pos);
  } catch (...) {
    return std::nullopt;
  }
  const std::string unit = s.substr(pos);
  double scale;
  if (unit.empty() || unit == "s") {
    scale = 1;
  } else if (unit == "ms") {
    scale = 1e-3;
  } else if (unit == "us") {
    scale = 1e-6;
  } else if (unit == "m") {
    scale = 60;
  } else if (unit == "h") {
    scale = 3600;
  } else {
    return std::nullopt;
  }
  if (!(v >= 0) || v * scale > 1e7) return std::nullopt;
  return v * scale;
}

// Turns the raw flag strings into Options; returns an error line or "".
std::string Finish(Options& o, const std::string& duration, const std::string& warmup,
                   const std::string& mix) {
  std::string err;
  auto addr = reactor::InetAddress::Parse(o.target, &err);
  if (!addr) return "--target " + o.target + ": " + err;
  o.addr = *addr;
  const auto d = ParseDuration(duration);
  if (!d || *d <= 0) return "--duration " + duration + ": want a positive time like 10s or 500ms";
  o.duration_s = *d;
  const auto w = ParseDuration(warmup);
  if (!w) return "--warmup " + warmup + ": want a time like 2s";
  o.warmup_s = *w;
  const auto m = RequestMix::Parse(mix, &err);
  if (!m) return "--mix " + mix + ": " + err;
  for (size_t i = 0; i < kNumOps; ++i) o.weights[i] = m->weight(static_cast<Op>(i));
  if (!o.path.empty() && (o.path[0] != '/' || o.path.find_first_of(" \r\n\t") != std::string::npos))
    return "--path " + o.path + ": want an origin-form target such as / or /index.html";
  o.threads = std::min(o.threads, o.connections);
  return "";
}

// --cluster: loads FILE into *routes (finding the primaries) and targets the front (the
// Host header of every request). Returns an error line or "".
std::string LoadCluster(Options* o, cluster::Routes* routes) {
  if (o->cluster_file.empty()) return "";
  if (o->tls || !o->cacert.empty() || !o->path.empty() || o->watchers > 0)
    return "--cluster does not go with --tls, --cacert, --path or --watchers";
  std::string err;
  if (!routes->Load(o->cluster_file, std::chrono::seconds(2), &err)) return "--cluster: " + err;
  o->cluster = routes;
  o->target = routes->map().front();
  return "";
}

// Enough descriptors for every connection (plus slack for reconnects in flight).
std::string RaiseFdLimit(int connections) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return "";
  const rlim_t want = static_cast<rlim_t>(connections) + 64;  // (x owners with --cluster)
  if (rl.rlim_cur >= want) return "";
  rl.rlim_cur = std::min(want, rl.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < want)
    return "--connections " + std::to_string(connections) +
           ": exceeds the open-file limit (ulimit -n)";
  return "";
}

int Main(int argc, char** argv) {
  Options o;
  o.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string duration = "10s", warmup = "0", mix = "get=90,put=10";
  bool no_preload = false, no_progress = false;
  std::string busy_poll = "off";
  CLI::App app(kHelp, "httpkv-bench");
  auto* target = app.add_option("--target", o.target, "HOST:PORT of the server");
  app.add_option("--cluster", o.cluster_file,
                 "cluster.json: send each request to its key's owner (see above)")
      ->excludes(target);
  app.add_option("-c,--connections", o.connections, "keep-alive connections")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("-t,--threads", o.threads, "event-loop threads (default: cores)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("-d,--duration", duration, "measured time")->capture_default_str();
  app.add_option("--warmup", warmup, "load before measuring (statistics discarded)")
      ->capture_default_str();
  app.add_option("--mix", mix, "weights of get, put, post, update")->capture_default_str();
  app.add_option("--keys", o.keys, "key space key-0 .. key-(N-1)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--value-size", o.value_size, "value bytes")
      ->check(CLI::Range(size_t{0}, size_t{64} << 20))
      ->capture_default_str();
  app.add_option("--zipf", o.zipf, "Zipf exponent theta of key popularity; 0 = uniform")
      ->check(CLI::Range(0.0, 10.0))
      ->capture_default_str();
  app.add_option("--pipeline", o.pipeline, "requests in flight per connection")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--rate", o.rate, "open loop at RPS requests/s in total")
      ->check(CLI::PositiveNumber);
  app.add_option("--json", o.json_path, "also write the results as JSON to FILE");
  app.add_option("--path", o.path, "fixed target for get requests (e.g. / for nginx)");
  app.add_option("--token", o.token,
                 "bearer token for a server with --auth-file (default: $HTTPKV_TOKEN)")
      ->envname("HTTPKV_TOKEN")
      ->check(CLI::Validator(
          [](std::string& in) -> std::string {
            for (char c : in) {
              if (c <= 0x20 || c >= 0x7f) return "must be a bearer token (no spaces or controls)";
            }
            return "";
          },
          "TOKEN"));
  app.add_flag("--no-preload", no_preload, "do not PUT the key space before measuring");
  app.add_flag("--no-progress", no_progress, "no live line even on a terminal");
  app.add_option("--busy-poll", busy_poll, "on: worker threads spin instead of sleeping")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  app.add_option("--seed", o.seed, "random seed")->capture_default_str();
  app.add_flag("--tls", o.tls, "speak HTTPS (verifies the server certificate)");
  app.add_option("--cacert", o.cacert, "PEM CA file for --tls (default: system store)");
  app.add_flag("--new-connection", o.new_connection,
               "open a new connection for every request (with --tls: a handshake each)");
  app.add_option("--watchers", o.watchers,
                 "hold N change-feed watchers open during the load; report event delivery "
                 "latency (PUT answer -> event)")
      ->check(CLI::Range(0, 100000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "httpkv-bench: %s (see --help)\n", e.what());
    return 2;
  }
  cluster::Routes routes;
  std::string err = LoadCluster(&o, &routes);
  if (err.empty() && o.target.empty()) err = "--target or --cluster is required";
  if (err.empty()) err = Finish(o, duration, warmup, mix);
  if (err.empty())
    err = RaiseFdLimit(o.connections *
                       (o.cluster ? static_cast<int>(o.cluster->map().owners().size()) : 1));
  if (!err.empty()) {
    std::fprintf(stderr, "httpkv-bench: %s\n", err.c_str());
    return 2;
  }
  o.tls = o.tls || !o.cacert.empty();
  if (o.tls && (o.tls_ctx = NewClientTlsContext(o.cacert, &err)) == nullptr) {
    std::fprintf(stderr, "httpkv-bench: %s\n", err.c_str());
    return 2;
  }
  const std::unique_ptr<SSL_CTX, decltype(&FreeClientTlsContext)> tls_owner(o.tls_ctx,
                                                                            &FreeClientTlsContext);
  o.preload = !no_preload;
  o.busy_poll = busy_poll == "on";
  o.progress = !no_progress && ::isatty(STDERR_FILENO);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  RunResult result;
  if (RunBenchmark(o, &result, stderr, &g_stop) != 0) {
    std::fprintf(stderr, "httpkv-bench: %s\n", result.error.c_str());
    return 1;
  }
  PrintSummary(stdout, o, result);
  if (!o.json_path.empty() && !WriteJsonFile(o.json_path, o, result, &err)) {
    std::fprintf(stderr, "httpkv-bench: %s\n", err.c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace httpkv::bench

int main(int argc, char** argv) {
  return httpkv::bench::Main(argc, argv);
}
