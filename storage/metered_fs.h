// MeteredFileSystem: wraps the store's FileSystem so that every File::Sync (fdatasync) made
// through it — the log's, sealing, the spare's, compaction outputs, hints, recovery — is
// counted and timed in one SyncMeter (Stats::fsyncs, /metrics httpkv_fdatasync_*).
// Everything else is passed through unchanged (FileSystemWrapper).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "storage/env.h"
#include "storage/fs_wrapper.h"
#include "storage/histogram.h"

namespace httpkv::storage {

struct SyncMeter {
  std::atomic<uint64_t> syncs{0}, ns_total{0}, errors{0};
  Histogram<kFsyncLatencyBoundsNs.size()> latency_ns{kFsyncLatencyBoundsNs};
};

class MeteredFileSystem final : public FileSystemWrapper {
 public:
  MeteredFileSystem(FileSystem* base, SyncMeter* meter) : FileSystemWrapper(base), meter_(meter) {}

  // Wraps every file opened in a metered one.
  Status Open(const std::string& path, OpenMode mode, std::unique_ptr<File>* out) override;

 private:
  SyncMeter* const meter_;
};

}  // namespace httpkv::storage
