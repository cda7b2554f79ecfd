// Audio format detection: which container the bytes are, judged from their
// magic, and what a client's Content-Type declares.
//
// The bytes decide. A declared content type is only a hint, with one
// exception: raw PCM16 has no magic, so it is accepted only when declared
// (audio/L16, audio/pcm, ...), and the declaration carries its sample rate,
// channel count and byte order. Nothing here touches FFmpeg; both functions
// are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace scribepod::audio {

enum class AudioFormat { kWav, kOgg, kWebm, kMp3, kFlac, kRawPcm16, kUnknown };

// Judges the container from the first bytes: RIFF/RIFX/RF64 + WAVE, OggS,
// EBML (1A 45 DF A3: WebM and Matroska), fLaC, an ID3v2 tag (then FLAC when
// fLaC follows the tag, else MP3) or a valid MPEG audio frame header. Never
// returns kRawPcm16.
AudioFormat sniff_format(std::string_view bytes);

// True when sniff_format's answer rests on a strong signature. A bare MPEG
// frame sync is weak: 2 bytes that raw PCM samples near zero can also form.
bool sniff_is_strong(std::string_view bytes);

// "WAV", "Ogg", "WebM", "MP3", "FLAC", "raw PCM16", "unknown".
std::string_view format_name(AudioFormat format);

// A short, human-readable guess at what unrecognised bytes are ("MP4/M4A",
// "AIFF", "text", or the first bytes in hex), for 415 messages.
std::string describe_unknown(std::string_view bytes);

// True when the bytes visibly stop inside a unit their container declares:
// an Ogg page, the WAV data chunk, a WebM/Matroska element (the walk steps
// into Segment and Cluster, which MediaRecorder writes with unknown sizes).
// False when the bytes end on a boundary, and for MP3 and FLAC, whose frames
// the decoder checks instead.
bool looks_cut_short(std::string_view bytes, AudioFormat format);

// How to read a declared raw PCM16 body: interleaved signed 16-bit samples.
struct RawPcmSpec {
  int sample_rate = 16000;  // `rate=` parameter; 16 kHz when absent
  int channels = 1;         // `channels=` parameter; 1 when absent
  bool big_endian = false;  // audio/L16 is big-endian (RFC 2586) unless endianness=little-endian
};

struct DeclaredType {
  std::string media_type;                      // lower-case "type/subtype"; "" when none was sent
  AudioFormat format = AudioFormat::kUnknown;  // the format the type names, if any
  RawPcmSpec raw;                              // meaningful when format == kRawPcm16
};

// Parses a Content-Type value such as "audio/ogg; codecs=opus" or
// "audio/L16; rate=16000; channels=1". Raw types: audio/L16, audio/pcm,
// audio/x-pcm, audio/raw, audio/x-raw. Fails (kBadRequest) only when a raw
// type carries a rate, channel count or endianness we can't use; any other
// type, known or not, parses.
Result<DeclaredType> parse_content_type(std::string_view content_type);

}  // namespace scribepod::audio
