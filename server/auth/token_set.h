// TokenSet: the bearer tokens of --auth-file and what each may do (SPEC "Security").
//
// Find() compares the presented token with EVERY stored token over the same fixed width
// (kMaxTokenBytes, lengths included), OR-accumulating byte differences with no early
// exit and selecting the match without a branch: how long it takes depends on the
// number of stored tokens and nothing else, so timing tells an attacker neither how
// much of a guess was right nor how long a real token is. It reads no clock, takes no
// lock and does not allocate.
//
// Thread-safety: immutable once built; each reactor thread holds its own reference (see
// HttpWorker::PostTokens), so lookups share nothing written by another thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace httpkv::server {

// What a request needs, and what a token grants; each scope includes the ones before it.
enum class Scope : uint8_t {
  kOpen,   // no token needed (GET /healthz, GET /readyz)
  kRead,   // GET, HEAD, OPTIONS, the watch feed, /metrics
  kWrite,  // read + PUT, POST, DELETE
  kAdmin,  // write + /admin/*
};

std::string_view ScopeName(Scope s);  // "open", "read", "write", "admin"

// Tokens longer than this are refused by the token file and never match.
inline constexpr size_t kMaxTokenBytes = 256;

// Constant-time equality of a presented token and a stored one, both at most
// kMaxTokenBytes (longer: false). Exposed for tests; Find() is what the server uses.
bool TokenEquals(std::string_view presented, std::string_view stored);

class TokenSet {
 public:
  struct Entry {
    Scope scope = Scope::kRead;
    std::string name;  // from the file, or "line N" when the file gave none
  };

  // Adds a token (1..kMaxTokenBytes bytes; the token file checks the syntax).
  void Add(std::string_view token, Scope scope, std::string name);
  // The entry of the stored token equal to `presented`, or nullptr.
  const Entry* Find(std::string_view presented) const;
  // True if a stored token equals `token` (not constant time: loading only).
  bool Contains(std::string_view token) const;
  size_t size() const { return entries_.size(); }
  size_t CountWithScope(Scope s) const;
  // The first stored token (in file order) with exactly scope `s`; empty if none. For the
  // server's own requests to its peers (a replica fetching the log), never for checking.
  std::string FirstWithScope(Scope s) const;

 private:
  struct Stored {
    std::array<unsigned char, kMaxTokenBytes> bytes{};  // zero-padded
    uint32_t length = 0;
  };
  std::vector<Stored> tokens_;
  std::vector<Entry> entries_;  // parallel to tokens_
};

}  // namespace httpkv::server
