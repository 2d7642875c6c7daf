// Shared helpers for the storage benchmarks.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/log_store.h"

namespace httpkv::storage::bench {

// Hides (on = false: *.hint -> *.hint-off) or restores the hint files of a data dir, so a
// recovery benchmark can time a scan of every segment.
inline void SetHints(const std::string& dir, bool on) {
  for (const auto& de : std::filesystem::directory_iterator(dir)) {
    const auto p = de.path();
    if (!on && p.extension() == ".hint") std::filesystem::rename(p, p.string() + "-off");
    if (on && p.string().ends_with(".hint-off")) {
      std::filesystem::rename(p, p.string().substr(0, p.string().size() - 4));
    }
  }
}

// Under $TMPDIR (default /tmp); removed on destruction.
class BenchDir {
 public:
  BenchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp ? tmp : "/tmp") + "/httpkv_bench_XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::unique_ptr<LogStore> OpenOrAbort(const Options& opts) {
  std::unique_ptr<LogStore> store;
  Status s = LogStore::Open(opts, &store);
  if (!s.ok()) {
    std::fprintf(stderr, "open failed: %s\n", s.ToString().c_str());
    std::abort();
  }
  return store;
}

// 16-byte keys: "key" + 13 digits.
inline std::string Key16(uint64_t i) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "key%013llu", static_cast<unsigned long long>(i));
  return buf;
}

}  // namespace httpkv::storage::bench
