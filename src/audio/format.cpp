#include "audio/format.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

#include "core/ascii.h"

namespace scribepod::audio {
namespace {

std::uint8_t byte_at(std::string_view bytes, std::size_t i) {
  return static_cast<std::uint8_t>(bytes[i]);
}

bool has_at(std::string_view bytes, std::size_t offset, std::string_view magic) {
  return bytes.size() >= offset + magic.size() && bytes.substr(offset, magic.size()) == magic;
}

// An MPEG audio frame header (layer I-III, any version): 11 sync bits, then
// no reserved version, layer, bitrate or sample-rate values. ADTS AAC has
// layer bits 00 and so does not pass.
bool is_mpeg_audio_frame(std::string_view bytes) {
  if (bytes.size() < 4) return false;
  const std::uint8_t b1 = byte_at(bytes, 1);
  const std::uint8_t b2 = byte_at(bytes, 2);
  return byte_at(bytes, 0) == 0xFF && (b1 & 0xE0) == 0xE0 && ((b1 >> 3) & 3) != 1 &&
         ((b1 >> 1) & 3) != 0 && (b2 >> 4) != 15 && ((b2 >> 2) & 3) != 3;
}

// Size of an ID3v2 tag (header, syncsafe body and optional footer), or 0
// when the bytes don't start with one.
std::size_t id3v2_size(std::string_view bytes) {
  if (!has_at(bytes, 0, "ID3") || bytes.size() < 10) return 0;
  std::size_t size = 10;
  for (std::size_t i = 6; i < 10; ++i) {
    const std::uint8_t b = byte_at(bytes, i);
    if ((b & 0x80) != 0) return 0;  // not syncsafe: not a real tag
    size += static_cast<std::size_t>(b) << (7 * (9 - i));
  }
  if ((byte_at(bytes, 5) & 0x10) != 0) size += 10;  // footer present
  return size;
}

AudioFormat format_for_media_type(std::string_view type) {
  if (type == "audio/wav" || type == "audio/x-wav" || type == "audio/wave" ||
      type == "audio/vnd.wave") {
    return AudioFormat::kWav;
  }
  if (type == "audio/ogg" || type == "audio/opus" || type == "application/ogg") {
    return AudioFormat::kOgg;
  }
  if (type == "audio/webm" || type == "video/webm" || type == "audio/x-matroska") {
    return AudioFormat::kWebm;
  }
  if (type == "audio/mpeg" || type == "audio/mp3" || type == "audio/mpeg3")
    return AudioFormat::kMp3;
  if (type == "audio/flac" || type == "audio/x-flac") return AudioFormat::kFlac;
  if (type == "audio/l16" || type == "audio/pcm" || type == "audio/x-pcm" || type == "audio/raw" ||
      type == "audio/x-raw") {
    return AudioFormat::kRawPcm16;
  }
  return AudioFormat::kUnknown;
}

Result<int> parse_int_param(std::string_view name, std::string_view value, int lo, int hi) {
  int out = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size() || out < lo || out > hi) {
    return Error::bad_request("declared raw PCM " + std::string(name) + "=" + std::string(value) +
                              " is not a whole number from " + std::to_string(lo) + " to " +
                              std::to_string(hi));
  }
  return out;
}

std::uint32_t read_u32(std::string_view bytes, std::size_t at, bool big_endian) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const std::size_t shift = big_endian ? 8 * (3 - i) : 8 * i;
    v |= static_cast<std::uint32_t>(byte_at(bytes, at + i)) << shift;
  }
  return v;
}

bool ogg_cut_short(std::string_view bytes) {
  constexpr std::size_t kHeader = 27;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < kHeader) return true;
    // Not a page (wrong capture pattern, version or flag bits): garbage, not
    // a cut.
    if (bytes.substr(pos, 4) != "OggS" || byte_at(bytes, pos + 4) != 0 ||
        (byte_at(bytes, pos + 5) & 0xF8) != 0) {
      return false;
    }
    const std::size_t segments = byte_at(bytes, pos + 26);
    if (bytes.size() - pos < kHeader + segments) return true;
    std::size_t body = 0;
    for (std::size_t i = 0; i < segments; ++i) body += byte_at(bytes, pos + kHeader + i);
    pos += kHeader + segments + body;
  }
  return pos > bytes.size();
}

bool wav_cut_short(std::string_view bytes) {
  if (!has_at(bytes, 0, "RIFF") && !has_at(bytes, 0, "RIFX"))
    return false;  // RF64: sizes elsewhere
  const bool big_endian = has_at(bytes, 0, "RIFX");
  std::size_t pos = 12;
  while (pos + 8 <= bytes.size()) {
    const std::string_view id = bytes.substr(pos, 4);
    if (!std::all_of(id.begin(), id.end(), [](char c) { return c >= ' ' && c <= '~'; })) {
      return false;  // not a chunk id: garbage, not a cut
    }
    const std::uint32_t size = read_u32(bytes, pos + 4, big_endian);
    if (id == "data") {
      // 0 and 0xFFFFFFFF are what streaming writers leave: length unknown.
      if (size == 0 || size == 0xFFFFFFFF) return false;
      return bytes.size() - (pos + 8) < size;
    }
    pos += 8 + static_cast<std::size_t>(size) + (size & 1);
  }
  return true;  // the bytes end before the data chunk
}

// Reads an EBML variable-length integer at `pos`; its length comes from the
// leading zero bits of the first byte. For sizes, all value bits set means
// "unknown". Returns false when the bytes end inside it or it is invalid.
bool read_vint(std::string_view bytes, std::size_t& pos, bool keep_marker, std::uint64_t& value,
               bool& unknown) {
  if (pos >= bytes.size()) return false;
  const std::uint8_t first = byte_at(bytes, pos);
  std::size_t length = 1;
  while (length <= 8 && (first & (0x80U >> (length - 1))) == 0) ++length;
  if (length > 8 || bytes.size() - pos < length) return false;
  const std::uint8_t marker = static_cast<std::uint8_t>(0x80U >> (length - 1));
  std::uint64_t v = keep_marker ? first : static_cast<std::uint8_t>(first & (marker - 1));
  bool all_ones = (first & (marker - 1)) == marker - 1;
  for (std::size_t i = 1; i < length; ++i) {
    const std::uint8_t b = byte_at(bytes, pos + i);
    v = (v << 8) | b;
    all_ones = all_ones && b == 0xFF;
  }
  pos += length;
  value = v;
  unknown = !keep_marker && all_ones;
  return true;
}

bool ebml_cut_short(std::string_view bytes) {
  constexpr std::uint64_t kSegment = 0x18538067;
  constexpr std::uint64_t kCluster = 0x1F43B675;
  constexpr std::uint64_t kEbmlHeader = 0x1A45DFA3;
  constexpr std::uint64_t kMaxEbmlHeader = 4096;  // real ones are under 100 bytes
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::uint64_t id = 0;
    std::uint64_t size = 0;
    bool unknown = false;
    std::size_t at = pos;
    if (!read_vint(bytes, at, true, id, unknown)) return byte_at(bytes, pos) != 0;
    if (!read_vint(bytes, at, false, size, unknown))
      return at >= bytes.size() || byte_at(bytes, at) != 0;
    if (id == kSegment || id == kCluster) {
      pos = at;  // step inside: their children follow
      continue;
    }
    if (unknown) return false;  // an unknown-size leaf: no way to tell
    if (id == kEbmlHeader && size > kMaxEbmlHeader) return false;  // garbage, not a cut
    if (size > bytes.size() - at) return true;
    pos = at + static_cast<std::size_t>(size);
  }
  return false;
}

}  // namespace

bool looks_cut_short(std::string_view bytes, AudioFormat format) {
  switch (format) {
    case AudioFormat::kOgg:
      return ogg_cut_short(bytes);
    case AudioFormat::kWav:
      return wav_cut_short(bytes);
    case AudioFormat::kWebm:
      return ebml_cut_short(bytes);
    default:
      return false;
  }
}

AudioFormat sniff_format(std::string_view bytes) {
  if ((has_at(bytes, 0, "RIFF") || has_at(bytes, 0, "RIFX") || has_at(bytes, 0, "RF64")) &&
      has_at(bytes, 8, "WAVE")) {
    return AudioFormat::kWav;
  }
  if (has_at(bytes, 0, "OggS")) return AudioFormat::kOgg;
  if (has_at(bytes, 0, "\x1A\x45\xDF\xA3")) return AudioFormat::kWebm;
  if (has_at(bytes, 0, "fLaC")) return AudioFormat::kFlac;
  if (const std::size_t tag = id3v2_size(bytes); tag > 0) {
    // FLAC files sometimes carry an ID3v2 tag in front; FFmpeg skips it.
    return has_at(bytes, tag, "fLaC") ? AudioFormat::kFlac : AudioFormat::kMp3;
  }
  if (is_mpeg_audio_frame(bytes)) return AudioFormat::kMp3;
  return AudioFormat::kUnknown;
}

bool sniff_is_strong(std::string_view bytes) {
  const AudioFormat format = sniff_format(bytes);
  return format != AudioFormat::kUnknown &&
         !(format == AudioFormat::kMp3 && id3v2_size(bytes) == 0);
}

std::string_view format_name(AudioFormat format) {
  switch (format) {
    case AudioFormat::kWav:
      return "WAV";
    case AudioFormat::kOgg:
      return "Ogg";
    case AudioFormat::kWebm:
      return "WebM";
    case AudioFormat::kMp3:
      return "MP3";
    case AudioFormat::kFlac:
      return "FLAC";
    case AudioFormat::kRawPcm16:
      return "raw PCM16";
    case AudioFormat::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string describe_unknown(std::string_view bytes) {
  if (bytes.empty()) return "no bytes";
  if (has_at(bytes, 4, "ftyp")) return "MP4/M4A";
  if (has_at(bytes, 0, "FORM") && (has_at(bytes, 8, "AIFF") || has_at(bytes, 8, "AIFC"))) {
    return "AIFF";
  }
  if (has_at(bytes, 0, "caff")) return "CAF";
  if (has_at(bytes, 0, "#!AMR")) return "AMR";
  if (bytes.size() >= 2 && byte_at(bytes, 0) == 0xFF && (byte_at(bytes, 1) & 0xF6) == 0xF0) {
    return "AAC (ADTS)";
  }
  const std::string_view head = bytes.substr(0, std::min<std::size_t>(bytes.size(), 64));
  if (std::all_of(head.begin(), head.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return std::isprint(u) != 0 || std::isspace(u) != 0;
      })) {
    return "text";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "bytes";
  for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 8); ++i) {
    out.push_back(' ');
    out.push_back(kHex[byte_at(bytes, i) >> 4]);
    out.push_back(kHex[byte_at(bytes, i) & 0xF]);
  }
  return out;
}

Result<DeclaredType> parse_content_type(std::string_view content_type) {
  DeclaredType out;
  std::string_view rest = content_type;
  const std::size_t semi = rest.find(';');
  out.media_type = ascii_lowercase(trim_ascii(rest.substr(0, semi)));
  out.format = format_for_media_type(out.media_type);
  if (out.format != AudioFormat::kRawPcm16) return out;

  out.raw.big_endian = out.media_type == "audio/l16";
  rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
  while (!rest.empty()) {
    const std::size_t next = rest.find(';');
    const std::string_view param = trim_ascii(rest.substr(0, next));
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    const std::size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string key = ascii_lowercase(trim_ascii(param.substr(0, eq)));
    std::string_view value = trim_ascii(param.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "rate") {
      auto rate = parse_int_param("rate", value, 1000, 384000);
      if (!rate) return std::move(rate).take_error();
      out.raw.sample_rate = *rate;
    } else if (key == "channels") {
      auto channels = parse_int_param("channels", value, 1, 16);
      if (!channels) return std::move(channels).take_error();
      out.raw.channels = *channels;
    } else if (key == "endianness" || key == "endian") {
      const std::string v = ascii_lowercase(value);
      if (v == "little-endian" || v == "little" || v == "le") {
        out.raw.big_endian = false;
      } else if (v == "big-endian" || v == "big" || v == "be") {
        out.raw.big_endian = true;
      } else {
        return Error::bad_request("declared raw PCM endianness=" + std::string(value) +
                                  " is neither little-endian nor big-endian");
      }
    }
  }
  return out;
}

}  // namespace scribepod::audio
