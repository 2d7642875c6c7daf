#include "storage/segment.h"

#include <algorithm>
#include <cstdio>

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

Status WriteFileAtomic(FileSystem* fs, const std::string& dir, const std::string& name,
                       std::string_view data) {
  const std::string path = dir + "/" + name;
  const std::string tmp = path + std::string(kTempSuffix);
  std::unique_ptr<File> f;
  Status s = fs->Open(tmp, OpenMode::kCreate, &f);
  if (!s.ok()) return s;
  s = f->Pwrite(0, data);
  if (s.ok()) s = f->Sync();
  f.reset();
  if (s.ok()) s = fs->Rename(tmp, path);
  if (!s.ok()) {
    (void)fs->Unlink(tmp);
    return s;
  }
  return fs->SyncDir(dir);
}

Status ReadWholeFile(FileSystem* fs, const std::string& path, std::string* out) {
  out->clear();
  std::unique_ptr<File> f;
  uint64_t size = 0;
  Status s = fs->Open(path, OpenMode::kRead, &f);
  if (s.ok()) s = f->Size(&size);
  if (!s.ok()) return s;
  out->resize(size);
  size_t got = 0;
  s = f->Pread(0, out->size(), out->data(), &got);
  out->resize(got);
  return s;
}

Segment::Segment(uint32_t id_in, std::unique_ptr<File> file_in, uint64_t size_in)
    : id(id_in), file(std::move(file_in)), name(SegmentFileName(id_in)), size(size_in) {}

Status Segment::Map(uint64_t capacity) {
  if (capacity == 0 || map_.data() != nullptr) return Status::OK();
  return file->Map(capacity, MapMode::kShared, &map_);
}

Status Segment::MapForAppend(uint64_t capacity) {
  uint64_t file_size = 0;
  if (capacity == 0 || map_.data() != nullptr || !file->Size(&file_size).ok() ||
      file_size < capacity) {
    return Map(capacity);
  }
  // A file system that refuses a writable mapping: appends fall back to pwrite.
  if (!file->Map(capacity, MapMode::kSharedWritable, &map_).ok()) return Map(capacity);
  writable_end_ = capacity;
  return Status::OK();
}

void Segment::SealMapping() {
  if (writable_end_ == 0) return;
  writable_end_ = 0;
  map_.MakeReadOnly();
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

Status ListDataDir(FileSystem* fs, const std::string& dir, DirListing* out) {
  *out = DirListing{};
  std::vector<std::string> names;
  if (Status s = fs->List(dir, &names); !s.ok()) return s;
  for (const std::string& name : names) {
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
  std::sort(out->segments.begin(), out->segments.end());
  std::sort(out->hints.begin(), out->hints.end());
  std::sort(out->temps.begin(), out->temps.end());
  return Status::OK();
}

Status OpenSegmentAt(FileSystem* fs, const std::string& dir, uint32_t id, bool writable,
                     std::shared_ptr<Segment>* out) {
  std::unique_ptr<File> f;
  uint64_t size = 0;
  Status s = fs->Open(dir + "/" + SegmentFileName(id),
                      writable ? OpenMode::kReadWrite : OpenMode::kRead, &f);
  if (s.ok()) s = f->Size(&size);
  if (!s.ok()) return s;
  *out = std::make_shared<Segment>(id, std::move(f), size);
  return Status::OK();
}

}  // namespace httpkv::storage
