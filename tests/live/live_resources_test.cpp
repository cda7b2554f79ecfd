// What a live session costs while it waits, and what it reports about its
// queues: the heap held by an idle stream (the gateway's capacity target is
// at most 64 KiB per idle stream, transport included), and the
// scribepod_queue_depth{stage} gauges the pipeline keeps for its bounded
// queues (audio, recognition, thoughts). Real engines, as in
// live_session_test; the queues are filled by holding the pools or the
// decoders, so the expected depths are exact.
#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <future>
#include <iostream>

#include "live_test_support.h"
#include "telemetry/service_metrics.h"

namespace scribepod::live::testing {
namespace {

double depth(const char* stage) { return metrics::service().queue_depth.with({stage}).value(); }

// Waits until the gauge reads `value`; false on timeout.
bool wait_depth(const char* stage, double value, std::chrono::milliseconds timeout = 60s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (depth(stage) != value) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::size_t heap_in_use() {
  malloc_trim(0);
  return mallinfo2().uordblks;
}

// Quiet background noise (about -60 dBFS), as an open microphone in a quiet
// room sends: not digital silence, which would flatter the buffers.
std::vector<float> room_noise(double seconds, uint32_t seed) {
  std::vector<float> out(static_cast<std::size_t>(seconds * 16000));
  for (float& v : out) {
    seed = seed * 1664525U + 1013904223U;
    v = (static_cast<float>(seed >> 8U) / 16777216.0F - 0.5F) * 0.003F;
  }
  return out;
}

// Holds every thread of a pool until release() (or destruction).
class PoolBlocker {
 public:
  PoolBlocker(boost::asio::thread_pool& pool, int threads) {
    for (int i = 0; i < threads; ++i) {
      auto started = std::make_shared<std::promise<void>>();
      started_.push_back(started->get_future());
      boost::asio::post(pool, [started, gate = gate_] {
        started->set_value();
        gate->wait();
      });
    }
    for (auto& f : started_) f.wait();
  }
  void release() {
    if (!released_) release_.set_value();
    released_ = true;
  }
  ~PoolBlocker() { release(); }

 private:
  std::promise<void> release_;
  std::shared_future<void> gate_storage_ = release_.get_future().share();
  std::shared_ptr<std::shared_future<void>> gate_ =
      std::make_shared<std::shared_future<void>>(gate_storage_);
  std::vector<std::future<void>> started_;
  bool released_ = false;
};

TEST(LiveResources, AnIdleStreamHoldsLittleMemory) {
  constexpr int kStreams = 200;
  Rig rig;
  // The transport's share (the events it queues) is measured by
  // bench/live_capacity; here the sink only counts.
  std::atomic<int> events{0};
  auto open = [&] {
    StreamDeps deps{rig.recognizer, Engines::get().conversations,
                    rig.compute,    rig.mind,
                    rig.live,       "",
                    rig.resume,     rig.now};
    auto s = make_stream_session(deps, [&events](Event) { ++events; });
    EXPECT_TRUE(s.ok());
    rig.sessions.push_back(std::move(s).value());
    rig.sessions.back()->on_text(kStart);
  };
  auto wait_events = [&](int n) {
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (events.load() < n && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(5ms);
    }
    return events.load() == n;
  };
  // Warm-up: the first session pays for one-off state (store statements,
  // metric series, the pools' threads).
  open();
  ASSERT_TRUE(wait_events(1));
  stream_pcm(*rig.sessions[0], room_noise(1, 1), 0ms);
  ASSERT_TRUE(wait_depth("audio", 0));
  const std::size_t before = heap_in_use();
  for (int i = 1; i < kStreams; ++i) open();
  ASSERT_TRUE(wait_events(kStreams));
  // Each stream then hears a second of room noise, in 100 ms frames.
  for (int i = 1; i < kStreams; ++i) {
    stream_pcm(*rig.sessions[static_cast<std::size_t>(i)],
               room_noise(1, static_cast<uint32_t>(i) + 7), 0ms);
  }
  ASSERT_TRUE(wait_depth("audio", 0));
  const std::size_t after = heap_in_use();
  const double per_stream_kib =
      (static_cast<double>(after) - static_cast<double>(before)) / (kStreams - 1) / 1024.0;
  std::cout << "[memory] heap per idle stream (session side, no transport): " << per_stream_kib
            << " KiB\n";
  EXPECT_EQ(events.load(), kStreams) << "room noise made events";
  // The transport (Beast WebSocket) costs ~27 KiB of the 64 KiB budget;
  // this side measured 32 KiB (most of it the 200 ms of pre-roll an idle
  // stream must keep, and the VAD's state). bench/live_capacity.sh measured
  // the whole server's RSS per idle stream at 113 KiB before, 63 KiB after.
  EXPECT_LE(per_stream_kib, 40.0);
}

TEST(LiveResources, AudioDepthCountsFramesWaitingForTheComputePool) {
  EventCollector c;  // declared first: outlives the rig's pools and their last events
  Rig rig;
  auto s = rig.open(c);
  s->on_text(kStart);
  ASSERT_TRUE(c.wait_count("session", 1));
  const double base = depth("audio");
  {
    PoolBlocker hold(rig.compute, 2);
    stream_pcm(*s, room_noise(0.5, 3), 0ms);  // five 100 ms frames
    EXPECT_EQ(depth("audio") - base, 5.0);
  }
  EXPECT_TRUE(wait_depth("audio", base));
}

TEST(LiveResources, ThoughtsDepthCountsFinalsWaitingForTheMind) {
  EventCollector c;  // declared first: outlives the rig's pools and their last events
  Rig rig;
  auto s = rig.open(c);
  s->on_text(kStart);
  ASSERT_TRUE(c.wait_count("session", 1));
  const double base = depth("thoughts");
  std::vector<float> audio = silence(0.3);
  append(audio, samples::read_raw(samples::kPocketSphinxData / "goforward.raw").samples);
  {
    PoolBlocker hold(rig.mind, 1);
    stream_pcm(*s, audio, 0ms);
    s->on_text(R"({"type":"end_of_turn"})");
    ASSERT_TRUE(c.wait_count("final", 1));
    EXPECT_EQ(depth("thoughts") - base, 1.0);
    EXPECT_EQ(EventCollector::count(c.events(), "thoughts"), 0U);
  }
  ASSERT_TRUE(c.wait_count("thoughts", 1));
  EXPECT_TRUE(wait_depth("thoughts", base));
}

TEST(LiveResources, RecognitionDepthCountsUtterancesWaitingForADecoder) {
  EventCollector c;  // declared first: outlives the rig's pools and their last events
  Rig rig;
  auto s = rig.open(c);
  s->on_text(kStart);
  ASSERT_TRUE(c.wait_count("session", 1));
  const double base = depth("recognition");
  std::vector<float> audio = silence(0.3);
  append(audio, samples::read_raw(samples::kPocketSphinxData / "goforward.raw").samples);
  {
    // Every decoder of the shared recogniser is taken.
    std::vector<std::unique_ptr<asr::RecognizerStream>> held;
    for (;;) {
      asr::TranscribeOptions o;
      o.max_wait = 0ms;
      auto st = rig.recognizer->open_stream(o);
      if (!st) break;
      held.push_back(std::move(st).value());
    }
    ASSERT_FALSE(held.empty());
    stream_pcm(*s, audio, 0ms);
    s->on_text(R"({"type":"end_of_turn"})");
    EXPECT_TRUE(wait_depth("recognition", base + 1.0));
    EXPECT_EQ(EventCollector::count(c.events(), "final"), 0U);
  }
  ASSERT_TRUE(c.wait_count("final", 1));
  EXPECT_TRUE(wait_depth("recognition", base));
  EXPECT_EQ(EventCollector::of_type(c.events(), "final")[0]["text"], "go forward ten meters");
}

}  // namespace
}  // namespace scribepod::live::testing
