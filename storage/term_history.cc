#include "storage/term_history.h"

#include <algorithm>
#include <charconv>

#include "storage/coding.h"
#include "storage/crc32c.h"
#include "storage/segment.h"

namespace httpkv::storage {
namespace {

constexpr uint32_t kHistoryMagic = 0x484B5654;  // "TVKH" on disk

// Where term index i of h ends: the seq before the next term's first, or `last`.
uint64_t EndOf(const TermHistory& h, size_t i, uint64_t last) {
  return i + 1 < h.size() ? std::min(last, h[i + 1].first_seq - 1) : last;
}

bool ParseU64(std::string_view s, uint64_t* v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string EncodeTermHistory(const TermHistory& h) {
  std::string out;
  PutFixed32(&out, kHistoryMagic);
  PutFixed32(&out, static_cast<uint32_t>(h.size()));
  for (const TermStart& t : h) {
    PutFixed64(&out, t.term);
    PutFixed64(&out, t.first_seq);
  }
  PutFixed32(&out, Crc32c(out.data(), out.size()));
  return out;
}

Status DecodeTermHistory(std::string_view data, TermHistory* h) {
  h->clear();
  if (data.size() < 12 || DecodeFixed32(data.data()) != kHistoryMagic) {
    return Status::Corruption("HISTORY: bad magic");
  }
  const uint32_t n = DecodeFixed32(data.data() + 4);
  if (data.size() != 12 + uint64_t{n} * 16) return Status::Corruption("HISTORY: bad length");
  if (Crc32c(data.data(), data.size() - 4) != DecodeFixed32(data.data() + data.size() - 4)) {
    return Status::Corruption("HISTORY: checksum mismatch");
  }
  for (uint32_t i = 0; i < n; ++i) {
    const char* p = data.data() + 8 + i * 16;
    h->push_back(TermStart{DecodeFixed64(p), DecodeFixed64(p + 8)});
  }
  return Status::OK();
}

Status LoadTermHistory(FileSystem* fs, const std::string& dir, TermHistory* h) {
  std::string data;
  Status s = ReadWholeFile(fs, dir + "/" + kHistoryFile, &data);
  if (s.IsNotFound()) {
    h->clear();
    return Status::OK();
  }
  if (!s.ok()) return s;
  return DecodeTermHistory(data, h);
}

Status SaveTermHistory(FileSystem* fs, const std::string& dir, const TermHistory& h) {
  return WriteFileAtomic(fs, dir, kHistoryFile, EncodeTermHistory(h));
}

uint64_t TermAt(const TermHistory& h, uint64_t seq) {
  uint64_t term = 0;
  for (const TermStart& t : h) {
    if (t.first_seq > seq) break;
    term = t.term;
  }
  return term;
}

uint64_t CommonEnd(const TermHistory& mine, uint64_t my_last, const TermHistory& theirs,
                   uint64_t their_last) {
  // Newest term in both, started at the same seq: both logs hold the same records up to
  // where the first of them ends it.
  for (size_t i = mine.size(); i-- > 0;) {
    for (size_t j = theirs.size(); j-- > 0;) {
      if (theirs[j].term == mine[i].term && theirs[j].first_seq == mine[i].first_seq) {
        return std::min(EndOf(mine, i, my_last), EndOf(theirs, j, their_last));
      }
    }
  }
  // Only the records before any term can be shared.
  const uint64_t mine0 = mine.empty() ? my_last : std::min(my_last, mine[0].first_seq - 1);
  const uint64_t theirs0 =
      theirs.empty() ? their_last : std::min(their_last, theirs[0].first_seq - 1);
  return std::min(mine0, theirs0);
}

std::string FormatTermHistory(const TermHistory& h) {
  std::string out;
  for (const TermStart& t : h) {
    if (!out.empty()) out += ',';
    out += std::to_string(t.term) + ':' + std::to_string(t.first_seq);
  }
  return out;
}

bool ParseTermHistory(std::string_view text, TermHistory* h) {
  h->clear();
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const size_t colon = item.find(':');
    TermStart t;
    if (colon == std::string_view::npos || !ParseU64(item.substr(0, colon), &t.term) ||
        !ParseU64(item.substr(colon + 1), &t.first_seq) || t.first_seq == 0) {
      return false;
    }
    if (!h->empty() && (t.term <= h->back().term || t.first_seq < h->back().first_seq)) {
      return false;
    }
    h->push_back(t);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (comma != std::string_view::npos && text.empty()) return false;
  }
  return true;
}

}  // namespace httpkv::storage
