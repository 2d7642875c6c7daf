#include "storage/compaction.h"

#include <algorithm>

#include "storage/coding.h"
#include "storage/crc32c.h"
#include "storage/segment.h"

namespace httpkv::storage {
namespace {

constexpr uint32_t kMarkerMagic = 0x434B5648;  // "HVKC" on disk
constexpr size_t kWriteBuffer = 1 << 20;

Status RenameIfPresent(FileSystem* fs, const std::string& dir, const std::string& name) {
  const std::string to = dir + "/" + name;
  const std::string from = to + std::string(kTempSuffix);
  if (!fs->Exists(from)) return Status::OK();
  return fs->Rename(from, to);
}

// Marker present: the outputs are complete and durable, so adopt them and drop the inputs.
Status RollForward(FileSystem* fs, const std::string& dir, const CompactionPlan& plan,
                   std::vector<std::string>* notes) {
  for (uint32_t id : plan.outputs) {
    const std::string name = SegmentFileName(id);
    if (!fs->Exists(dir + "/" + name) && !fs->Exists(dir + "/" + TempName(name))) {
      // Should be impossible; keep the inputs rather than risk losing records.
      notes->push_back("compaction marker names missing output " + name + "; inputs kept");
      return Status::OK();
    }
  }
  for (uint32_t id : plan.outputs) {
    if (Status s = RenameIfPresent(fs, dir, SegmentFileName(id)); !s.ok()) return s;
    if (Status s = RenameIfPresent(fs, dir, HintFileName(id)); !s.ok()) return s;
  }
  if (Status s = fs->SyncDir(dir); !s.ok()) return s;
  for (uint32_t id : plan.inputs) {
    (void)fs->Unlink(dir + "/" + HintFileName(id));
    if (fs->Unlink(dir + "/" + SegmentFileName(id)).ok()) {
      notes->push_back("finished interrupted compaction: removed " + SegmentFileName(id));
    }
  }
  if (Status s = fs->SyncDir(dir); !s.ok()) return s;
  notes->push_back("finished interrupted compaction into " + std::to_string(plan.outputs.size()) +
                   " segment(s)");
  return Status::OK();
}

}  // namespace

std::string TempName(const std::string& name) {
  return name + std::string(kTempSuffix);
}

std::string EncodeCompactMarker(const CompactionPlan& plan) {
  std::string out;
  PutFixed32(&out, kMarkerMagic);
  PutFixed32(&out, static_cast<uint32_t>(plan.inputs.size()));
  for (uint32_t id : plan.inputs) PutFixed32(&out, id);
  PutFixed32(&out, static_cast<uint32_t>(plan.outputs.size()));
  for (uint32_t id : plan.outputs) PutFixed32(&out, id);
  PutFixed32(&out, Crc32c(out.data(), out.size()));
  return out;
}

Status DecodeCompactMarker(std::string_view data, CompactionPlan* plan) {
  Status bad = Status::Corruption("bad compaction marker");  // returned (moved) once
  if (data.size() < 16 || data.size() % 4 != 0) return bad;
  if (Crc32c(data.data(), data.size() - 4) != DecodeFixed32(data.data() + data.size() - 4))
    return bad;
  if (DecodeFixed32(data.data()) != kMarkerMagic) return bad;
  size_t pos = 4;
  auto read_list = [&](std::vector<uint32_t>* ids) {
    if (pos + 4 > data.size() - 4) return false;
    const uint32_t n = DecodeFixed32(data.data() + pos);
    pos += 4;
    if (n > (data.size() - 4 - pos) / 4) return false;
    for (uint32_t i = 0; i < n; ++i, pos += 4) ids->push_back(DecodeFixed32(data.data() + pos));
    return true;
  };
  *plan = CompactionPlan{};
  if (!read_list(&plan->inputs) || !read_list(&plan->outputs) || pos != data.size() - 4) {
    return bad;
  }
  return Status::OK();
}

Status ResolveCompactionLeftovers(FileSystem* fs, const std::string& dir,
                                  std::vector<std::string>* notes) {
  DirListing ls;
  if (Status s = ListDataDir(fs, dir, &ls); !s.ok()) return s;
  const std::string marker = dir + "/" + std::string(kCompactMarker);
  if (ls.compact_marker) {
    std::string data;
    CompactionPlan plan;
    Status s = ReadWholeFile(fs, marker, &data);
    if (s.ok()) s = DecodeCompactMarker(data, &plan);
    // A marker is written atomically, so a bad one is damage: without it nothing was
    // adopted or removed that the remaining files do not already cover.
    if (s.ok()) s = RollForward(fs, dir, plan, notes);
    if (!s.ok() && s.code() != Status::Code::kCorruption) return s;
  }
  if (Status s = ListDataDir(fs, dir, &ls); !s.ok()) return s;  // temps left = not adopted
  for (const std::string& name : ls.temps) {
    (void)fs->Unlink(dir + "/" + name);
    // The spare segment holds only zeros: recreated when needed, nothing to report.
    if (name != kSpareSegment) notes->push_back("removed leftover temp file " + name);
  }
  if (ls.compact_marker) (void)fs->Unlink(marker);
  if (ls.compact_marker || !ls.temps.empty()) return fs->SyncDir(dir);
  return Status::OK();
}

Status CompactionWriter::Add(std::string_view raw, const RecordView& rec) {
  if (outputs_.empty() ||
      (outputs_.back().size > 0 && outputs_.back().size + raw.size() > segment_bytes_)) {
    if (Status s = Flush(); !s.ok()) return s;
    if (!outputs_.empty())
      outputs_.back().hint = hint_.Finish(outputs_.back().id, outputs_.back().size);
    Output out;
    out.id = next_id_();
    const std::string path = dir_ + "/" + TempName(SegmentFileName(out.id));
    if (Status s = fs_->Open(path, OpenMode::kCreate, &out.file); !s.ok()) return s;
    outputs_.push_back(std::move(out));
    flushed_ = 0;
  }
  Output& out = outputs_.back();
  if (out.first_seq == 0) out.first_seq = rec.header.seq;
  out.last_seq = rec.header.seq;
  hint_.Add(rec, out.size);
  out.size += raw.size();
  buf_.append(raw);
  return buf_.size() >= kWriteBuffer ? Flush() : Status::OK();
}

Status CompactionWriter::Flush() {
  if (buf_.empty()) return Status::OK();
  Output& out = outputs_.back();
  Status s = out.file->Pwrite(flushed_, buf_);
  flushed_ += buf_.size();
  buf_.clear();
  return s;
}

Status CompactionWriter::FinishData() {
  if (Status s = Flush(); !s.ok()) return s;
  if (!outputs_.empty())
    outputs_.back().hint = hint_.Finish(outputs_.back().id, outputs_.back().size);
  for (Output& o : outputs_) {
    if (Status s = o.file->Sync(); !s.ok()) return s;
  }
  return Status::OK();
}

Status CompactionWriter::WriteHints() {
  for (const Output& o : outputs_) {
    const std::string path = dir_ + "/" + TempName(HintFileName(o.id));
    std::unique_ptr<File> f;
    Status s = fs_->Open(path, OpenMode::kCreate, &f);
    if (s.ok()) s = f->Pwrite(0, o.hint);
    if (s.ok()) s = f->Sync();
    if (!s.ok()) return s;
  }
  return fs_->SyncDir(dir_);
}

void CompactionWriter::RemoveTemps() {
  for (const Output& o : outputs_) {
    (void)fs_->Unlink(dir_ + "/" + TempName(SegmentFileName(o.id)));
    (void)fs_->Unlink(dir_ + "/" + TempName(HintFileName(o.id)));
  }
}

}  // namespace httpkv::storage
