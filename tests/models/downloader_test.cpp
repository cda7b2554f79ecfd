// The real downloader (libcurl, OpenSSL digests, the .part file) against the
// loopback TEST DOUBLE server, which serves 3 MB of seeded random bytes and
// plays scripted faults: corruption, truncation and resume, an ignored
// Range, 404, 503, a stall, a refused connection, a size the catalogue
// doesn't expect.
#include "models/downloader.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "test_double_http_server.h"

namespace scribepod::models {
namespace {

namespace fs = std::filesystem;
using testing::Fault;
using testing::TestDoubleHttpServer;

constexpr std::size_t kBodySize = 3 * 1000 * 1000;

std::string seeded_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint64_t word = rng();
    std::memcpy(s.data() + i, &word, std::min<std::size_t>(8, n - i));
  }
  return s;
}

// Computed with OpenSSL's one-shot API, independently of the code under test.
std::string hex_digest(const EVP_MD* md, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  std::ostringstream s;
  for (unsigned i = 0; i < len; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    s << kHex[out[i] >> 4] << kHex[out[i] & 0xf];
  }
  return s.str();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

class DownloaderTest : public ::testing::Test {
 protected:
  DownloaderTest() : body_(seeded_bytes(kBodySize, 20240611)), server_(body_) {
    dir_ = fs::temp_directory_path() /
           ("scribepod_models_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    entry_.name = "test-model";
    entry_.kind = "whisper";
    entry_.url = server_.url("/files/test-model.bin");
    entry_.size_bytes = body_.size();
    entry_.sha256 = hex_digest(EVP_sha256(), body_);
    entry_.file_name = "test-model.bin";
    opts_.connect_timeout = std::chrono::milliseconds(2000);
    opts_.low_speed_limit = 1000;
    opts_.low_speed_time = std::chrono::seconds(1);
    opts_.retry_backoff = std::chrono::milliseconds(10);
  }
  ~DownloaderTest() override { fs::remove_all(dir_); }

  std::string dir() const { return dir_.string(); }
  std::string final_file() const { return final_path(entry_, dir()); }
  std::string part_file() const { return partial_path(entry_, dir()); }

  std::string body_;
  TestDoubleHttpServer server_;
  fs::path dir_;
  ModelEntry entry_;
  DownloadOptions opts_;
};

TEST_F(DownloaderTest, FullDownloadVerifiesAndRenames) {
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->path, final_file());
  EXPECT_FALSE(r->already_present);
  EXPECT_EQ(r->bytes_fetched, body_.size());
  EXPECT_EQ(read_file(final_file()), body_);
  EXPECT_FALSE(fs::exists(part_file()));
  const auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].path, "/files/test-model.bin");
  EXPECT_EQ(reqs[0].range, "");
  EXPECT_TRUE(verify_file(final_file(), entry_).ok());
}

TEST_F(DownloaderTest, Sha1OnlyEntryIsVerifiedToo) {
  entry_.sha256.clear();
  entry_.sha1 = hex_digest(EVP_sha1(), body_);
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(read_file(final_file()), body_);
}

TEST_F(DownloaderTest, CorruptContentFailsWithDigestsAndLeavesNothing) {
  server_.script({Fault::kCorrupt});
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamFailed);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("checksum mismatch"), std::string::npos) << m;
  EXPECT_NE(m.find("expected sha256 " + entry_.sha256), std::string::npos) << m;
  std::string corrupted = body_;
  corrupted[corrupted.size() / 2] = static_cast<char>(corrupted[corrupted.size() / 2] ^ 0x5a);
  EXPECT_NE(m.find("actual " + hex_digest(EVP_sha256(), corrupted)), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(final_file()));
  EXPECT_FALSE(fs::exists(part_file()));
}

TEST_F(DownloaderTest, WrongSha1IsCaughtEvenWhenSha256Matches) {
  entry_.sha1 = std::string(40, '0');
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("expected sha1 " + entry_.sha1), std::string::npos)
      << r.error().message;
  EXPECT_FALSE(fs::exists(final_file()));
}

TEST_F(DownloaderTest, TruncationFailsThenASecondCallResumesWithRange) {
  server_.script({Fault::kTruncateHalf});
  opts_.max_attempts = 1;
  auto first = download_model(entry_, dir(), opts_);
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.error().message.find("run the pull again"), std::string::npos)
      << first.error().message;
  EXPECT_FALSE(fs::exists(final_file()));
  ASSERT_TRUE(fs::exists(part_file()));
  const auto half = fs::file_size(part_file());
  EXPECT_EQ(half, body_.size() / 2);

  auto second = download_model(entry_, dir(), opts_);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->resumed_from, half);
  EXPECT_EQ(second->bytes_fetched, body_.size() - half);
  EXPECT_EQ(read_file(final_file()), body_);
  EXPECT_FALSE(fs::exists(part_file()));
  const auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].range, "");
  EXPECT_EQ(reqs[1].range, "bytes=" + std::to_string(half) + "-");
}

TEST_F(DownloaderTest, TruncationWithinOneCallIsRetriedFromThePart) {
  server_.script({Fault::kTruncateHalf, Fault::kTruncateHalf});
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->requests, 3);
  EXPECT_EQ(read_file(final_file()), body_);
  const auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  const std::size_t half = body_.size() / 2;
  EXPECT_EQ(reqs[1].range, "bytes=" + std::to_string(half) + "-");
  // The second truncation sent half of the remaining half.
  EXPECT_EQ(reqs[2].range, "bytes=" + std::to_string(half + (body_.size() - half) / 2) + "-");
}

TEST_F(DownloaderTest, ServerIgnoringRangeRestartsFromZero) {
  write_file(part_file(), body_.substr(0, 1'000'000));
  server_.script({Fault::kIgnoreRange});
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->restarted);
  EXPECT_EQ(r->resumed_from, 0u);
  EXPECT_EQ(r->bytes_fetched, body_.size());
  EXPECT_EQ(read_file(final_file()), body_);  // not 1 MB + 3 MB
  const auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].range, "bytes=1000000-");
}

TEST_F(DownloaderTest, ResumesAPartLeftByAnEarlierRun) {
  write_file(part_file(), body_.substr(0, 1'234'567));
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->resumed_from, 1'234'567u);
  EXPECT_EQ(read_file(final_file()), body_);
  EXPECT_EQ(server_.requests().at(0).range, "bytes=1234567-");
}

TEST_F(DownloaderTest, CorruptPartFromAnEarlierRunIsCaughtAndDeleted) {
  std::string bad = body_.substr(0, 1'000'000);
  bad[10] = static_cast<char>(bad[10] ^ 1);
  write_file(part_file(), bad);
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("checksum mismatch"), std::string::npos);
  EXPECT_FALSE(fs::exists(part_file()));
  // The next pull starts clean and succeeds.
  auto again = download_model(entry_, dir(), opts_);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(read_file(final_file()), body_);
}

TEST_F(DownloaderTest, CompletePartWithKnownSizeIsFinishedWithoutARequest) {
  write_file(part_file(), body_);
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->requests, 0);
  EXPECT_TRUE(server_.requests().empty());
  EXPECT_EQ(read_file(final_file()), body_);
}

TEST_F(DownloaderTest, CompletePartWithUnknownSizeIsFinishedOn416) {
  entry_.size_bytes = 0;
  write_file(part_file(), body_);
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].range, "bytes=" + std::to_string(body_.size()) + "-");
  EXPECT_EQ(read_file(final_file()), body_);
  EXPECT_FALSE(fs::exists(part_file()));
}

TEST_F(DownloaderTest, NotFoundNamesTheUrlAndIsNotRetried) {
  server_.script({Fault::kNotFound, Fault::kNotFound, Fault::kNotFound});
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("not found at " + entry_.url), std::string::npos)
      << r.error().message;
  EXPECT_EQ(server_.requests().size(), 1u);
  EXPECT_FALSE(fs::exists(final_file()));
  EXPECT_FALSE(fs::exists(part_file()));  // no empty .part left behind
}

TEST_F(DownloaderTest, ServerErrorsAreRetried) {
  server_.script({Fault::kServerError, Fault::kServerError});
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(server_.requests().size(), 3u);
  EXPECT_EQ(read_file(final_file()), body_);
}

TEST_F(DownloaderTest, PersistentServerErrorGivesUpAfterMaxAttempts) {
  server_.script({Fault::kServerError, Fault::kServerError, Fault::kServerError});
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("HTTP 503"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("3 attempts"), std::string::npos) << r.error().message;
  EXPECT_EQ(server_.requests().size(), 3u);
}

TEST_F(DownloaderTest, ConnectionRefusedSaysOfflineAndWhereToPutTheFile) {
  // A port that was free a moment ago: nothing listens there.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  entry_.url = "http://127.0.0.1:" + std::to_string(port) + "/x.bin";

  const auto t0 = std::chrono::steady_clock::now();
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_FALSE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));  // not retried
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("cannot reach 127.0.0.1:" + std::to_string(port)), std::string::npos) << m;
  EXPECT_NE(m.find("offline?"), std::string::npos) << m;
  EXPECT_NE(m.find("place it at " + final_file()), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(part_file()));
}

// libcurl judges speed over a window of about five seconds, so the 64 KiB
// burst before the stall would mask a 1 kB/s floor for that long; a floor
// well above the burst (loopback moves hundreds of MB/s) trips in about 2 s.
constexpr std::uint64_t kStallFloor = 200'000;

TEST_F(DownloaderTest, StallTimesOutThroughTheLowSpeedLimit) {
  server_.script({Fault::kStall});
  opts_.max_attempts = 1;
  opts_.low_speed_limit = kStallFloor;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = download_model(entry_, dir(), opts_);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamTimeout);
  EXPECT_NE(r.error().message.find("stalled"), std::string::npos) << r.error().message;
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  // What arrived before the stall is kept for the next run.
  EXPECT_EQ(fs::file_size(part_file()), 64u * 1024u);
}

TEST_F(DownloaderTest, StallIsRecoveredByResumingInTheSameCall) {
  server_.script({Fault::kStall});
  opts_.low_speed_limit = kStallFloor;
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->requests, 2);
  EXPECT_EQ(server_.requests().at(1).range, "bytes=65536-");
  EXPECT_EQ(read_file(final_file()), body_);
}

TEST_F(DownloaderTest, ProgressIsMonotonicAndEndsAtTotal) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
  opts_.progress = [&](std::uint64_t done, std::uint64_t total) {
    calls.emplace_back(done, total);
  };
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_GE(calls.size(), 3u);
  for (std::size_t i = 1; i < calls.size(); ++i) {
    EXPECT_GE(calls[i].first, calls[i - 1].first) << "at call " << i;
    EXPECT_EQ(calls[i].second, body_.size());
  }
  EXPECT_EQ(calls.back().first, body_.size());
}

TEST_F(DownloaderTest, AlreadyPresentMakesNoRequest) {
  write_file(final_file(), body_);
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->already_present);
  EXPECT_EQ(r->requests, 0);
  EXPECT_TRUE(server_.requests().empty());
  EXPECT_FALSE(fs::exists(part_file()));
}

TEST_F(DownloaderTest, PresentButWrongFileIsNeverOverwritten) {
  write_file(final_file(), std::string(body_.size(), 'x'));
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("checksum mismatch"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("delete or move it aside"), std::string::npos);
  EXPECT_TRUE(server_.requests().empty());
  EXPECT_EQ(read_file(final_file()), std::string(body_.size(), 'x'));
}

TEST_F(DownloaderTest, ServerSizeDifferentFromCatalogueIsRefusedEarly) {
  server_.script({Fault::kWrongSize});
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("catalogue expects " + std::to_string(body_.size())),
            std::string::npos)
      << r.error().message;
  EXPECT_FALSE(fs::exists(final_file()));
  EXPECT_FALSE(fs::exists(part_file()));
}

TEST_F(DownloaderTest, UnpinnedEntryIsRefusedUnlessAllowed) {
  entry_.sha256.clear();
  auto refused = download_model(entry_, dir(), opts_);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("checksum not pinned"), std::string::npos);
  EXPECT_NE(refused.error().message.find("--insecure-skip-checksum"), std::string::npos);
  EXPECT_TRUE(server_.requests().empty());

  opts_.allow_unpinned = true;
  auto r = download_model(entry_, dir(), opts_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(read_file(final_file()), body_);
}

TEST_F(DownloaderTest, VerifyFileReportsMissingWrongSizeAndGood) {
  EXPECT_EQ(verify_file(final_file(), entry_).error().code, ErrorCode::kNotFound);
  write_file(final_file(), body_.substr(1));
  auto short_file = verify_file(final_file(), entry_);
  ASSERT_FALSE(short_file.ok());
  EXPECT_NE(short_file.error().message.find("expected " + std::to_string(body_.size())),
            std::string::npos);
  write_file(final_file(), body_);
  EXPECT_TRUE(verify_file(final_file(), entry_).ok());
}

}  // namespace
}  // namespace scribepod::models
