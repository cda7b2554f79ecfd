// encode_wav_pcm16: PcmAudio as a canonical 44-byte-header RIFF/WAVE file,
// 16-bit signed little-endian PCM, mono, 16 kHz, built in memory. Samples
// are clamped to [-1, 1] and scaled by 32767 with rounding. This is the
// upload format for remote recognizers: every OpenAI-compatible server
// accepts it and it needs no codec.
#pragma once

#include <string>

#include "audio/pcm.h"

namespace scribepod::asr {

std::string encode_wav_pcm16(const audio::PcmAudio& audio);

}  // namespace scribepod::asr
