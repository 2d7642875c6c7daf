// Percent-encoding for request paths and Location headers (RFC 3986 2.1).
#pragma once

#include <string>
#include <string_view>

#include "http/request.h"

namespace httpkv::http {

// Decodes %XX escapes into *out (cleared first; its capacity is reused). '+' stays '+'
// (form encoding is not URI encoding). kComplete, or 400 on a bad or truncated escape.
ParseResult PercentDecode(std::string_view in, std::string* out);

// Replaces *out with `in` with every byte outside unreserved, sub-delims,
// ':' and '@' (pchar, RFC 3986 3.3) encoded as %XX (uppercase), so '/' and '?' are escaped
// and the result is a single path segment.
void PercentEncodePath(std::string_view in, std::string* out);

}  // namespace httpkv::http
