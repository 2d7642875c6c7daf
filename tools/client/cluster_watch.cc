#include "tools/client/cluster_watch.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "tools/client/http_client.h"

namespace httpkv::client {
namespace {

bool ParseSeq(std::string_view s, uint64_t* v) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

// One owner's feed: the socket and the bytes not yet made into events.
struct Feed {
  int fd = -1;
  std::string raw;   // received, not yet parsed (head, then chunk framing)
  std::string text;  // de-chunked event text, not yet a whole event
  bool head_done = false;
  bool reopened = false;  // the one re-open after a failure was used (reset by an event)
};

enum class Step { kMore, kEnded, kRefused };

class Merger {
 public:
  Merger(cluster::Routes& routes, const std::optional<std::string>& prefix,
         std::vector<std::optional<uint64_t>> since, std::ostream& out, std::ostream& err)
      : routes_(routes),
        prefix_(prefix),
        seq_(std::move(since)),
        out_(out),
        err_(err),
        names_(routes.map().placement().names()),
        feeds_(names_.size()) {}
  ~Merger() {
    for (Feed& f : feeds_)
      if (f.fd >= 0) ::close(f.fd);
  }

  int Run() {
    for (size_t i = 0; i < feeds_.size(); ++i)
      if (!Open(i)) return 3;
    std::vector<pollfd> fds(feeds_.size());
    for (;;) {
      for (size_t i = 0; i < feeds_.size(); ++i) fds[i] = pollfd{feeds_[i].fd, POLLIN, 0};
      if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return 3;
      for (size_t i = 0; i < feeds_.size(); ++i) {
        if (fds[i].revents == 0) continue;
        const Step s = Read(i);
        if (s == Step::kRefused) return 1;
        if (s == Step::kEnded && !Reopen(i)) return 3;
      }
    }
  }

 private:
  bool Open(size_t i) {
    const std::string addr = routes_.AddressOf(i);
    std::string error;
    const auto a = reactor::InetAddress::Parse(addr, &error);
    Feed& f = feeds_[i];
    f = Feed{-1, {}, {}, false, f.reopened};
    if (a) f.fd = ::socket(a->family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (!a || f.fd < 0 || ::connect(f.fd, a->sockaddr_ptr(), a->length()) != 0) {
      err_ << "httpkv: " << names_[i] << ": cannot connect to " << addr << ": "
           << (a ? std::strerror(errno) : error) << "\n";
      return false;
    }
    std::string target = "/kv/?watch=1";
    if (prefix_) target += "&prefix=" + PercentEncodeQueryValue(*prefix_);
    if (seq_[i]) target += "&since=" + std::to_string(*seq_[i]);
    const std::string req = SerializeRequest(MakeRequest("GET", target), addr);
    return ::send(f.fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
  }

  bool Reopen(size_t i) {
    Feed& f = feeds_[i];
    ::close(f.fd);
    f.fd = -1;
    if (f.reopened) return false;
    f.reopened = true;
    routes_.Refresh(i);
    return Open(i);
  }

  Step Read(size_t i) {
    Feed& f = feeds_[i];
    char buf[16384];
    const ssize_t n = ::recv(f.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) return Step::kMore;
    if (n <= 0) return Step::kEnded;
    f.raw.append(buf, static_cast<size_t>(n));
    if (!f.head_done) {
      const size_t end = f.raw.find("\r\n\r\n");
      if (end == std::string::npos) return Step::kMore;
      if (!Head(i, f.raw.substr(0, end + 2))) return Step::kRefused;
      f.raw.erase(0, end + 4);
      f.head_done = true;
    }
    return Chunks(i);
  }

  bool Head(size_t i, const std::string& head) {
    const int status = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
    if (status == 200) return true;
    err_ << "httpkv: " << names_[i] << ": " << head.substr(9, head.find("\r\n") - 9) << "\n";
    return false;
  }

  Step Chunks(size_t i) {
    Feed& f = feeds_[i];
    size_t crlf;
    while ((crlf = f.raw.find("\r\n")) != std::string::npos) {
      const size_t len = std::strtoul(f.raw.c_str(), nullptr, 16);
      if (len == 0) return Step::kEnded;
      if (f.raw.size() < crlf + 2 + len + 2) break;
      f.text.append(f.raw, crlf + 2, len);
      f.raw.erase(0, crlf + 2 + len + 2);
    }
    size_t end;
    while ((end = f.text.find("\n\n")) != std::string::npos) {
      Event(i, std::string_view(f.text).substr(0, end + 2));
      f.text.erase(0, end + 2);
    }
    return Step::kMore;
  }

  // One SSE block: a comment (keepalive, or the server's closing reason) or an event.
  void Event(size_t i, std::string_view block) {
    if (block.starts_with(": ")) {
      if (block != ": keepalive\n\n")
        err_ << "httpkv: " << names_[i] << ": " << block.substr(2, block.size() - 4) << "\n";
      return;
    }
    std::string_view rest = block;
    if (block.starts_with("id: ")) {
      const size_t nl = block.find('\n');
      uint64_t v;
      if (ParseSeq(block.substr(4, nl - 4), &v)) seq_[i] = v;
      rest = block.substr(nl + 1);
    }
    feeds_[i].reopened = false;
    out_ << "id: " << ClusterCursor(names_, seq_) << "\n" << rest;
    out_.flush();
  }

  cluster::Routes& routes_;
  const std::optional<std::string>& prefix_;
  std::vector<std::optional<uint64_t>> seq_;
  std::ostream& out_;
  std::ostream& err_;
  const std::vector<std::string>& names_;
  std::vector<Feed> feeds_;
};

}  // namespace

bool ParseClusterSince(const std::string& text, const std::vector<std::string>& owners,
                       std::vector<std::optional<uint64_t>>* since, std::string* error) {
  since->assign(owners.size(), std::nullopt);
  if (text.empty()) return true;
  uint64_t all;
  if (ParseSeq(text, &all)) {
    since->assign(owners.size(), all);
    return true;
  }
  std::string_view s = text;
  while (!s.empty()) {
    const std::string_view item = s.substr(0, s.find(','));
    s.remove_prefix(std::min(s.size(), item.size() + 1));
    const size_t eq = item.find('=');
    size_t i = 0;
    while (i < owners.size() && owners[i] != item.substr(0, eq)) ++i;
    uint64_t v;
    if (eq == std::string_view::npos || i == owners.size() || !ParseSeq(item.substr(eq + 1), &v)) {
      *error = "--since: want SEQ or OWNER=SEQ,… with owners " + ClusterCursor(owners, {});
      return false;
    }
    (*since)[i] = v;
  }
  return true;
}

std::string ClusterCursor(const std::vector<std::string>& owners,
                          const std::vector<std::optional<uint64_t>>& seq) {
  std::string out;
  for (size_t i = 0; i < owners.size(); ++i) {
    if (seq.empty()) {  // just the names (for messages)
      out += (out.empty() ? "" : ",") + owners[i];
    } else if (seq[i]) {
      out += (out.empty() ? "" : ",") + owners[i] + "=" + std::to_string(*seq[i]);
    }
  }
  return out;
}

int RunClusterWatch(cluster::Routes& routes, const std::optional<std::string>& prefix,
                    std::vector<std::optional<uint64_t>> since, std::ostream& out,
                    std::ostream& err) {
  return Merger(routes, prefix, std::move(since), out, err).Run();
}

}  // namespace httpkv::client
