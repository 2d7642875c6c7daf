#include "server/routes/kv_routes.h"

#include <fmt/format.h>

#include <iterator>

#include "http/percent.h"
#include "server/routes/etag.h"
#include "server/routes/ttl_query.h"

namespace httpkv::server {

using http::Method;
using storage::Precondition;
using storage::Status;

std::string_view CheckKey(std::string_view key) {
  if (key.empty()) return "empty key";
  if (key.size() > kMaxKeyBytes) return "key longer than 1024 bytes";
  for (char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return "key contains a control character";
  }
  return {};
}

KvRoutes::KvRoutes(storage::LogStore* store, const ServerOptions* opts, MetricsRenderer metrics)
    : store_(store), opts_(opts), metrics_(std::move(metrics)) {}

int KvRoutes::EarlyStatus(const http::Request& req) {
  if (req.method == Method::kOther) return 501;
  const RouteMatch m = MatchRoute(req.path);
  if (m.route == Route::kNone) return 404;
  if (!MethodAllowed(m.route, req.method)) return 405;
  return 0;
}

Reply KvRoutes::Handle(const http::Request& req) {
  read_pin_.reset();  // a caller that skipped EndRead() must not pin the store for long
  const RouteMatch m = MatchRoute(req.path);
  Reply r = Dispatch(req, m);
  r.route = m.route;
  return r;
}

Reply KvRoutes::Dispatch(const http::Request& req, const RouteMatch& m) {
  if (req.method == Method::kOther) {
    return Text(501, "method not implemented (supported: GET, HEAD, POST, PUT, DELETE, OPTIONS)\n");
  }
  if (m.route == Route::kNone) {
    scratch_.body.clear();
    fmt::format_to(std::back_inserter(scratch_.body), "no route for {}\n", req.path);
    return Text(404, scratch_.body);
  }
  if (req.method == Method::kOptions) return Options(m.route);
  if (!MethodAllowed(m.route, req.method)) {
    scratch_.body.clear();
    fmt::format_to(std::back_inserter(scratch_.body), "{} is not allowed on {} (allowed: {})\n",
                   http::MethodName(req.method), req.path, AllowHeader(m.route));
    Reply r = Text(405, scratch_.body);
    r.allow = AllowHeader(m.route);
    return r;
  }
  // Writes (all keyed) meet RefusesWrites() after the key's owner is checked: a key of
  // another shard gets that shard's name, not this shard's primary.
  switch (m.route) {
    case Route::kRoot:
      return Listing(req);
    case Route::kCreate:
      return CreateOrUpdate(req, true);
    case Route::kUpdate:
      return CreateOrUpdate(req, false);
    case Route::kKv:
      return HandleKv(req, m.raw_key);
    case Route::kHealthz:
      return Text(200, "ok\n");
    case Route::kReadyz:
      return Text(200, "ready\n");  // we listen only after recovery finished
    case Route::kMetrics: {
      metrics_(&scratch_.body);
      Reply r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = scratch_.body;
      return r;
    }
    case Route::kAdminPlacement:
      return AdminPlacement(req);
    case Route::kAdminCompact:
      store_->RequestCompaction();  // runs on the store's compaction thread
      return Text(202, "compaction requested\n");
    case Route::kPrimary:
    case Route::kReplica:
    case Route::kAdminReplication:
    case Route::kReplicationLog:
      return Replication(req, m.route);
    case Route::kAsterisk:
    case Route::kNone:
      break;
  }
  return Text(404, "not found\n");
}

Reply KvRoutes::Options(Route route) {
  Reply r;
  r.status = 204;
  r.allow = AllowHeader(route);
  return r;
}

Reply KvRoutes::Text(int status, std::string_view body) {
  Reply r;
  r.status = status;
  r.content_type = kTextPlain;
  r.body = body;
  return r;
}

Reply KvRoutes::StoreError(const Status& st) {
  scratch_.body.clear();
  switch (st.code()) {
    case Status::Code::kNoSpace:
      fmt::format_to(std::back_inserter(scratch_.body), "insufficient storage: {}\n", st.message());
      return Text(507, scratch_.body);
    case Status::Code::kCorruption:
      fmt::format_to(std::back_inserter(scratch_.body), "stored record is damaged: {}\n",
                     st.message());
      return Text(500, scratch_.body);
    case Status::Code::kInvalidArgument:
      fmt::format_to(std::back_inserter(scratch_.body), "{}\n", st.message());
      return Text(400, scratch_.body);
    default:
      fmt::format_to(std::back_inserter(scratch_.body), "storage error: {}\n", st.message());
      return Text(503, scratch_.body);
  }
}

Reply KvRoutes::PreconditionFailed() {
  return Text(412, "precondition failed\n");
}

std::string_view KvRoutes::DecodeKey(std::string_view raw) {
  if (http::PercentDecode(raw, &scratch_.key).failed()) return "invalid percent-escape in key";
  return CheckKey(scratch_.key);
}

Reply KvRoutes::HandleKv(const http::Request& req, std::string_view raw_key) {
  if (raw_key.empty() && req.method == Method::kGet && IsWatchQuery(req.query)) return Watch(req);
  if (std::string_view err = DecodeKey(raw_key); !err.empty()) {
    scratch_.body.assign(err).push_back('\n');
    return Text(400, scratch_.body);
  }
  if (Reply r; NotOwnedHere(req, scratch_.key, &r)) return r;
  const bool write = req.method == Method::kPut || req.method == Method::kDelete;
  if (write && RefusesWrites()) return NotPrimary();
  switch (req.method) {
    case Method::kGet:
    case Method::kHead:
      return GetKv(req);
    case Method::kPut:
      return PutKv(req);
    default:
      return DeleteKv();
  }
}

Reply KvRoutes::GetKv(const http::Request& req) {
  storage::ValueMeta meta;
  std::string_view value;
  const std::string_view inm = req.Find("If-None-Match");
  const bool head = req.method == Method::kHead;
  const uint64_t seq = store_->LastSeq();  // before the read: this answer reflects it
  // The body is a view into the segment mapping: the read section stays open until the
  // worker has serialized the reply (EndRead), so the value is copied once, into the output.
  auto read = [&] {
    read_pin_.emplace();
    return store_->Read(scratch_.key, [&](std::string_view v, const storage::ValueMeta& m) {
      value = v;
      meta = m;
    });
  };
  // HEAD and conditional GETs are answered from the index without reading the value.
  Status st = (head || !inm.empty()) ? store_->Stat(scratch_.key, &meta) : read();
  if (st.code() == Status::Code::kNotFound) {
    Reply r = Text(404, "key not found\n");
    r.x_seq = static_cast<int64_t>(seq);
    return r;
  }
  if (!st.ok()) return StoreError(st);
  FormatEtag(meta.version, &scratch_.etag);
  Reply r;
  r.etag = scratch_.etag;
  r.x_seq = static_cast<int64_t>(seq);
  if (meta.expires_at_ms != 0) {  // only values with a TTL read the clock
    r.expires_in =
        static_cast<int64_t>(SecondsLeft(meta.expires_at_ms, storage::LogStore::NowMs()));
  }
  if (!inm.empty() && EtagListMatches(inm, meta.version)) {
    r.status = 304;
    return r;
  }
  r.content_type = "application/octet-stream";
  if (head) {
    r.head_length = meta.size;
    return r;
  }
  if (!inm.empty()) {  // condition not met: now read the value
    st = read();
    if (!st.ok())
      return st.code() == Status::Code::kNotFound ? Text(404, "key not found\n") : StoreError(st);
    FormatEtag(meta.version, &scratch_.etag);
    r.etag = scratch_.etag;
  }
  r.body = value;
  return r;
}

Reply KvRoutes::PutKv(const http::Request& req) {
  Precondition pre = Precondition::kNone;
  uint64_t expected = 0;
  const std::string_view if_match = req.Find("If-Match");
  const std::string_view if_none = req.Find("If-None-Match");
  if (!if_match.empty() || (!if_none.empty() && if_none != "*")) {
    storage::ValueMeta meta;
    Status st = store_->Stat(scratch_.key, &meta);
    const bool exists = st.ok();
    if (!if_match.empty()) {
      if (!exists || !EtagListMatches(if_match, meta.version)) return PreconditionFailed();
      pre = Precondition::kVersionMatches;  // re-checked atomically by the store
      expected = meta.version;
    }
    if (!if_none.empty() && if_none != "*" && exists && EtagListMatches(if_none, meta.version)) {
      return PreconditionFailed();
    }
  }
  if (if_none == "*") {
    if (pre == Precondition::kVersionMatches) return PreconditionFailed();  // exists by If-Match
    pre = Precondition::kMustNotExist;
  }
  uint64_t expires_at = 0;
  if (std::string_view err = ParseTtlQuery(req.query, &expires_at); !err.empty()) {
    scratch_.body.assign(err).push_back('\n');
    return Text(400, scratch_.body);
  }
  storage::WriteResult res;
  Status st = store_->Put(scratch_.key, req.body, pre, expected, &res, expires_at);
  if (st.code() == Status::Code::kPreconditionFailed || st.code() == Status::Code::kNotFound) {
    return PreconditionFailed();
  }
  if (!st.ok()) return StoreError(st);
  FormatEtag(res.version, &scratch_.etag);
  Reply r;
  if (res.existed) {
    r.status = 204;
  } else {
    http::PercentEncodePath(scratch_.key, &scratch_.location);
    scratch_.location.insert(0, "/kv/");
    r = Text(201, "created\n");
    r.location = scratch_.location;
  }
  r.etag = scratch_.etag;
  r.sync_token = res.sync_token;
  r.x_seq = static_cast<int64_t>(res.version);
  return r;
}

Reply KvRoutes::DeleteKv() {
  storage::WriteResult res;
  Status st = store_->Delete(scratch_.key, &res);
  if (st.code() == Status::Code::kNotFound) return Text(404, "key not found\n");
  if (!st.ok()) return StoreError(st);
  Reply r;
  r.status = 204;
  r.sync_token = res.sync_token;
  r.x_seq = static_cast<int64_t>(res.version);
  return r;
}

// POST /create and PUT /update take "key:value", split at the first ':'.
Reply KvRoutes::CreateOrUpdate(const http::Request& req, bool create) {
  const size_t colon = req.body.find(':');
  if (colon == std::string_view::npos) return Text(400, "body must be key:value\n");
  const std::string_view key = req.body.substr(0, colon);
  const std::string_view value = req.body.substr(colon + 1);
  if (std::string_view err = CheckKey(key); !err.empty()) {
    scratch_.body.assign(err).push_back('\n');
    return Text(400, scratch_.body);
  }
  if (Reply r; NotOwnedHere(req, key, &r)) return r;
  if (RefusesWrites()) return NotPrimary();
  uint64_t expires_at = 0;
  if (std::string_view err = ParseTtlQuery(req.query, &expires_at); !err.empty()) {
    scratch_.body.assign(err).push_back('\n');
    return Text(400, scratch_.body);
  }
  storage::WriteResult res;
  Status st =
      store_->Put(key, value, create ? Precondition::kMustNotExist : Precondition::kMustExist, 0,
                  &res, expires_at);
  scratch_.body.clear();
  if (st.code() == Status::Code::kPreconditionFailed) {
    fmt::format_to(std::back_inserter(scratch_.body), "key {} already exists\n", key);
    return Text(409, scratch_.body);
  }
  if (st.code() == Status::Code::kNotFound) {
    fmt::format_to(std::back_inserter(scratch_.body), "key {} not found\n", key);
    return Text(404, scratch_.body);
  }
  if (!st.ok()) return StoreError(st);
  FormatEtag(res.version, &scratch_.etag);
  http::PercentEncodePath(key, &scratch_.location);
  scratch_.location.insert(0, "/kv/");
  fmt::format_to(std::back_inserter(scratch_.body), "{} {}\n", create ? "created" : "updated",
                 scratch_.location);
  Reply r = Text(create ? 201 : 200, scratch_.body);
  r.etag = scratch_.etag;
  if (create) r.location = scratch_.location;
  r.sync_token = res.sync_token;
  r.x_seq = static_cast<int64_t>(res.version);
  return r;
}

Reply KvRoutes::Listing(const http::Request& req) {
  ListingQuery q;
  if (std::string_view err = ParseListingQuery(req.query, &scratch_, &q); !err.empty()) {
    scratch_.body.assign(err).push_back('\n');
    return Text(400, scratch_.body);
  }
  q.json = req.Find("Accept").find("application/json") != std::string_view::npos;
  if (q.ttls && !q.json) return Text(400, "ttls=1 needs Accept: application/json\n");
  if (!cursor_) cursor_ = std::make_unique<ListingCursor>();
  cursor_->Reset(q);
  // Read before the keys: every write up to it is in the listing (later ones may be too, and
  // a feed from this SEQ replays them), so list-then-watch misses nothing.
  const uint64_t seq = store_->LastSeq();
  scratch_.body.clear();
  Status st = RenderListingBatch(*store_, cursor_.get(), kListingBatchBytes, &scratch_.body);
  if (!st.ok()) return StoreError(st);
  Reply r;
  r.content_type = q.json ? "application/json" : kTextPlain;
  r.body = scratch_.body;
  r.x_seq = static_cast<int64_t>(seq);
  if (!cursor_->done) r.stream = cursor_.get();
  return r;
}

}  // namespace httpkv::server
