// Human summary (stdout) and the JSON document of a finished run.
//
// JSON: {"requests","errors","non_2xx","duration_s","rps","latency_us":{"p50","p90","p99",
// "p999","max","mean"}} as in SPEC, plus "ops": {"get": {same keys}, ...} for every op
// with a non-zero weight, and extras: target, mode, rate, connections, threads, pipeline,
// mix, keys, value_size, zipf, reconnects, error breakdown, preload.
#pragma once

#include <cstdio>
#include <string>

#include "bench/loadgen/options.h"
#include "bench/loadgen/runner.h"

namespace httpkv::bench {

void PrintSummary(std::FILE* out, const Options& opt, const RunResult& r);
std::string ToJson(const Options& opt, const RunResult& r);
// Writes ToJson() to path; false with *error set on failure.
bool WriteJsonFile(const std::string& path, const Options& opt, const RunResult& r,
                   std::string* error);

}  // namespace httpkv::bench
