// `httpkv scenario`: the seed assignment's eight requests on one keep-alive connection,
// each answer compared with the status SPEC gives for it.
#pragma once

#include <cstddef>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "tools/client/http_client.h"

namespace httpkv::client {

struct ScenarioStep {
  std::string_view method;
  std::string_view target;
  std::string_view body;  // empty: no body sent
  int expected;           // SPEC's status
};

// The eight steps, in order.
std::span<const ScenarioStep> SeedSteps();
// Keys `--reset` deletes first (every key the steps create), so a replay starts clean.
std::span<const std::string_view> ResetKeys();

ClientRequest StepRequest(const ScenarioStep& step);
// GET / answers the listing, shown as a list like the original printed Python lists.
bool IsListing(const ScenarioStep& step);

// Lines of `body` (CR-LF or LF; a final line ending does not start another line) as
// ["a", "b"]; '"', '\' and control bytes are escaped.
std::string RenderLines(std::string_view body);
// What follows the status on a step line: "" for an empty body; the list for a listing
// or a multi-line body; otherwise "(first line)".
std::string RenderBody(std::string_view body, bool listing);

// "[2] POST /create 1:test1 -> 201 Created (created /kv/1)", plus " [expected 201]" when
// the status differs from SPEC. `number` is 1-based.
std::string FormatStepLine(size_t number, const ScenarioStep& step, const ClientResponse& resp);

struct ScenarioVerdict {
  size_t mismatches = 0;     // steps answered (or left unanswered) otherwise than SPEC says
  bool needs_reset = false;  // a create answered 409: the store already held seed keys
  bool ok() const { return mismatches == 0; }
};

// `statuses[i]` is the answer to step i; missing trailing steps count as mismatches.
ScenarioVerdict EvaluateScenario(std::span<const int> statuses);
// "scenario: 8/8 steps answered as SPEC says" or "scenario: N of 8 steps differ from SPEC".
std::string SummaryLine(const ScenarioVerdict& verdict);

// Runs the walk-through on `client` (first the reset deletes when `reset`), writing one
// line per step and the summary to `out`, hints and errors to `err`. Returns the exit
// code: 0 all as SPEC says, 1 some step differs, 3 connection/protocol failure.
int RunScenario(HttpClient& client, bool reset, std::ostream& out, std::ostream& err);

}  // namespace httpkv::client
