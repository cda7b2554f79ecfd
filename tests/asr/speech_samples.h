// Real speech with known words, for recogniser tests and benchmarks:
// Debian's pocketsphinx-testdata (goforward, tidigits, cards, LibriVox), the
// JFK sample from the whisper npm package in the engine download cache, and
// flite's CMU voices generated at call time. Missing files fail the calling
// test (ADD_FAILURE) with a message saying what to install.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "audio/pcm.h"

namespace scribepod::asr::samples {

inline const std::filesystem::path kPocketSphinxData = "/usr/share/pocketsphinx/test/data";
inline const std::string kJfkText =
    "and so my fellow americans ask not what your country can do for you ask what you can do for "
    "your country";

// 16-bit little-endian mono PCM at 16 kHz, as raw bytes or a plain WAV file.
audio::PcmAudio from_s16le(const std::string& bytes);
audio::PcmAudio read_raw(const std::filesystem::path& path);
audio::PcmAudio read_wav(const std::filesystem::path& path);

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// jfk.wav (11 s), extracted from the nodejs-whisper tarball into `dir`.
audio::PcmAudio jfk(const TempDir& dir);

// `text` spoken by flite's CMU voice `voice` (slt, rms, awb, kal),
// resampled to 16 kHz by ffmpeg; files go to `dir`.
audio::PcmAudio flite(const TempDir& dir, const std::string& voice, const std::string& text);

// A Sphinx transcription file ("<s> ten of clubs </s> (001)" per line) as
// id -> "ten of clubs".
std::map<std::string, std::string> transcriptions(const std::filesystem::path& path);

// What is said in a clip of the test data, by its path: goforward.raw,
// tidigits/dhd.2934z.raw, jfk.wav, or a clip listed in the transcription
// file beside it (cards, LibriVox). "" for a clip it does not know.
std::string reference_of(const std::filesystem::path& clip);

}  // namespace scribepod::asr::samples
