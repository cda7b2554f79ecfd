#include "core/readiness.h"

namespace scribepod {

void Readiness::set(const std::string& name, bool ready, std::string detail) {
  std::lock_guard lock(mu_);
  probes_.erase(name);
  components_[name] = Component{ready, std::move(detail)};
}

void Readiness::set_probe(const std::string& name, std::function<Component()> probe,
                          std::chrono::milliseconds max_age) {
  auto p = std::make_shared<Probe>();
  p->fn = std::move(probe);
  p->max_age = max_age;
  std::lock_guard lock(mu_);
  components_.erase(name);
  probes_[name] = std::move(p);
}

Readiness::Component Readiness::ask(Probe& probe) {
  using Clock = std::chrono::steady_clock;
  if (probe.max_age.count() <= 0) return probe.fn();
  const auto fresh = [&probe] {
    return probe.has_answer && Clock::now() - probe.asked < probe.max_age;
  };
  {
    std::lock_guard value(probe.value_mu);
    if (fresh()) return probe.last;
  }
  std::unique_lock refresh(probe.refresh_mu, std::try_to_lock);
  if (!refresh.owns_lock()) {
    {
      // Someone else is refreshing: their previous answer will do.
      std::lock_guard value(probe.value_mu);
      if (probe.has_answer) return probe.last;
    }
    refresh.lock();  // no answer at all yet: wait for the first one
  }
  {
    std::lock_guard value(probe.value_mu);
    if (fresh()) return probe.last;  // refreshed while we waited
  }
  Component answer = probe.fn();
  std::lock_guard value(probe.value_mu);
  probe.last = answer;
  probe.asked = Clock::now();
  probe.has_answer = true;
  return answer;
}

std::map<std::string, Readiness::Component> Readiness::snapshot() const {
  std::map<std::string, std::shared_ptr<Probe>> probes;
  std::map<std::string, Component> out;
  {
    std::lock_guard lock(mu_);
    out = components_;
    probes = probes_;
  }
  // Outside the lock: a probe may take its own locks.
  for (const auto& [name, probe] : probes) out[name] = ask(*probe);
  return out;
}

std::vector<std::string> Readiness::not_ready() const {
  std::vector<std::string> out;
  for (const auto& [name, c] : snapshot()) {
    if (!c.ready) out.push_back(name);
  }
  return out;
}

}  // namespace scribepod
