#include "storage/status.h"

#include <gtest/gtest.h>

namespace httpkv::storage {
namespace {

TEST(StatusTest, OkHasNoMessage) {
  Status s = Status::OK();
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kOk);
  EXPECT_TRUE(s.message().empty());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(sizeof(Status), 2 * sizeof(void*));  // code + pointer: cheap to return
}

TEST(StatusTest, ErrorsCarryCodeAndMessage) {
  EXPECT_EQ(Status::NotFound().code(), Status::Code::kNotFound);
  EXPECT_EQ(Status::NotFound().ToString(), "NotFound");
  EXPECT_EQ(Status::PreconditionFailed("v").code(), Status::Code::kPreconditionFailed);
  EXPECT_EQ(Status::InvalidArgument("bad key").ToString(), "InvalidArgument: bad key");
  EXPECT_EQ(Status::Corruption("x").code(), Status::Code::kCorruption);
  EXPECT_EQ(Status::IOError("x").code(), Status::Code::kIOError);
  EXPECT_EQ(Status::NoSpace("disk full").message(), "disk full");
  EXPECT_EQ(Status::Busy("x").code(), Status::Code::kBusy);
  EXPECT_FALSE(Status::Busy("x").ok());
}

TEST(StatusTest, CopyAndMove) {
  Status a = Status::IOError("boom");
  Status b = a;
  EXPECT_EQ(b.ToString(), "IOError: boom");
  EXPECT_EQ(a.ToString(), "IOError: boom");
  Status c = std::move(a);
  EXPECT_EQ(c.message(), "boom");
  b = Status::OK();
  EXPECT_TRUE(b.ok());
  b = c;
  EXPECT_EQ(b.message(), "boom");
}

}  // namespace
}  // namespace httpkv::storage
