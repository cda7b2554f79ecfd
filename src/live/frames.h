// Typed frames that pass between the live pipeline's stages (STYLE.md,
// after Pipecat): audio in → UtteranceSegmenter → recognition → mind →
// events. Each stage consumes some frame types and produces others; a new
// engine or policy is a new stage, not a branch in the session.
//
// Positions are in samples of 16 kHz audio since the stream started (the
// session converts them to the protocol's milliseconds).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mind/thoughts.h"

namespace scribepod::live {

using SteadyTime = std::chrono::steady_clock::time_point;

// 16 kHz mono audio that belongs to the open utterance, contiguous with the
// audio sent before it for that utterance.
struct AudioFrame {
  std::vector<float> samples;
};

// An utterance opened: its audio starts at `start_sample` (pre-roll included).
struct SpeechStart {
  int64_t start_sample = 0;
};

enum class EndReason { kSilence, kMaxLength, kEndOfTurn, kStop, kShutdown, kDisconnect };

// The open utterance closed; no more AudioFrames belong to it.
struct SpeechEnd {
  EndReason reason = EndReason::kSilence;
  int64_t end_sample = 0;         // end of the utterance's audio
  int64_t speech_end_sample = 0;  // end of its last active speech frame
  double endpoint_wait_ms = 0;    // silence waited for after the speech (audio time)
};

// The speaker paused inside the open utterance: `pause_silence` of silence
// followed its last active speech frame, and more speech may come. Sent at
// most once per silence, after the audio up to `at_sample`. The recogniser
// may settle the text so far here (RecognizerStream::settle()).
struct SpeechPause {
  int64_t at_sample = 0;
};

// Active speech again after a SpeechPause, in the same utterance: sent
// before the audio that holds it (the audio since the pause, up to
// `at_sample`, was silence to the voice-activity detector).
struct SpeechResume {
  int64_t at_sample = 0;
};

using SegmentFrame = std::variant<SpeechStart, AudioFrame, SpeechPause, SpeechResume, SpeechEnd>;

// Best-effort text of the open utterance, covering its audio from
// start_sample to end_sample.
struct PartialText {
  int64_t utterance_id = 0;
  int revision = 0;
  std::string text;
  int64_t start_sample = 0;
  int64_t end_sample = 0;
};

// The one final text of an utterance, with what the stats event needs.
struct FinalText {
  int64_t utterance_id = 0;
  std::string text;
  int64_t start_sample = 0;
  int64_t end_sample = 0;
  EndReason reason = EndReason::kSilence;
  double endpoint_wait_ms = 0;
  double final_decode_ms = 0;
  double speech_end_to_final_ms = 0;
  int partials_sent = 0;
  int partials_dropped = 0;
  SteadyTime emitted_at{};
};

// What the mind made of a final.
struct ThoughtsFrame {
  int64_t utterance_id = 0;
  std::optional<mind::Thoughts> thoughts;
  double final_to_thoughts_ms = 0;
};

// Control from the client or the server.
enum class ControlKind { kEndOfTurn, kStop, kShutdown, kDisconnect };
struct Control {
  ControlKind kind = ControlKind::kStop;
};

std::string_view end_reason_name(EndReason reason);

inline int64_t samples_to_ms(int64_t samples) { return samples / 16; }

}  // namespace scribepod::live
