// LoopAcks: the poster's side of a change posted to every reactor loop (a SIGHUP reload of
// tokens or of the TLS certificate). Each loop calls its Ack() callback once it has taken the
// change; the poster waits, with a bound, until all have. The count lives in shared state, so
// a loop that acks after the poster gave up touches nothing that is gone.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>

namespace httpkv::server {

class LoopAcks {
 public:
  explicit LoopAcks(size_t loops) : state_(std::make_shared<State>()) { state_->left = loops; }

  // The callback one loop runs (on its own thread) once the change is in force there.
  std::function<void()> Ack() const {
    return [state = state_] {
      std::lock_guard<std::mutex> lock(state->mu);
      if (--state->left == 0) state->cv.notify_all();
    };
  }
  // True once every loop acked; false after `bound` (a loop that is stopped or stuck).
  bool WaitFor(std::chrono::milliseconds bound) const {
    std::unique_lock<std::mutex> lock(state_->mu);
    return state_->cv.wait_for(lock, bound, [this] { return state_->left == 0; });
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    size_t left = 0;
  };
  std::shared_ptr<State> state_;
};

}  // namespace httpkv::server
