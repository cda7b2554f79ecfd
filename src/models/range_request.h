// One HTTP GET of a model file (libcurl), appending to a `.part` from a
// given offset: sends `Range: bytes=N-` when N > 0, follows redirects,
// checks that a 206 resumes at N and that the server's size matches the
// catalogue's, truncates and starts over when a server answers 200 to a
// Range request, and hashes every byte it writes. It classifies how the
// request ended so the caller (downloader.cpp) can decide to retry, resume,
// verify or give up. Internal to the models room.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.h"
#include "models/catalog.h"
#include "models/digest.h"
#include "models/downloader.h"
#include "models/part_file.h"

namespace scribepod::models {

struct RangeRequest {
  PartFile* file = nullptr;
  Digests* digests = nullptr;  // covers exactly the first `offset` bytes
  std::uint64_t offset = 0;    // bytes already in the file
  std::uint64_t expected = 0;  // catalogue size, 0 if unknown
};

struct RangeOutcome {
  enum Kind {
    kComplete,             // 200/206 and every byte arrived
    kRangeNotSatisfiable,  // 416: the file may already be complete
    kRetry,                // stall, dropped connection, 5xx, 429: resume later
    kFatal,                // offline, 404, refused, size mismatch, disk error
  } kind = kFatal;
  std::optional<Error> error;  // set for kRetry and kFatal
  std::uint64_t written = 0;
  bool restarted = false;                    // the server ignored Range; the file began again at 0
  bool drop_part = false;                    // what was written can't be trusted
  std::optional<std::uint64_t> range_total;  // from Content-Range (e.g. of a 416)
};

// `dest_path` is only named in the offline message ("place it at ...").
RangeOutcome fetch_range(const ModelEntry& entry, const std::string& dest_path,
                         const RangeRequest& request, const DownloadOptions& options);

}  // namespace scribepod::models
