#include "asr/whisper/whisper_log_bridge.h"

#include <whisper.h>

#include <mutex>
#include <string_view>

#include "telemetry/log.h"

namespace scribepod::asr {

void append_captured_error(const std::string& line);

namespace {

// Per thread: whisper may log from several decoding threads at once.
thread_local std::string t_pending;
thread_local ggml_log_level t_pending_level = GGML_LOG_LEVEL_INFO;
thread_local WhisperErrorCapture* t_capture = nullptr;

constexpr std::size_t kMaxCaptured = 1000;

std::string_view level_name(ggml_log_level level) {
  switch (level) {
    case GGML_LOG_LEVEL_ERROR:
      return "error";
    case GGML_LOG_LEVEL_WARN:
      return "warn";
    case GGML_LOG_LEVEL_DEBUG:
      return "debug";
    default:
      return "info";
  }
}

void emit(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.empty()) return;
  if (t_pending_level == GGML_LOG_LEVEL_ERROR && t_capture != nullptr) {
    append_captured_error(std::string(line));
  }
  if (log::enabled(log::Level::kDebug)) {
    log::debug("whisper.cpp", {{"level", level_name(t_pending_level)}, {"line", line}});
  }
}

void forward(ggml_log_level level, const char* text, void* /*user_data*/) {
  if (text == nullptr) return;
  if (level != GGML_LOG_LEVEL_CONT) {
    if (!t_pending.empty()) {  // a new message while a line was open: close it
      emit(t_pending);
      t_pending.clear();
    }
    t_pending_level = level;
  }
  t_pending += text;
  std::size_t start = 0;
  for (std::size_t nl = t_pending.find('\n'); nl != std::string::npos;
       nl = t_pending.find('\n', start)) {
    emit(std::string_view(t_pending).substr(start, nl - start));
    start = nl + 1;
  }
  t_pending.erase(0, start);
}

}  // namespace

void append_captured_error(const std::string& line) {
  std::string& text = t_capture->text_;
  if (text.size() >= kMaxCaptured) return;
  if (!text.empty()) text += "; ";
  text += line.substr(0, kMaxCaptured - text.size());
}

void install_whisper_log_bridge() {
  static std::once_flag once;
  std::call_once(once, [] { whisper_log_set(forward, nullptr); });
}

WhisperErrorCapture::WhisperErrorCapture() : previous_(t_capture) { t_capture = this; }
WhisperErrorCapture::~WhisperErrorCapture() { t_capture = previous_; }

std::string WhisperErrorCapture::text() const { return text_.empty() ? "no details" : text_; }

}  // namespace scribepod::asr
