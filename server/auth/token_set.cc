#include "server/auth/token_set.h"

#include <cstring>

namespace httpkv::server {

namespace {

using Padded = std::array<unsigned char, kMaxTokenBytes>;

void Pad(std::string_view token, Padded* out) {
  out->fill(0);
  std::memcpy(out->data(), token.data(), token.size());
}

// 0 if equal, non-zero otherwise; every byte of both buffers is read.
uint32_t Difference(const Padded& a, uint32_t a_len, const Padded& b, uint32_t b_len) {
  uint32_t diff = a_len ^ b_len;
  for (size_t i = 0; i < kMaxTokenBytes; ++i) diff |= static_cast<uint32_t>(a[i] ^ b[i]);
  return diff;
}

// 1 if diff == 0, else 0, without a branch.
uint32_t IsZero(uint32_t diff) {
  return static_cast<uint32_t>((static_cast<uint64_t>(diff) - 1) >> 63);
}

}  // namespace

std::string_view ScopeName(Scope s) {
  switch (s) {
    case Scope::kOpen:
      return "open";
    case Scope::kRead:
      return "read";
    case Scope::kWrite:
      return "write";
    case Scope::kAdmin:
      return "admin";
  }
  return "?";
}

bool TokenEquals(std::string_view presented, std::string_view stored) {
  if (presented.size() > kMaxTokenBytes || stored.size() > kMaxTokenBytes) return false;
  Padded a, b;
  Pad(presented, &a);
  Pad(stored, &b);
  return IsZero(Difference(a, static_cast<uint32_t>(presented.size()), b,
                           static_cast<uint32_t>(stored.size()))) == 1;
}

void TokenSet::Add(std::string_view token, Scope scope, std::string name) {
  Stored s;
  const size_t n = token.size() < kMaxTokenBytes ? token.size() : kMaxTokenBytes;
  std::memcpy(s.bytes.data(), token.data(), n);
  s.length = static_cast<uint32_t>(n);
  tokens_.push_back(s);
  entries_.push_back(Entry{scope, std::move(name)});
}

const TokenSet::Entry* TokenSet::Find(std::string_view presented) const {
  // The presented length is the client's own knowledge: refusing an over-long one early
  // tells it nothing about the stored tokens.
  if (presented.size() > kMaxTokenBytes || presented.empty()) return nullptr;
  Padded p;
  Pad(presented, &p);
  const auto len = static_cast<uint32_t>(presented.size());
  uint32_t found = 0;
  size_t index = 0;
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const uint32_t eq = IsZero(Difference(p, len, tokens_[i].bytes, tokens_[i].length));
    const size_t mask = static_cast<size_t>(0) - eq;  // all ones on a match
    index = (index & ~mask) | (i & mask);
    found |= eq;
  }
  return found ? &entries_[index] : nullptr;
}

bool TokenSet::Contains(std::string_view token) const {
  for (const Stored& s : tokens_) {
    if (s.length == token.size() && std::memcmp(s.bytes.data(), token.data(), token.size()) == 0)
      return true;
  }
  return false;
}

std::string TokenSet::FirstWithScope(Scope s) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].scope == s)
      return std::string(reinterpret_cast<const char*>(tokens_[i].bytes.data()), tokens_[i].length);
  }
  return {};
}

size_t TokenSet::CountWithScope(Scope s) const {
  size_t n = 0;
  for (const Entry& e : entries_) n += e.scope == s;
  return n;
}

}  // namespace httpkv::server
