#include "tests/storage/fault_fs.h"

namespace httpkv::storage::testing {
namespace {

class FaultFile final : public FileWrapper {
 public:
  FaultFile(std::unique_ptr<File> base, FaultFileSystem* fs)
      : FileWrapper(std::move(base)), fs_(fs) {}

  Status Pwrite(uint64_t offset, std::string_view data) override {
    Status s = fs_->Check(FsOp::kWrite, path());
    if (s.ok()) return target()->Pwrite(offset, data);
    if (fs_->partial_writes() && data.size() > 1) {
      (void)target()->Pwrite(offset, data.substr(0, data.size() / 2));  // torn: half lands
    }
    return s;
  }
  Status Sync() override {
    Status s = fs_->Check(FsOp::kSync, path());
    return s.ok() && !fs_->skip_syncs() ? target()->Sync() : s;
  }
  Status Truncate(uint64_t size) override {
    Status s = fs_->Check(FsOp::kTruncate, path());
    return s.ok() ? target()->Truncate(size) : s;
  }
  Status Map(uint64_t size, MapMode mode, MappedRegion* out) override {
    if (mode == MapMode::kSharedWritable && fs_->refuse_writable_maps()) {
      return Status::IOError("writable mapping refused: " + path());
    }
    return target()->Map(size, mode, out);
  }

 private:
  FaultFileSystem* const fs_;
};

}  // namespace

const char* FsOpName(FsOp op) {
  static constexpr const char* kNames[kFsOpCount] = {"create", "write",  "sync",   "truncate",
                                                     "rename", "unlink", "syncdir"};
  return kNames[static_cast<size_t>(op)];
}

void FaultFileSystem::SetHook(Hook hook) {
  MutexLock lock(&mu_);
  hook_ = std::move(hook);
}

void FaultFileSystem::FailNth(uint64_t n, std::optional<FsOp> only,
                              std::optional<std::thread::id> thread, Status err) {
  MutexLock lock(&mu_);
  fail_in_ = n;
  fail_only_ = only;
  fail_tid_ = thread;
  fail_status_ = std::move(err);
  fired_ = false;
}

Status FaultFileSystem::Check(FsOp op, const std::string& path) {
  counts_[static_cast<size_t>(op)].fetch_add(1);
  Hook hook;
  {
    MutexLock lock(&mu_);
    if (fail_in_ > 0 && (!fail_only_ || *fail_only_ == op) &&
        (!fail_tid_ || *fail_tid_ == std::this_thread::get_id()) && --fail_in_ == 0) {
      fired_ = true;
      const std::string msg =
          std::string(fail_status_.message()) + ": " + FsOpName(op) + " " + path;
      return fail_status_.code() == Status::Code::kNoSpace ? Status::NoSpace(msg)
                                                           : Status::IOError(msg);
    }
    hook = hook_;
  }
  return hook ? hook(op, path) : Status::OK();
}

Status FaultFileSystem::Open(const std::string& path, OpenMode mode, std::unique_ptr<File>* out) {
  if (mode == OpenMode::kCreate || mode == OpenMode::kCreateExclusive) {
    if (Status s = Check(FsOp::kCreate, path); !s.ok()) return s;
  }
  std::unique_ptr<File> f;
  if (Status s = target()->Open(path, mode, &f); !s.ok()) return s;
  *out = std::make_unique<FaultFile>(std::move(f), this);
  return Status::OK();
}

Status FaultFileSystem::Rename(const std::string& from, const std::string& to) {
  Status s = Check(FsOp::kRename, from);
  return s.ok() ? target()->Rename(from, to) : s;
}

Status FaultFileSystem::Unlink(const std::string& path) {
  Status s = Check(FsOp::kUnlink, path);
  return s.ok() ? target()->Unlink(path) : s;
}

Status FaultFileSystem::SyncDir(const std::string& dir) {
  Status s = Check(FsOp::kSyncDir, dir);
  return s.ok() && !skip_syncs() ? target()->SyncDir(dir) : s;
}

}  // namespace httpkv::storage::testing
