// The metrics registry: counters, gauges and histograms, grouped in families
// that share a name, a help text and label names, rendered in the Prometheus
// text exposition format 0.0.4 for GET /metrics.
//
// Hot paths never hash strings: resolve a label set once with
// `family.with({"a", "b"})` and keep the returned reference (children live as
// long as their registry and never move). Updates are lock-free atomics;
// with() takes a shared lock to find an existing child and an exclusive one
// only to create a new child. Registering a family twice with the same type
// and labels returns the first one; a clash (other type, labels or buckets)
// is a programmer error and throws std::logic_error, as does calling with()
// with the wrong number of label values.
//
// Callback series are evaluated at every scrape (use them for values that
// already live elsewhere: a queue's size, a session count). bind() returns a
// handle that removes the series when it is destroyed; a handle must not
// outlive its registry. If two live handles bind the same label set, the
// newer one is rendered.
//
// registry() is the process-wide instance: one of the two globals STYLE.md
// allows (the other is the logger). Tests may build private Registry objects.
//
//   static auto& served = metrics::registry().counter("x_total", "Things.", {"kind"});
//   auto& mine = served.with({"a"});  // resolve once
//   mine.inc();                       // then an atomic add
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace scribepod::metrics {

enum class Type { kCounter, kGauge, kHistogram };

// Monotonic: inc() with a negative amount is ignored.
class Counter {
 public:
  void inc(double amount = 1.0) {
    if (amount > 0) value_.fetch_add(amount, std::memory_order_relaxed);
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double amount = 1.0) { value_.fetch_add(amount, std::memory_order_relaxed); }
  void dec(double amount = 1.0) { value_.fetch_sub(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Fixed buckets (upper bounds, inclusive, ascending; +Inf is implicit).
class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void observe(double v);

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // per bound, then +Inf last
    double sum = 0;
    std::uint64_t count = 0;  // == cumulative.back()
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double>& bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1 slots
  std::atomic<double> sum_{0.0};
};

// Removes its callback series when destroyed. Move-only.
class CallbackHandle {
 public:
  CallbackHandle() = default;
  explicit CallbackHandle(std::function<void()> release) : release_(std::move(release)) {}
  ~CallbackHandle() { reset(); }
  CallbackHandle(CallbackHandle&& o) noexcept : release_(std::move(o.release_)) {
    o.release_ = nullptr;
  }
  CallbackHandle& operator=(CallbackHandle&& o) noexcept;
  CallbackHandle(const CallbackHandle&) = delete;
  CallbackHandle& operator=(const CallbackHandle&) = delete;
  void reset();

 private:
  std::function<void()> release_;
};

// A family's shared part: name, help, label names, and rendering.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> labels);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  Type type() const { return type_; }
  const std::vector<std::string>& label_names() const { return labels_; }

  // Appends "# HELP", "# TYPE" and every series of this family.
  void render(std::string& out) const;

 protected:
  // Key of a label set; throws std::logic_error on a wrong count.
  std::string key(std::initializer_list<std::string_view> values) const;
  std::string key(const std::vector<std::string>& values) const;
  // Appends this family's series (without HELP/TYPE lines).
  virtual void render_series(std::string& out) const = 0;
  // `name{labels}` with `extra` (e.g. le="0.5") appended to the label set.
  void series_name(std::string& out, std::string_view suffix, const std::string& key,
                   std::string_view extra = {}) const;

  mutable std::shared_mutex mu_;

 private:
  std::string name_;
  std::string help_;
  Type type_;
  std::vector<std::string> labels_;
};

template <typename M>
class Family;

// Counters and gauges: plain children plus optional callback series.
template <typename M>
class ScalarFamily : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;
  M& with(std::initializer_list<std::string_view> values = {});
  M& with(const std::vector<std::string>& values);
  // `fn` is called at every scrape, under this family's lock: it must be
  // quick and must not touch this family.
  [[nodiscard]] CallbackHandle bind(const std::vector<std::string>& values,
                                    std::function<double()> fn);

 protected:
  void render_series(std::string& out) const override;

 private:
  M& with_key(std::string k);
  std::map<std::string, std::unique_ptr<M>, std::less<>> children_;
  struct Bound {
    std::uint64_t id;
    std::function<double()> fn;
  };
  std::map<std::string, std::vector<Bound>, std::less<>> callbacks_;
  std::uint64_t next_id_ = 1;
};

using CounterFamily = ScalarFamily<Counter>;
using GaugeFamily = ScalarFamily<Gauge>;

class HistogramFamily : public FamilyBase {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> labels,
                  std::vector<double> bounds);
  Histogram& with(std::initializer_list<std::string_view> values = {});
  Histogram& with(const std::vector<std::string>& values);
  const std::vector<double>& bounds() const { return bounds_; }

 protected:
  void render_series(std::string& out) const override;

 private:
  Histogram& with_key(std::string k);
  const std::vector<double> bounds_;
  std::map<std::string, std::unique_ptr<Histogram>, std::less<>> children_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Names must match [a-zA-Z_:][a-zA-Z0-9_:]* and labels [a-zA-Z_][a-zA-Z0-9_]*
  // (not "le" for histograms); otherwise std::logic_error.
  CounterFamily& counter(std::string name, std::string help, std::vector<std::string> labels = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  HistogramFamily& histogram(std::string name, std::string help, std::vector<std::string> labels,
                             std::vector<double> bounds);

  // The whole registry, families sorted by name, in text format 0.0.4.
  std::string render() const;
  // Names of every registered family (for tests and dashboards checks).
  std::vector<std::string> family_names() const;

 private:
  template <typename F, typename... Args>
  F& add(Type type, std::string name, std::string help, std::vector<std::string> labels,
         Args&&... args);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
};

// The process-wide registry.
Registry& registry();

// The Content-Type of render()'s output.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Exposition helpers (exposed for tests).
std::string escape_label_value(std::string_view v);  // \ " and newline escaped
std::string escape_help(std::string_view v);         // \ and newline escaped
std::string format_value(double v);                  // +Inf, -Inf, NaN, shortest round-trip

// Buckets: `count` bounds from `start`, each `factor` times the previous.
std::vector<double> exponential_buckets(double start, double factor, int count);

}  // namespace scribepod::metrics
