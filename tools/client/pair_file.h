// `httpkv export` / `httpkv import`: the original assignment's DataBase.txt, one
// `key:value` line per pair (SPEC "The original client").
//
// Export pages through the listing (GET /?after=LAST&limit=N as JSON, so that any byte of a
// key or value is read exactly) and writes `key:value\n` per pair in key order. A pair a
// line cannot hold (a key containing ':', a key or value containing CR or LF) is not
// written: it is reported on stderr with its key and the export exits 1 once the rest is
// written. Like paging by hand, the export is not a snapshot: keys written meanwhile
// after the cursor may appear.
//
// Import reads FILE twice. First every line is checked (split at the first ':'; key 1 to
// 1024 bytes without control characters; LF or CRLF line ends); each malformed line is
// reported as "FILE:LINE: reason" and then nothing is loaded (exit 1), so a bad file never
// half-loads. Then one `PUT /kv/{key}` per line goes out pipelined, at most kImportWindow
// in flight. An answer that is not 2xx is reported with its line number, the other lines
// still load, and the import exits 1. If the server closes the connection (e.g. 413 for a
// value over --max-value), the unanswered requests are sent again on a new connection
// (PUT is idempotent).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/client/http_client.h"

namespace httpkv::client {

inline constexpr size_t kExportPage = 256;        // pairs per listing request
inline constexpr size_t kImportWindow = 32;       // PUTs in flight
inline constexpr size_t kMaxReportedLines = 100;  // malformed lines reported one by one

// Splits one line (without its LF; a final CR is dropped) at the first ':'. False with a
// one-line *error if it is not a key:value line SPEC's key rules accept.
bool ParsePairLine(std::string_view line, std::string_view* key, std::string_view* value,
                   std::string* error);

// Appends "key:value\n". False with *error if a line cannot hold the pair exactly.
bool AppendPairLine(std::string_view key, std::string_view value, std::string* out,
                    std::string* error);

// Parses the JSON object of a listing (`{"k":"v",...}`) into pairs, in order.
bool ParseJsonListing(std::string_view body, std::vector<std::pair<std::string, std::string>>* out,
                      std::string* error);

// Exit codes as the CLI: 0 done, 1 some pair or line reported, 3 connection/I/O failure.
int RunExport(HttpClient& client, std::ostream& out, std::ostream& err);

// Opens a new connection for import (the first and after the server closed one).
using Connector = std::function<std::optional<HttpClient>(std::string* error)>;
int RunImport(const Connector& connect, const std::string& path, std::ostream& out,
              std::ostream& err);

}  // namespace httpkv::client
