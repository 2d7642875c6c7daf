// Operations, their weights (--mix) and the request bytes for each.
//
// RequestBuilder pre-renders every constant part of each request once (request-line
// tails, Host, Content-Length for fixed-size bodies, the value itself), so building a
// request is a few memcpy calls plus one decimal key number appended into the
// connection's output Buffer: no allocation once the Buffer has grown.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bench/loadgen/key_chooser.h"
#include "reactor/buffer.h"

namespace httpkv::bench {

enum class Op : uint8_t { kGet, kPut, kPost, kUpdate };
inline constexpr size_t kNumOps = 4;
inline constexpr std::array<std::string_view, kNumOps> kOpNames = {"get", "put", "post", "update"};
constexpr std::string_view OpName(Op op) {
  return kOpNames[static_cast<size_t>(op)];
}

class RequestMix {
 public:
  // "get=90,put=10": names from kOpNames, non-negative integer weights, sum > 0.
  // Returns nullopt with *error set to one line on bad input.
  static std::optional<RequestMix> Parse(std::string_view spec, std::string* error);
  explicit RequestMix(std::array<uint32_t, kNumOps> weights);

  Op Pick(Rng& rng) const {
    const uint64_t r = rng.Below(total_);
    size_t i = 0;
    while (r >= cumulative_[i]) ++i;
    return static_cast<Op>(i);
  }
  uint32_t weight(Op op) const { return weights_[static_cast<size_t>(op)]; }
  // get and update need existing keys: they decide whether the key space is preloaded.
  bool reads_keys() const { return weight(Op::kGet) > 0 || weight(Op::kUpdate) > 0; }
  std::string ToString() const;  // canonical "get=90,put=10"

 private:
  std::array<uint32_t, kNumOps> weights_{};
  std::array<uint64_t, kNumOps> cumulative_{};
  uint64_t total_ = 0;
};

class RequestBuilder {
 public:
  // host: Host header value. get_path: if non-empty, GETs use this fixed target instead
  // of /kv/key-N (for plain servers such as nginx or the limit server). bearer_token: if
  // non-empty, every request carries "Authorization: Bearer TOKEN" (--auth-file servers).
  RequestBuilder(std::string_view host, size_t value_size, std::string_view get_path,
                 std::string_view bearer_token = {});

  // Appends one complete HTTP/1.1 request for `op` on key number `key`.
  void Append(reactor::Buffer& out, Op op, uint64_t key) const;
  const std::string& value() const { return value_; }

 private:
  void AppendKeyValueBody(reactor::Buffer& out, std::string_view head, uint64_t key) const;

  std::string value_;
  std::string fixed_get_;    // whole request when get_path is set
  std::string get_tail_;     // " HTTP/1.1\r\nHost: h\r\n\r\n"
  std::string put_tail_;     // " HTTP/1.1\r\nHost: ..Content-Length: V\r\n\r\n" + value
  std::string post_head_;    // "POST /create HTTP/1.1\r\nHost: h\r\nContent-Length: "
  std::string update_head_;  // "PUT /update HTTP/1.1\r\nHost: h\r\nContent-Length: "
};

// Number of decimal digits of v (Content-Length of "key-N:value" bodies).
int DecimalDigits(uint64_t v);

}  // namespace httpkv::bench
