#include "models/catalog.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace scribepod::models {
namespace {

// Where the pinned values come from (nothing here was downloaded or computed
// on this machine; no model hub is reachable from the build host):
//
// whisper ggml files, https://huggingface.co/ggerganov/whisper.cpp, all added
// in commit 80da2d8 ("Migrate from HG dataset into HG model") and unchanged
// since:
//   - sha256: the Git LFS object id shown on each file's page in that repo;
//   - sha1: the table in whisper.cpp's models/README.md (v1.9.1, as shipped
//     in nodejs-whisper 0.3.1) and in the repo's own README.md;
//   - size: the LFS pointer "size" of the same object (tiny.en, base,
//     base.en seen in LFS pointers carrying the same oid; tiny, small,
//     small.en from several independent catalogues that pin the same oid).
// GGUF files: the SHA-256 and size published for the exact file at a fixed
// revision, which the URL pins, so a later re-upload cannot change the bytes
// behind the URL.
constexpr std::string_view kWhisperBase =
    "https://huggingface.co/ggerganov/whisper.cpp/resolve/main/";

ModelEntry whisper(std::string name, std::uint64_t size, std::string sha256, std::string sha1,
                   std::string description) {
  ModelEntry e;
  e.file_name = "ggml-" + name + ".bin";
  e.url = std::string(kWhisperBase) + e.file_name;
  e.name = std::move(name);
  e.kind = "whisper";
  e.size_bytes = size;
  e.sha256 = std::move(sha256);
  e.sha1 = std::move(sha1);
  e.description = std::move(description);
  return e;
}

ModelEntry llm(std::string name, std::string url, std::string file_name, std::uint64_t size,
               std::string sha256, std::string description) {
  ModelEntry e;
  e.name = std::move(name);
  e.kind = "llm";
  e.url = std::move(url);
  e.file_name = std::move(file_name);
  e.size_bytes = size;
  e.sha256 = std::move(sha256);
  e.description = std::move(description);
  return e;
}

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool is_safe_token(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status field_error(const ModelEntry& e, std::string_view what) {
  const std::string who =
      e.name.empty() ? std::string("a catalogue entry") : "model '" + e.name + "'";
  return Error::bad_request(who + ": " + std::string(what));
}

// Reads one string field; absent is fine (stays empty), any other type is not.
Status read_string(const nlohmann::json& obj, const char* key, std::string& out) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string())
    return Error::bad_request(std::string("field '") + key + "' must be a string");
  out = it->get<std::string>();
  return {};
}

Result<ModelEntry> entry_from_json(const nlohmann::json& obj) {
  if (!obj.is_object()) return Error::bad_request("each model must be a JSON object");
  ModelEntry e;
  for (const auto& [key, dest] : {std::pair<const char*, std::string*>{"name", &e.name},
                                  {"kind", &e.kind},
                                  {"url", &e.url},
                                  {"sha256", &e.sha256},
                                  {"sha1", &e.sha1},
                                  {"description", &e.description},
                                  {"file_name", &e.file_name}}) {
    if (Status s = read_string(obj, key, *dest); !s) return std::move(s).take_error();
  }
  if (const auto it = obj.find("size_bytes"); it != obj.end() && !it->is_null()) {
    if (!it->is_number_unsigned()) {
      return Error::bad_request("field 'size_bytes' must be a non-negative integer");
    }
    e.size_bytes = it->get<std::uint64_t>();
  }
  // Convenience: digests are often pasted in upper case.
  for (std::string* d : {&e.sha256, &e.sha1}) {
    for (char& c : *d) {
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    }
  }
  if (e.file_name.empty()) {
    const auto slash = e.url.find_last_of('/');
    if (slash != std::string::npos) e.file_name = e.url.substr(slash + 1);
  }
  return e;
}

}  // namespace

bool is_pinned(const ModelEntry& entry) { return !entry.sha256.empty() || !entry.sha1.empty(); }

std::vector<ModelEntry> builtin_catalog() {
  std::vector<ModelEntry> c;
  c.push_back(whisper("tiny.en", 77'704'715,
                      "921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f",
                      "c78c86eb1a8faa21b369bcd33207cc90d64ae9df",
                      "Whisper tiny, English only (fastest, least accurate)"));
  c.push_back(whisper("tiny", 77'691'713,
                      "be07e048e1e599ad46341c8d2a135645097a538221678b7acdd1b1919c6e1b21",
                      "bd577a113a864445d4c299885e0cb97d4ba92b5f", "Whisper tiny, multilingual"));
  c.push_back(whisper("base.en", 147'964'211,
                      "a03779c86df3323075f5e796cb2ce5029f00ec8869eee3fdfb897afe36c6d002",
                      "137c40403d78fd54d454da0f9bd998f78703390c",
                      "Whisper base, English only (recommended on 2 cores)"));
  c.push_back(whisper("base", 147'951'465,
                      "60ed5bc3dd14eea856493d334349b405782ddcaf0028d4b5df4088345fba2efe",
                      "465707469ff3a37a2b9b8d8f89f2f99de7299dac", "Whisper base, multilingual"));
  c.push_back(whisper("small.en", 487'614'201,
                      "c6138d6d58ecc8322097e0f987c32f1be8bb0a18532a3f88f734d1bbf9c41e5d",
                      "db8a495a91d927739e50b3fc1cc4c6b8f6c2d022",
                      "Whisper small, English only (more accurate, about 3x slower than base)"));
  c.push_back(whisper("small", 487'601'967,
                      "1be3a9b2063867b937e64e2ec7483364a79917e157fa98c5d94b5c1fffea987b",
                      "55356645c2b361a969dfd0ef2c5a50d530afd8d5", "Whisper small, multilingual"));
  c.push_back(llm("qwen2.5-0.5b-instruct-q4_k_m",
                  "https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/"
                  "9217f5db79a29953eb74d5343926648285ec7e67/qwen2.5-0.5b-instruct-q4_k_m.gguf",
                  "qwen2.5-0.5b-instruct-q4_k_m.gguf", 491'400'032,
                  "74a4da8c9fdbcd15bd1f6d01d621410d31c6fc00986f5eb687824e7b93d7a9db",
                  "Qwen2.5 0.5B Instruct, Q4_K_M GGUF (Apache-2.0), official Qwen build"));
  c.push_back(llm("smollm2-360m-instruct-q8_0",
                  "https://huggingface.co/HuggingFaceTB/SmolLM2-360M-Instruct-GGUF/resolve/"
                  "593b5a2e04c8f3e4ee880263f93e0bd2901ad47f/smollm2-360m-instruct-q8_0.gguf",
                  "smollm2-360m-instruct-q8_0.gguf", 386'404'992,
                  "48ab3034d0dd401fbc721eb1df3217902fee7dab9078992d66431f09b7750201",
                  "SmolLM2 360M Instruct, Q8_0 GGUF (Apache-2.0), official HuggingFaceTB build"));
  return c;
}

Status validate_entry(const ModelEntry& e, bool require_https) {
  if (!is_safe_token(e.name)) {
    return field_error(e, "name must be 1-128 characters of letters, digits, '.', '_' or '-'");
  }
  if (e.kind != "whisper" && e.kind != "llm")
    return field_error(e, "kind must be \"whisper\" or \"llm\"");
  const bool https = e.url.rfind("https://", 0) == 0;
  const bool http = e.url.rfind("http://", 0) == 0;
  if (!https && !(http && !require_https)) {
    return field_error(
        e, require_https ? "url must start with https://" : "url must be http:// or https://");
  }
  if (e.url.size() <= (https ? 8u : 7u)) return field_error(e, "url has no host");
  if (!is_safe_token(e.file_name) || e.file_name.front() == '.') {
    return field_error(e, "file_name must be a plain file name (letters, digits, '.', '_', '-')");
  }
  if (!e.sha256.empty() && (e.sha256.size() != 64 || !is_lower_hex(e.sha256))) {
    return field_error(e, "sha256 must be 64 hex digits");
  }
  if (!e.sha1.empty() && (e.sha1.size() != 40 || !is_lower_hex(e.sha1))) {
    return field_error(e, "sha1 must be 40 hex digits");
  }
  return {};
}

Result<std::vector<ModelEntry>> parse_catalog_json(std::string_view json_text) {
  const auto doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error::bad_request("not valid JSON");
  const nlohmann::json* list = &doc;
  if (doc.is_object()) {
    const auto it = doc.find("models");
    if (it == doc.end()) return Error::bad_request("expected an object with a \"models\" array");
    list = &*it;
  }
  if (!list->is_array()) return Error::bad_request("\"models\" must be an array");
  std::vector<ModelEntry> out;
  std::set<std::string> names;
  for (const auto& item : *list) {
    auto entry = entry_from_json(item);
    if (!entry) return std::move(entry).take_error();
    if (Status s = validate_entry(*entry, /*require_https=*/false); !s)
      return std::move(s).take_error();
    if (!names.insert(entry->name).second) {
      return Error::bad_request("model '" + entry->name + "' is listed twice");
    }
    out.push_back(std::move(entry).value());
  }
  return out;
}

std::string user_catalog_path(const std::string& models_dir) {
  return (std::filesystem::path(models_dir) / "catalog.json").string();
}

Result<std::vector<ModelEntry>> load_catalog(const std::string& models_dir) {
  std::vector<ModelEntry> catalog = builtin_catalog();
  const std::string path = user_catalog_path(models_dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return catalog;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::io("cannot read the model catalogue " + path);
  std::ostringstream text;
  text << in.rdbuf();
  auto user = parse_catalog_json(text.str());
  if (!user) return Error::invalid_config(path + ": " + user.error().message);
  for (auto& entry : *user) {
    auto same = std::find_if(catalog.begin(), catalog.end(),
                             [&](const ModelEntry& b) { return b.name == entry.name; });
    if (same != catalog.end()) {
      *same = std::move(entry);
    } else {
      catalog.push_back(std::move(entry));
    }
  }
  return catalog;
}

std::optional<ModelEntry> find_model(const std::vector<ModelEntry>& catalog,
                                     std::string_view name) {
  for (const auto& e : catalog) {
    if (e.name == name) return e;
  }
  return std::nullopt;
}

std::optional<ModelEntry> find_model(std::string_view name) {
  return find_model(builtin_catalog(), name);
}

std::string default_models_dir(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "models").string();
}

}  // namespace scribepod::models
