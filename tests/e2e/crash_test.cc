// Crash test (issue 5): the real server with --fsync always under concurrent pipelining
// writers is kill -9ed at random moments, restarted, and every acknowledged write is
// checked. Small segments make the log roll over so hints and compaction run meanwhile.
//
// Environment: HTTPKV_CRASH_CYCLES (default 8), HTTPKV_CRASH_SEED (default below).
//
// The model. Every write (PUT or DELETE) records a global "ticket" taken just before its
// bytes were sent and, if its 2xx answer was fully read, one taken just after (acked);
// otherwise it is in doubt. After a restart a key may hold the state left by write w (or
// the state known from the previous restart, "baseline") only if no acknowledged write to
// that key must have been applied after w:
//   * x from the same connection, sent after w (a connection's requests apply in order);
//   * x sent after w's answer was received (ack ticket of w < send ticket of x);
//   * any acknowledged x of this cycle when w is the baseline.
// In-doubt writes may or may not be there, but per connection what survived must be a
// prefix of what was sent (checked where visible: unique keys, distinct values). Keys that
// were never written must not appear. The observed state becomes the next baseline.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/server_process.h"
#include "tests/e2e/test_server.h"

namespace httpkv::e2e {
namespace {

constexpr uint64_t kDefaultSeed = 0x5eed2024c4a54ull;
constexpr int kDefaultCycles = 8;
constexpr int kWriters = 4;
constexpr int kHotKeys = 4;
constexpr uint64_t kInDoubt = UINT64_MAX;

using State = std::optional<std::string>;  // nullopt: absent

uint64_t EnvU64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return def;
  return std::strtoull(v, nullptr, 0);
}

enum class Kind { kPut, kDelete, kCompact };

struct Op {
  Kind kind = Kind::kPut;
  std::string key;  // without the /kv/ prefix
  std::string value;
  int thread = 0;
  size_t idx = 0;  // position in its connection's send order
  uint64_t sent = 0;
  uint64_t acked = kInDoubt;
  int status = 0;
  State result() const { return kind == Kind::kDelete ? State() : State(value); }
};

std::string Show(const State& s) {
  if (!s) return "<absent>";
  std::string v = s->substr(0, 40);
  return "\"" + v + (s->size() > 40 ? "...\" (" + std::to_string(s->size()) + " bytes)" : "\"");
}

std::string Describe(const Op& op) {
  std::ostringstream o;
  o << "  t" << op.thread << "#" << op.idx << " "
    << (op.kind == Kind::kDelete ? "DELETE" : "PUT " + Show(op.value)) << " sent@" << op.sent;
  if (op.acked == kInDoubt) {
    o << " IN DOUBT";
  } else {
    o << " acked@" << op.acked << " (" << op.status << ")";
  }
  return o.str();
}

// Shared between the writers and the main thread of one cycle.
struct CycleShared {
  std::atomic<uint64_t> ticket{1};
  std::atomic<uint64_t> acked_writes{0};
  uint64_t kill_after = 0;
  std::mutex mu;
  std::condition_variable cv;
  int writers_done = 0;
};

struct WriterResult {
  std::vector<Op> ops;
  std::vector<std::string> errors;
};

// One keep-alive connection (connected before any writer starts, so that none can miss
// the server) sending a window of pipelined writes until the server dies.
void RunWriter(RawClient* client, int t, int cycle, uint64_t seed, CycleShared* sh,
               WriterResult* out) {
  std::mt19937_64 rng(seed * 1000003u + static_cast<uint64_t>(cycle) * 101u +
                      static_cast<uint64_t>(t));
  RawClient& c = *client;
  const size_t depth = 1 + rng() % 4;
  std::deque<size_t> inflight;
  std::vector<std::string> deletable;  // own unique keys acked-put this cycle, not deleted
  uint64_t seq = 0, hot_counter = 0;
  auto filler = [&](std::string* v, size_t n, size_t salt) {
    for (size_t i = 0; i < n; ++i) v->push_back(static_cast<char>('a' + (i * 7 + salt) % 26));
  };
  for (;;) {
    while (inflight.size() < depth) {
      Op op;
      op.thread = t;
      op.idx = out->ops.size();
      const uint64_t roll = rng() % 100;
      std::string req;
      if (t == 0 && op.idx % 41 == 40) {
        op.kind = Kind::kCompact;
        req = BuildRequest("POST", "/admin/compact");
      } else if (roll < 8 && !deletable.empty()) {
        size_t i = rng() % deletable.size();
        op.kind = Kind::kDelete;
        op.key = deletable[i];
        deletable.erase(deletable.begin() + static_cast<std::ptrdiff_t>(i));
      } else if (roll < 11) {
        op.kind = Kind::kDelete;
        op.key = "hot" + std::to_string(rng() % kHotKeys);
      } else if (roll < 40) {
        op.key = "hot" + std::to_string(rng() % kHotKeys);
        op.value = "c" + std::to_string(cycle) + "-t" + std::to_string(t) + "-h" +
                   std::to_string(++hot_counter) + "-o" + std::to_string(op.idx) + "-";
        filler(&op.value, 50 + rng() % 4000, op.idx + static_cast<size_t>(t));
      } else {
        op.key = "w" + std::to_string(t) + "-" + std::to_string(seq);
        op.value = "c" + std::to_string(cycle) + "-t" + std::to_string(t) + "-s" +
                   std::to_string(seq) + "-";
        ++seq;
        filler(&op.value, 100 + rng() % 12000, op.idx + static_cast<size_t>(t));
      }
      if (req.empty()) {
        req = op.kind == Kind::kPut ? BuildRequest("PUT", "/kv/" + op.key, op.value)
                                    : BuildRequest("DELETE", "/kv/" + op.key);
      }
      op.sent = sh->ticket.fetch_add(1);
      out->ops.push_back(std::move(op));
      inflight.push_back(out->ops.size() - 1);
      c.Send(req);
    }
    Reply r = c.Read();
    if (r.status == 0) break;  // EOF or reset: the server is gone; the rest is in doubt
    Op& op = out->ops[inflight.front()];
    inflight.pop_front();
    op.status = r.status;
    bool ok = op.kind == Kind::kCompact  ? r.status == 202
              : op.kind == Kind::kDelete ? r.status == 204 || r.status == 404
                                         : r.status == 201 || r.status == 204;
    if (!ok) {
      out->errors.push_back("unexpected answer " + std::to_string(r.status) + " to" + Describe(op) +
                            " key " + op.key + ": " + r.body.substr(0, 200));
      break;  // its fate is unknown: keep it in doubt
    }
    if (op.kind == Kind::kCompact) continue;
    op.acked = sh->ticket.fetch_add(1);
    if (op.kind == Kind::kPut && op.key[0] == 'w') deletable.push_back(op.key);
    if (sh->acked_writes.fetch_add(1) + 1 == sh->kill_after) {
      std::lock_guard<std::mutex> lk(sh->mu);
      sh->cv.notify_all();
    }
  }
  // Requests without an answer stay in doubt (acked == kInDoubt).
  std::lock_guard<std::mutex> lk(sh->mu);
  ++sh->writers_done;
  sh->cv.notify_all();
}

// Reads every key in `keys` over one pipelined connection.
bool ReadAll(uint16_t port, const std::vector<std::string>& keys, std::map<std::string, State>* out,
             std::string* error) {
  RawClient c(port);
  const size_t window = 32;
  size_t next = 0;
  for (size_t done = 0; done < keys.size(); ++done) {
    while (next < keys.size() && next < done + window)
      c.Send(BuildRequest("GET", "/kv/" + keys[next++]));
    Reply r = c.Read();
    if (r.status == 200) {
      (*out)[keys[done]] = r.body;
    } else if (r.status == 404) {
      (*out)[keys[done]] = std::nullopt;
    } else {
      *error = "GET /kv/" + keys[done] + " answered " + std::to_string(r.status);
      return false;
    }
  }
  return true;
}

// Checks the restarted server against the baseline plus the last cycle's writes, then makes
// the observed state the new baseline.
void Verify(uint16_t port, int cycle, const std::vector<WriterResult>& writers,
            std::map<std::string, State>* baseline) {
  std::map<std::string, std::vector<const Op*>> by_key;
  for (const auto& w : writers) {
    for (const Op& op : w.ops) {
      if (op.kind != Kind::kCompact) by_key[op.key].push_back(&op);
    }
  }
  std::set<std::string> universe;
  for (const auto& [k, v] : *baseline) universe.insert(k);
  for (const auto& [k, v] : by_key) universe.insert(k);
  std::vector<std::string> keys(universe.begin(), universe.end());
  std::map<std::string, State> seen;
  std::string error;
  ASSERT_TRUE(ReadAll(port, keys, &seen, &error)) << error;

  int failures = 0;
  auto base_of = [&](const std::string& k) {
    auto it = baseline->find(k);
    return it == baseline->end() ? State() : it->second;
  };
  for (const std::string& k : keys) {
    const State& got = seen[k];
    const State base = base_of(k);
    const auto& ops = by_key[k];
    auto must_follow = [](const Op* w, const Op* x) {  // x applied after w?
      if (x->acked == kInDoubt) return false;
      if (w == nullptr) return true;  // the baseline precedes this cycle's writes
      return (x->thread == w->thread && x->idx > w->idx) || w->acked < x->sent;
    };
    auto possible = [&](const Op* w) {
      for (const Op* x : ops) {
        if (x != w && must_follow(w, x)) return false;
      }
      return true;
    };
    bool allowed = got == base && possible(nullptr);
    for (const Op* w : ops) allowed = allowed || (got == w->result() && possible(w));
    if (!allowed && ++failures <= 10) {
      std::ostringstream o;
      o << "cycle " << cycle << ": key " << k << " read back " << Show(got)
        << " after kill -9; state before the cycle " << Show(base) << "; writes this cycle:";
      for (const Op* w : ops) o << "\n" << Describe(*w);
      ADD_FAILURE() << o.str();
    }
  }
  // Per connection, the surviving in-doubt writes form a prefix of what was sent.
  for (const auto& w : writers) {
    std::optional<size_t> first_lost;
    for (const Op& op : w.ops) {
      if (op.acked != kInDoubt || op.kind == Kind::kCompact) continue;
      // Values are unique, so seeing one proves its PUT applied. A unique key gets no later
      // write once a write to it is in doubt, so there the outcome is always visible.
      const bool unique_key = op.key[0] == 'w';
      if (op.kind == Kind::kDelete && !unique_key) continue;  // hot-key DELETE: not visible
      bool applied = seen[op.key] == op.result();
      bool lost = !applied && unique_key;
      if (lost && !first_lost) first_lost = op.idx;
      if (applied && first_lost && ++failures <= 10) {
        ADD_FAILURE() << "cycle " << cycle << ": writer " << op.thread << " request #" << op.idx
                      << " (key " << op.key << ") survived but earlier request #" << *first_lost
                      << " (key " << w.ops[*first_lost].key << ") on the same connection did not";
      }
    }
  }
  // Unique keys (one writer each): a PUT says 201 exactly when the key was absent.
  for (const auto& [k, ops] : by_key) {
    if (k[0] != 'w') continue;
    State cur = base_of(k);
    for (const Op* op : ops) {
      if (op->acked == kInDoubt) break;
      if (op->kind == Kind::kPut) {
        int want = cur ? 204 : 201;
        EXPECT_EQ(op->status, want) << "cycle " << cycle << ": PUT /kv/" << k;
      } else {
        EXPECT_EQ(op->status, cur ? 204 : 404) << "cycle " << cycle << ": DELETE /kv/" << k;
      }
      cur = op->result();
    }
  }
  // The listing holds exactly the present keys with the same values: nothing resurrected.
  Reply list = Request(port, "GET", "/");
  ASSERT_EQ(list.status, 200);
  std::map<std::string, std::string> listed;
  std::istringstream lines(list.body);
  for (std::string line; std::getline(lines, line);) {
    size_t colon = line.find(':');
    ASSERT_NE(colon, std::string::npos) << line;
    listed[line.substr(0, colon)] = line.substr(colon + 1);
  }
  std::map<std::string, std::string> present;
  for (const auto& [k, v] : seen) {
    if (v) present[k] = *v;
  }
  if (listed != present) {
    for (const auto& [k, v] : listed) {
      auto it = present.find(k);
      if (it == present.end()) {
        ADD_FAILURE() << "cycle " << cycle << ": listing shows key " << k
                      << " that GET says is absent or that was never written";
      } else if (it->second != v) {
        ADD_FAILURE() << "cycle " << cycle << ": listing value of " << k << " differs from GET";
      }
    }
    for (const auto& [k, v] : present) {
      if (!listed.count(k)) ADD_FAILURE() << "cycle " << cycle << ": listing misses key " << k;
    }
  }
  *baseline = std::move(seen);
}

std::vector<std::string> ServerArgs(const std::string& data_dir) {
  return {"--listen", "127.0.0.1:0", "--data-dir", data_dir,        "--fsync",
          "always",   "--threads",   "2",          "--segment-mib", "1"};
}

TEST(Crash, KillNineUnderConcurrentWritersKeepsEveryAcknowledgedWrite) {
  const uint64_t seed = EnvU64("HTTPKV_CRASH_SEED", kDefaultSeed);
  const int cycles = static_cast<int>(EnvU64("HTTPKV_CRASH_CYCLES", kDefaultCycles));
  std::ostringstream repro;
  repro << "reproduce with HTTPKV_CRASH_SEED=" << seed << " HTTPKV_CRASH_CYCLES=" << cycles;
  SCOPED_TRACE(repro.str());
  std::mt19937_64 rng(seed);
  TempDir dir;
  const std::string data = dir.path() + "/data";
  std::map<std::string, State> baseline;
  std::vector<WriterResult> last;
  uint64_t total_acked = 0, total_in_doubt = 0;

  for (int cycle = 0; cycle <= cycles; ++cycle) {
    ServerProcess p;
    ASSERT_TRUE(p.Start(ServerArgs(data))) << "cycle " << cycle << "\n" << p.log();
    Verify(p.port(), cycle - 1, last, &baseline);
    if (::testing::Test::HasFailure()) return;
    if (cycle == cycles) {
      p.Signal(SIGTERM);
      ASSERT_EQ(p.Wait(), 0) << p.log();
      break;
    }
    CycleShared sh;
    sh.kill_after = 50 + rng() % 351;
    std::vector<WriterResult> results(kWriters);
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int t = 0; t < kWriters; ++t) {
      clients.push_back(std::make_unique<RawClient>(p.port()));
      ASSERT_TRUE(clients.back()->connected()) << "cycle " << cycle;
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < kWriters; ++t) {
      threads.emplace_back(RunWriter, clients[t].get(), t, cycle, seed, &sh, &results[t]);
    }
    bool reached;
    {
      std::unique_lock<std::mutex> lk(sh.mu);
      sh.cv.wait(lk, [&] {
        return sh.acked_writes.load() >= sh.kill_after || sh.writers_done == kWriters;
      });
      reached = sh.acked_writes.load() >= sh.kill_after;
    }
    p.Signal(SIGKILL);
    for (auto& th : threads) th.join();
    EXPECT_EQ(p.Wait(), 128 + SIGKILL) << p.log();
    EXPECT_TRUE(reached) << "cycle " << cycle << ": writers stopped after "
                         << sh.acked_writes.load() << " acknowledged writes, before the kill at "
                         << sh.kill_after << "\n"
                         << p.log();
    for (const auto& r : results) {
      for (const auto& e : r.errors) ADD_FAILURE() << "cycle " << cycle << ": " << e;
      for (const auto& op : r.ops) {
        if (op.kind == Kind::kCompact) continue;
        (op.acked == kInDoubt ? total_in_doubt : total_acked) += 1;
      }
    }
    if (::testing::Test::HasFailure()) return;
    last = std::move(results);
  }
  std::string check_log;
  EXPECT_EQ(RunServerToExit({"--check", "--data-dir", data}, &check_log), 0) << check_log;
  size_t present = 0;
  for (const auto& [k, v] : baseline) present += v.has_value();
  std::cout << "[crash] seed=" << seed << " cycles=" << cycles << " acked=" << total_acked
            << " in_doubt=" << total_in_doubt << " keys=" << baseline.size()
            << " present=" << present << "\n";
}

}  // namespace
}  // namespace httpkv::e2e
