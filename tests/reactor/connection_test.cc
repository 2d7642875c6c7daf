// Connection over a real socketpair driven by a real EventLoop thread. The test thread
// plays the peer with blocking I/O, so every wait is on data, never on time.
#include "reactor/connection.h"

#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

namespace httpkv::reactor {
namespace {

// Answers each input byte with `reply_size` bytes of that byte; stops consuming while
// the connection reports back-pressure, like the HTTP handler does.
class ReplyHandler final : public ConnectionHandler {
 public:
  explicit ReplyHandler(size_t reply_size) : reply_size_(reply_size) {}
  void OnData(Connection& c) override {
    while (!c.input().empty() && !c.output_full()) {
      char ch = c.input().peek()[0];
      c.input().Consume(1);
      c.output().Append(std::string(reply_size_, ch));
      ++answered;
      max_output = std::max(max_output.load(), c.output().readable_bytes());
    }
  }
  void OnClose(Connection& c) override {
    ++closes;
    c.loop()->Defer([this] { conn.reset(); });
  }
  std::unique_ptr<Connection> conn;
  std::atomic<int> answered{0};
  std::atomic<int> closes{0};
  std::atomic<size_t> max_output{0};

 private:
  size_t reply_size_;
};

class ConnectionTest : public ::testing::Test {
 protected:
  void Start(size_t reply_size) {
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv_), 0);
    // The peer end is blocking.
    int peer = sv_[1];
    int flags = 0;
    ::ioctl(peer, FIONBIO, &flags);
    handler_ = std::make_unique<ReplyHandler>(reply_size);
    std::promise<void> ready;
    thread_ = std::thread([&] {
      loop_.TakeOwnership();  // this thread sets the loop up and runs it
      handler_->conn = std::make_unique<Connection>(&loop_, sv_[0], handler_.get());
      ASSERT_EQ(handler_->conn->Start(), 0);
      ready.set_value();
      loop_.Run();
    });
    ready.get_future().wait();
  }
  void TearDown() override {
    loop_.Quit();
    if (thread_.joinable()) thread_.join();
    if (sv_[1] >= 0) ::close(sv_[1]);
  }
  std::string ReadExactly(size_t n) {
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::read(sv_[1], out.data() + got, n - got);
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    out.resize(got);
    return out;
  }

  EventLoop loop_;
  int sv_[2] = {-1, -1};
  std::unique_ptr<ReplyHandler> handler_;
  std::thread thread_;
};

TEST_F(ConnectionTest, AnswersInOrder) {
  Start(3);
  ASSERT_EQ(::write(sv_[1], "ab", 2), 2);
  EXPECT_EQ(ReadExactly(6), "aaabbb");
}

TEST_F(ConnectionTest, LargeOutputIsDeliveredCompletelyViaWritability) {
  Start(8 << 20);  // far beyond the kernel socket buffer: needs the EPOLLOUT path
  ASSERT_EQ(::write(sv_[1], "z", 1), 1);
  std::string got = ReadExactly(8 << 20);
  ASSERT_EQ(got.size(), size_t{8 << 20});
  EXPECT_EQ(got.find_first_not_of('z'), std::string::npos);
}

TEST_F(ConnectionTest, BackPressureBoundsOutputForAPeerThatDoesNotRead) {
  const size_t reply = 512 * 1024;
  Start(reply);
  ASSERT_EQ(::write(sv_[1], "0123456789", 10), 10);
  // Only now read: everything arrives, in order, and the server never buffered much.
  std::string got = ReadExactly(10 * reply);
  ASSERT_EQ(got.size(), 10 * reply);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(got[static_cast<size_t>(i) * reply], '0' + i);
  EXPECT_EQ(handler_->answered.load(), 10);
  EXPECT_LT(handler_->max_output.load(), Connection::kOutputHighWater + reply);
}

TEST_F(ConnectionTest, PeerHalfCloseGetsItsAnswerThenEof) {
  Start(2);
  ASSERT_EQ(::write(sv_[1], "q", 1), 1);
  ::shutdown(sv_[1], SHUT_WR);
  EXPECT_EQ(ReadExactly(2), "qq");
  char c;
  EXPECT_EQ(::read(sv_[1], &c, 1), 0);  // server closed after answering
  loop_.Quit();
  thread_.join();
  EXPECT_EQ(handler_->closes.load(), 1);
}

TEST_F(ConnectionTest, PeerResetClosesWithoutCrash) {
  Start(1 << 20);
  ASSERT_EQ(::write(sv_[1], "a", 1), 1);
  ::close(sv_[1]);  // never read the megabyte: the server's send fails with EPIPE
  sv_[1] = -1;
  std::promise<int> closes;
  // Ask the loop thread, after it processed everything, how many closes it saw.
  auto poll_closes = [&](auto&& self) -> void {
    if (handler_->closes.load() == 1) {
      closes.set_value(1);
      return;
    }
    loop_.Post([&, self] { self(self); });
  };
  loop_.Post([&] { poll_closes(poll_closes); });
  EXPECT_EQ(closes.get_future().get(), 1);
}

}  // namespace
}  // namespace httpkv::reactor
