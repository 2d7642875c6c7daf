// OfflineServer: the server's request path without sockets — request bytes go into a
// reactor::Buffer, RequestParser parses them in place, KvRoutes::Handle answers and the
// reply is serialized with ResponseWriter exactly as HttpWorker::WriteReply does, against
// a real LogStore in a temporary directory (fsync never). Used by the allocation test and
// by bench/server/request_bench.cc.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "http/http_date.h"
#include "http/request.h"
#include "http/request_parser.h"
#include "http/response_writer.h"
#include "reactor/buffer.h"
#include "server/base/server_options.h"
#include "server/routes/kv_routes.h"
#include "storage/log_store.h"

namespace httpkv::server::testing {

class OfflineServer {
 public:
  explicit OfflineServer(uint64_t max_value = 1 << 20) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "httpkv-offline-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    opts_.data_dir = dir_;
    opts_.fsync = storage::FsyncPolicy::kNever;
    opts_.max_value = max_value;
    limits_ = opts_.limits();
    storage::Options so;
    so.dir = dir_;
    so.fsync = storage::FsyncPolicy::kNever;
    status_ = storage::LogStore::Open(so, &store_);
    if (status_.ok()) {
      routes_ = std::make_unique<KvRoutes>(
          store_.get(), &opts_, [](std::string* out) { out->assign("# no metrics offline\n"); });
    }
  }
  ~OfflineServer() {
    routes_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  OfflineServer(const OfflineServer&) = delete;
  OfflineServer& operator=(const OfflineServer&) = delete;

  bool ok() const { return status_.ok(); }
  storage::LogStore* store() { return store_.get(); }
  const ServerOptions& options() const { return opts_; }
  reactor::Buffer& input() { return in_; }
  reactor::Buffer& output() { return out_; }
  // Status of the last answer written.
  int last_status() const { return last_status_; }

  // Appends bytes to the input and answers every complete request in it. Returns the
  // number of answers, or -1 on a parse error (which the worker answers and closes on).
  int Feed(std::string_view bytes) {
    in_.Append(bytes);
    return ServeBuffered();
  }

  int ServeBuffered() {
    int answered = 0;
    while (!in_.empty()) {
      const http::ParseResult r = parser_.Parse(in_.readable_span(), &request_);
      if (r.kind == http::ParseResult::kError) return -1;
      if (r.kind == http::ParseResult::kNeedMore) break;
      const Reply reply = routes_->Handle(request_);
      if (reply.stream != nullptr) return -1;  // streamed (large) listings: not served here
      WriteReply(reply, request_.method == http::Method::kHead);
      routes_->EndRead();
      in_.Consume(r.consumed);
      parser_.Reset();
      ++answered;
    }
    return answered;
  }

 private:
  void WriteReply(const Reply& reply, bool head) {
    last_status_ = reply.status;
    SerializeReply(reply, head, http::ConnectionHeader::kNone, http::HttpDate(), &out_);
  }

  std::string dir_;
  ServerOptions opts_;
  http::Limits limits_;
  storage::Status status_ = storage::Status::OK();
  std::unique_ptr<storage::LogStore> store_;
  std::unique_ptr<KvRoutes> routes_;
  http::RequestParser parser_{&limits_};
  http::Request request_;
  reactor::Buffer in_;
  reactor::Buffer out_;
  int last_status_ = 0;
};

}  // namespace httpkv::server::testing
