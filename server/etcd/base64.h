// Standard base64 (RFC 4648, alphabet with '+' and '/', '=' padding): etcd's JSON gateway
// carries every key and value as base64 text.
#pragma once

#include <string>
#include <string_view>

namespace httpkv::etcd {

std::string Base64Encode(std::string_view bytes);

// Strict: the length must be a multiple of 4, only the standard alphabet, padding only at
// the end (at most two '='), and the unused bits of the last symbol must be zero. Returns
// false (leaving *out unspecified) on anything else.
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace httpkv::etcd
