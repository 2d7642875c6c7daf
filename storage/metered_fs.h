// MeteredFileSystem: wraps the store's FileSystem so that every File::Sync (fdatasync) made
// through it — the log's, sealing, the spare's, compaction outputs, hints, recovery — is
// counted and timed in one SyncMeter (Stats::fsyncs, /metrics httpkv_fdatasync_*).
// Everything else is passed through unchanged.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/env.h"
#include "storage/histogram.h"

namespace httpkv::storage {

struct SyncMeter {
  std::atomic<uint64_t> syncs{0}, ns_total{0}, errors{0};
  Histogram<kFsyncLatencyBoundsNs.size()> latency_ns{kFsyncLatencyBoundsNs};
};

class MeteredFileSystem final : public FileSystem {
 public:
  MeteredFileSystem(FileSystem* base, SyncMeter* meter) : base_(base), meter_(meter) {}

  Status Open(const std::string& path, OpenMode mode, std::unique_ptr<File>* out) override;
  Status Rename(const std::string& from, const std::string& to) override {
    return base_->Rename(from, to);
  }
  Status Unlink(const std::string& path) override { return base_->Unlink(path); }
  Status SyncDir(const std::string& dir) override { return base_->SyncDir(dir); }
  Status CreateDir(const std::string& dir) override { return base_->CreateDir(dir); }
  Status List(const std::string& dir, std::vector<std::string>* names) override {
    return base_->List(dir, names);
  }
  bool Exists(const std::string& path) override { return base_->Exists(path); }

 private:
  FileSystem* const base_;
  SyncMeter* const meter_;
};

}  // namespace httpkv::storage
