#include "storage/metered_fs.h"

#include <chrono>

namespace httpkv::storage {
namespace {

class MeteredFile final : public File {
 public:
  MeteredFile(std::unique_ptr<File> base, SyncMeter* meter)
      : base_(std::move(base)), meter_(meter) {}

  Status Pread(uint64_t offset, size_t n, char* buf, size_t* got) override {
    return base_->Pread(offset, n, buf, got);
  }
  Status Pwrite(uint64_t offset, std::string_view data) override {
    return base_->Pwrite(offset, data);
  }
  Status Sync() override {
    const auto start = std::chrono::steady_clock::now();
    Status s = base_->Sync();
    const auto ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::steady_clock::now() - start)
                                              .count());
    meter_->ns_total.fetch_add(ns, std::memory_order_relaxed);
    meter_->syncs.fetch_add(1, std::memory_order_relaxed);
    meter_->latency_ns.Record(ns);
    if (!s.ok()) meter_->errors.fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  Status Truncate(uint64_t size) override { return base_->Truncate(size); }
  Status Size(uint64_t* size) override { return base_->Size(size); }
  Status Map(uint64_t size, MapMode mode, MappedRegion* out) override {
    return base_->Map(size, mode, out);
  }
  const std::string& path() const override { return base_->path(); }

 private:
  const std::unique_ptr<File> base_;
  SyncMeter* const meter_;
};

}  // namespace

Status MeteredFileSystem::Open(const std::string& path, OpenMode mode, std::unique_ptr<File>* out) {
  std::unique_ptr<File> f;
  if (Status s = base_->Open(path, mode, &f); !s.ok()) return s;
  *out = std::make_unique<MeteredFile>(std::move(f), meter_);
  return Status::OK();
}

}  // namespace httpkv::storage
