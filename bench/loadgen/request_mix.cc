#include "bench/loadgen/request_mix.h"

#include <charconv>

namespace httpkv::bench {

std::optional<RequestMix> RequestMix::Parse(std::string_view spec, std::string* error) {
  std::array<uint32_t, kNumOps> w{};
  std::array<bool, kNumOps> seen{};
  while (!spec.empty()) {
    const size_t comma = spec.find(',');
    const std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    const size_t eq = item.find('=');
    const std::string_view name = item.substr(0, eq);
    size_t op = 0;
    while (op < kNumOps && kOpNames[op] != name) ++op;
    if (op == kNumOps) {
      *error = "unknown operation '" + std::string(name) + "' (use get, put, post, update)";
      return std::nullopt;
    }
    if (seen[op]) {
      *error = "operation '" + std::string(name) + "' given twice";
      return std::nullopt;
    }
    seen[op] = true;
    const std::string_view num = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), w[op]);
    if (num.empty() || ec != std::errc() || p != num.data() + num.size() || w[op] > 1000000) {
      *error = "bad weight in '" + std::string(item) + "' (want NAME=INTEGER)";
      return std::nullopt;
    }
  }
  uint64_t total = 0;
  for (uint32_t x : w) total += x;
  if (total == 0) {
    *error = "mix needs at least one positive weight";
    return std::nullopt;
  }
  return RequestMix(w);
}

RequestMix::RequestMix(std::array<uint32_t, kNumOps> weights) : weights_(weights) {
  for (size_t i = 0; i < kNumOps; ++i) {
    total_ += weights_[i];
    cumulative_[i] = total_;
  }
}

std::string RequestMix::ToString() const {
  std::string s;
  for (size_t i = 0; i < kNumOps; ++i) {
    if (weights_[i] == 0) continue;
    if (!s.empty()) s += ',';
    s += std::string(kOpNames[i]) + '=' + std::to_string(weights_[i]);
  }
  return s;
}

int DecimalDigits(uint64_t v) {
  int d = 1;
  while (v >= 10) {
    v /= 10;
    ++d;
  }
  return d;
}

RequestBuilder::RequestBuilder(std::string_view host, size_t value_size, std::string_view get_path,
                               std::string_view bearer_token)
    : value_(value_size, 'x') {
  // A recognisable, printable value: "v0123456789abcdef..." repeated.
  static constexpr std::string_view kPattern = "v0123456789abcdefghijklmnopqrstuvwxyz";
  for (size_t i = 0; i < value_size; ++i) value_[i] = kPattern[i % kPattern.size()];
  std::string host_line = "Host: " + std::string(host) + "\r\n";
  if (!bearer_token.empty())
    host_line += "Authorization: Bearer " + std::string(bearer_token) + "\r\n";
  get_tail_ = " HTTP/1.1\r\n" + host_line + "\r\n";
  if (!get_path.empty()) fixed_get_ = "GET " + std::string(get_path) + get_tail_;
  put_tail_ = " HTTP/1.1\r\n" + host_line + "Content-Length: " + std::to_string(value_size) +
              "\r\n\r\n" + value_;
  post_head_ = "POST /create HTTP/1.1\r\n" + host_line + "Content-Length: ";
  update_head_ = "PUT /update HTTP/1.1\r\n" + host_line + "Content-Length: ";
}

void RequestBuilder::Append(reactor::Buffer& out, Op op, uint64_t key) const {
  switch (op) {
    case Op::kGet:
      if (!fixed_get_.empty()) return out.Append(fixed_get_);
      out.Append("GET /kv/key-");
      out.AppendDecimal(key);
      return out.Append(get_tail_);
    case Op::kPut:
      out.Append("PUT /kv/key-");
      out.AppendDecimal(key);
      return out.Append(put_tail_);
    case Op::kPost:
      return AppendKeyValueBody(out, post_head_, key);
    case Op::kUpdate:
      return AppendKeyValueBody(out, update_head_, key);
  }
}

void RequestBuilder::AppendKeyValueBody(reactor::Buffer& out, std::string_view head,
                                        uint64_t key) const {
  // Body "key-N:value": 4 + digits(N) + 1 + value bytes.
  out.Append(head);
  out.AppendDecimal(4 + DecimalDigits(key) + 1 + value_.size());
  out.Append("\r\n\r\nkey-");
  out.AppendDecimal(key);
  out.Append(':');
  out.Append(value_);
}

}  // namespace httpkv::bench
