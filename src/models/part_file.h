// The `.part` file a download appends to: an owned descriptor holding an
// exclusive advisory lock, so two `models pull` runs for the same model can't
// interleave their bytes. Writes are plain appends; sync() flushes to disk
// before the final rename so a crash never leaves a short "complete" file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/result.h"

namespace scribepod::models {

class PartFile {
 public:
  // Opens (creating if needed) and locks `path`. kUnavailable when another
  // process holds the lock, kIo for anything else.
  static Result<PartFile> open(const std::string& path);

  PartFile(PartFile&& other) noexcept;
  PartFile& operator=(PartFile&& other) noexcept;
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;
  ~PartFile();

  Result<std::uint64_t> size() const;
  // Cuts the file to `length` bytes and moves the write position there.
  Status truncate(std::uint64_t length);
  // Appends at the current write position (the end, after open/truncate).
  Status append(const char* data, std::size_t size);
  Status sync();
  const std::string& path() const { return path_; }

 private:
  PartFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace scribepod::models
