// Reason phrases for status codes.
#pragma once

#include <string_view>

namespace httpkv::http {

// RFC 9110 reason phrase for `status`; "Unknown" otherwise.
std::string_view ReasonPhrase(int status);

}  // namespace httpkv::http
