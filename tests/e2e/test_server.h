// Helpers for end-to-end tests over real loopback sockets: an in-process server on
// port 0 with a fresh data dir, and a blocking raw client that reads whole responses.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "http/response_parser.h"
#include "server/http_server.h"
#include "storage/log_store.h"

namespace httpkv::e2e {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "httpkv-e2e-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A server running in this process, serving until destroyed (graceful drain).
class InProcessServer {
 public:
  explicit InProcessServer(const std::string& data_dir, unsigned threads = 2,
                           storage::FsyncPolicy fsync = storage::FsyncPolicy::kNever,
                           uint64_t max_value = 1 << 20)
      : InProcessServer(Options(data_dir, threads, fsync, max_value)) {}
  static server::ServerOptions Options(const std::string& data_dir, unsigned threads = 2,
                                       storage::FsyncPolicy fsync = storage::FsyncPolicy::kNever,
                                       uint64_t max_value = 1 << 20) {
    server::ServerOptions opts;
    opts.listen = "127.0.0.1:0";
    opts.data_dir = data_dir;
    opts.threads = threads;
    opts.fsync = fsync;
    opts.max_value = max_value;
    return opts;
  }
  explicit InProcessServer(const server::ServerOptions& opts) {
    storage::Options so;
    so.dir = opts.data_dir;
    so.fsync = opts.fsync;
    so.group_commit = true;
    status_ = storage::LogStore::Open(so, &store_);
    if (!status_.ok()) return;
    server_ = std::make_unique<server::HttpServer>(opts);
    std::string error, warning;
    if (!server_->OpenAccessLog(&error) || !server_->LoadAuthFile(&error, &warning) ||
        !server_->LoadTls(&error) || !server_->Bind(&error) || !server_->LoadPlacement(&error)) {
      status_ = storage::Status::IOError(error);
      return;
    }
    server_->Start(store_.get());
  }
  ~InProcessServer() {
    server_.reset();  // drains and joins before the store goes away
    store_.reset();
  }
  bool ok() const { return status_.ok(); }
  uint16_t port() const { return server_->address().port(); }
  storage::LogStore* store() { return store_.get(); }
  server::HttpServer* server() { return server_.get(); }

 private:
  storage::Status status_ = storage::Status::OK();
  std::unique_ptr<storage::LogStore> store_;
  std::unique_ptr<server::HttpServer> server_;
};

struct Reply {
  int status = 0;
  std::string head;  // status line and headers, raw
  std::string body;
  std::string Header(std::string_view name) const;
};

// A blocking client socket. Reads are bounded by a receive timeout so that a server
// bug fails the test instead of hanging it (a safety net, not synchronisation).
class RawClient {
 public:
  explicit RawClient(uint16_t port);
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  void Send(std::string_view bytes);
  void SendByteByByte(std::string_view bytes);
  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }
  // Reads one complete response; status 0 if the connection ended first.
  Reply Read(bool head_request = false);
  // A complete response if one is already buffered or readable without waiting.
  Reply ReadIfAvailable();
  // Raw bytes up to and including the next blank line (an interim response head).
  std::string ReadHead();
  // Waits up to timeout_ms for bytes (or EOF) to read; false if none came.
  bool WaitReadable(int timeout_ms);
  // True if the server closed the connection (EOF) with nothing else pending.
  bool AtEof();
  // Everything until EOF (for asserting that nothing more is answered).
  std::string ReadToEof();

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

// Sends one request on a fresh connection and returns the response.
Reply Request(uint16_t port, std::string_view method, std::string_view target,
              std::string_view body = {}, std::string_view extra_headers = {});

// Builds request bytes with Host and Content-Length (when a body is given).
std::string BuildRequest(std::string_view method, std::string_view target,
                         std::string_view body = {}, std::string_view extra_headers = {});

}  // namespace httpkv::e2e
