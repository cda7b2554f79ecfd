// Helpers shared by the config tests.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/keys.h"

namespace scribepod::config::test_support {

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "scribepod-config-XXXXXX").string();
    const char* made = mkdtemp(pattern.data());
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string write(const std::string& name, std::string_view content) const {
    const std::filesystem::path file = path_ / name;
    std::ofstream out(file, std::ios::binary);
    out << content;
    return file.string();
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string error_of(const Result<Config>& result) {
  EXPECT_FALSE(result.ok());
  if (result.ok()) return {};
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidConfig);
  return result.error().message;
}

inline Config ok(Result<Config> result) {
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
  return result.ok() ? std::move(result).value() : Config{};
}

inline Sources env_only(std::map<std::string, std::string> env) {
  Sources s;
  s.environment = std::move(env);
  return s;
}

inline const KeySpec& spec(std::string_view key) {
  const KeySpec* s = find_key(key);
  if (s == nullptr) throw std::runtime_error("no key " + std::string(key));
  return *s;
}

// A valid value for a key that differs from its default, as text.
inline std::string sample_text(const KeySpec& s) {
  switch (s.type) {
    case ValueType::kString:
      if (s.key == "store.postgres_url") return "postgresql://sample@127.0.0.1:5432/sample";
      if (s.key.ends_with("_url")) return "https://sample.example/v1";
      return "sample-" + std::string(s.key);
    case ValueType::kBool:
      return std::get<bool>(s.get(Config{})) ? "false" : "true";
    case ValueType::kInteger:
    case ValueType::kSize:
      return std::to_string(s.max);
    case ValueType::kDouble:
      return s.max_double >= 12345.5 ? "12345.5" : "1.5";
    case ValueType::kDuration:
      return format_duration(std::chrono::milliseconds(s.max));
    case ValueType::kStringList:
      return "https://a.example, http://b.example:8080";
    case ValueType::kEnum:
      for (std::string_view choice : s.choices) {
        if (std::get<std::string>(s.get(Config{})) != choice) return std::string(choice);
      }
  }
  return {};
}

}  // namespace scribepod::config::test_support
