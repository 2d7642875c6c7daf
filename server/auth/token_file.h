// The --auth-file format (SPEC "Security"), parsed strictly:
//
//   # comment (a field starting with '#' begins a comment up to the end of the line)
//   TOKEN SCOPE [NAME]
//
// Fields are separated by spaces or tabs (a trailing CR is ignored). TOKEN is RFC 6750
// token68 (ALPHA DIGIT - . _ ~ + / then optional '=' padding), 1..256 bytes, unique in
// the file. SCOPE is read, write or admin. NAME (optional) names the token in logs:
// 1..64 visible ASCII characters. Blank lines are fine; anything else is an error
// naming the line, and a file with no token at all is an error too (it would lock every
// client out). Errors never quote a token.
#pragma once

#include <string>
#include <string_view>

#include "server/auth/token_set.h"

namespace httpkv::server {

// Parses the text of a token file. False with *error = "line N: reason".
bool ParseTokenFile(std::string_view text, TokenSet* out, std::string* error);

// Reads and parses `path`. False with *error = "PATH: reason" or "PATH line N: reason".
// *warning is set (else cleared) when the file is readable or writable by other users,
// like ssh does for keys: the server still starts.
bool LoadTokenFile(const std::string& path, TokenSet* out, std::string* error,
                   std::string* warning);

// RFC 6750 2.1 b64token / RFC 9110 token68.
bool IsToken68(std::string_view s);

}  // namespace httpkv::server
