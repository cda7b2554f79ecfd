// The built-in catalogue is well formed, and user catalogues are parsed,
// validated and merged.
#include "models/catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace scribepod::models {
namespace {

namespace fs = std::filesystem;

bool is_hex(const std::string& s) {
  return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(CatalogTest, BuiltinEntriesAreWellFormedAndPinned) {
  const auto catalog = builtin_catalog();
  std::set<std::string> names;
  std::set<std::string> files;
  for (const auto& e : catalog) {
    SCOPED_TRACE(e.name);
    EXPECT_TRUE(validate_entry(e, /*require_https=*/true).ok())
        << validate_entry(e, true).error().message;
    EXPECT_TRUE(names.insert(e.name).second) << "duplicate name";
    EXPECT_TRUE(files.insert(e.file_name).second) << "duplicate file name";
    EXPECT_EQ(e.url.rfind("https://", 0), 0u);
    EXPECT_EQ(e.url.substr(e.url.size() - e.file_name.size()), e.file_name)
        << "URL ends in the file name";
    EXPECT_GT(e.size_bytes, 0u);
    // Every built-in entry carries a full SHA-256.
    EXPECT_EQ(e.sha256.size(), 64u);
    EXPECT_TRUE(is_hex(e.sha256));
    if (!e.sha1.empty()) {
      EXPECT_EQ(e.sha1.size(), 40u);
      EXPECT_TRUE(is_hex(e.sha1));
    }
    EXPECT_TRUE(is_pinned(e));
    EXPECT_FALSE(e.description.empty());
  }
}

TEST(CatalogTest, HasTheWhisperModelsTheIssueAsksForAndTwoLlms) {
  for (const char* name : {"tiny.en", "tiny", "base.en", "base", "small.en", "small"}) {
    const auto e = find_model(name);
    ASSERT_TRUE(e.has_value()) << name;
    EXPECT_EQ(e->kind, "whisper");
    EXPECT_EQ(e->url,
              std::string("https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-") +
                  name + ".bin");
    EXPECT_EQ(e->sha1.size(), 40u) << "whisper.cpp publishes a SHA-1 for " << name;
  }
  int llms = 0;
  for (const auto& e : builtin_catalog()) {
    if (e.kind == "llm") {
      ++llms;
      EXPECT_NE(e.file_name.find(".gguf"), std::string::npos);
    }
  }
  EXPECT_EQ(llms, 2);
}

TEST(CatalogTest, SizesAreInTheRangeTheUpstreamTablesQuote) {
  // models/README.md: tiny 75 MiB, base 142 MiB, small 466 MiB.
  const auto mib = [](const char* n) {
    return static_cast<double>(find_model(n)->size_bytes) / (1024.0 * 1024.0);
  };
  EXPECT_NEAR(mib("tiny"), 75, 1);
  EXPECT_NEAR(mib("tiny.en"), 75, 1);
  EXPECT_NEAR(mib("base"), 142, 1);
  EXPECT_NEAR(mib("base.en"), 142, 1);
  EXPECT_NEAR(mib("small"), 466, 1);
  EXPECT_NEAR(mib("small.en"), 466, 1);
}

TEST(CatalogTest, FindModelAndDefaultDir) {
  EXPECT_FALSE(find_model("nope").has_value());
  EXPECT_EQ(find_model("base.en")->file_name, "ggml-base.en.bin");
  EXPECT_EQ(default_models_dir("/var/lib/scribepod"), "/var/lib/scribepod/models");
  EXPECT_EQ(default_models_dir("data"), "data/models");
}

TEST(CatalogTest, ValidateRejectsBadFields) {
  ModelEntry good = *find_model("tiny.en");
  ASSERT_TRUE(validate_entry(good, true).ok());
  auto with = [&](auto mutate) {
    ModelEntry e = good;
    mutate(e);
    return validate_entry(e, true);
  };
  EXPECT_FALSE(with([](ModelEntry& e) { e.name = "bad name"; }).ok());
  EXPECT_FALSE(with([](ModelEntry& e) { e.name = ""; }).ok());
  EXPECT_FALSE(with([](ModelEntry& e) { e.kind = "tts"; }).ok());
  EXPECT_FALSE(with([](ModelEntry& e) { e.url = "http://example.com/x.bin"; }).ok());
  EXPECT_FALSE(with([](ModelEntry& e) { e.url = "ftp://example.com/x.bin"; }).ok());
  EXPECT_FALSE(with([](ModelEntry& e) { e.file_name = "../escape.bin"; }).ok());
  EXPECT_FALSE(with([](ModelEntry& e) { e.file_name = "a/b.bin"; }).ok());
  EXPECT_FALSE(with([](ModelEntry& e) { e.file_name = ".hidden"; }).ok());
  EXPECT_FALSE(with([](ModelEntry& e) { e.sha256 = "abc"; }).ok());
  EXPECT_FALSE(with([](ModelEntry& e) { e.sha256[0] = 'g'; }).ok());
  EXPECT_FALSE(with([](ModelEntry& e) { e.sha1 = std::string(64, 'a'); }).ok());
  // http is fine for user entries (a LAN mirror; the digest guards the bytes).
  ModelEntry mirror = good;
  mirror.url = "http://mirror.lan/ggml-tiny.en.bin";
  EXPECT_TRUE(validate_entry(mirror, false).ok());
}

TEST(CatalogTest, ParsesAUserCatalogue) {
  const auto parsed = parse_catalog_json(R"({"models": [
    {"name": "my-llm", "kind": "llm", "url": "https://example.com/m/my.gguf",
     "size_bytes": 1234, "sha256": "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
     "description": "mine"},
    {"name": "loose", "kind": "whisper", "url": "http://10.0.0.2/ggml-x.bin", "file_name": "ggml-x.bin"}
  ]})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].file_name, "my.gguf");  // taken from the URL
  EXPECT_EQ((*parsed)[0].sha256,
            "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
  EXPECT_TRUE(is_pinned((*parsed)[0]));
  EXPECT_FALSE(is_pinned((*parsed)[1]));
  EXPECT_EQ((*parsed)[1].size_bytes, 0u);
}

TEST(CatalogTest, RejectsMalformedUserCatalogues) {
  EXPECT_FALSE(parse_catalog_json("{").ok());
  EXPECT_FALSE(parse_catalog_json(R"({"model": []})").ok());
  EXPECT_FALSE(parse_catalog_json(R"({"models": {}})").ok());
  EXPECT_FALSE(parse_catalog_json(R"([{"name": 3}])").ok());
  EXPECT_FALSE(parse_catalog_json(
                   R"([{"name": "a", "kind": "llm", "url": "https://x/a.gguf", "size_bytes": -1}])")
                   .ok());
  const auto dup = parse_catalog_json(
      R"([{"name": "a", "kind": "llm", "url": "https://x/a.gguf"}, {"name": "a", "kind": "llm", "url": "https://x/b.gguf"}])");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("twice"), std::string::npos);
  const auto bad_kind =
      parse_catalog_json(R"([{"name": "a", "kind": "vision", "url": "https://x/a.gguf"}])");
  ASSERT_FALSE(bad_kind.ok());
  EXPECT_NE(bad_kind.error().message.find("model 'a'"), std::string::npos);
}

TEST(CatalogTest, LoadCatalogMergesTheUserFileOverTheBuiltins) {
  const fs::path dir =
      fs::temp_directory_path() / ("scribepod_catalog_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  // No file: just the built-ins.
  auto plain = load_catalog(dir.string());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->size(), builtin_catalog().size());

  std::ofstream(user_catalog_path(dir.string())) << R"({"models": [
    {"name": "tiny.en", "kind": "whisper", "url": "https://mirror.example/ggml-tiny.en.bin",
     "size_bytes": 77704715, "sha256": ")" << find_model("tiny.en")->sha256
                                                 << R"("},
    {"name": "extra", "kind": "llm", "url": "https://example.com/extra.gguf"}]})";
  auto merged = load_catalog(dir.string());
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(merged->size(), builtin_catalog().size() + 1);
  EXPECT_EQ(find_model(*merged, "tiny.en")->url, "https://mirror.example/ggml-tiny.en.bin");
  EXPECT_TRUE(find_model(*merged, "extra").has_value());

  std::ofstream(user_catalog_path(dir.string()), std::ios::trunc) << "not json";
  auto broken = load_catalog(dir.string());
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().code, ErrorCode::kInvalidConfig);
  EXPECT_NE(broken.error().message.find("catalog.json"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace scribepod::models
