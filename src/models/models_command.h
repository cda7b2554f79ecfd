// What `scribepod models list` and `scribepod models pull NAME` do, as
// functions the CLI calls with its parsed flags. They print for people (or
// JSON with `json`) and return the process exit status:
//   0 success (including "already present"), 1 failure, 2 unknown model.
//
// The catalogue is the built-in one plus `<models_dir>/catalog.json` when
// present (see catalog.h).
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "models/downloader.h"

namespace scribepod::models {

inline constexpr int kModelsOk = 0;
inline constexpr int kModelsFailed = 1;
inline constexpr int kModelsUnknown = 2;

// One line per model: name, kind, size, status (present / partial NN% /
// missing / wrong size) and path. `json` prints an array of objects instead.
// Presence is judged by size only; `pull` verifies digests.
int run_models_list(std::ostream& out, std::ostream& err, const std::string& models_dir, bool json);

struct PullOptions {
  // Machine-readable progress: one JSON object per line on `out`
  // ({"event":"progress","done":N,"total":N}, then "done" or "error")
  // instead of a progress bar on `err`.
  bool json_progress = false;
  bool allow_unpinned = false;  // --insecure-skip-checksum
  // Network knobs; the defaults suit a real download.
  DownloadOptions download;
  // Progress bar drawing; nullopt = a TTY bar when stderr is a terminal.
  std::optional<bool> tty;
};

int run_models_pull(const std::string& name, const std::string& models_dir,
                    const PullOptions& options, std::ostream& out, std::ostream& err);

}  // namespace scribepod::models
