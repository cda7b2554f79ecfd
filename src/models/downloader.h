// Fetches one catalogue entry into a directory, safely and resumably.
//
// The bytes stream to `<dest>/<file_name>.part` (never held in memory) while
// SHA-256/SHA-1 are computed as they arrive. A second call after a failure
// resumes from the .part with `Range: bytes=N-`; a server that ignores the
// Range (200) restarts cleanly from zero, and a 416 for an already complete
// .part goes straight to verification. Only when the size and every digest
// the entry carries match is the .part renamed, atomically, to the final
// name; a digest mismatch deletes the .part. A final file that is already
// present and verifies is a no-op that makes no request.
//
// Failures say what to do: offline (connection refused, no DNS) names the
// host and the path to place the file at by hand; 404 names the URL; a stall
// (less than `low_speed_limit` B/s for `low_speed_time`) times out and is
// retried from the .part, as are truncation, 5xx and 429, up to
// `max_attempts` requests in one call.
//
// An unpinned entry (no digest) is refused unless `allow_unpinned` is set,
// in which case only the size (when known) is checked.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "core/result.h"
#include "models/catalog.h"

namespace scribepod::models {

struct DownloadOptions {
  std::chrono::milliseconds connect_timeout{15'000};
  // Stall detection: abort when slower than this many bytes per second for
  // low_speed_time.
  std::uint64_t low_speed_limit = 1024;
  std::chrono::seconds low_speed_time{30};
  // Called with bytes on disk so far and the expected total (0 if unknown).
  // Monotonic within one attempt; may step back to 0 if the server ignores a
  // Range request and the download restarts.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
  int max_attempts = 3;
  // Wait before attempt k+1 is retry_backoff * k.
  std::chrono::milliseconds retry_backoff{1'000};
  // Accept an entry with no digest (the CLI's --insecure-skip-checksum).
  bool allow_unpinned = false;
};

struct DownloadReport {
  std::string path;                // the final file
  bool already_present = false;    // nothing was fetched
  std::uint64_t resumed_from = 0;  // bytes of an earlier .part kept in the file
  std::uint64_t bytes_fetched = 0;
  int requests = 0;
  bool restarted = false;  // a server ignored Range and we began again
};

Result<DownloadReport> download_model(const ModelEntry& entry, const std::string& dest_dir,
                                      const DownloadOptions& options);

// Checks a file against the entry: exact size when known, then every digest
// the entry carries. kUpstreamFailed with expected and actual values on a
// mismatch, kIo when the file can't be read, kNotFound when it is missing.
Status verify_file(const std::string& path, const ModelEntry& entry);

// `<dest_dir>/<file_name>` and its partial sibling.
std::string final_path(const ModelEntry& entry, const std::string& dest_dir);
std::string partial_path(const ModelEntry& entry, const std::string& dest_dir);

}  // namespace scribepod::models
