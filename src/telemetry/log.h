// The process logger: one JSON object per line (or key=value text), to
// stdout and optionally to rotating files <dir>/combined.log and
// <dir>/error.log (10 MB x 5 by default).
//
// Every line carries time, level and message; callers add context fields
// (request_id, session_id, route, status, duration_ms, ...). Never pass
// secrets or audio: the logger writes what it is given.
//
//   log::info("request", {{"request_id", ctx.request_id}, {"status", 200}});
//
// This is one of the two process globals STYLE.md allows. Before init() it
// writes JSON to stdout at info level.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "core/result.h"

namespace scribepod::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };

Result<Level> parse_level(std::string_view name);
std::string_view level_name(Level level);

struct Field {
  using Value = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;
  std::string_view key;
  Value value;

  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view{v}) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view{v}) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(std::int64_t{v}) {}
  Field(std::string_view k, long v) : key(k), value(std::int64_t{v}) {}
  Field(std::string_view k, long long v) : key(k), value(std::int64_t{v}) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::uint64_t{v}) {}
  Field(std::string_view k, unsigned long v) : key(k), value(std::uint64_t{v}) {}
  Field(std::string_view k, unsigned long long v) : key(k), value(std::uint64_t{v}) {}
};

struct Options {
  Level level = Level::kInfo;
  bool json = true;
  bool to_stdout = true;
  std::string dir;  // empty: no files
  std::size_t max_file_bytes = 10 * 1024 * 1024;
  std::size_t max_files = 5;
};

// Replaces the sinks. Fails (kIo) when the log directory can't be created.
Status init(const Options& options);
// Flushes and stops the background writer; call before exit.
void shutdown();

bool enabled(Level level);
void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

// Formats one line without writing it (exposed for tests).
std::string format_line(Level level, std::string_view message, std::initializer_list<Field> fields,
                        bool json);

inline void trace(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kTrace, m, f);
}
inline void debug(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kDebug, m, f);
}
inline void info(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kInfo, m, f);
}
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kWarn, m, f);
}
inline void error(std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kError, m, f);
}

}  // namespace scribepod::log
