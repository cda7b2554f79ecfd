#include "models/downloader.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <thread>

#include "models/digest.h"
#include "models/part_file.h"
#include "models/range_request.h"
#include "telemetry/log.h"

namespace scribepod::models {
namespace fs = std::filesystem;

namespace {

// Compares the digests of the bytes on disk with the entry; on a mismatch
// says which digest, expected and actual.
Status check_digests(const ModelEntry& entry, const Digests& d, const std::string& what) {
  if (!entry.sha256.empty()) {
    const std::string actual = d.sha256_hex();
    if (actual != entry.sha256) {
      return Error{ErrorCode::kUpstreamFailed,
                   "checksum mismatch for " + entry.name + " (" + what + "): expected sha256 " +
                       entry.sha256 + ", actual " + actual,
                   {}};
    }
  }
  if (!entry.sha1.empty()) {
    const std::string actual = d.sha1_hex();
    if (actual != entry.sha1) {
      return Error{ErrorCode::kUpstreamFailed,
                   "checksum mismatch for " + entry.name + " (" + what + "): expected sha1 " +
                       entry.sha1 + ", actual " + actual,
                   {}};
    }
  }
  return {};
}

void remove_quietly(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
}

// The attempt loop: request, resume, retry, then verify and publish.
Result<DownloadReport> fetch_into(const ModelEntry& entry, PartFile& part,
                                  const std::string& part_path, DownloadReport report,
                                  const DownloadOptions& options) {
  std::error_code ec;
  Digests digests;
  std::optional<Error> last_error;
  const int max_attempts = std::max(1, options.max_attempts);
  int attempts = 0;
  bool first = true;
  while (attempts < max_attempts) {
    auto size = part.size();
    if (!size) return std::move(size).take_error();
    std::uint64_t offset = *size;
    if (entry.size_bytes > 0 && offset > entry.size_bytes) {
      // Longer than the file can be: not ours to resume.
      if (Status s = part.truncate(0); !s) return std::move(s).take_error();
      offset = 0;
    }
    if (digests.bytes() != offset) {
      auto prefix = digest_file(part_path, offset);
      if (!prefix) return std::move(prefix).take_error();
      digests = std::move(prefix).value();
    }
    if (first) report.resumed_from = offset;
    first = false;

    bool complete = entry.size_bytes > 0 && offset == entry.size_bytes;
    if (!complete) {
      if (attempts > 0) std::this_thread::sleep_for(options.retry_backoff * attempts);
      ++attempts;
      RangeOutcome out =
          fetch_range(entry, report.path, {&part, &digests, offset, entry.size_bytes}, options);
      ++report.requests;
      report.bytes_fetched += out.written;
      report.restarted = report.restarted || out.restarted;
      if (out.drop_part) {
        (void)part.truncate(0);
        remove_quietly(part_path);
      }
      switch (out.kind) {
        case RangeOutcome::kFatal:
          return std::move(*out.error);
        case RangeOutcome::kRetry:
          log::debug("model download: retrying",
                     {{"model", entry.name}, {"error", out.error->message}});
          last_error = std::move(out.error);
          continue;
        case RangeOutcome::kRangeNotSatisfiable:
          // 416 to "bytes=N-" means the server's file ends at or before N:
          // fine when it ends exactly there (the .part is complete).
          if (offset == 0)
            return Error{ErrorCode::kUpstreamFailed, "unexpected HTTP 416 from " + entry.url, {}};
          if (out.range_total && *out.range_total != offset) {
            if (Status s = part.truncate(0); !s) return std::move(s).take_error();
            last_error =
                Error{ErrorCode::kUpstreamFailed,
                      "the partial download is longer than the file on the server; started over",
                      {}};
            continue;
          }
          break;
        case RangeOutcome::kComplete:
          break;
      }
    }

    // Everything is on disk: check it, then publish it under its real name.
    if (Status s = part.sync(); !s) return std::move(s).take_error();
    auto on_disk = part.size();
    if (!on_disk) return std::move(on_disk).take_error();
    if (entry.size_bytes > 0 && *on_disk != entry.size_bytes) {
      (void)part.truncate(0);
      last_error = Error{ErrorCode::kUpstreamFailed,
                         "the download of " + entry.name + " has " + std::to_string(*on_disk) +
                             " bytes, expected " + std::to_string(entry.size_bytes),
                         {}};
      continue;
    }
    if (Status s = check_digests(entry, digests, "downloaded from " + entry.url); !s) {
      remove_quietly(part_path);
      return Error{
          s.error().code, s.error().message + "; deleted the partial download " + part_path, {}};
    }
    fs::rename(part_path, report.path, ec);
    if (ec)
      return Error::io("cannot rename " + part_path + " to " + report.path + ": " + ec.message());
    if (report.restarted) report.resumed_from = 0;  // nothing earlier was kept
    if (options.progress) options.progress(*on_disk, *on_disk);
    return report;
  }
  if (!last_error) last_error = Error{ErrorCode::kUpstreamFailed, "download failed", {}};
  last_error->message += " (gave up after " + std::to_string(attempts) +
                         " attempts; run the pull again to resume from " + part_path + ")";
  return std::move(*last_error);
}

}  // namespace

std::string final_path(const ModelEntry& entry, const std::string& dest_dir) {
  return (fs::path(dest_dir) / entry.file_name).string();
}

std::string partial_path(const ModelEntry& entry, const std::string& dest_dir) {
  return final_path(entry, dest_dir) + ".part";
}

Status verify_file(const std::string& path, const ModelEntry& entry) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory)
      return Error::not_found(path + " does not exist");
    return Error::io("cannot read " + path + ": " + ec.message());
  }
  if (entry.size_bytes > 0 && size != entry.size_bytes) {
    return Error{ErrorCode::kUpstreamFailed,
                 path + " has " + std::to_string(size) + " bytes, expected " +
                     std::to_string(entry.size_bytes),
                 {}};
  }
  if (!is_pinned(entry)) return {};
  auto digests = digest_file(path);
  if (!digests) return std::move(digests).take_error();
  return check_digests(entry, *digests, path);
}

Result<DownloadReport> download_model(const ModelEntry& entry, const std::string& dest_dir,
                                      const DownloadOptions& options) {
  if (Status s = validate_entry(entry, /*require_https=*/false); !s)
    return std::move(s).take_error();
  if (!is_pinned(entry) && !options.allow_unpinned) {
    return Error::bad_request(
        "checksum not pinned for " + entry.name +
        ": the catalogue gives no sha256, so the download could not be verified; "
        "add one, or pass --insecure-skip-checksum to accept it unverified");
  }
  DownloadReport report;
  report.path = final_path(entry, dest_dir);
  const std::string part_path = partial_path(entry, dest_dir);

  // An existing final file is either the right one (done, no request) or
  // something else, which we never overwrite silently.
  const auto check_present = [&]() -> std::optional<Status> {
    std::error_code ec;
    if (!fs::exists(report.path, ec)) return std::nullopt;
    if (Status s = verify_file(report.path, entry); !s) {
      return Status(Error{
          s.error().code, s.error().message + "; delete or move it aside, then pull again", {}});
    }
    return Status{};
  };
  if (auto present = check_present()) {
    if (!*present) return std::move(*present).take_error();
    report.already_present = true;
    return report;
  }

  std::error_code ec;
  fs::create_directories(dest_dir, ec);
  if (ec) return Error::io("cannot create " + dest_dir + ": " + ec.message());
  auto opened = PartFile::open(part_path);
  if (!opened) return std::move(opened).take_error();
  PartFile part = std::move(opened).value();
  // Another process may have finished while we waited to lock.
  if (auto present = check_present()) {
    if (!*present) return std::move(*present).take_error();
    remove_quietly(part_path);
    report.already_present = true;
    return report;
  }

  auto result = fetch_into(entry, part, part_path, report, options);
  if (!result.ok()) {
    auto left = part.size();
    if (left.ok() && *left == 0) remove_quietly(part_path);
  }
  return result;
}

}  // namespace scribepod::models
