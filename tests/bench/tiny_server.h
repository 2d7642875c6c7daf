// A tiny in-process HTTP/1.1 key-value server on 127.0.0.1:0, built from reactor/ and
// the request parser, so the load generator can be tested end to end without the real
// server. Routes follow SPEC (GET/PUT /kv/key, POST /create -> 201/409, PUT /update ->
// 200/404). GETs of odd-length keys answer chunked to exercise that path. With
// close_every = n, every n-th response carries "Connection: close".
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "http/request_parser.h"
#include "reactor/connection.h"
#include "reactor/listener.h"

namespace httpkv::bench::testing {

class TinyServer {
 public:
  explicit TinyServer(int close_every = 0) : close_every_(close_every) {
    std::string err;
    auto addr = reactor::InetAddress::Parse("127.0.0.1:0", &err);
    const int fd = reactor::Listener::OpenSocket(*addr, false, &err);
    port_ = reactor::InetAddress::LocalOf(fd)->port();
    listener_ = std::make_unique<reactor::Listener>(&loop_, fd, [this](int c) { Accept(c); });
    listener_->Start();
    thread_ = std::thread([this] { loop_.Run(); });
  }
  ~TinyServer() {
    loop_.Quit();
    thread_.join();
    for (Conn* c : live_) delete c;  // still open when the loop stopped
  }
  uint16_t port() const { return port_; }
  std::atomic<uint64_t> requests{0};

 private:
  struct Conn final : reactor::ConnectionHandler {
    TinyServer* server;
    http::Limits limits;
    http::RequestParser parser{&limits};
    http::Request req;
    std::unique_ptr<reactor::Connection> conn;

    void OnData(reactor::Connection& c) override {
      while (!c.closed()) {
        const http::ParseResult r = parser.Parse(c.input().readable_span(), &req);
        if (r.kind == http::ParseResult::kNeedMore) return;
        if (r.kind == http::ParseResult::kError) return c.Close();
        server->Answer(req, c);
        c.input().Consume(r.consumed);
        parser.Reset();
      }
    }
    void OnClose(reactor::Connection& c) override {
      c.loop()->Defer([this] {
        server->live_.erase(this);
        delete this;
      });
    }
  };

  void Accept(int fd) {
    auto* h = new Conn;
    h->server = this;
    h->conn = std::make_unique<reactor::Connection>(&loop_, fd, h);
    if (h->conn->Start() != 0) {
      delete h;
      return;
    }
    live_.insert(h);
  }

  void Reply(reactor::Connection& c, const char* status, std::string_view body, bool chunked) {
    const bool close = close_every_ > 0 && ++answered_ % close_every_ == 0;
    std::string head = std::string("HTTP/1.1 ") + status + "\r\n";
    if (close) head += "Connection: close\r\n";
    if (chunked) {
      head += "Transfer-Encoding: chunked\r\n\r\n";
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", body.size());
      head += std::string(size) + std::string(body) + "\r\n0\r\n\r\n";
    } else {
      head += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
    }
    c.output().Append(head);
    if (close) c.CloseAfterFlush();
  }

  void Answer(const http::Request& r, reactor::Connection& c) {
    ++requests;
    const std::string path(r.path);
    if (path.rfind("/kv/", 0) == 0) {
      const std::string key = path.substr(4);
      if (r.method == http::Method::kGet) {
        auto it = kv_.find(key);
        if (it == kv_.end()) return Reply(c, "404 Not Found", "no such key", false);
        return Reply(c, "200 OK", it->second, key.size() % 2 == 1);
      }
      const bool existed = kv_.count(key) > 0;
      kv_[key] = std::string(r.body);
      return Reply(c, existed ? "204 No Content" : "201 Created", "", false);
    }
    const size_t colon = r.body.find(':');
    const std::string key(r.body.substr(0, colon));
    if (path == "/create" && colon != std::string_view::npos) {
      if (!kv_.emplace(key, std::string(r.body.substr(colon + 1))).second)
        return Reply(c, "409 Conflict", "exists", false);
      return Reply(c, "201 Created", "", false);
    }
    if (path == "/update" && colon != std::string_view::npos) {
      auto it = kv_.find(key);
      if (it == kv_.end()) return Reply(c, "404 Not Found", "", false);
      it->second = std::string(r.body.substr(colon + 1));
      return Reply(c, "200 OK", "", false);
    }
    Reply(c, "404 Not Found", "", false);
  }

  int close_every_;
  uint64_t answered_ = 0;
  uint16_t port_ = 0;
  reactor::EventLoop loop_;
  std::unique_ptr<reactor::Listener> listener_;
  std::unordered_map<std::string, std::string> kv_;
  std::unordered_set<Conn*> live_;  // loop thread only (and the destructor after join)
  std::thread thread_;
};

}  // namespace httpkv::bench::testing
