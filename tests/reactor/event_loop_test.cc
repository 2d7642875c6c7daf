// EventLoop failure and thread-affinity rules: a loop that cannot run, or a loop-thread
// method called from elsewhere, ends the process with one "httpkv: panic:" line
// (reactor/panic.h). Death tests run the statement in a child process.
#include "reactor/event_loop.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <future>
#include <thread>

#include "reactor/connection.h"
#include "reactor/listener.h"

namespace httpkv::reactor {
namespace {

int RefusingFactory(std::unique_ptr<Poller>*) {
  return -EMFILE;
}

// Registers everything, reports nothing and then fails to wait (as epoll_wait on a
// closed descriptor would).
class BrokenWaitPoller final : public Poller {
 public:
  int Add(int, uint32_t, void*) override { return 0; }
  int Modify(int, uint32_t, void*) override { return 0; }
  int Remove(int) override { return 0; }
  int Wait(int, std::span<PollEvent>) override { return -EBADF; }
  const char* backend() const override { return "broken"; }
};

int BrokenWaitFactory(std::unique_ptr<Poller>* out) {
  *out = std::make_unique<BrokenWaitPoller>();
  return 0;
}

class NullHandler final : public ConnectionHandler {
 public:
  void OnData(Connection&) override {}
  void OnClose(Connection&) override {}
};

// Runs `loop` on a new thread and returns once it is inside Run().
std::thread RunningLoop(EventLoop& loop) {
  std::promise<void> running;
  auto started = running.get_future();
  std::thread t([&loop] { loop.Run(); });
  loop.Post([&running] { running.set_value(); });
  started.wait();
  return t;
}

TEST(EventLoopDeathTest, PollerThatCannotBeCreatedPanics) {
  EXPECT_DEATH(EventLoop loop(RefusingFactory),
               "^httpkv: panic: cannot create the event loop's poller: Too many open files\n");
}

TEST(EventLoopDeathTest, FailingWaitPanics) {
  EXPECT_DEATH(
      {
        EventLoop loop(BrokenWaitFactory);
        loop.Run();
      },
      "httpkv: panic: broken wait failed: Bad file descriptor");
}

TEST(EventLoopDeathTest, TimerFromAnotherThreadWhileRunningPanics) {
  EXPECT_DEATH(
      {
        EventLoop loop;
        std::thread t = RunningLoop(loop);
        loop.RunAfter(std::chrono::seconds(1), [] {});  // not the loop's thread
        t.join();
      },
      "httpkv: panic: .*RunAfter.* called off its event loop's thread");
}

TEST(EventLoopDeathTest, ConnectionCloseFromAnotherThreadPanics) {
  EXPECT_DEATH(
      {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) std::abort();
        EventLoop loop;
        NullHandler handler;
        Connection conn(&loop, sv[0], &handler);
        if (conn.Start() != 0) std::abort();
        std::thread t = RunningLoop(loop);
        conn.Close();
        t.join();
      },
      "httpkv: panic: .*Close.* called off its event loop's thread");
}

TEST(EventLoopDeathTest, ListenerStopFromAnotherThreadPanics) {
  EXPECT_DEATH(
      {
        std::string error;
        auto addr = InetAddress::Parse("127.0.0.1:0", &error);
        EventLoop loop;
        Listener listener(&loop, Listener::OpenSocket(*addr, false, &error),
                          [](int fd) { ::close(fd); });
        if (listener.Start() != 0) std::abort();
        std::thread t = RunningLoop(loop);
        listener.Stop();
        t.join();
      },
      "httpkv: panic: .*Stop.* called off its event loop's thread");
}

// Before Run() and after it returns, no thread runs the loop: it belongs to its owner (the
// thread that built it), and only to it; another thread must Post (issue 21: a SIGHUP reload
// before a worker's Run() once assigned its TLS context from the main thread).
TEST(EventLoop, UnboundLoopBelongsToItsOwnerOnly) {
  EventLoop loop;
  EXPECT_TRUE(loop.IsInLoopThread());
  std::thread other([&] { EXPECT_FALSE(loop.IsInLoopThread()); });
  other.join();
  loop.RunAfter(std::chrono::milliseconds(1), [&loop] { loop.Quit(); });
  std::thread runner([&] { loop.Run(); });  // the timer set up by the owner ends it
  runner.join();
  EXPECT_TRUE(loop.IsInLoopThread());  // the owner (not the runner) tears it down
  std::thread teardown([&] { EXPECT_FALSE(loop.IsInLoopThread()); });
  teardown.join();
}

TEST(EventLoop, SetUpOffTheOwnersThreadPanics) {
  EXPECT_DEATH(
      {
        EventLoop loop;
        std::thread setup([&] { loop.RunAfter(std::chrono::milliseconds(1), [] {}); });
        setup.join();
      },
      "httpkv: panic: .*RunAfter.* called off its event loop's thread");
}

TEST(EventLoop, AThreadThatTakesOwnershipSetsItUpAndRunsIt) {
  EventLoop loop;
  std::thread worker([&] {
    loop.TakeOwnership();
    EXPECT_TRUE(loop.IsInLoopThread());
    loop.RunAfter(std::chrono::milliseconds(1), [&loop] { loop.Quit(); });
    loop.Run();
  });
  worker.join();
  EXPECT_FALSE(loop.IsInLoopThread());  // the builder gave it away
}

TEST(EventLoop, IsInLoopThreadOnlyOnTheRunningThread) {
  EventLoop loop;
  std::thread t = RunningLoop(loop);
  EXPECT_FALSE(loop.IsInLoopThread());
  std::promise<bool> inside;
  loop.Post([&] { inside.set_value(loop.IsInLoopThread()); });
  EXPECT_TRUE(inside.get_future().get());
  loop.Quit();
  t.join();
}

}  // namespace
}  // namespace httpkv::reactor
