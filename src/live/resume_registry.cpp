#include "live/resume_registry.h"

#include <sys/random.h>

#include <array>
#include <cerrno>

namespace scribepod::live {

Result<std::string> random_token_hex() {
  std::array<unsigned char, 16> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::internal("no randomness available for a resume token");
    }
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4U]);
    out.push_back(kHex[b & 0xFU]);
  }
  return out;
}

namespace {

bool equal_constant_time(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = static_cast<unsigned char>(
        diff | (static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i])));
  }
  return diff == 0;
}

}  // namespace

ResumeRegistry::ResumeRegistry(Clock clock)
    : clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {}

Result<std::string> ResumeRegistry::add(const std::string& session_id) {
  auto token = random_token_hex();
  if (!token) return token;
  std::lock_guard lock(mu_);
  prune_locked(clock_());
  Entry& e = entries_[session_id];
  e = Entry{};
  e.token = *token;
  return token;
}

void ResumeRegistry::mark_draining(const std::string& session_id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(session_id);
  if (it != entries_.end()) it->second.state = State::kDraining;
}

void ResumeRegistry::mark_detached(const std::string& session_id, std::chrono::milliseconds grace,
                                   Progress progress) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(session_id);
  if (it == entries_.end()) return;
  it->second.state = State::kDetached;
  it->second.expires = clock_() + grace;
  it->second.progress = progress;
}

void ResumeRegistry::remove(const std::string& session_id) {
  std::lock_guard lock(mu_);
  entries_.erase(session_id);
}

ResumeRegistry::Claim ResumeRegistry::claim(const std::string& session_id, const std::string& token,
                                            Progress& progress) {
  std::lock_guard lock(mu_);
  prune_locked(clock_());
  auto it = entries_.find(session_id);
  if (it == entries_.end() || !equal_constant_time(it->second.token, token)) {
    return Claim::kRejected;
  }
  switch (it->second.state) {
    case State::kAttached:  // the server may not have seen the drop yet
    case State::kDraining:
      return Claim::kDraining;
    case State::kDetached:
      break;
  }
  it->second.state = State::kAttached;
  progress = it->second.progress;
  return Claim::kResumed;
}

std::size_t ResumeRegistry::size() {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void ResumeRegistry::prune_locked(std::chrono::steady_clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.state == State::kDetached && it->second.expires <= now) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace scribepod::live
