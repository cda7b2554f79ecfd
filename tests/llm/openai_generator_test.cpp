// The OpenAI-compatible generator over real loopback sockets, against
// TestPeer: a TEST DOUBLE of a /v1/chat/completions server that each test
// scripts to behave or to misbehave on purpose (slow, 500, 429 with
// Retry-After, not JSON, output that ignores the schema, down for a while).
#include "llm/openai/openai_generator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "test_peer.h"

namespace scribepod::llm {
namespace {

using nlohmann::json;
using scribepod::testing::ScriptedResponse;
using scribepod::testing::TestPeer;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr const char* kKey = "sk-llm-test-0123456789";

// The thought schema the mind sends (a subset is enough for the wire).
constexpr const char* kThoughtSchema = R"({
  "type": "object",
  "properties": {"intent": {"type": "string"}, "response": {"type": "string"}},
  "required": ["intent", "response"], "additionalProperties": false})";

std::string completion(const std::string& content, const std::string& finish = "stop") {
  return json{{"id", "chatcmpl-test"},
              {"object", "chat.completion"},
              {"model", "served-model-v2"},
              {"choices",
               {{{"index", 0},
                 {"finish_reason", finish},
                 {"message", {{"role", "assistant"}, {"content", content}}}}}},
              {"usage", {{"prompt_tokens", 52}, {"completion_tokens", 17}}}}
      .dump();
}

ScriptedResponse ok_reply(const std::string& content) {
  return {.status = 200,
          .headers = {{"Content-Type", "application/json"}},
          .body = completion(content)};
}

OpenAiParams params_for(const std::string& url) {
  OpenAiParams p = OpenAiParams::default_params();
  p.base_url = url;
  p.api_key = kKey;
  p.model = "thought-model";
  p.timeouts.total_timeout = milliseconds(5000);
  p.retry.base_delay = milliseconds(20);
  p.retry.max_delay = milliseconds(2000);
  return p;
}

std::unique_ptr<OpenAiGenerator> make(const OpenAiParams& p) {
  auto g = OpenAiGenerator::create(p);
  EXPECT_TRUE(g.ok()) << g.error().message;
  return std::move(g).value();
}

GenerateRequest thought_request() {
  GenerateRequest r;
  r.messages = {{"system", "You listen to a conversation and think about it."},
                {"user", "person: what time does the market open?"}};
  r.json_schema = kThoughtSchema;
  r.max_tokens = 200;
  r.temperature = 0.2F;
  r.seed = 7;
  return r;
}

const std::string kThought = R"({"intent":"question","response":"It opens at eight."})";

TEST(OpenAiGeneratorTest, WellBehavedAnswerAndWhatThePeerReceived) {
  TestPeer peer;
  peer.push(ok_reply(kThought));
  // The OpenAI SDKs' base URL style ("/v1/") must not double the prefix.
  auto g = make(params_for(peer.url() + "/v1/"));
  EXPECT_EQ(g->name(), "openai");
  EXPECT_EQ(g->describe(), "thought-model at " + peer.url() + " (circuit closed)");

  GenerateRequest request = thought_request();
  std::vector<std::string> pieces;
  request.on_text = [&](std::string_view piece) {
    pieces.emplace_back(piece);
    return true;
  };
  auto out = g->generate(request);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->text, kThought);
  EXPECT_EQ(out->engine, "openai");
  EXPECT_EQ(out->model, "served-model-v2");  // the server's name for what ran
  EXPECT_EQ(out->prompt_tokens, 52);
  EXPECT_EQ(out->completion_tokens, 17);
  EXPECT_FALSE(out->truncated);
  EXPECT_GT(out->latency_ms, 0.0);
  EXPECT_EQ(pieces, std::vector<std::string>{kThought});  // once, whole

  const auto received = peer.requests();
  ASSERT_EQ(received.size(), 1u);
  const auto& r = received[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/v1/chat/completions");
  EXPECT_EQ(r.header("authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(r.header("content-type"), "application/json");
  const json body = json::parse(r.body);
  EXPECT_EQ(body["model"], "thought-model");
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["messages"][1],
            json({{"role", "user"}, {"content", "person: what time does the market open?"}}));
  EXPECT_EQ(body["max_tokens"], 200);
  EXPECT_EQ(body["temperature"].get<double>(), 0.2);
  EXPECT_EQ(body["seed"], 7);
  EXPECT_EQ(
      body["response_format"],
      json({{"type", "json_schema"},
            {"json_schema",
             {{"name", "output"}, {"schema", json::parse(kThoughtSchema)}, {"strict", true}}}}));
}

TEST(OpenAiGeneratorTest, FreeTextWithoutKeyAndTruncationByLength) {
  TestPeer peer;
  peer.push({.status = 200, .body = completion("Once upon a", "length")});
  OpenAiParams p = params_for(peer.url());
  p.api_key.clear();  // llama-server and Ollama need none
  GenerateRequest request;
  request.messages = {{"user", "Tell me a story."}};
  request.max_tokens = 3;
  auto out = make(p)->generate(request);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->text, "Once upon a");
  EXPECT_TRUE(out->truncated);
  const auto r = peer.requests().at(0);
  EXPECT_EQ(r.header("authorization"), "");
  const json body = json::parse(r.body);
  EXPECT_FALSE(body.contains("response_format"));
  EXPECT_FALSE(body.contains("seed"));  // 0 = the server's default
}

TEST(OpenAiGeneratorTest, SlowBackendTimesOutOnEveryAttempt) {
  TestPeer peer;
  peer.set_default({.status = 200, .body = completion(kThought), .delay = milliseconds(3000)});
  OpenAiParams p = params_for(peer.url());
  p.timeouts.total_timeout = milliseconds(300);
  p.retry.max_attempts = 2;
  const auto start = std::chrono::steady_clock::now();
  auto out = make(p)->generate(thought_request());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kUpstreamTimeout);
  EXPECT_EQ(peer.request_count(), 2u);  // a timeout is retryable
  EXPECT_LT(elapsed, milliseconds(2500)) << "must not wait for the slow answer";
}

TEST(OpenAiGeneratorTest, ServerErrorIsRetriedThenSucceeds) {
  TestPeer peer;
  peer.push({.status = 500, .body = R"({"error":{"message":"CUDA out of memory"}})"});
  peer.push(ok_reply(kThought));
  auto out = make(params_for(peer.url()))->generate(thought_request());
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->text, kThought);
  const auto received = peer.requests();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].body, received[1].body);  // the same request, again
}

TEST(OpenAiGeneratorTest, TooManyRequestsHonoursRetryAfter) {
  TestPeer peer;
  peer.push({.status = 429,
             .headers = {{"Retry-After", "1"}},
             .body = R"({"error":{"message":"Rate limit reached"}})"});
  peer.push(ok_reply(kThought));
  OpenAiParams p = params_for(peer.url());
  std::mutex mu;
  std::vector<milliseconds> waits;
  p.retry_hooks.sleep = [&](milliseconds d) {
    {
      std::lock_guard lock(mu);
      waits.push_back(d);
    }
    std::this_thread::sleep_for(d);  // really wait: the peer sees the gap
  };
  auto out = make(p)->generate(thought_request());
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(waits, std::vector<milliseconds>{milliseconds(1000)});  // not the 20 ms backoff
  const auto received = peer.requests();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_GE(received[1].at - received[0].at, milliseconds(1000));
}

TEST(OpenAiGeneratorTest, RetryAfterBeyondMaxDelayFailsFastWithTheAdvice) {
  TestPeer peer;
  peer.push({.status = 429, .headers = {{"Retry-After", "30"}}, .body = "slow down"});
  auto out = make(params_for(peer.url()))->generate(thought_request());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kUnavailable);
  ASSERT_TRUE(out.error().retry_after.has_value());
  EXPECT_EQ(*out.error().retry_after, std::chrono::seconds(30));
  EXPECT_EQ(peer.request_count(), 1u);
}

TEST(OpenAiGeneratorTest, ClientErrorIsNotRetriedAndKeyStaysSecret) {
  TestPeer peer;
  peer.set_default({.status = 401,
                    .body = R"({"error":{"message":"Incorrect API key provided: sk-llm-t***"}})"});
  auto g = make(params_for(peer.url()));
  auto out = g->generate(thought_request());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(out.error().message,
            "backend openai answered 401: Incorrect API key provided: sk-llm-t***");
  EXPECT_EQ(peer.request_count(), 1u);
  EXPECT_THAT(g->describe(), Not(HasSubstr(kKey)));
  std::string detail;
  EXPECT_TRUE(g->ready(detail));  // a 4xx shows the backend is alive
  EXPECT_THAT(detail, Not(HasSubstr(kKey)));
}

TEST(OpenAiGeneratorTest, InvalidJsonOrMissingChoicesIsAClearUpstreamError) {
  TestPeer peer;
  peer.push({.status = 200, .body = "<html>upstream connect error</html>"});
  peer.push({.status = 200, .body = R"({"object":"list","data":[]})"});
  auto g = make(params_for(peer.url()));
  auto first = g->generate(thought_request());
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(first.error().message,
            "backend openai sent an unusable chat completion: reply is not JSON (starts with "
            "\"<html>upstream connect error</html>\")");
  auto second = g->generate(thought_request());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message,
            "backend openai sent an unusable chat completion: reply has no \"choices\" array");
  EXPECT_EQ(peer.request_count(), 2u);  // a 200 is an answer: no retry
}

// Validation is the caller's (the mind's) job: the engine hands back exactly
// what the model wrote, so the caller can repair or reject it knowingly.
TEST(OpenAiGeneratorTest, OutputThatViolatesTheSchemaIsPassedThroughUnchanged) {
  TestPeer peer;
  const std::string violating = "{\"intent\": 42,\n \"mood\": \"sunny\"}  ";  // no response
  peer.push(ok_reply(violating));
  auto out = make(params_for(peer.url()))->generate(thought_request());
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->text, violating);
}

TEST(OpenAiGeneratorTest, UnreachableBackendIsRetriedThenFails) {
  OpenAiParams p = params_for("http://127.0.0.1:" + std::to_string(testing::unused_port()));
  std::vector<milliseconds> waits;
  p.retry_hooks.sleep = [&](milliseconds d) { waits.push_back(d); };
  auto out = make(p)->generate(thought_request());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(waits.size(), 2u);  // three attempts, two backoffs
}

// Three failed calls open the circuit; the fourth is refused without a
// request, and ready() says why and for how long.
std::unique_ptr<OpenAiGenerator> open_circuit(TestPeer& peer) {
  peer.set_default({.status = 500, .body = "internal error"});
  OpenAiParams p = params_for(peer.url());
  p.retry.max_attempts = 1;
  p.breaker.failure_threshold = 3;
  p.breaker.cooldown = milliseconds(1500);
  auto g = make(p);
  for (int i = 0; i < 3; ++i) {
    auto out = g->generate(thought_request());
    EXPECT_FALSE(out.ok());
    EXPECT_EQ(out.error().code, ErrorCode::kUpstreamFailed);
  }
  return g;
}

TEST(OpenAiGeneratorTest, CircuitOpensAfterRepeatedFailuresAndReadySaysSo) {
  TestPeer peer;
  auto g = open_circuit(peer);
  EXPECT_EQ(peer.request_count(), 3u);
  std::string detail;
  EXPECT_FALSE(g->ready(detail));
  EXPECT_THAT(detail, MatchesRegex("thought-model at http://127\\.0\\.0\\.1:[0-9]+: "
                                   "circuit open, retry in [12]s"));
  EXPECT_THAT(g->describe(), HasSubstr("(circuit open)"));

  const auto start = std::chrono::steady_clock::now();
  auto refused = g->generate(thought_request());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(refused.error().message, HasSubstr("circuit open"));
  EXPECT_TRUE(refused.error().retry_after.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(100));
  EXPECT_EQ(peer.request_count(), 3u);  // refused before any request
}

TEST(OpenAiGeneratorTest, RecoversWhenTheBackendReturns) {
  TestPeer peer;
  auto g = open_circuit(peer);
  peer.set_default(ok_reply(kThought));  // the backend is back
  std::this_thread::sleep_for(milliseconds(1600));
  std::string detail;
  EXPECT_TRUE(g->ready(detail)) << detail;  // half-open: the next call probes
  EXPECT_THAT(detail, HasSubstr("(circuit half_open)"));
  auto out = g->generate(thought_request());
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->text, kThought);
  EXPECT_TRUE(g->ready(detail));
  EXPECT_THAT(detail, HasSubstr("(circuit closed)"));
  EXPECT_EQ(peer.request_count(), 4u);
}

TEST(OpenAiGeneratorTest, BoundedConcurrencyFailsBusyAfterQueueTimeout) {
  TestPeer peer;
  peer.set_default({.status = 200, .body = completion(kThought), .delay = milliseconds(800)});
  OpenAiParams p = params_for(peer.url());
  p.max_concurrency = 1;
  p.queue_timeout = milliseconds(100);
  auto g = make(p);
  auto first = std::async(std::launch::async, [&] { return g->generate(thought_request()); });
  while (peer.request_count() == 0) std::this_thread::sleep_for(milliseconds(5));
  auto second = g->generate(thought_request());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(second.error().message, HasSubstr("busy"));
  auto done = first.get();
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(peer.request_count(), 1u);
}

TEST(OpenAiGeneratorTest, RejectsBadConfiguration) {
  OpenAiParams p = OpenAiParams::default_params();
  // No built-in backend URL: it always comes from configuration.
  auto no_url = OpenAiGenerator::create(p);
  ASSERT_FALSE(no_url.ok());
  EXPECT_EQ(no_url.error().code, ErrorCode::kInvalidConfig);
  p.base_url = "api.openai.com";
  auto bad_url = OpenAiGenerator::create(p);
  ASSERT_FALSE(bad_url.ok());
  EXPECT_EQ(bad_url.error().code, ErrorCode::kInvalidConfig);
  p = OpenAiParams::default_params();
  p.model.clear();
  EXPECT_FALSE(OpenAiGenerator::create(p).ok());
  p = OpenAiParams::default_params();
  p.retry.max_attempts = 0;
  EXPECT_FALSE(OpenAiGenerator::create(p).ok());
  p = OpenAiParams::default_params();
  p.max_concurrency = 0;
  EXPECT_FALSE(OpenAiGenerator::create(p).ok());
  p = OpenAiParams::default_params();
  p.base_url = "ftp://example.com";
  EXPECT_FALSE(make_openai_generator(p).ok());
  p.base_url = "http://example.com/v1/";
  EXPECT_TRUE(make_openai_generator(p).ok());
}

}  // namespace
}  // namespace scribepod::llm
