// Incremental SHA-256 and SHA-1 over a byte stream (OpenSSL EVP), so a
// download is hashed as it arrives and never held in memory whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace scribepod::models {

class Digests {
 public:
  Digests();
  ~Digests();
  Digests(Digests&&) noexcept;
  Digests& operator=(Digests&&) noexcept;
  Digests(const Digests&) = delete;
  Digests& operator=(const Digests&) = delete;

  void update(const void* data, std::size_t size);
  // Lowercase hex of the digests of everything fed so far; the state is left
  // untouched, so more bytes may follow.
  std::string sha256_hex() const;
  std::string sha1_hex() const;
  std::uint64_t bytes() const { return bytes_; }
  void reset();

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::uint64_t bytes_ = 0;
};

// Hashes the first `limit` bytes of a file (all of it when limit is
// UINT64_MAX). Fails with kIo when the file can't be read or is shorter.
Result<Digests> digest_file(const std::string& path, std::uint64_t limit = UINT64_MAX);

}  // namespace scribepod::models
