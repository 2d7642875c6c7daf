#include "bench/loadgen/report.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "cluster/routes.h"

namespace httpkv::bench {
namespace {

constexpr double kPercentiles[] = {0.50, 0.90, 0.99, 0.999};
constexpr const char* kPercentileKeys[] = {"p50", "p90", "p99", "p999"};

double Us(uint64_t ns) {
  return static_cast<double>(ns) / 1e3;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + '"';
}

std::string LatencyJson(const Histogram& h) {
  std::string s = "{";
  for (size_t i = 0; i < 4; ++i) {
    s += fmt::format("\"{}\": {:.1f}, ", kPercentileKeys[i], Us(h.Percentile(kPercentiles[i])));
  }
  return s + fmt::format("\"max\": {:.1f}, \"mean\": {:.1f}}}", Us(h.max()), h.mean() / 1e3);
}

// The SPEC's key set for one slice of the run (all ops or one).
std::string BlockJson(uint64_t requests, uint64_t errors, uint64_t non_2xx, double duration,
                      const Histogram& h) {
  const double rps = duration > 0 ? static_cast<double>(requests) / duration : 0;
  return fmt::format(
      "\"requests\": {}, \"errors\": {}, \"non_2xx\": {}, \"duration_s\": {:.3f}, "
      "\"rps\": {:.1f}, \"latency_us\": {}",
      requests, errors, non_2xx, duration, rps, LatencyJson(h));
}

void PrintLatencyRow(std::FILE* out, std::string_view name, uint64_t requests, double duration,
                     const Histogram& h) {
  const double rps = duration > 0 ? static_cast<double>(requests) / duration : 0;
  fmt::print(out, "  {:<7}{:>11}{:>12.1f}", name, requests, rps);
  for (double q : kPercentiles) fmt::print(out, "{:>10.1f}", Us(h.Percentile(q)));
  fmt::print(out, "{:>11.1f}\n", Us(h.max()));
}

}  // namespace

void PrintSummary(std::FILE* out, const Options& opt, const RunResult& r) {
  const Stats& st = r.stats;
  const RequestMix mix(opt.weights);
  const std::string mode =
      opt.rate > 0 ? fmt::format("open loop at {:.0f} req/s", opt.rate) : "closed loop";
  fmt::print(out, "target {}  {}  {} connections  {} threads  pipeline {}  mix {}\n", opt.target,
             mode, opt.connections, opt.threads, opt.pipeline, mix.ToString());
  const uint64_t requests = st.requests();
  const double rps = r.duration_s > 0 ? static_cast<double>(requests) / r.duration_s : 0;
  fmt::print(out, "  {} requests in {:.2f} s, {:.1f} req/s\n", requests, r.duration_s, rps);
  fmt::print(out, "  errors {} (connect {}, io {}, parse {}), non-2xx {}, reconnects {}\n",
             st.errors(), st.connect_errors, st.io_errors, st.parse_errors, st.non_2xx(),
             st.reconnects);
  if (opt.cluster) {
    fmt::print(out, "  cluster {}: {} owners, {} stale answers sent again (421/503)\n",
               opt.cluster_file, opt.cluster->map().owners().size(), st.stale_retries);
  }
  if (opt.tls) {
    fmt::print(out, "  TLS handshakes {} ({:.1f}/s)\n", st.tls_handshakes,
               r.duration_s > 0 ? static_cast<double>(st.tls_handshakes) / r.duration_s : 0);
  }
  fmt::print(out, "  latency (us){:>18}{:>10}{:>10}{:>10}{:>10}{:>11}\n", "req/s", "p50", "p90",
             "p99", "p99.9", "max");
  PrintLatencyRow(out, "all", requests, r.duration_s, st.AllLatency());
  for (size_t i = 0; i < kNumOps; ++i) {
    if (opt.weights[i] == 0) continue;
    PrintLatencyRow(out, kOpNames[i], st.ops[i].requests, r.duration_s, st.ops[i].latency);
  }
  if (opt.rate > 0) fmt::print(out, "  latency counted from intended send times (open loop)\n");
  if (opt.watchers > 0) {
    const FeedResult& f = r.feed;
    fmt::print(out, "  feed: {} watchers, {} events received, {} watchers closed\n", f.watchers,
               f.events, f.closed);
    PrintLatencyRow(out, "event", f.events, r.duration_s, f.latency);
    fmt::print(out, "  event latency: PUT answer received -> event received (warm-up included)\n");
  }
}

std::string ToJson(const Options& opt, const RunResult& r) {
  const Stats& st = r.stats;
  std::string s =
      "{\n  " + BlockJson(st.requests(), st.errors(), st.non_2xx(), r.duration_s, st.AllLatency());
  s += ",\n  \"ops\": {";
  bool first = true;
  for (size_t i = 0; i < kNumOps; ++i) {
    if (opt.weights[i] == 0) continue;
    const OpStats& o = st.ops[i];
    s += fmt::format("{}\n    \"{}\": {{{}}}", first ? "" : ",", kOpNames[i],
                     BlockJson(o.requests, o.errors, o.non_2xx, r.duration_s, o.latency));
    first = false;
  }
  s += "\n  },\n";
  if (opt.watchers > 0) {
    s += fmt::format(
        "  \"feed\": {{\"watchers\": {}, \"events\": {}, \"closed\": {}, \"latency_us\": {}}},\n",
        r.feed.watchers, r.feed.events, r.feed.closed, LatencyJson(r.feed.latency));
  }
  s += fmt::format(
      "  \"reconnects\": {}, \"error_kinds\": {{\"connect\": {}, \"io\": {}, \"parse\": {}}},\n",
      st.reconnects, st.connect_errors, st.io_errors, st.parse_errors);
  if (opt.tls) s += fmt::format("  \"tls_handshakes\": {},\n", st.tls_handshakes);
  if (opt.cluster) {
    s += fmt::format("  \"cluster\": {{\"file\": {}, \"owners\": {}, \"stale_retries\": {}}},\n",
                     JsonString(opt.cluster_file), opt.cluster->map().owners().size(),
                     st.stale_retries);
  }
  s += fmt::format(
      "  \"target\": {}, \"mode\": \"{}\", \"rate\": {}, \"connections\": {}, \"threads\": {}, "
      "\"pipeline\": {},\n",
      JsonString(opt.target), opt.rate > 0 ? "open" : "closed",
      opt.rate > 0 ? fmt::format("{}", opt.rate) : "null", opt.connections, opt.threads,
      opt.pipeline);
  s += fmt::format(
      "  \"mix\": {}, \"keys\": {}, \"value_size\": {}, \"zipf\": {}, \"path\": {}, "
      "\"warmup_s\": {}, \"preloaded_keys\": {}\n}}\n",
      JsonString(RequestMix(opt.weights).ToString()), opt.keys, opt.value_size, opt.zipf,
      opt.path.empty() ? "null" : JsonString(opt.path), opt.warmup_s, r.preloaded);
  return s;
}

bool WriteJsonFile(const std::string& path, const Options& opt, const RunResult& r,
                   std::string* error) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  const std::string json = ToJson(opt, r);
  const bool ok = std::fwrite(json.data(), 1, json.size(), f) == json.size();
  if (std::fclose(f) != 0 || !ok) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace httpkv::bench
