#include "models/models_command.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <nlohmann/json.hpp>

#include "models/catalog.h"
#include "models/progress_bar.h"

namespace scribepod::models {
namespace fs = std::filesystem;

namespace {

struct LocalState {
  std::string path;
  std::string status;  // "present", "partial", "missing", "wrong size"
  bool present = false;
  std::uint64_t partial_bytes = 0;
};

LocalState inspect(const ModelEntry& e, const std::string& models_dir) {
  LocalState s;
  s.path = final_path(e, models_dir);
  std::error_code ec;
  const auto size = fs::file_size(s.path, ec);
  if (!ec) {
    s.present = e.size_bytes == 0 || size == e.size_bytes;
    s.status = s.present ? "present" : "wrong size";
    return s;
  }
  const auto part = fs::file_size(partial_path(e, models_dir), ec);
  if (!ec && part > 0) {
    s.partial_bytes = part;
    s.status = "partial";
    return s;
  }
  s.status = "missing";
  return s;
}

std::string status_text(const ModelEntry& e, const LocalState& s) {
  if (s.status != "partial") return s.status;
  if (e.size_bytes == 0) return "partial " + format_bytes(s.partial_bytes);
  const auto pct = static_cast<int>(100.0 * static_cast<double>(s.partial_bytes) /
                                    static_cast<double>(e.size_bytes));
  return "partial " + std::to_string(std::min(pct, 99)) + "%";
}

std::string known_names(const std::vector<ModelEntry>& catalog) {
  std::string names;
  for (const auto& e : catalog) names += (names.empty() ? "" : ", ") + e.name;
  return names;
}

void json_line(std::ostream& out, const nlohmann::json& j) {
  out << j.dump() << '\n' << std::flush;
}

}  // namespace

int run_models_list(std::ostream& out, std::ostream& err, const std::string& models_dir,
                    bool json) {
  auto catalog = load_catalog(models_dir);
  if (!catalog) {
    err << "error: " << catalog.error().message << '\n';
    return kModelsFailed;
  }
  if (json) {
    auto arr = nlohmann::json::array();
    for (const auto& e : *catalog) {
      const LocalState s = inspect(e, models_dir);
      arr.push_back({{"name", e.name},
                     {"kind", e.kind},
                     {"size_bytes", e.size_bytes},
                     {"sha256", e.sha256.empty() ? nlohmann::json() : nlohmann::json(e.sha256)},
                     {"sha1", e.sha1.empty() ? nlohmann::json() : nlohmann::json(e.sha1)},
                     {"pinned", is_pinned(e)},
                     {"url", e.url},
                     {"description", e.description},
                     {"file_name", e.file_name},
                     {"path", s.path},
                     {"status", s.status},
                     {"present", s.present},
                     {"partial_bytes", s.partial_bytes}});
    }
    out << arr.dump(2) << '\n';
    return kModelsOk;
  }
  std::size_t name_w = 4;
  for (const auto& e : *catalog) name_w = std::max(name_w, e.name.size());
  out << std::left << std::setw(static_cast<int>(name_w) + 2) << "NAME" << std::setw(9) << "KIND"
      << std::setw(10) << "SIZE" << std::setw(13) << "STATUS"
      << "PATH\n";
  for (const auto& e : *catalog) {
    const LocalState s = inspect(e, models_dir);
    out << std::left << std::setw(static_cast<int>(name_w) + 2) << e.name << std::setw(9) << e.kind
        << std::setw(10) << (e.size_bytes > 0 ? format_bytes(e.size_bytes) : "?") << std::setw(13)
        << status_text(e, s) << s.path << (is_pinned(e) ? "" : "  (checksum not pinned)") << '\n';
  }
  out << "\nModels directory: " << models_dir << "\nFetch one with: scribepod models pull NAME\n";
  return kModelsOk;
}

int run_models_pull(const std::string& name, const std::string& models_dir,
                    const PullOptions& options, std::ostream& out, std::ostream& err) {
  const auto fail = [&](std::string_view code, const std::string& message, int rc) {
    if (options.json_progress) {
      json_line(out, {{"event", "error"}, {"code", code}, {"message", message}});
    }
    err << "error: " << message << '\n';
    return rc;
  };
  auto catalog = load_catalog(models_dir);
  if (!catalog)
    return fail(error_code_name(catalog.error().code), catalog.error().message, kModelsFailed);
  const auto entry = find_model(*catalog, name);
  if (!entry) {
    return fail("unknown_model",
                "unknown model '" + name + "'; known models: " + known_names(*catalog),
                kModelsUnknown);
  }

  DownloadOptions dl = options.download;
  dl.allow_unpinned = options.allow_unpinned;
  if (!is_pinned(*entry) && options.allow_unpinned) {
    err << "WARNING: checksum not pinned for " << entry->name
        << ": the download will NOT be verified (--insecure-skip-checksum)\n";
  }
  const std::string dest = final_path(*entry, models_dir);
  if (!options.json_progress) {
    err << "Pulling " << entry->name << " ("
        << (entry->size_bytes > 0 ? format_bytes(entry->size_bytes) : std::string("size unknown"))
        << ") from " << entry->url << "\n  into " << dest << '\n';
  }

  ProgressBarOptions bar_opts;
  bar_opts.tty = options.tty.value_or(ProgressBar::stderr_is_tty());
  ProgressBar bar(err, entry->name, bar_opts);
  bool drew = false;
  auto last_json = ProgressBar::Clock::time_point{};
  std::uint64_t last_json_done = UINT64_MAX;
  if (options.json_progress) {
    // At most ~4 lines a second, plus the final state.
    dl.progress = [&, user = options.download.progress](std::uint64_t done, std::uint64_t total) {
      if (user) user(done, total);
      const auto now = ProgressBar::Clock::now();
      const bool last = total > 0 && done == total;
      if ((now - last_json < std::chrono::milliseconds(250) && !last) || done == last_json_done)
        return;
      last_json = now;
      last_json_done = done;
      json_line(out,
                {{"event", "progress"}, {"model", entry->name}, {"done", done}, {"total", total}});
    };
  } else {
    dl.progress = [&, user = options.download.progress](std::uint64_t done, std::uint64_t total) {
      if (user) user(done, total);
      drew = true;
      bar.update(done, total);
    };
  }

  auto result = download_model(*entry, models_dir, dl);
  if (drew) bar.finish();
  if (!result) {
    return fail(error_code_name(result.error().code), result.error().message, kModelsFailed);
  }
  const DownloadReport& r = *result;
  const std::string verified = is_pinned(*entry)
                                   ? (entry->sha256.empty() ? "sha1 verified" : "sha256 verified")
                                   : "NOT verified: checksum not pinned";
  if (options.json_progress) {
    json_line(out, {{"event", "done"},
                    {"model", entry->name},
                    {"path", r.path},
                    {"already_present", r.already_present},
                    {"resumed_from", r.resumed_from},
                    {"bytes_fetched", r.bytes_fetched},
                    {"verified", is_pinned(*entry)}});
  } else if (r.already_present) {
    err << entry->name << " is already present at " << r.path << " (" << verified << ")\n";
  } else {
    err << "Saved " << r.path << " (" << verified;
    if (r.resumed_from > 0) err << ", resumed from " << format_bytes(r.resumed_from);
    if (r.restarted) err << ", the server ignored the resume request so it was fetched whole";
    err << ")\n";
  }
  return kModelsOk;
}

}  // namespace scribepod::models
