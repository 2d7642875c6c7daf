// FaultFileSystem: a FileSystem (storage/env.h) over a real one that counts operations and
// fails the ones a test picks — the Nth faultable operation (optionally of one kind, on one
// thread), or any for which a hook says so — so tests reach every write, sync, truncation,
// rename and unlink of the store. It can also refuse writable mappings (the store then
// appends with pwrite, as on a file system without shared writable mmap) and make a failing
// write land half its bytes first (a torn write), and skip the real syncs.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "storage/env.h"
#include "storage/fs_wrapper.h"
#include "storage/mutex.h"
#include "storage/thread_annotations.h"

namespace httpkv::storage::testing {

// The faultable operations. kCreate: Open with a create mode.
enum class FsOp : uint8_t { kCreate, kWrite, kSync, kTruncate, kRename, kUnlink, kSyncDir };
inline constexpr size_t kFsOpCount = 7;
const char* FsOpName(FsOp op);

class FaultFileSystem final : public FileSystemWrapper {
 public:
  // Runs before each faultable operation, with no lock of this class held (it may block or
  // call the store); a non-OK status fails the operation.
  using Hook = std::function<Status(FsOp op, const std::string& path)>;

  explicit FaultFileSystem(FileSystem* base = FileSystem::Default()) : FileSystemWrapper(base) {}

  void SetHook(Hook hook);
  // Fails the nth faultable operation from now (1-based) with err — only operations of kind
  // `only` and on thread `thread` count when given. 0 disarms.
  void FailNth(uint64_t n, std::optional<FsOp> only = std::nullopt,
               std::optional<std::thread::id> thread = std::nullopt,
               Status err = Status::IOError("injected fault"));
  // The armed fault fired since the last FailNth.
  bool fired() const { return fired_.load(); }
  // Operations of that kind so far (failed ones included).
  uint64_t count(FsOp op) const { return counts_[static_cast<size_t>(op)].load(); }
  void set_refuse_writable_maps(bool on) { refuse_writable_maps_ = on; }
  bool refuse_writable_maps() const { return refuse_writable_maps_.load(); }
  void set_partial_writes(bool on) { partial_writes_ = on; }
  bool partial_writes() const { return partial_writes_.load(); }
  // Syncs (file and directory) succeed without reaching the disk: for tests that never
  // crash the machine, so durability is moot and a real fdatasync would only be slow.
  void set_skip_syncs(bool on) { skip_syncs_ = on; }
  bool skip_syncs() const { return skip_syncs_.load(); }

  // Counts op and decides whether it fails (used by the files too).
  Status Check(FsOp op, const std::string& path);

  Status Open(const std::string& path, OpenMode mode, std::unique_ptr<File>* out) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Unlink(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;

 private:
  std::array<std::atomic<uint64_t>, kFsOpCount> counts_{};
  std::atomic<bool> refuse_writable_maps_{false}, partial_writes_{false}, skip_syncs_{false};
  std::atomic<bool> fired_{false};
  Mutex mu_;
  Hook hook_ GUARDED_BY(mu_);
  uint64_t fail_in_ GUARDED_BY(mu_) = 0;  // 0 = disarmed
  std::optional<FsOp> fail_only_ GUARDED_BY(mu_);
  std::optional<std::thread::id> fail_tid_ GUARDED_BY(mu_);
  Status fail_status_ GUARDED_BY(mu_);
};

}  // namespace httpkv::storage::testing
