#include "reactor/buffer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "reactor/buffer_pool.h"

namespace httpkv::reactor {
namespace {

TEST(Buffer, StartsWithoutStorage) {
  Buffer b;
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_TRUE(b.empty());
}

TEST(Buffer, AppendConsumeKeepsOrder) {
  Buffer b;
  b.Append("hello ");
  b.Append("world");
  EXPECT_EQ(b.view(), "hello world");
  b.Consume(6);
  EXPECT_EQ(b.view(), "world");
  b.Consume(5);
  EXPECT_TRUE(b.empty());
}

TEST(Buffer, AppendDecimal) {
  Buffer b;
  b.AppendDecimal(0);
  b.Append(' ');
  b.AppendDecimal(18446744073709551615ull);
  EXPECT_EQ(b.view(), "0 18446744073709551615");
}

TEST(Buffer, SteadyStateReusesStorage) {
  Buffer b;
  b.Append(std::string(100, 'x'));
  const size_t cap = b.capacity();
  for (int i = 0; i < 10000; ++i) {
    b.Append(std::string_view("0123456789", 10));
    b.Consume(10);
  }
  EXPECT_EQ(b.capacity(), cap);
  EXPECT_EQ(b.readable_bytes(), 100u);
}

TEST(Buffer, GrowsPastCapacityAndKeepsBytes) {
  Buffer b;
  std::string big;
  for (int i = 0; i < 100000; ++i) big.push_back(static_cast<char>('a' + i % 26));
  b.Append(big.substr(0, 10));
  b.Consume(3);
  b.Append(big.substr(10));
  EXPECT_EQ(b.view(), big.substr(3));
}

TEST(Buffer, ReadFromFd) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_EQ(::write(p[1], "abc", 3), 3);
  Buffer b;
  EXPECT_EQ(b.ReadFromFd(p[0], 4096), 3);
  EXPECT_EQ(b.view(), "abc");
  EXPECT_GE(b.writable_bytes(), 4093u);
  ::close(p[0]);
  ::close(p[1]);
}

TEST(Buffer, ReadFromFdReportsNegativeErrno) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_EQ(::fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
  Buffer b;
  EXPECT_EQ(b.ReadFromFd(p[0], 64), -EAGAIN);  // empty non-blocking pipe
  EXPECT_TRUE(b.empty());
  ::close(p[1]);
  EXPECT_EQ(b.ReadFromFd(p[0], 64), 0);  // EOF
  ::close(p[0]);
  EXPECT_EQ(b.ReadFromFd(p[0], 64), -EBADF);
}

TEST(BufferPool, LendsReturnedStorageAndStaysBounded) {
  BufferPool pool;
  Buffer a;
  a.Append("hello");
  const size_t cap = a.capacity();
  a.ConsumeAll();
  pool.Return(&a);
  EXPECT_EQ(a.capacity(), 0u);  // the buffer owns nothing after
  EXPECT_EQ(pool.spares(), 1u);
  Buffer b;
  pool.Lend(&b);
  EXPECT_EQ(b.capacity(), cap);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(pool.spares(), 0u);
  Buffer big;
  big.EnsureWritable(BufferPool::kMaxBytes + 1);
  pool.Return(&big);  // too large to keep: freed
  EXPECT_EQ(big.capacity(), 0u);
  EXPECT_EQ(pool.spares(), 0u);
  for (size_t i = 0; i < BufferPool::kMaxBuffers + 5; ++i) {
    Buffer x;
    x.EnsureWritable(16);
    pool.Return(&x);
  }
  EXPECT_EQ(pool.spares(), BufferPool::kMaxBuffers);
}

}  // namespace
}  // namespace httpkv::reactor
