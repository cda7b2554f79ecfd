#include "telemetry/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace scribepod::metrics {
namespace {

// Label values are joined with a byte that valid UTF-8 never contains, so
// distinct label sets never share a key.
constexpr char kSep = '\xff';

bool valid_name(std::string_view n, bool allow_colon) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

std::vector<std::string> split_key(const std::string& key, std::size_t n) {
  std::vector<std::string> out;
  if (n == 0) return out;
  std::size_t from = 0;
  for (;;) {
    const std::size_t at = key.find(kSep, from);
    if (at == std::string::npos) {
      out.push_back(key.substr(from));
      break;
    }
    out.push_back(key.substr(from, at - from));
    from = at + 1;
  }
  return out;
}

std::string_view type_name(Type t) {
  switch (t) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  std::vector<double> out;
  double b = start;
  for (int i = 0; i < count; ++i, b *= factor) out.push_back(b);
  return out;
}

// --- Histogram ---------------------------------------------------------------

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {
  for (std::size_t i = 0; i <= bounds.size(); ++i) counts_[i].store(0);
}

void Histogram::observe(double v) {
  // Bounds are inclusive upper limits: v lands in the first bound >= v.
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  const auto slot = static_cast<std::size_t>(it - bounds_.begin());
  counts_[slot].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  // _count is the sum of the buckets read here, so +Inf and _count always
  // agree even while other threads observe.
  Snapshot s;
  s.cumulative.reserve(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

// --- CallbackHandle ----------------------------------------------------------

CallbackHandle& CallbackHandle::operator=(CallbackHandle&& o) noexcept {
  if (this != &o) {
    reset();
    release_ = std::move(o.release_);
    o.release_ = nullptr;
  }
  return *this;
}

void CallbackHandle::reset() {
  if (release_) {
    auto release = std::move(release_);
    release_ = nullptr;
    release();
  }
}

// --- FamilyBase --------------------------------------------------------------

FamilyBase::FamilyBase(std::string name, std::string help, Type type,
                       std::vector<std::string> labels)
    : name_(std::move(name)), help_(std::move(help)), type_(type), labels_(std::move(labels)) {}

std::string FamilyBase::key(std::initializer_list<std::string_view> values) const {
  if (values.size() != labels_.size()) {
    throw std::logic_error("metric " + name_ + " takes " + std::to_string(labels_.size()) +
                           " label values, got " + std::to_string(values.size()));
  }
  std::string k;
  bool first = true;
  for (const std::string_view v : values) {
    if (!first) k += kSep;
    k += v;
    first = false;
  }
  return k;
}

std::string FamilyBase::key(const std::vector<std::string>& values) const {
  if (values.size() != labels_.size()) {
    throw std::logic_error("metric " + name_ + " takes " + std::to_string(labels_.size()) +
                           " label values, got " + std::to_string(values.size()));
  }
  std::string k;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) k += kSep;
    k += values[i];
  }
  return k;
}

void FamilyBase::series_name(std::string& out, std::string_view suffix, const std::string& key,
                             std::string_view extra) const {
  out += name_;
  out += suffix;
  if (labels_.empty() && extra.empty()) return;
  out += '{';
  const auto values = split_key(key, labels_.size());
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    if (i > 0) out += ',';
    out += labels_[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (!extra.empty()) {
    if (!labels_.empty()) out += ',';
    out += extra;
  }
  out += '}';
}

void FamilyBase::render(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  out += escape_help(help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type_name(type_);
  out += '\n';
  render_series(out);
}

// --- ScalarFamily ------------------------------------------------------------

template <typename M>
M& ScalarFamily<M>::with_key(std::string k) {
  {
    std::shared_lock lock(mu_);
    if (auto it = children_.find(k); it != children_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto& slot = children_[std::move(k)];
  if (!slot) slot = std::make_unique<M>();
  return *slot;
}

template <typename M>
M& ScalarFamily<M>::with(std::initializer_list<std::string_view> values) {
  return with_key(key(values));
}

template <typename M>
M& ScalarFamily<M>::with(const std::vector<std::string>& values) {
  return with_key(key(values));
}

template <typename M>
CallbackHandle ScalarFamily<M>::bind(const std::vector<std::string>& values,
                                     std::function<double()> fn) {
  std::string k = key(values);
  std::unique_lock lock(mu_);
  const std::uint64_t id = next_id_++;
  callbacks_[k].push_back(Bound{id, std::move(fn)});
  return CallbackHandle([this, k = std::move(k), id] {
    std::unique_lock l(mu_);
    auto it = callbacks_.find(k);
    if (it == callbacks_.end()) return;
    std::erase_if(it->second, [id](const Bound& b) { return b.id == id; });
    if (it->second.empty()) callbacks_.erase(it);
  });
}

template <typename M>
void ScalarFamily<M>::render_series(std::string& out) const {
  std::shared_lock lock(mu_);
  // Children and callbacks merged in key order; a callback shadows a child
  // with the same labels (and the newest callback shadows older ones).
  auto child = children_.begin();
  auto cb = callbacks_.begin();
  while (child != children_.end() || cb != callbacks_.end()) {
    const bool take_cb =
        cb != callbacks_.end() && (child == children_.end() || cb->first <= child->first);
    const std::string& k = take_cb ? cb->first : child->first;
    const double v = take_cb ? cb->second.back().fn() : child->second->value();
    series_name(out, "", k);
    out += ' ';
    out += format_value(v);
    out += '\n';
    if (take_cb) {
      if (child != children_.end() && child->first == cb->first) ++child;
      ++cb;
    } else {
      ++child;
    }
  }
}

template class ScalarFamily<Counter>;
template class ScalarFamily<Gauge>;

// --- HistogramFamily ---------------------------------------------------------

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> labels, std::vector<double> bounds)
    : FamilyBase(std::move(name), std::move(help), Type::kHistogram, std::move(labels)),
      bounds_(std::move(bounds)) {
  if (bounds_.empty() || !std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end() ||
      std::any_of(bounds_.begin(), bounds_.end(), [](double b) { return !std::isfinite(b); })) {
    throw std::logic_error("histogram " + this->name() +
                           ": buckets must be finite, strictly ascending and not empty");
  }
}

Histogram& HistogramFamily::with_key(std::string k) {
  {
    std::shared_lock lock(mu_);
    if (auto it = children_.find(k); it != children_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto& slot = children_[std::move(k)];
  if (!slot) slot = std::make_unique<Histogram>(bounds_);
  return *slot;
}

Histogram& HistogramFamily::with(std::initializer_list<std::string_view> values) {
  return with_key(key(values));
}

Histogram& HistogramFamily::with(const std::vector<std::string>& values) {
  return with_key(key(values));
}

void HistogramFamily::render_series(std::string& out) const {
  std::shared_lock lock(mu_);
  for (const auto& [k, h] : children_) {
    const Histogram::Snapshot s = h->snapshot();
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
      const std::string le =
          "le=\"" + (i < bounds_.size() ? format_value(bounds_[i]) : std::string("+Inf")) + "\"";
      series_name(out, "_bucket", k, le);
      out += ' ';
      out += std::to_string(s.cumulative[i]);
      out += '\n';
    }
    series_name(out, "_sum", k);
    out += ' ';
    out += format_value(s.sum);
    out += '\n';
    series_name(out, "_count", k);
    out += ' ';
    out += std::to_string(s.count);
    out += '\n';
  }
}

// --- Registry ----------------------------------------------------------------

template <typename F, typename... Args>
F& Registry::add(Type type, std::string name, std::string help, std::vector<std::string> labels,
                 Args&&... args) {
  if (!valid_name(name, /*allow_colon=*/true)) {
    throw std::logic_error("invalid metric name: " + name);
  }
  for (const auto& l : labels) {
    if (!valid_name(l, false) || l.starts_with("__") || (type == Type::kHistogram && l == "le")) {
      throw std::logic_error("invalid label name for " + name + ": " + l);
    }
  }
  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    auto* existing = dynamic_cast<F*>(it->second.get());
    if (existing == nullptr || existing->type() != type || existing->label_names() != labels) {
      throw std::logic_error("metric " + name + " registered twice with different definitions");
    }
    if constexpr (std::is_same_v<F, HistogramFamily>) {
      if (((existing->bounds() != args) || ...)) {
        throw std::logic_error("histogram " + name + " registered twice with other buckets");
      }
    }
    return *existing;
  }
  std::unique_ptr<F> family;
  if constexpr (std::is_same_v<F, HistogramFamily>) {
    family =
        std::make_unique<F>(name, std::move(help), std::move(labels), std::forward<Args>(args)...);
  } else {
    family = std::make_unique<F>(name, std::move(help), type, std::move(labels));
  }
  F& ref = *family;
  families_.emplace(std::move(name), std::move(family));
  return ref;
}

CounterFamily& Registry::counter(std::string name, std::string help,
                                 std::vector<std::string> labels) {
  return add<CounterFamily>(Type::kCounter, std::move(name), std::move(help), std::move(labels));
}

GaugeFamily& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  return add<GaugeFamily>(Type::kGauge, std::move(name), std::move(help), std::move(labels));
}

HistogramFamily& Registry::histogram(std::string name, std::string help,
                                     std::vector<std::string> labels, std::vector<double> bounds) {
  return add<HistogramFamily>(Type::kHistogram, std::move(name), std::move(help), std::move(labels),
                              std::move(bounds));
}

std::string Registry::render() const {
  std::vector<const FamilyBase*> families;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, f] : families_) families.push_back(f.get());
  }
  // Families are never removed, so rendering can run outside the registry
  // lock (each family locks itself).
  std::string out;
  out.reserve(families.size() * 256);
  for (const FamilyBase* f : families) f->render(out);
  return out;
}

std::vector<std::string> Registry::family_names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, f] : families_) out.push_back(name);
  return out;
}

Registry& registry() {
  static Registry instance;
  return instance;
}

}  // namespace scribepod::metrics
