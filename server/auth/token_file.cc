#include "server/auth/token_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

namespace httpkv::server {

namespace {

constexpr size_t kMaxNameBytes = 64;
constexpr size_t kMaxFileBytes = 4 << 20;

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

// The fields of one line, a '#'-field and everything after it dropped.
std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsBlank(line[i])) ++i;
    if (i == line.size() || line[i] == '#') break;
    const size_t start = i;
    while (i < line.size() && !IsBlank(line[i])) ++i;
    out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::optional<Scope> ParseScope(std::string_view s) {
  if (s == "read") return Scope::kRead;
  if (s == "write") return Scope::kWrite;
  if (s == "admin") return Scope::kAdmin;
  return std::nullopt;
}

bool IsName(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameBytes) return false;
  for (char c : s) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// The reason a line is bad, or empty if it is fine (added to *out then).
std::string ParseLine(std::string_view line, size_t number, TokenSet* out) {
  const std::vector<std::string_view> f = Fields(line);
  if (f.empty()) return {};
  if (f.size() < 2) return "expected TOKEN SCOPE [NAME], found one field";
  if (f.size() > 3) return "expected TOKEN SCOPE [NAME], found more than three fields";
  const std::string_view token = f[0];
  if (token.size() > kMaxTokenBytes)
    return fmt::format("token longer than {} bytes", kMaxTokenBytes);
  if (!IsToken68(token)) {
    return "token has a character outside A-Z a-z 0-9 - . _ ~ + / (and trailing =)";
  }
  const std::optional<Scope> scope = ParseScope(f[1]);
  if (!scope) {
    return fmt::format("unknown scope \"{}\" (expected read, write or admin)",
                       IsName(f[1]) ? f[1] : "?");
  }
  if (f.size() == 3 && !IsName(f[2])) {
    return fmt::format("name longer than {} bytes or not visible ASCII", kMaxNameBytes);
  }
  if (out->Contains(token)) return "duplicate token (each token may appear once)";
  out->Add(token, *scope, f.size() == 3 ? std::string(f[2]) : fmt::format("line {}", number));
  return {};
}

}  // namespace

bool IsToken68(std::string_view s) {
  size_t i = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) break;
  }
  if (i == 0) return false;
  for (; i < s.size(); ++i) {
    if (s[i] != '=') return false;
  }
  return true;
}

bool ParseTokenFile(std::string_view text, TokenSet* out, std::string* error) {
  *out = TokenSet();
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.find('\0') != std::string_view::npos) {
      *error = fmt::format("line {}: contains a NUL byte", number);
      return false;
    }
    if (std::string reason = ParseLine(line, number, out); !reason.empty()) {
      *error = fmt::format("line {}: {}", number, reason);
      return false;
    }
  }
  if (out->size() == 0) {
    *error = "no tokens (every request but /healthz and /readyz would get 401)";
    return false;
  }
  return true;
}

bool LoadTokenFile(const std::string& path, TokenSet* out, std::string* error,
                   std::string* warning) {
  warning->clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = fmt::format("{}: {}", path, std::strerror(errno));
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    *error = fmt::format("{}: not a regular file", path);
    return false;
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    *warning = fmt::format("{} is accessible by other users (mode {:04o}); chmod 600 it", path,
                           st.st_mode & 07777);
  }
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = fmt::format("{}: {}", path, std::strerror(errno));
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxFileBytes) {
      ::close(fd);
      *error = fmt::format("{}: larger than {} bytes", path, kMaxFileBytes);
      return false;
    }
  }
  ::close(fd);
  if (!ParseTokenFile(text, out, error)) {
    *error = fmt::format("{} {}", path, *error);
    return false;
  }
  return true;
}

}  // namespace httpkv::server
