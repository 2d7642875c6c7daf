// The walk-through's pure pieces: steps, request bytes, body rendering, evaluation.
#include "tools/client/scenario.h"

#include <gtest/gtest.h>

#include <vector>

#include "http/request_parser.h"

namespace httpkv::client {
namespace {

TEST(SeedSteps, AreTheOriginalEightWithSpecStatuses) {
  const auto steps = SeedSteps();
  ASSERT_EQ(steps.size(), 8u);
  const std::vector<int> expected{200, 201, 201, 405, 200, 200, 404, 200};
  for (size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(steps[i].expected, expected[i]) << i;
  EXPECT_EQ(steps[0].method, "HEAD");
  EXPECT_EQ(steps[3].method, "PUT");
  EXPECT_EQ(steps[3].target, "/create");
  EXPECT_EQ(steps[6].target, "/ComputerNetwork");
  EXPECT_EQ(steps[6].body, "6:test6");
  EXPECT_TRUE(IsListing(steps[4]));
  EXPECT_TRUE(IsListing(steps[7]));
  EXPECT_FALSE(IsListing(steps[0]));
  EXPECT_EQ(ResetKeys().size(), 4u);
}

TEST(StepRequest, EveryStepParsesBackStrictly) {
  for (const ScenarioStep& step : SeedSteps()) {
    std::string bytes = SerializeRequest(StepRequest(step), "127.0.0.1:8080");
    http::Limits limits;
    http::RequestParser parser(&limits);
    http::Request req;
    const auto r = parser.Parse(std::span<char>(bytes.data(), bytes.size()), &req);
    ASSERT_EQ(r.kind, http::ParseResult::kComplete) << r.reason << "\n" << bytes;
    EXPECT_EQ(r.consumed, bytes.size());
    EXPECT_EQ(req.method_name, step.method);
    EXPECT_EQ(req.target, step.target);
    EXPECT_EQ(req.body, step.body);
    EXPECT_EQ(req.has_content_length, !step.body.empty());
    EXPECT_TRUE(req.keep_alive);
  }
}

TEST(RenderLines, ListsLinesLikeThePythonOriginal) {
  EXPECT_EQ(RenderLines(""), "[]");
  EXPECT_EQ(RenderLines("1:test1\n2:test2\n"), R"(["1:test1", "2:test2"])");
  EXPECT_EQ(RenderLines("a\r\nb"), R"(["a", "b"])");
  EXPECT_EQ(RenderLines("\n"), R"([""])");
  EXPECT_EQ(RenderLines("q\"b\\s\tx\n"), R"(["q\"b\\s\x09x"])");
}

TEST(RenderBody, OneLineInParenthesesListsOtherwise) {
  EXPECT_EQ(RenderBody("", false), "");
  EXPECT_EQ(RenderBody("created /kv/1\n", false), "(created /kv/1)");
  EXPECT_EQ(RenderBody("no newline", false), "(no newline)");
  EXPECT_EQ(RenderBody("two\nlines\n", false), R"(["two", "lines"])");
  EXPECT_EQ(RenderBody("1:test1\n", true), R"(["1:test1"])");
  EXPECT_EQ(RenderBody("", true), "[]");
}

ClientResponse Answer(int status, std::string reason, std::string body) {
  ClientResponse r;
  r.status = status;
  r.reason = std::move(reason);
  r.body = std::move(body);
  return r;
}

TEST(FormatStepLine, MatchesTheDocumentedShape) {
  const auto steps = SeedSteps();
  EXPECT_EQ(FormatStepLine(1, steps[0], Answer(200, "OK", "")), "[1] HEAD / -> 200 OK");
  EXPECT_EQ(FormatStepLine(2, steps[1], Answer(201, "Created", "created /kv/1\n")),
            "[2] POST /create 1:test1 -> 201 Created (created /kv/1)");
  EXPECT_EQ(FormatStepLine(5, steps[4], Answer(200, "OK", "1:test1\n2:test2\n")),
            R"([5] GET / -> 200 OK ["1:test1", "2:test2"])");
  EXPECT_EQ(FormatStepLine(2, steps[1], Answer(409, "Conflict", "key 1 already exists\n")),
            "[2] POST /create 1:test1 -> 409 Conflict (key 1 already exists) [expected 201]");
  EXPECT_EQ(FormatStepLine(4, steps[3], Answer(400, "", "")),
            "[4] PUT /create 3:test3 -> 400 Bad Request [expected 405]");
}

TEST(EvaluateScenario, CountsMismatchesAndSpotsAUsedStore) {
  const std::vector<int> spec{200, 201, 201, 405, 200, 200, 404, 200};
  ScenarioVerdict v = EvaluateScenario(spec);
  EXPECT_TRUE(v.ok());
  EXPECT_FALSE(v.needs_reset);
  EXPECT_EQ(SummaryLine(v), "scenario: 8/8 steps answered as SPEC says");

  v = EvaluateScenario(std::vector<int>{200, 409, 409, 405, 200, 200, 404, 200});
  EXPECT_EQ(v.mismatches, 2u);
  EXPECT_TRUE(v.needs_reset);
  EXPECT_EQ(SummaryLine(v), "scenario: 2 of 8 steps differ from SPEC");

  // The original server's answers: 100 for HEAD, 400 for the wrong routes.
  v = EvaluateScenario(std::vector<int>{100, 201, 201, 400, 200, 200, 400, 200});
  EXPECT_EQ(v.mismatches, 3u);
  EXPECT_FALSE(v.needs_reset);

  v = EvaluateScenario(std::vector<int>{200, 201});  // unanswered steps count as differing
  EXPECT_EQ(v.mismatches, 6u);
}

}  // namespace
}  // namespace httpkv::client
