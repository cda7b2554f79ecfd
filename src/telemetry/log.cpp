#include "telemetry/log.h"

#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>

#include "core/json_text.h"
#include "core/time_format.h"

namespace scribepod::log {
namespace {

// The logger is swapped by init() while other threads may log, so it is held
// through an atomic shared_ptr-like guard: a mutex protects the pointer copy,
// the write itself happens outside the lock.
struct State {
  std::mutex mu;
  std::shared_ptr<spdlog::logger> logger;
  std::atomic<int> level{static_cast<int>(Level::kInfo)};
  std::atomic<bool> json{true};
};

State& state() {
  static State s;
  return s;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::kTrace:
      return spdlog::level::trace;
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
    case Level::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger> current_logger() {
  State& s = state();
  std::lock_guard lock(s.mu);
  if (!s.logger) {
    auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    sink->set_pattern("%v");
    s.logger = std::make_shared<spdlog::logger>("scribepod", sink);
    s.logger->set_level(spdlog::level::trace);
  }
  return s.logger;
}

void append_value(std::string& out, const Field::Value& v, bool json) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          if (json) {
            append_json_string(out, x);
          } else if (x.find_first_of(" \"=") != std::string_view::npos || x.empty()) {
            append_json_string(out, x);  // quoted when it would be ambiguous
          } else {
            out += x;
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          fmt::format_to(std::back_inserter(out), "{:.3f}", x);
        } else {
          fmt::format_to(std::back_inserter(out), "{}", x);
        }
      },
      v);
}

}  // namespace

Result<Level> parse_level(std::string_view name) {
  if (name == "trace") return Level::kTrace;
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  if (name == "off") return Level::kOff;
  return Error::invalid_config(fmt::format(
      "unknown log level \"{}\": expected trace, debug, info, warn, error or off", name));
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "info";
}

Status init(const Options& options) {
  std::vector<spdlog::sink_ptr> sinks;
  if (options.to_stdout) {
    auto out = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    sinks.push_back(out);
  }
  if (!options.dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.dir, ec);
    if (ec) {
      return Error::io(
          fmt::format("cannot create log directory {}: {}", options.dir, ec.message()));
    }
    try {
      const auto dir = std::filesystem::path(options.dir);
      auto combined = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          (dir / "combined.log").string(), options.max_file_bytes, options.max_files);
      auto errors = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          (dir / "error.log").string(), options.max_file_bytes, options.max_files);
      errors->set_level(spdlog::level::err);
      sinks.push_back(combined);
      sinks.push_back(errors);
    } catch (const spdlog::spdlog_ex& e) {
      return Error::io(fmt::format("cannot open log files in {}: {}", options.dir, e.what()));
    }
  }
  for (auto& sink : sinks) sink->set_pattern("%v");

  // One background writer keeps slow terminals and disks off request
  // threads; a full queue blocks rather than dropping lines.
  if (!spdlog::thread_pool()) spdlog::init_thread_pool(16384, 1);
  auto logger = std::make_shared<spdlog::async_logger>("scribepod", sinks.begin(), sinks.end(),
                                                       spdlog::thread_pool(),
                                                       spdlog::async_overflow_policy::block);
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::warn);

  State& s = state();
  s.level.store(static_cast<int>(options.level));
  s.json.store(options.json);
  std::shared_ptr<spdlog::logger> old;
  {
    std::lock_guard lock(s.mu);
    old = std::exchange(s.logger, std::move(logger));
  }
  if (old) old->flush();
  return {};
}

void shutdown() {
  State& s = state();
  std::shared_ptr<spdlog::logger> old;
  {
    std::lock_guard lock(s.mu);
    old = std::exchange(s.logger, nullptr);
  }
  if (old) old->flush();
  old.reset();
  spdlog::shutdown();
}

bool enabled(Level level) {
  return level != Level::kOff &&
         static_cast<int>(level) >= state().level.load(std::memory_order_relaxed);
}

std::string format_line(Level level, std::string_view message, std::initializer_list<Field> fields,
                        bool json) {
  std::string out;
  out.reserve(128 + message.size() + fields.size() * 24);
  const std::string time = utc_timestamp_now();
  if (json) {
    out += "{\"time\":\"";
    out += time;
    out += "\",\"level\":\"";
    out += level_name(level);
    out += "\",\"message\":";
    append_json_string(out, message);
    for (const Field& f : fields) {
      out.push_back(',');
      append_json_string(out, f.key);
      out.push_back(':');
      append_value(out, f.value, true);
    }
    out.push_back('}');
  } else {
    out += time;
    out.push_back(' ');
    out += level_name(level);
    out.push_back(' ');
    out += message;
    for (const Field& f : fields) {
      out.push_back(' ');
      out += f.key;
      out.push_back('=');
      append_value(out, f.value, false);
    }
  }
  return out;
}

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  const std::string line = format_line(level, message, fields, state().json.load());
  current_logger()->log(to_spdlog(level), "{}", line);
}

}  // namespace scribepod::log
