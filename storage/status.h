// Status: the error-as-value type used throughout storage.
//
// An ok Status is one byte of code plus a null pointer: no allocation, cheap to return.
// The message is heap-allocated only on the error path.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace httpkv::storage {

class [[nodiscard]] Status {
 public:
  enum class Code : uint8_t {
    kOk,
    kNotFound,
    kPreconditionFailed,
    kInvalidArgument,
    kCorruption,
    kIOError,
    kNoSpace,
    kBusy,
  };

  Status() = default;
  Status(const Status& other) : code_(other.code_), msg_(CopyMsg(other)) {}
  Status& operator=(const Status& other) {
    if (this != &other) {
      code_ = other.code_;
      msg_ = CopyMsg(other);
    }
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg = {}) { return Status(Code::kNotFound, msg); }
  static Status PreconditionFailed(std::string_view msg = {}) {
    return Status(Code::kPreconditionFailed, msg);
  }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status IOError(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status NoSpace(std::string_view msg) { return Status(Code::kNoSpace, msg); }
  static Status Busy(std::string_view msg) { return Status(Code::kBusy, msg); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  std::string_view message() const { return msg_ ? std::string_view(*msg_) : std::string_view(); }
  // "OK", or "<CodeName>: <message>" (just the code name if the message is empty).
  std::string ToString() const;

 private:
  Status(Code code, std::string_view msg);
  static std::unique_ptr<std::string> CopyMsg(const Status& s) {
    return s.msg_ ? std::make_unique<std::string>(*s.msg_) : nullptr;
  }

  Code code_ = Code::kOk;
  std::unique_ptr<std::string> msg_;
};

std::string_view CodeName(Status::Code code);

}  // namespace httpkv::storage
