// Compaction building blocks: the COMPACT commit marker, the output writer and the
// Open-time resolution of an interrupted compaction (protocol: storage/FORMAT.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/env.h"
#include "storage/hint.h"
#include "storage/record.h"
#include "storage/status.h"

namespace httpkv::storage {

// Which segments a committed compaction replaces (inputs) with which (outputs).
struct CompactionPlan {
  std::vector<uint32_t> inputs;
  std::vector<uint32_t> outputs;
};
std::string EncodeCompactMarker(const CompactionPlan& plan);
Status DecodeCompactMarker(std::string_view data, CompactionPlan* plan);

// Finishes (marker present: adopt outputs, drop inputs) or discards (no marker: delete the
// temp files) whatever an interrupted compaction left in dir. Appends one note per action.
Status ResolveCompactionLeftovers(FileSystem* fs, const std::string& dir,
                                  std::vector<std::string>* notes);

// Writes live records into NNNNNNNN.log.tmp files of at most segment_bytes each (a larger
// record gets its own), then makes each durable with its NNNNNNNN.hint.tmp.
class CompactionWriter {
 public:
  struct Output {
    uint32_t id = 0;
    std::unique_ptr<File> file;  // the open NNNNNNNN.log.tmp
    uint64_t size = 0;
    std::string hint;                      // encoded hint file contents
    uint64_t first_seq = 0, last_seq = 0;  // of its first and last record
  };

  CompactionWriter(FileSystem* fs, std::string dir, uint64_t segment_bytes,
                   std::function<uint32_t()> next_id)
      : fs_(fs),
        dir_(std::move(dir)),
        segment_bytes_(segment_bytes),
        next_id_(std::move(next_id)) {}
  CompactionWriter(const CompactionWriter&) = delete;
  CompactionWriter& operator=(const CompactionWriter&) = delete;

  // raw: the verified record bytes; rec: its decoded view.
  Status Add(std::string_view raw, const RecordView& rec);
  // Flushes and fdatasyncs every output (step 1) — call before WriteHints.
  Status FinishData();
  // Writes every NNNNNNNN.hint.tmp durably (step 2).
  Status WriteHints();
  // Unlinks every temp file written so far (abort before commit).
  void RemoveTemps();
  // The caller may take the files (Output::file) once the outputs are adopted.
  std::vector<Output>& outputs() { return outputs_; }

 private:
  Status Flush();

  FileSystem* const fs_;
  std::string dir_;
  uint64_t segment_bytes_;
  std::function<uint32_t()> next_id_;
  std::vector<Output> outputs_;
  HintBuilder hint_;
  std::string buf_;
  uint64_t flushed_ = 0;  // bytes of the current output already written
};

std::string TempName(const std::string& name);  // name + ".tmp"

}  // namespace httpkv::storage
