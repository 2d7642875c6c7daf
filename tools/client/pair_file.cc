#include "tools/client/pair_file.h"

#include <fmt/format.h>

#include <deque>
#include <fstream>

namespace httpkv::client {
namespace {

constexpr size_t kMaxKeyBytes = 1024;  // SPEC "Routes"

// For messages: at most 60 bytes, control bytes as \xNN.
std::string Printable(std::string_view s) {
  std::string out;
  for (const char ch : s.substr(0, 60)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out.push_back(ch);
    }
  }
  if (s.size() > 60) out += "...";
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(unsigned cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A JSON string at s[*i] == '"' into *out; *i moves past the closing quote. Bytes >= 0x80
// pass through (the server writes values as they are).
bool ParseJsonString(std::string_view s, size_t* i, std::string* out) {
  out->clear();
  if (*i >= s.size() || s[*i] != '"') return false;
  for (size_t p = *i + 1; p < s.size(); ++p) {
    const char c = s[p];
    if (c == '"') {
      *i = p + 1;
      return true;
    }
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (++p == s.size()) return false;
    switch (s[p]) {
      case '"':
      case '\\':
      case '/':
        out->push_back(s[p]);
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'u': {
        unsigned cp = 0;
        for (int k = 0; k < 4; ++k) {
          const int h = ++p < s.size() ? HexDigit(s[p]) : -1;
          if (h < 0) return false;
          cp = cp << 4 | static_cast<unsigned>(h);
        }
        AppendUtf8(cp, out);
        break;
      }
      default:
        return false;
    }
  }
  return false;
}

void SkipSpace(std::string_view s, size_t* i) {
  while (*i < s.size() && (s[*i] == ' ' || s[*i] == '\n' || s[*i] == '\r' || s[*i] == '\t')) ++*i;
}

}  // namespace

bool ParsePairLine(std::string_view line, std::string_view* key, std::string_view* value,
                   std::string* error) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    *error = line.empty() ? "empty line" : "no ':' between key and value";
    return false;
  }
  *key = line.substr(0, colon);
  *value = line.substr(colon + 1);
  if (key->empty()) {
    *error = "empty key";
  } else if (key->size() > kMaxKeyBytes) {
    *error = "key longer than 1024 bytes";
  } else {
    for (const char ch : *key) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c == 0x7f) {
        *error = "key contains a control character";
        return false;
      }
    }
    return true;
  }
  return false;
}

bool AppendPairLine(std::string_view key, std::string_view value, std::string* out,
                    std::string* error) {
  if (key.find(':') != std::string_view::npos) {
    *error = "key contains ':'";
  } else if (key.find_first_of("\r\n") != std::string_view::npos) {
    *error = "key contains a line break";
  } else if (value.find_first_of("\r\n") != std::string_view::npos) {
    *error = "value contains a line break";
  } else {
    out->append(key).append(1, ':').append(value).append(1, '\n');
    return true;
  }
  return false;
}

bool ParseJsonListing(std::string_view body, std::vector<std::pair<std::string, std::string>>* out,
                      std::string* error) {
  out->clear();
  size_t i = 0;
  SkipSpace(body, &i);
  if (i == body.size() || body[i++] != '{') {
    *error = "listing is not a JSON object";
    return false;
  }
  SkipSpace(body, &i);
  if (i < body.size() && body[i] == '}') return true;
  std::string key, value;
  while (true) {
    SkipSpace(body, &i);
    if (!ParseJsonString(body, &i, &key)) break;
    SkipSpace(body, &i);
    if (i == body.size() || body[i++] != ':') break;
    SkipSpace(body, &i);
    if (!ParseJsonString(body, &i, &value)) break;
    out->emplace_back(key, value);
    SkipSpace(body, &i);
    if (i < body.size() && body[i] == ',') {
      ++i;
      continue;
    }
    if (i < body.size() && body[i] == '}') return true;
    break;
  }
  *error = fmt::format("malformed JSON listing near byte {}", i);
  return false;
}

int RunExport(HttpClient& client, std::ostream& out, std::ostream& err) {
  std::optional<std::string> after;
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string lines, error;
  size_t written = 0, skipped = 0;
  while (true) {
    ListOptions page;
    page.after = after;
    page.limit = kExportPage;
    page.json = true;
    const ClientRequest req = ListRequest(page);
    ClientResponse resp;
    if (!client.RoundTrip(req, &resp, &error)) {
      err << "httpkv: export: GET " << req.target << ": " << error << "\n";
      return 3;
    }
    if (resp.status != 200) {
      err << "httpkv: export: GET " << req.target << ": " << resp.StatusLine() << "\n";
      return 1;
    }
    if (!ParseJsonListing(resp.body, &pairs, &error)) {
      err << "httpkv: export: " << error << "\n";
      return 3;
    }
    lines.clear();
    for (const auto& [key, value] : pairs) {
      if (AppendPairLine(key, value, &lines, &error)) {
        ++written;
      } else {
        ++skipped;
        err << "httpkv: export: not written, " << error << ": key \"" << Printable(key) << "\"\n";
      }
    }
    out.write(lines.data(), static_cast<std::streamsize>(lines.size()));
    if (!out) {
      err << "httpkv: export: cannot write the output\n";
      return 3;
    }
    if (pairs.size() < kExportPage) break;
    after = pairs.back().first;
  }
  out.flush();
  err << "httpkv: exported " << written << " pairs";
  if (skipped > 0) err << "; " << skipped << " pairs a key:value line cannot hold were not written";
  err << "\n";
  return skipped > 0 ? 1 : 0;
}

namespace {

// Pass 1: reports malformed lines; returns their count, or -1 if FILE cannot be read.
long CheckPairFile(const std::string& path, std::ostream& err, size_t* lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return -1;
  std::string line, error;
  std::string_view key, value;
  long bad = 0;
  *lines = 0;
  while (std::getline(in, line)) {
    ++*lines;
    if (ParsePairLine(line, &key, &value, &error)) continue;
    if (static_cast<size_t>(++bad) <= kMaxReportedLines) {
      err << "httpkv: " << path << ":" << *lines << ": " << error << ": \"" << Printable(line)
          << "\"\n";
    }
  }
  if (in.bad()) return -1;
  if (static_cast<size_t>(bad) > kMaxReportedLines) {
    err << "httpkv: " << path << ": " << bad - static_cast<long>(kMaxReportedLines)
        << " more malformed lines not shown\n";
  }
  return bad;
}

struct InFlight {
  size_t line;
  ClientRequest request;
};

// Pass 2: the pipelined PUTs. inflight_ holds every request not yet answered, the first
// sent_ of them sent on the current connection.
class Importer {
 public:
  Importer(const Connector& connect, const std::string& path, std::ostream& err)
      : connect_(connect), path_(path), err_(err) {}

  // 0 all loaded, 1 some answers were not 2xx, 3 connection failure.
  int Run(std::istream& in) {
    if (!Reconnect()) return 3;
    std::string line, error;
    std::string_view key, value;
    size_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (!ParsePairLine(line, &key, &value, &error)) continue;  // pass 1 saw none
      while (inflight_.size() >= kImportWindow) {
        if (!ReceiveOne()) return 3;
      }
      inflight_.push_back({number, PutKeyRequest(key, value)});
      if (!SendPending()) return 3;
    }
    while (!inflight_.empty()) {
      if (!ReceiveOne()) return 3;
    }
    return failed_ > 0 ? 1 : 0;
  }
  size_t loaded() const { return loaded_; }
  size_t failed() const { return failed_; }

 private:
  bool Reconnect() {
    std::string error;
    client_ = connect_(&error);
    sent_ = 0;
    if (!client_) err_ << "httpkv: import: " << error << "\n";
    return client_.has_value();
  }

  // Sends what is not sent yet; while probing only the first request.
  bool SendPending() {
    std::string error;
    while (sent_ < inflight_.size() && !(probing_ && sent_ > 0)) {
      if (!client_->Send(inflight_[sent_].request, &error)) return Resend();
      ++sent_;
    }
    return true;
  }

  // The connection ended with requests unanswered. A server that closes after an error
  // (413) resets the connection if more requests are queued, and its answer can be lost
  // with them: so the first unanswered request goes alone on a new connection, and
  // pipelining resumes once it is answered. A connection that answers nothing ends it.
  bool Resend() {
    if (probing_ && answers_ == 0) {
      err_ << "httpkv: " << path_ << ":" << inflight_.front().line
           << ": the server closed the connection without answering\n";
      return false;
    }
    probing_ = true;
    answers_ = 0;
    return Reconnect() && SendPending();
  }

  bool ReceiveOne() {
    ClientResponse resp;
    std::string error;
    if (!client_->Receive(false, &resp, &error)) return Resend();
    ++answers_;
    probing_ = false;
    const size_t line = inflight_.front().line;
    inflight_.pop_front();
    --sent_;
    if (resp.status / 100 == 2) {
      ++loaded_;
    } else {
      ++failed_;
      err_ << "httpkv: " << path_ << ":" << line << ": " << resp.StatusLine();
      const std::string_view first = FirstLine(resp.body);
      if (!first.empty()) err_ << ": " << first;
      err_ << "\n";
    }
    if (!client_->open()) return inflight_.empty() ? Reconnect() : Resend();
    return SendPending();
  }

  const Connector& connect_;
  const std::string& path_;
  std::ostream& err_;
  std::optional<HttpClient> client_;
  std::deque<InFlight> inflight_;
  size_t sent_ = 0;
  bool probing_ = false;
  size_t answers_ = 0;  // answers on the current connection
  size_t loaded_ = 0, failed_ = 0;
};

}  // namespace

int RunImport(const Connector& connect, const std::string& path, std::ostream& out,
              std::ostream& err) {
  size_t lines = 0;
  const long bad = CheckPairFile(path, err, &lines);
  if (bad < 0) {
    err << "httpkv: import: cannot read " << path << "\n";
    return 3;
  }
  if (bad > 0) {
    err << "httpkv: " << path << ": " << bad << " of " << lines
        << " lines malformed; nothing imported\n";
    return 1;
  }
  std::ifstream in(path, std::ios::binary);
  Importer importer(connect, path, err);
  const int rc = in ? importer.Run(in) : 3;
  out << "imported " << importer.loaded() << " of " << lines << " pairs from " << path;
  if (importer.failed() > 0) out << " (" << importer.failed() << " refused by the server)";
  out << "\n";
  return rc;
}

}  // namespace httpkv::client
