#include "storage/status.h"

namespace httpkv::storage {

Status::Status(Code code, std::string_view msg)
    : code_(code), msg_(msg.empty() ? nullptr : std::make_unique<std::string>(msg)) {}

std::string_view CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "OK";
    case Status::Code::kNotFound:
      return "NotFound";
    case Status::Code::kPreconditionFailed:
      return "PreconditionFailed";
    case Status::Code::kInvalidArgument:
      return "InvalidArgument";
    case Status::Code::kCorruption:
      return "Corruption";
    case Status::Code::kIOError:
      return "IOError";
    case Status::Code::kNoSpace:
      return "NoSpace";
    case Status::Code::kBusy:
      return "Busy";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  std::string out(CodeName(code_));
  if (msg_) {
    out += ": ";
    out += *msg_;
  }
  return out;
}

}  // namespace httpkv::storage
