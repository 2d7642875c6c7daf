// HTTP request methods the server distinguishes.
#pragma once

#include <cstdint>
#include <string_view>

namespace httpkv::http {

// kOther: a syntactically valid method token the server does not implement (answered 501).
enum class Method : uint8_t { kGet, kHead, kPost, kPut, kDelete, kOptions, kOther };

// Method names are case-sensitive (RFC 9110 9.1): "get" is kOther.
constexpr Method MethodFromName(std::string_view name) {
  switch (name.size()) {
    case 3:
      if (name == "GET") return Method::kGet;
      if (name == "PUT") return Method::kPut;
      break;
    case 4:
      if (name == "HEAD") return Method::kHead;
      if (name == "POST") return Method::kPost;
      break;
    case 6:
      if (name == "DELETE") return Method::kDelete;
      break;
    case 7:
      if (name == "OPTIONS") return Method::kOptions;
      break;
    default:
      break;
  }
  return Method::kOther;
}

constexpr std::string_view MethodName(Method m) {
  switch (m) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      break;
  }
  return "OTHER";
}

}  // namespace httpkv::http
