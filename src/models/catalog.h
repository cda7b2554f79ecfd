// The model catalogue: which weights `scribepod models pull` knows how to
// fetch, from where, and what their bytes must hash to.
//
// Every built-in entry is pinned: a size and a SHA-256 taken from the
// publisher's own listing (the Hugging Face LFS object id of the file), plus
// for whisper models the SHA-1 that whisper.cpp's models/README.md publishes.
// A download is accepted only when every digest the entry carries matches.
//
// Users may add or override entries with a JSON file, `<models_dir>/catalog.json`:
//
//   {"models": [{"name": "my-model", "kind": "llm", "url": "https://...",
//                "size_bytes": 123, "sha256": "<64 hex>", "file_name": "x.gguf",
//                "description": "..."}]}
//
// An entry without any digest is "unpinned": the downloader refuses it
// unless the caller opts in (`--insecure-skip-checksum`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scribepod::models {

struct ModelEntry {
  std::string name;              // what the user types: "base.en"
  std::string kind;              // "whisper" | "llm"
  std::string url;               // where the bytes come from (http or https)
  std::uint64_t size_bytes = 0;  // exact size; 0 = unknown (user entries only)
  std::string sha256;            // lowercase hex, 64 chars; empty = not pinned
  std::string sha1;              // optional upstream SHA-1, lowercase hex, 40 chars
  std::string description;
  std::string file_name;  // name on disk inside the models directory
};

// True when the entry carries at least one digest to verify against.
bool is_pinned(const ModelEntry& entry);

// The built-in entries, in display order.
std::vector<ModelEntry> builtin_catalog();

// Checks one entry: a name of [A-Za-z0-9._-], a known kind, an http(s) URL
// (https only when `require_https`), a plain file name, digests of the right
// length in lowercase hex. kBadRequest names the field at fault.
Status validate_entry(const ModelEntry& entry, bool require_https);

// Parses a user catalogue (the JSON shown above, or a bare array of entries).
// Every entry is validated; names must be unique within the file.
Result<std::vector<ModelEntry>> parse_catalog_json(std::string_view json_text);

// The built-in catalogue plus `<models_dir>/catalog.json` when that file
// exists; a user entry with a built-in's name replaces it. A missing file is
// fine; an unreadable or invalid one is an error naming the file.
Result<std::vector<ModelEntry>> load_catalog(const std::string& models_dir);

// Path of the optional user catalogue inside `models_dir`.
std::string user_catalog_path(const std::string& models_dir);

std::optional<ModelEntry> find_model(const std::vector<ModelEntry>& catalog, std::string_view name);
// Looks only in the built-in catalogue.
std::optional<ModelEntry> find_model(std::string_view name);

// `<data_dir>/models`.
std::string default_models_dir(const std::string& data_dir);

}  // namespace scribepod::models
