#include "asr/remote/remote_recognizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <utility>

#include "asr/remote/wav_writer.h"
#include "telemetry/log.h"

namespace scribepod::asr {
namespace {

constexpr std::string_view kTranscriptionsPath = "/v1/audio/transcriptions";

// whisper's language table (tokenizer.py), which is what OpenAI-compatible
// servers echo in verbose_json's "language".
constexpr auto kWhisperLanguages = std::to_array<std::pair<std::string_view, std::string_view>>({
    {"en", "english"},        {"zh", "chinese"},     {"de", "german"},        {"es", "spanish"},
    {"ru", "russian"},        {"ko", "korean"},      {"fr", "french"},        {"ja", "japanese"},
    {"pt", "portuguese"},     {"tr", "turkish"},     {"pl", "polish"},        {"ca", "catalan"},
    {"nl", "dutch"},          {"ar", "arabic"},      {"sv", "swedish"},       {"it", "italian"},
    {"id", "indonesian"},     {"hi", "hindi"},       {"fi", "finnish"},       {"vi", "vietnamese"},
    {"he", "hebrew"},         {"uk", "ukrainian"},   {"el", "greek"},         {"ms", "malay"},
    {"cs", "czech"},          {"ro", "romanian"},    {"da", "danish"},        {"hu", "hungarian"},
    {"ta", "tamil"},          {"no", "norwegian"},   {"th", "thai"},          {"ur", "urdu"},
    {"hr", "croatian"},       {"bg", "bulgarian"},   {"lt", "lithuanian"},    {"la", "latin"},
    {"mi", "maori"},          {"ml", "malayalam"},   {"cy", "welsh"},         {"sk", "slovak"},
    {"te", "telugu"},         {"fa", "persian"},     {"lv", "latvian"},       {"bn", "bengali"},
    {"sr", "serbian"},        {"az", "azerbaijani"}, {"sl", "slovenian"},     {"kn", "kannada"},
    {"et", "estonian"},       {"mk", "macedonian"},  {"br", "breton"},        {"eu", "basque"},
    {"is", "icelandic"},      {"hy", "armenian"},    {"ne", "nepali"},        {"mn", "mongolian"},
    {"bs", "bosnian"},        {"kk", "kazakh"},      {"sq", "albanian"},      {"sw", "swahili"},
    {"gl", "galician"},       {"mr", "marathi"},     {"pa", "punjabi"},       {"si", "sinhala"},
    {"km", "khmer"},          {"sn", "shona"},       {"yo", "yoruba"},        {"so", "somali"},
    {"af", "afrikaans"},      {"oc", "occitan"},     {"ka", "georgian"},      {"be", "belarusian"},
    {"tg", "tajik"},          {"sd", "sindhi"},      {"gu", "gujarati"},      {"am", "amharic"},
    {"yi", "yiddish"},        {"lo", "lao"},         {"uz", "uzbek"},         {"fo", "faroese"},
    {"ht", "haitian creole"}, {"ps", "pashto"},      {"tk", "turkmen"},       {"nn", "nynorsk"},
    {"mt", "maltese"},        {"sa", "sanskrit"},    {"lb", "luxembourgish"}, {"my", "myanmar"},
    {"bo", "tibetan"},        {"tl", "tagalog"},     {"mg", "malagasy"},      {"as", "assamese"},
    {"tt", "tatar"},          {"haw", "hawaiian"},   {"ln", "lingala"},       {"ha", "hausa"},
    {"ba", "bashkir"},        {"jw", "javanese"},    {"su", "sundanese"},     {"yue", "cantonese"},
});
static_assert(kWhisperLanguages.size() == 100);

std::string trimmed(std::string_view s) {
  const auto not_space = [](char c) { return c != ' ' && c != '\t' && c != '\n' && c != '\r'; };
  const auto b = std::find_if(s.begin(), s.end(), not_space);
  const auto e = std::find_if(s.rbegin(), s.rend(), not_space).base();
  return b < e ? std::string(b, e) : std::string();
}

bool starts_with_http(std::string_view url) {
  return url.starts_with("http://") || url.starts_with("https://");
}

// Everything a recognizer and its streams share; streams keep it alive.
struct Shared {
  RemoteAsrParams params;
  remote::Backend backend;

  explicit Shared(RemoteAsrParams p)
      : params(std::move(p)),
        backend(params.backend_name, params.base_url, params.api_key, params.timeouts, params.retry,
                params.breaker, params.retry_hooks) {}
};

Error bad_reply(const Shared& shared, std::string_view what) {
  return {ErrorCode::kUpstreamFailed,
          fmt::format("backend {} sent an unusable transcription: {}", shared.params.backend_name,
                      what),
          {}};
}

// Reads an OpenAI verbose_json transcription. Words come either top-level
// (OpenAI: "words": [{word, start, end}]) or inside each segment (some
// self-hosted servers); top-level words are placed in the segment whose time
// span holds their start.
Result<Transcript> parse_verbose_json(const Shared& shared, const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    return bad_reply(shared,
                     fmt::format("not JSON (starts with \"{}\")", trimmed(body.substr(0, 60))));
  }
  if (!j.is_object() || !j.contains("text") || !j["text"].is_string()) {
    return bad_reply(shared, "no \"text\" string in the JSON reply");
  }
  try {
    Transcript t;
    t.text = trimmed(j["text"].get<std::string>());
    if (j.contains("language") && j["language"].is_string()) {
      t.language = whisper_language_code(j["language"].get<std::string>());
    }
    const auto read_word = [](const nlohmann::json& w) {
      Word word;
      word.text = trimmed(w.value("word", std::string()));
      word.start_s = w.value("start", 0.0);
      word.end_s = w.value("end", word.start_s);
      word.probability = w.value("probability", 0.0F);
      return word;
    };
    if (j.contains("segments") && j["segments"].is_array()) {
      for (const auto& s : j["segments"]) {
        if (!s.is_object()) continue;
        Segment seg;
        seg.text = trimmed(s.value("text", std::string()));
        seg.start_s = s.value("start", 0.0);
        seg.end_s = s.value("end", seg.start_s);
        if (s.contains("words") && s["words"].is_array()) {
          for (const auto& w : s["words"]) seg.words.push_back(read_word(w));
        }
        t.segments.push_back(std::move(seg));
      }
    }
    if (t.segments.empty() && !t.text.empty()) {
      t.segments.push_back({t.text, 0.0, j.value("duration", 0.0), {}});
    }
    if (j.contains("words") && j["words"].is_array() && !t.segments.empty()) {
      size_t seg = 0;
      for (const auto& w : j["words"]) {
        Word word = read_word(w);
        while (seg + 1 < t.segments.size() && word.start_s >= t.segments[seg + 1].start_s) ++seg;
        t.segments[seg].words.push_back(std::move(word));
      }
    }
    return t;
  } catch (const nlohmann::json::exception& e) {
    return bad_reply(shared, e.what());
  }
}

Result<Transcript> transcribe_remote(Shared& shared, const audio::PcmAudio& audio,
                                     const TranscribeOptions& options) {
  const RemoteAsrParams& p = shared.params;
  std::string language = options.language.empty() ? p.language : options.language;
  if (language == "auto") language.clear();
  if (audio.duration_s() > p.max_audio_s) {
    return Error::too_large(
        fmt::format("audio is {:.1f} s long; the remote recognizer takes at most {:.0f} s",
                    audio.duration_s(), p.max_audio_s));
  }
  if (audio.samples.empty()) {
    Transcript empty;
    empty.language = language;
    empty.engine = "remote";
    return empty;
  }

  remote::HttpRequest request;
  request.method = "POST";
  request.url = std::string(kTranscriptionsPath);
  request.headers = {{"Accept", "application/json"}};
  request.multipart.push_back({"file", "audio.wav", "audio/wav", encode_wav_pcm16(audio)});
  request.multipart.push_back({"model", "", "", p.model});
  request.multipart.push_back({"response_format", "", "", "verbose_json"});
  request.multipart.push_back({"temperature", "", "", fmt::format("{}", options.temperature)});
  if (!language.empty()) request.multipart.push_back({"language", "", "", language});
  if (!options.prompt.empty()) request.multipart.push_back({"prompt", "", "", options.prompt});
  if (options.word_timestamps) {
    request.multipart.push_back({"timestamp_granularities[]", "", "", "segment"});
    request.multipart.push_back({"timestamp_granularities[]", "", "", "word"});
  }

  const auto start = std::chrono::steady_clock::now();
  auto response = shared.backend.call(std::move(request));
  const double elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!response.ok()) return std::move(response).take_error();

  auto transcript = parse_verbose_json(shared, response->body);
  if (!transcript.ok()) {
    log::warn("remote transcription unusable", {{"backend", p.backend_name},
                                                {"error", transcript.error().message},
                                                {"bytes", response->body.size()}});
    return transcript;
  }
  if (!language.empty()) transcript->language = language;  // what was asked is what it is
  transcript->engine = "remote";
  transcript->audio_s = audio.duration_s();
  transcript->decode_ms = elapsed_ms;
  return transcript;
}

// Buffers one utterance; the server sees it once, at finalize().
class RemoteStream final : public RecognizerStream {
 public:
  RemoteStream(std::shared_ptr<Shared> shared, TranscribeOptions options)
      : shared_(std::move(shared)), options_(std::move(options)) {}

  Status feed(std::span<const float> samples) override {
    if (finalized_) return Error::internal("feed() after finalize() on a remote recognizer stream");
    const auto max_samples = static_cast<size_t>(shared_->params.max_audio_s * audio::kSampleRate);
    if (audio_.samples.size() + samples.size() > max_samples) {
      return Error::too_large(fmt::format(
          "utterance longer than {:.0f} s for the remote recognizer", shared_->params.max_audio_s));
    }
    audio_.samples.insert(audio_.samples.end(), samples.begin(), samples.end());
    return {};
  }

  Result<std::string> partial() override { return std::string(); }

  Result<Transcript> finalize() override {
    if (finalized_) return Error::internal("finalize() called twice on a remote recognizer stream");
    finalized_ = true;
    audio::PcmAudio audio = std::exchange(audio_, {});
    return transcribe_remote(*shared_, audio, options_);
  }

 private:
  std::shared_ptr<Shared> shared_;
  TranscribeOptions options_;
  audio::PcmAudio audio_;
  bool finalized_ = false;
};

class RemoteRecognizer final : public Recognizer {
 public:
  explicit RemoteRecognizer(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

  std::string name() const override { return "remote"; }

  std::string describe() const override {
    return fmt::format("{} at {} (circuit {})", shared_->params.model,
                       remote::redact_url(shared_->backend.base_url()),
                       remote::breaker_state_name(shared_->backend.breaker().state()));
  }

  // Not ready while the circuit is open: requests would fail fast anyway. A
  // half-open circuit counts as ready, since the next call is its probe.
  bool ready(std::string& detail) const override {
    detail = describe();
    return shared_->backend.breaker().state() != remote::BreakerState::kOpen;
  }

  Result<Transcript> transcribe(const audio::PcmAudio& audio,
                                const TranscribeOptions& options) override {
    return transcribe_remote(*shared_, audio, options);
  }

  Result<std::unique_ptr<RecognizerStream>> open_stream(const TranscribeOptions& options) override {
    return std::unique_ptr<RecognizerStream>(std::make_unique<RemoteStream>(shared_, options));
  }

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace

std::string whisper_language_code(std::string_view language) {
  std::string lower(language);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [code, name] : kWhisperLanguages) {
    if (name == lower) return std::string(code);
  }
  return lower;
}

Result<std::unique_ptr<Recognizer>> make_remote_recognizer(const RemoteAsrParams& params) {
  RemoteAsrParams p = params;
  while (!p.base_url.empty() && p.base_url.back() == '/') p.base_url.pop_back();
  if (p.base_url.ends_with("/v1")) p.base_url.resize(p.base_url.size() - 3);
  if (!starts_with_http(p.base_url) || p.base_url.size() <= std::string_view("https://").size()) {
    return Error::invalid_config(
        fmt::format("remote ASR base URL \"{}\" is not an http:// or https:// URL",
                    remote::redact_url(params.base_url)));
  }
  if (p.model.empty()) return Error::invalid_config("remote ASR model name is empty");
  if (!(p.max_audio_s > 0)) return Error::invalid_config("remote ASR max_audio_s must be positive");
  if (p.timeouts.total_timeout.count() <= 0 || p.timeouts.connect_timeout.count() <= 0) {
    return Error::invalid_config("remote ASR timeouts must be positive");
  }
  if (p.retry.max_attempts < 1)
    return Error::invalid_config("remote ASR retry.max_attempts must be at least 1");
  log::info("remote recognizer ready", {{"backend", p.backend_name},
                                        {"url", remote::redact_url(p.base_url)},
                                        {"model", p.model},
                                        {"api_key_set", !p.api_key.empty()}});
  return std::unique_ptr<Recognizer>(
      std::make_unique<RemoteRecognizer>(std::make_shared<Shared>(std::move(p))));
}

}  // namespace scribepod::asr
