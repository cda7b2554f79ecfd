// Resampler: streaming conversion of live PCM to what the rest of the program
// consumes (16 kHz mono float, see pcm.h).
//
// Input is interleaved int16 or float PCM at 8..48 kHz with one or two
// channels, in chunks of any size; a chunk may even end in the middle of a
// stereo frame. Stereo is mixed to mono as the mean of the two channels, then
// libswresample resamples with its filter state carried across chunks, so
// cutting a stream into chunks changes nothing: the output equals what one
// call with the whole stream gives (up to float rounding), with no clicks,
// duplicated or lost samples at the edges. The filter looks a few samples
// ahead, so the last ones come out only at flush(); after flush() the total
// output is round(frames_in * 16000 / input_rate) samples.
//
// int16 samples map to floats as s / 32768; float NaN and infinities count as
// silence. One Resampler serves one stream and is not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/result.h"

namespace scribepod::audio {

class Resampler {
 public:
  static constexpr int kMinInputRate = 8000;
  static constexpr int kMaxInputRate = 48000;

  // Fails with kBadRequest for a rate outside 8000..48000 Hz or a channel
  // count other than 1 or 2, kInternal when libswresample cannot be set up.
  static Result<Resampler> create(int input_rate, int channels);

  Resampler(Resampler&&) noexcept;
  Resampler& operator=(Resampler&&) noexcept;
  ~Resampler();

  // Converts interleaved samples and appends the 16 kHz mono output to `out`
  // (possibly nothing for a tiny chunk). Fails with kBadRequest after flush().
  Status process(std::span<const std::int16_t> interleaved, std::vector<float>& out);
  Status process(std::span<const float> interleaved, std::vector<float>& out);

  // Ends the stream: appends the samples still inside the filter. A trailing
  // half stereo frame is dropped. Further calls to process() fail.
  Status flush(std::vector<float>& out);

  int input_rate() const;
  int channels() const;
  std::int64_t frames_in() const;    // whole input frames (per channel) accepted
  std::int64_t samples_out() const;  // output samples produced

 private:
  struct Impl;
  explicit Resampler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace scribepod::audio
