#include "tools/client/scenario.h"

#include <fmt/format.h>

#include <array>
#include <vector>

namespace httpkv::client {
namespace {

constexpr std::array<ScenarioStep, 8> kSteps{{
    {"HEAD", "/", "", 200},
    {"POST", "/create", "1:test1", 201},
    {"POST", "/create", "2:test2", 201},
    {"PUT", "/create", "3:test3", 405},
    {"GET", "/", "", 200},
    {"PUT", "/update", "1:test5", 200},
    {"POST", "/ComputerNetwork", "6:test6", 404},
    {"GET", "/", "", 200},
}};

constexpr std::array<std::string_view, 4> kResetKeys{"1", "2", "3", "6"};

std::vector<std::string_view> SplitLines(std::string_view body) {
  std::vector<std::string_view> lines;
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    body.remove_prefix(nl + 1);
  }
  return lines;
}

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out->push_back('\\');
      out->push_back(ch);
    } else if (c < 0x20 || c == 0x7F) {
      *out += fmt::format("\\x{:02x}", c);
    } else {
      out->push_back(ch);
    }
  }
  out->push_back('"');
}

}  // namespace

std::span<const ScenarioStep> SeedSteps() {
  return kSteps;
}

std::span<const std::string_view> ResetKeys() {
  return kResetKeys;
}

ClientRequest StepRequest(const ScenarioStep& step) {
  if (step.body.empty()) return MakeRequest(step.method, step.target);
  return PairRequest(step.method, step.target, step.body);
}

bool IsListing(const ScenarioStep& step) {
  return step.method == "GET" && step.target == "/";
}

std::string RenderLines(std::string_view body) {
  std::string out = "[";
  const std::vector<std::string_view> lines = SplitLines(body);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += ", ";
    AppendQuoted(lines[i], &out);
  }
  out += "]";
  return out;
}

std::string RenderBody(std::string_view body, bool listing) {
  if (listing) return RenderLines(body);
  if (body.empty()) return {};
  if (SplitLines(body).size() > 1) return RenderLines(body);
  return "(" + std::string(FirstLine(body)) + ")";
}

std::string FormatStepLine(size_t number, const ScenarioStep& step, const ClientResponse& resp) {
  std::string line = fmt::format("[{}] {} {}", number, step.method, step.target);
  if (!step.body.empty()) line += fmt::format(" {}", step.body);
  line += fmt::format(" -> {}", resp.StatusLine());
  const std::string body = RenderBody(resp.body, IsListing(step));
  if (!body.empty()) line += " " + body;
  if (resp.status != step.expected) line += fmt::format(" [expected {}]", step.expected);
  return line;
}

ScenarioVerdict EvaluateScenario(std::span<const int> statuses) {
  ScenarioVerdict v;
  for (size_t i = 0; i < kSteps.size(); ++i) {
    if (i >= statuses.size()) {
      ++v.mismatches;
      continue;
    }
    if (statuses[i] != kSteps[i].expected) ++v.mismatches;
    if (kSteps[i].expected == 201 && statuses[i] == 409) v.needs_reset = true;
  }
  return v;
}

std::string SummaryLine(const ScenarioVerdict& verdict) {
  if (verdict.ok())
    return fmt::format("scenario: {0}/{0} steps answered as SPEC says", kSteps.size());
  return fmt::format("scenario: {} of {} steps differ from SPEC", verdict.mismatches,
                     kSteps.size());
}

namespace {

// The --reset deletes; 204 and 404 both leave the key absent.
bool RunReset(HttpClient& client, std::ostream& out, std::ostream& err) {
  ClientResponse resp;
  std::string error;
  for (const std::string_view key : kResetKeys) {
    const ClientRequest req = DeleteKeyRequest(key);
    if (!client.RoundTrip(req, &resp, &error)) {
      err << "httpkv: " << req.method << " " << req.target << ": " << error << "\n";
      return false;
    }
    out << "[reset] " << req.method << " " << req.target << " -> " << resp.StatusLine()
        << std::endl;
  }
  return true;
}

}  // namespace

int RunScenario(HttpClient& client, bool reset, std::ostream& out, std::ostream& err) {
  if (reset && !RunReset(client, out, err)) return 3;
  std::vector<int> statuses;
  ClientResponse resp;
  std::string error;
  for (size_t i = 0; i < kSteps.size(); ++i) {
    if (!client.RoundTrip(StepRequest(kSteps[i]), &resp, &error)) {
      out.flush();
      err << "httpkv: step " << i + 1 << " (" << kSteps[i].method << " " << kSteps[i].target
          << "): " << error << "\n";
      return 3;
    }
    statuses.push_back(resp.status);
    out << FormatStepLine(i + 1, kSteps[i], resp) << std::endl;  // in step with a -v trace
  }
  const ScenarioVerdict verdict = EvaluateScenario(statuses);
  out << SummaryLine(verdict) << "\n";
  out.flush();
  if (verdict.needs_reset && !reset) {
    err << "scenario: the store already holds the seed keys; replay with --reset\n";
  }
  return verdict.ok() ? 0 : 1;
}

}  // namespace httpkv::client
