#include "storage/segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace httpkv::storage {
namespace {

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<uint32_t> ParseIdWithSuffix(std::string_view name, std::string_view suffix) {
  if (name.size() != 8 + suffix.size() || !name.ends_with(suffix)) return std::nullopt;
  if (!AllDigits(name.substr(0, 8))) return std::nullopt;
  return static_cast<uint32_t>(std::stoul(std::string(name.substr(0, 8))));
}

}  // namespace

std::string SegmentFileName(uint32_t id) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%08u.log", id);
  return buf;
}

std::string HintFileName(uint32_t id) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%08u.hint", id);
  return buf;
}

std::optional<uint32_t> ParseSegmentFileName(std::string_view name) {
  return ParseIdWithSuffix(name, ".log");
}

Status ErrnoStatus(std::string_view what, int err) {
  std::string msg = std::string(what) + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return Status::NoSpace(msg);
  return Status::IOError(msg);
}

Status FsyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open dir " + dir, errno);
  const int rc = fsync(fd);
  const int err = errno;
  close(fd);
  return rc == 0 ? Status::OK() : ErrnoStatus("cannot fsync dir " + dir, err);
}

Status SyncFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open " + path, errno);
  const int rc = fdatasync(fd);
  const int err = errno;
  close(fd);
  return rc == 0 ? Status::OK() : ErrnoStatus("fdatasync " + path, err);
}

Status PwriteFull(int fd, std::string_view data, uint64_t offset) {
  while (!data.empty()) {
    ssize_t n = pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoStatus("write", n < 0 ? errno : EIO);
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::OK();
}

Status WriteFileAtomic(const std::string& dir, const std::string& name, std::string_view data) {
  const std::string path = dir + "/" + name;
  const std::string tmp = path + std::string(kTempSuffix);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create " + tmp, errno);
  Status s = PwriteFull(fd, data, 0);
  if (s.ok() && fdatasync(fd) != 0) s = ErrnoStatus("fdatasync " + tmp, errno);
  close(fd);
  if (s.ok() && rename(tmp.c_str(), path.c_str()) != 0) s = ErrnoStatus("rename " + tmp, errno);
  if (!s.ok()) {
    unlink(tmp.c_str());
    return s;
  }
  return FsyncDir(dir);
}

Status ReadWholeFile(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT ? Status::NotFound(path) : ErrnoStatus("cannot open " + path, errno);
  }
  out->clear();
  char buf[1 << 16];
  Status s;
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) s = ErrnoStatus("read " + path, errno);
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return s;
}

Segment::Segment(uint32_t id_in, int fd_in, uint64_t size_in)
    : id(id_in), fd(fd_in), name(SegmentFileName(id_in)), size(size_in) {}

Segment::~Segment() {
  if (map_ != nullptr) munmap(const_cast<char*>(map_), map_len_);
  if (fd >= 0) close(fd);
}

Status Segment::Map(uint64_t capacity) {
  if (capacity == 0 || map_ != nullptr) return Status::OK();
  void* m = mmap(nullptr, capacity, PROT_READ, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) return ErrnoStatus("cannot mmap " + name, errno);
  map_ = static_cast<const char*>(m);
  map_len_ = capacity;
  return Status::OK();
}

Status Segment::MapForAppend(uint64_t capacity) {
  struct stat st;
  if (capacity == 0 || map_ != nullptr || fstat(fd, &st) != 0 ||
      static_cast<uint64_t>(st.st_size) < capacity) {
    return Map(capacity);
  }
  void* m = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) return Map(capacity);  // appends fall back to pwrite
  map_ = static_cast<const char*>(m);
  map_len_ = capacity;
  writable_end_ = capacity;
  return Status::OK();
}

void Segment::SealMapping() {
  if (writable_end_ == 0) return;
  writable_end_ = 0;
  // Only a guard against stray writes: failure leaves the view writable, nothing else.
  (void)mprotect(const_cast<char*>(map_), map_len_, PROT_READ);
}

const Segment* SegmentTable::Find(uint32_t id) const {
  auto it =
      std::lower_bound(segments.begin(), segments.end(), id,
                       [](const std::shared_ptr<Segment>& s, uint32_t v) { return s->id < v; });
  return it != segments.end() && (*it)->id == id ? it->get() : nullptr;
}

std::unique_ptr<SegmentTable> SegmentTable::With(std::shared_ptr<Segment> seg) const {
  auto t = std::make_unique<SegmentTable>();
  t->segments.reserve(segments.size() + 1);
  for (const auto& s : segments) {
    if (s->id != seg->id) t->segments.push_back(s);
  }
  auto it =
      std::lower_bound(t->segments.begin(), t->segments.end(), seg->id,
                       [](const std::shared_ptr<Segment>& s, uint32_t v) { return s->id < v; });
  t->segments.insert(it, std::move(seg));
  return t;
}

std::unique_ptr<SegmentTable> SegmentTable::Without(const std::vector<uint32_t>& ids) const {
  auto t = std::make_unique<SegmentTable>();
  for (const auto& s : segments) {
    if (std::find(ids.begin(), ids.end(), s->id) == ids.end()) t->segments.push_back(s);
  }
  return t;
}

Status ListDataDir(const std::string& dir, DirListing* out) {
  *out = DirListing{};
  std::error_code ec;
  for (const auto& de : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = de.path().filename().string();
    if (auto id = ParseSegmentFileName(name)) {
      out->segments.push_back(*id);
    } else if (auto hid = ParseIdWithSuffix(name, ".hint")) {
      out->hints.push_back(*hid);
    } else if (name.ends_with(kTempSuffix)) {
      out->temps.push_back(name);
    } else if (name == kCompactMarker) {
      out->compact_marker = true;
    }
  }
  if (ec) return Status::IOError("cannot list data dir " + dir + ": " + ec.message());
  std::sort(out->segments.begin(), out->segments.end());
  std::sort(out->hints.begin(), out->hints.end());
  std::sort(out->temps.begin(), out->temps.end());
  return Status::OK();
}

Status OpenSegmentAt(const std::string& dir, uint32_t id, bool writable,
                     std::shared_ptr<Segment>* out) {
  const std::string path = dir + "/" + SegmentFileName(id);
  int fd = open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open " + path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return ErrnoStatus("cannot stat " + path, err);
  }
  *out = std::make_shared<Segment>(id, fd, static_cast<uint64_t>(st.st_size));
  return Status::OK();
}

}  // namespace httpkv::storage
