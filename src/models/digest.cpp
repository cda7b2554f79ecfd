#include "models/digest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace scribepod::models {
namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

MdCtx new_ctx(const EVP_MD* md) {
  MdCtx ctx(EVP_MD_CTX_new());
  // Allocation or init failure here is not recoverable (out of memory or a
  // broken OpenSSL); treat it as a programmer-level fault.
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1)
    throw std::runtime_error("EVP_DigestInit_ex failed");
  return ctx;
}

std::string finish_copy(const EVP_MD_CTX* ctx) {
  MdCtx copy(EVP_MD_CTX_new());
  if (!copy || EVP_MD_CTX_copy_ex(copy.get(), ctx) != 1)
    throw std::runtime_error("EVP_MD_CTX_copy_ex failed");
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(copy.get(), md.data(), &len) != 1)
    throw std::runtime_error("EVP_DigestFinal_ex failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2u);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 0x0f]);
  }
  return hex;
}

}  // namespace

struct Digests::State {
  MdCtx sha256 = new_ctx(EVP_sha256());
  MdCtx sha1 = new_ctx(EVP_sha1());
};

Digests::Digests() : state_(std::make_unique<State>()) {}
Digests::~Digests() = default;
Digests::Digests(Digests&&) noexcept = default;
Digests& Digests::operator=(Digests&&) noexcept = default;

void Digests::update(const void* data, std::size_t size) {
  if (size == 0) return;
  EVP_DigestUpdate(state_->sha256.get(), data, size);
  EVP_DigestUpdate(state_->sha1.get(), data, size);
  bytes_ += size;
}

std::string Digests::sha256_hex() const { return finish_copy(state_->sha256.get()); }
std::string Digests::sha1_hex() const { return finish_copy(state_->sha1.get()); }

void Digests::reset() {
  state_ = std::make_unique<State>();
  bytes_ = 0;
}

Result<Digests> digest_file(const std::string& path, std::uint64_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::io("cannot open " + path);
  Digests d;
  std::vector<char> buf(1 << 20);
  while (d.bytes() < limit) {
    const std::uint64_t want = std::min<std::uint64_t>(buf.size(), limit - d.bytes());
    in.read(buf.data(), static_cast<std::streamsize>(want));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    d.update(buf.data(), static_cast<std::size_t>(got));
  }
  if (in.bad()) return Error::io("error reading " + path);
  if (limit != UINT64_MAX && d.bytes() < limit) {
    return Error::io(path + " is shorter than expected (" + std::to_string(d.bytes()) + " of " +
                     std::to_string(limit) + " bytes)");
  }
  return d;
}

}  // namespace scribepod::models
