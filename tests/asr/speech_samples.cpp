#include "speech_samples.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace scribepod::asr::samples {

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) ADD_FAILURE() << "cannot read " << path << " (is pocketsphinx-testdata installed?)";
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

audio::PcmAudio from_s16le(const std::string& bytes) {
  audio::PcmAudio pcm;
  pcm.samples.resize(bytes.size() / 2);
  for (std::size_t i = 0; i < pcm.samples.size(); ++i) {
    const auto lo = static_cast<unsigned char>(bytes[2 * i]);
    const auto hi = static_cast<unsigned char>(bytes[2 * i + 1]);
    const auto v = static_cast<std::int16_t>(static_cast<std::uint16_t>(lo | (hi << 8)));
    pcm.samples[i] = static_cast<float>(v) / 32768.0F;
  }
  return pcm;
}

audio::PcmAudio read_raw(const fs::path& path) { return from_s16le(slurp(path)); }

// The test WAVs are plain 16 kHz mono PCM16: find the data chunk.
audio::PcmAudio read_wav(const fs::path& path) {
  const auto bytes = slurp(path);
  const auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i)
      v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
    return v;
  };
  std::size_t at = 12;
  while (at + 8 <= bytes.size()) {
    const auto id = bytes.substr(at, 4);
    const auto size = u32(at + 4);
    if (id == "data") return from_s16le(bytes.substr(at + 8, size));
    at += 8 + size + (size & 1U);
  }
  ADD_FAILURE() << "no data chunk in " << path;
  return {};
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "scribepod-asr-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

int run(const std::string& command) { return std::system(command.c_str()); }

}  // namespace

// jfk.wav from the nodejs-whisper tarball in the engine download cache.
audio::PcmAudio jfk(const TempDir& dir) {
  const char* home = std::getenv("HOME");
  const fs::path downloads =
      fs::path(home == nullptr ? "/root" : home) / ".cache/scribepod/downloads";
  fs::path tarball;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(downloads, ec)) {
    if (entry.path().filename().string().starts_with("nodejs-whisper")) tarball = entry.path();
  }
  if (tarball.empty()) {
    ADD_FAILURE() << "no nodejs-whisper tarball in " << downloads << " (run scripts/build-engines)";
    return {};
  }
  const std::string member = "package/cpp/whisper.cpp/bindings/go/samples/jfk.wav";
  const int rc =
      run("tar -xzf '" + tarball.string() + "' -C '" + dir.path().string() + "' " + member);
  EXPECT_EQ(rc, 0) << "tar failed";
  return read_wav(dir.path() / member);
}

// flite speaks `text` with a CMU voice; ffmpeg turns it into 16 kHz s16le.
audio::PcmAudio flite(const TempDir& dir, const std::string& voice, const std::string& text) {
  const auto txt = (dir.path() / (voice + ".txt")).string();
  const auto wav = (dir.path() / (voice + ".wav")).string();
  const auto raw = (dir.path() / (voice + ".raw")).string();
  std::ofstream(txt) << text << "\n";  // a file, so quotes in the text need no escaping
  EXPECT_EQ(run("flite -voice " + voice + " -f '" + txt + "' -o '" + wav + "'"), 0);
  EXPECT_EQ(run("ffmpeg -nostdin -loglevel error -y -i '" + wav + "' -ar 16000 -ac 1 -f s16le '" +
                raw + "'"),
            0);
  return read_raw(raw);
}

// "<s> ten of clubs </s> (001)" -> {"001", "ten of clubs"}.
std::map<std::string, std::string> transcriptions(const fs::path& path) {
  std::map<std::string, std::string> out;
  std::istringstream in(slurp(path));
  for (std::string line; std::getline(in, line);) {
    const auto open = line.rfind('(');
    if (open == std::string::npos) continue;
    const auto id = line.substr(open + 1, line.find(')', open) - open - 1);
    std::string text;
    std::istringstream words(line.substr(0, open));
    for (std::string w; words >> w;) {
      if (w == "<s>" || w == "</s>") continue;
      text += (text.empty() ? "" : " ") + w;
    }
    out[id] = text;
  }
  return out;
}

std::string reference_of(const fs::path& clip) {
  const std::string name = clip.filename().string();
  if (name == "goforward.raw") return "go forward ten meters";
  if (name == "dhd.2934z.raw") return "two nine three four zero";
  if (name == "jfk.wav") return kJfkText;
  for (const char* file : {"cards.transcription", "transcription"}) {
    const fs::path listing = clip.parent_path() / file;
    if (!fs::exists(listing)) continue;
    const auto texts = transcriptions(listing);
    if (const auto it = texts.find(clip.stem().string()); it != texts.end()) return it->second;
  }
  return {};
}

}  // namespace scribepod::asr::samples
