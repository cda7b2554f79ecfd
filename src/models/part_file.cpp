#include "models/part_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

namespace scribepod::models {
namespace {

Error io_error(const std::string& what, const std::string& path) {
  return Error::io(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Result<PartFile> PartFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot open", path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Error{ErrorCode::kUnavailable, "another download is already writing " + path, {}};
    }
    errno = err;
    return io_error("cannot lock", path);
  }
  PartFile f(fd, path);
  if (::lseek(fd, 0, SEEK_END) < 0) return io_error("cannot seek in", path);
  return f;
}

PartFile::PartFile(PartFile&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

PartFile& PartFile::operator=(PartFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

PartFile::~PartFile() {
  if (fd_ >= 0) ::close(fd_);  // also releases the lock
}

Result<std::uint64_t> PartFile::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return io_error("cannot stat", path_);
  return static_cast<std::uint64_t>(st.st_size);
}

Status PartFile::truncate(std::uint64_t length) {
  if (length > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
    return Error::io("length too large for " + path_);
  }
  const auto len = static_cast<off_t>(length);
  if (::ftruncate(fd_, len) != 0) return io_error("cannot truncate", path_);
  if (::lseek(fd_, len, SEEK_SET) < 0) return io_error("cannot seek in", path_);
  return {};
}

Status PartFile::append(const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write", path_);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

Status PartFile::sync() {
  if (::fsync(fd_) != 0) return io_error("cannot flush", path_);
  return {};
}

}  // namespace scribepod::models
