// whisper.cpp's log, routed into ours.
//
// install_whisper_log_bridge() points whisper.cpp's logger (whisper_log_set,
// which also redirects ggml's) at log::debug, one record per line: whisper
// writes its lines in pieces and is chatty at load. It is process-wide and
// idempotent. llama.cpp also sets ggml's logger; whichever engine started last
// receives ggml's own lines, which is fine since both land in our logger.
//
// WhisperErrorCapture collects the error lines whisper.cpp logs on the current
// thread while it is alive, so a failed load or decode can say why.
#pragma once

#include <string>

namespace scribepod::asr {

void install_whisper_log_bridge();

class WhisperErrorCapture {
 public:
  WhisperErrorCapture();
  ~WhisperErrorCapture();
  WhisperErrorCapture(const WhisperErrorCapture&) = delete;
  WhisperErrorCapture& operator=(const WhisperErrorCapture&) = delete;

  // The error lines so far, joined with "; " ("no details" when none).
  std::string text() const;

 private:
  friend void append_captured_error(const std::string& line);
  std::string text_;
  WhisperErrorCapture* previous_;
};

}  // namespace scribepod::asr
