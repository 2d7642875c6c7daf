#include "storage/metered_fs.h"

#include <chrono>

namespace httpkv::storage {
namespace {

class MeteredFile final : public FileWrapper {
 public:
  MeteredFile(std::unique_ptr<File> base, SyncMeter* meter)
      : FileWrapper(std::move(base)), meter_(meter) {}

  Status Sync() override {
    const auto start = std::chrono::steady_clock::now();
    Status s = target()->Sync();
    const auto ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::steady_clock::now() - start)
                                              .count());
    meter_->ns_total.fetch_add(ns, std::memory_order_relaxed);
    meter_->syncs.fetch_add(1, std::memory_order_relaxed);
    meter_->latency_ns.Record(ns);
    if (!s.ok()) meter_->errors.fetch_add(1, std::memory_order_relaxed);
    return s;
  }

 private:
  SyncMeter* const meter_;
};

}  // namespace

Status MeteredFileSystem::Open(const std::string& path, OpenMode mode, std::unique_ptr<File>* out) {
  std::unique_ptr<File> f;
  if (Status s = target()->Open(path, mode, &f); !s.ok()) return s;
  *out = std::make_unique<MeteredFile>(std::move(f), meter_);
  return Status::OK();
}

}  // namespace httpkv::storage
