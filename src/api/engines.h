// Builds the engines the configuration names. This is the one place that
// knows every engine's parameter struct; the rest of the program sees only
// the interfaces (asr::Recognizer, ...).
#pragma once

#include <memory>

#include "asr/recognizer.h"
#include "config/config.h"
#include "core/result.h"

namespace scribepod::api {

// asr.engine = pocketsphinx | whisper | remote. Fails at start-up with a
// message naming the missing model path and the command that fetches it.
Result<std::shared_ptr<asr::Recognizer>> make_recognizer(const config::Config& config);

// The whisper model file used when asr.whisper_model is empty.
std::string default_whisper_model_path(const config::Config& config);

}  // namespace scribepod::api
