#include "storage/log_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "storage/record.h"

namespace httpkv::storage {
namespace {

using Clock = std::chrono::steady_clock;

// A huge value grows the write buffer; give that memory back instead of keeping it forever.
constexpr size_t kMaxRetainedWriteBuffer = 8u << 20;
constexpr size_t kScanBatch = 256;

std::string SegmentFileName(uint32_t id) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08u.log", id);
  return buf;
}

// ENOSPC/EDQUOT map to NoSpace so callers can answer 507 rather than 500.
Status ErrnoStatus(std::string_view what, int err) {
  std::string msg = std::string(what) + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return Status::NoSpace(msg);
  return Status::IOError(msg);
}

int FsyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

// preadv until every iovec is filled; EOF first means the record is cut short.
Status PreadvFull(int fd, iovec* iov, int count, uint64_t offset) {
  while (count > 0) {
    ssize_t n = preadv(fd, iov, count, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("pread", errno);
    }
    if (n == 0) return Status::Corruption("record extends past end of log");
    offset += static_cast<uint64_t>(n);
    auto left = static_cast<size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return Status::OK();
}

// Refuse to run on a directory that holds segments this build would ignore.
Status CheckNoOtherSegments(const std::string& dir, const std::string& ours) {
  std::error_code ec;
  for (const auto& de : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = de.path().filename().string();
    if (name.size() == 12 && name.ends_with(".log") && name != ours &&
        std::all_of(name.begin(), name.begin() + 8, [](char c) { return c >= '0' && c <= '9'; })) {
      return Status::InvalidArgument("data dir " + dir + " holds segment " + name +
                                     "; this build supports only " + ours);
    }
  }
  if (ec) return Status::IOError("cannot list data dir " + dir + ": " + ec.message());
  return Status::OK();
}

}  // namespace

std::optional<FsyncPolicy> ParseFsyncPolicy(std::string_view name) {
  if (name == "always") return FsyncPolicy::kAlways;
  if (name == "everysec") return FsyncPolicy::kEverySec;
  if (name == "never") return FsyncPolicy::kNever;
  return std::nullopt;
}

std::string_view FsyncPolicyName(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kEverySec:
      return "everysec";
    case FsyncPolicy::kNever:
      return "never";
  }
  return "unknown";
}

LogStore::LogStore(Options opts)
    : opts_(std::move(opts)), segment_name_(SegmentFileName(segment_id_)) {}

Status LogStore::Open(const Options& opts, std::unique_ptr<LogStore>* out) {
  if (opts.dir.empty()) return Status::InvalidArgument("data dir must not be empty");
  std::error_code ec;
  std::filesystem::create_directories(opts.dir, ec);
  if (ec) return Status::IOError("cannot create data dir " + opts.dir + ": " + ec.message());

  std::unique_ptr<LogStore> store(new LogStore(opts));
  if (Status s = DirLock::Acquire(opts.dir, &store->lock_); !s.ok()) return s;
  if (Status s = CheckNoOtherSegments(opts.dir, store->segment_name_); !s.ok()) return s;
  if (Status s = store->OpenSegment(); !s.ok()) return s;

  if (opts.fsync == FsyncPolicy::kEverySec) {
    store->syncer_ = std::thread([s = store.get()] { s->SyncerLoop(); });
  }
  *out = std::move(store);
  return Status::OK();
}

Status LogStore::OpenSegment() {
  const std::string path = opts_.dir + "/" + segment_name_;
  const bool existed = access(path.c_str(), F_OK) == 0;
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) return ErrnoStatus("cannot open " + path, errno);
  // Make a new file's directory entry durable, or a crash could lose the whole log.
  if (!existed && FsyncDir(opts_.dir) != 0) return ErrnoStatus("cannot fsync " + opts_.dir, errno);

  const auto start = Clock::now();
  RecoveryState state;
  Status s =
      RecoverSegment(fd_, segment_id_, segment_name_, &index_, &state, &recovery_, &end_offset_);
  if (!s.ok()) return s;
  recovery_.live_keys = index_.size();
  recovery_.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  next_seq_ = state.max_seq + 1;
  live_bytes_ = state.live_bytes;
  disk_bytes_ = end_offset_;
  return Status::OK();
}

LogStore::~LogStore() {
  if (syncer_.joinable()) {
    {
      std::lock_guard lock(sync_mu_);
      stop_ = true;
    }
    sync_cv_.notify_all();
    syncer_.join();
  }
  if (fd_ >= 0) {
    (void)SyncNow();  // every policy syncs on close; nobody is left to report an error to
    close(fd_);
  }
}

Status LogStore::Put(std::string_view key, std::string_view value, Precondition pre,
                     uint64_t expected_version, WriteResult* result) {
  if (Status s = ValidateKeyValue(key, value); !s.ok()) return s;
  WriteResult local;
  if (result == nullptr) result = &local;

  std::lock_guard lock(write_mu_);
  IndexEntry old;
  const bool existed = index_.Find(key, &old);
  result->existed = existed;
  result->version = 0;
  switch (pre) {
    case Precondition::kNone:
      break;
    case Precondition::kMustExist:
      if (!existed) return Status::NotFound();
      break;
    case Precondition::kMustNotExist:
      if (existed) return Status::PreconditionFailed("key exists");
      break;
    case Precondition::kVersionMatches:
      if (!existed || old.version != expected_version) {
        return Status::PreconditionFailed("version mismatch");
      }
      break;
  }

  const uint64_t seq = next_seq_;
  EncodeRecord(RecordType::kPut, seq, key, value, &write_buf_);
  uint64_t offset;
  if (Status s = AppendLocked(&offset); !s.ok()) return s;
  ++next_seq_;
  IndexEntry prev;
  index_.Upsert(key, IndexEntry{segment_id_, static_cast<uint32_t>(value.size()), offset, seq},
                &prev);
  // Unsigned wrap-around makes a single fetch_add of (new - old) exact.
  live_bytes_.fetch_add(RecordSize(key.size(), value.size()) -
                        (existed ? RecordSize(key.size(), old.value_size) : 0));
  result->version = seq;
  return AfterAppendLocked();
}

Status LogStore::Delete(std::string_view key, WriteResult* result) {
  if (Status s = ValidateKeyValue(key, {}); !s.ok()) return s;
  WriteResult local;
  if (result == nullptr) result = &local;

  std::lock_guard lock(write_mu_);
  IndexEntry old;
  result->existed = index_.Find(key, &old);
  result->version = 0;
  if (!result->existed) return Status::NotFound();

  const uint64_t seq = next_seq_;
  EncodeRecord(RecordType::kDelete, seq, key, {}, &write_buf_);
  uint64_t offset;
  if (Status s = AppendLocked(&offset); !s.ok()) return s;
  ++next_seq_;
  index_.Erase(key, &old);
  live_bytes_.fetch_sub(RecordSize(key.size(), old.value_size));
  result->version = seq;
  return AfterAppendLocked();
}

// Writes write_buf_ at the end of the log. On failure the file is cut back to its previous
// length so it never ends in a half record, and the store stays usable.
Status LogStore::AppendLocked(uint64_t* offset) {
  if (tail_dirty_) {
    if (ftruncate(fd_, static_cast<off_t>(end_offset_)) != 0) {
      return ErrnoStatus("cannot truncate partial record in " + segment_name_, errno);
    }
    tail_dirty_ = false;
  }
  const char* p = write_buf_.data();
  size_t left = write_buf_.size();
  uint64_t pos = end_offset_;
  while (left > 0) {
    ssize_t n = opts_.pwrite_for_test ? opts_.pwrite_for_test(fd_, p, left, static_cast<off_t>(pos))
                                      : pwrite(fd_, p, left, static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;  // pwrite returning 0 for a regular file: give up
      if (pos != end_offset_ && ftruncate(fd_, static_cast<off_t>(end_offset_)) != 0) {
        tail_dirty_ = true;  // retried before the next append
      }
      return ErrnoStatus("write " + segment_name_ + " at offset " + std::to_string(end_offset_),
                         err);
    }
    p += n;
    left -= static_cast<size_t>(n);
    pos += static_cast<uint64_t>(n);
  }
  *offset = end_offset_;
  end_offset_ = pos;
  disk_bytes_.store(pos, std::memory_order_relaxed);
  appends_.fetch_add(1, std::memory_order_relaxed);
  if (write_buf_.capacity() > kMaxRetainedWriteBuffer) std::string().swap(write_buf_);
  return Status::OK();
}

Status LogStore::AfterAppendLocked() {
  switch (opts_.fsync) {
    case FsyncPolicy::kAlways:
      return SyncNow();
    case FsyncPolicy::kEverySec:
      unsynced_.store(true, std::memory_order_release);  // after the write, never before
      return Status::OK();
    case FsyncPolicy::kNever:
      return Status::OK();
  }
  return Status::OK();
}

Status LogStore::Get(std::string_view key, std::string* value, ValueMeta* meta) const {
  IndexEntry e;
  if (!index_.Find(key, &e)) return Status::NotFound();
  if (Status s = ReadValue(key, e, value); !s.ok()) return s;
  if (meta != nullptr) *meta = ValueMeta{e.version, e.value_size};
  return Status::OK();
}

Status LogStore::Stat(std::string_view key, ValueMeta* meta) const {
  IndexEntry e;
  if (!index_.Find(key, &e)) return Status::NotFound();
  if (meta != nullptr) *meta = ValueMeta{e.version, e.value_size};
  return Status::OK();
}

// One preadv: header and key into scratch, value straight into *value. Everything the index
// claims (type, lengths, seq, key bytes) is checked along with the CRC.
Status LogStore::ReadValue(std::string_view key, const IndexEntry& e, std::string* value) const {
  char header[kRecordHeaderSize];
  char small_key[256];
  std::string big_key;
  char* key_buf = small_key;
  if (key.size() > sizeof(small_key)) {
    big_key.resize(key.size());
    key_buf = big_key.data();
  }
  value->resize(e.value_size);
  iovec iov[3] = {{header, sizeof(header)}, {key_buf, key.size()}, {value->data(), e.value_size}};
  Status s = PreadvFull(fd_, iov, 3, e.offset);
  RecordHeader h;
  const std::string_view disk_key(key_buf, key.size());
  const bool good = s.ok() && ParseHeader(header, sizeof(header), &h) == DecodeStatus::kOk &&
                    h.type == RecordType::kPut && h.key_len == key.size() &&
                    h.value_len == e.value_size && h.seq == e.version && disk_key == key &&
                    ComputeRecordCrc(header, disk_key, *value) == h.crc;
  if (good) return Status::OK();
  value->clear();
  if (!s.ok() && s.code() != Status::Code::kCorruption) return s;
  return Status::Corruption(segment_name_ + ": record at offset " + std::to_string(e.offset) +
                            " failed verification");
}

Status LogStore::Scan(
    const ScanOptions& opts,
    const std::function<bool(std::string_view key, std::string_view value)>& fn) const {
  std::vector<std::pair<std::string, IndexEntry>> batch;
  std::string cursor(opts.after);
  std::string value;
  size_t remaining = opts.limit;
  while (remaining > 0) {
    const size_t want = std::min(kScanBatch, remaining);
    batch.clear();
    index_.Collect(opts.prefix, cursor, want, &batch);  // index lock held only in here
    for (const auto& [key, entry] : batch) {
      if (Status s = ReadValue(key, entry, &value); !s.ok()) return s;
      if (!fn(key, value)) return Status::OK();
    }
    if (batch.size() < want) break;  // ran out of matching keys
    remaining -= batch.size();
    cursor = std::move(batch.back().first);
  }
  return Status::OK();
}

Status LogStore::SyncNow() {
  const auto start = Clock::now();
  const int rc = fdatasync(fd_);
  const int err = errno;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
  fsync_ns_.fetch_add(static_cast<uint64_t>(ns.count()), std::memory_order_relaxed);
  fsyncs_.fetch_add(1, std::memory_order_relaxed);
  if (rc == 0) return Status::OK();
  fsync_errors_.fetch_add(1, std::memory_order_relaxed);
  return ErrnoStatus("fdatasync " + segment_name_, err);
}

Status LogStore::Sync() {
  unsynced_.store(false, std::memory_order_relaxed);
  Status s = SyncNow();
  if (!s.ok()) unsynced_.store(true, std::memory_order_relaxed);
  return s;
}

// Redis everysec: at most ~1s of acknowledged writes is exposed to a power failure.
void LogStore::SyncerLoop() {
  std::unique_lock lock(sync_mu_);
  while (!sync_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; })) {
    if (!unsynced_.exchange(false, std::memory_order_acq_rel)) continue;
    lock.unlock();  // never hold sync_mu_ across the disk flush
    if (!SyncNow().ok()) unsynced_.store(true, std::memory_order_relaxed);  // retry next tick
    lock.lock();
  }
}

Stats LogStore::stats() const {
  Stats st;
  st.keys = index_.size();
  st.disk_bytes = disk_bytes_.load(std::memory_order_relaxed);
  st.live_bytes = live_bytes_.load(std::memory_order_relaxed);
  st.appends = appends_.load(std::memory_order_relaxed);
  st.fsyncs = fsyncs_.load(std::memory_order_relaxed);
  st.fsync_ns_total = fsync_ns_.load(std::memory_order_relaxed);
  st.fsync_errors = fsync_errors_.load(std::memory_order_relaxed);
  return st;
}

}  // namespace httpkv::storage
