// Shared by the live benchmarks' clients (live_load, soak): clocks,
// percentiles and real speech as 16 kHz mono PCM16. Benchmarks, not tests:
// a missing or malformed file throws std::runtime_error.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace scribepod::bench::live {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kFrameBytes = 3200;  // 100 ms of 16 kHz PCM16
constexpr int kFrameMs = 100;

inline double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Nearest-rank percentile; 0 for an empty set (the row says how many).
inline double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline uint32_t le32(const std::string& s, std::size_t at) {
  uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(s[at + i])) << (8 * i);
  return v;
}

// 16 kHz mono s16le samples of a .raw file, or of a WAV of that format.
inline std::string read_pcm(const std::string& path) {
  std::string data = slurp(path);
  if (data.compare(0, 4, "RIFF") != 0) return data;
  for (std::size_t at = 12; at + 8 <= data.size();) {
    const std::string id = data.substr(at, 4);
    const std::size_t size = le32(data, at + 4);
    if (id == "fmt " && (le32(data, at + 8) & 0xffffu) != 1u)
      throw std::runtime_error(path + ": not PCM");
    if (id == "fmt " && le32(data, at + 12) != 16000u)
      throw std::runtime_error(path + ": not 16 kHz");
    if (id == "data") return data.substr(at + 8, std::min(size, data.size() - at - 8));
    at += 8 + size + (size & 1u);
  }
  throw std::runtime_error(path + ": no data chunk");
}

// A canonical 44-byte-header WAV around 16 kHz mono PCM16.
inline std::string wav_of(const std::string& pcm) {
  std::string h = "RIFF____WAVEfmt ____________________data____";
  auto put = [&](std::size_t at, uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i) h[at + i] = static_cast<char>((v >> (8 * i)) & 0xffu);
  };
  const auto n = static_cast<uint32_t>(pcm.size());
  put(4, 36 + n);
  put(16, 16);
  put(20, 1u | (1u << 16));
  put(24, 16000);
  put(28, 32000);
  put(32, 2u | (16u << 16));
  put(40, n);
  return h + pcm;
}

}  // namespace scribepod::bench::live
