#include "core/readiness.h"

namespace scribepod {

void Readiness::set(const std::string& name, bool ready, std::string detail) {
  std::lock_guard lock(mu_);
  probes_.erase(name);
  components_[name] = Component{ready, std::move(detail)};
}

void Readiness::set_probe(const std::string& name, std::function<Component()> probe) {
  std::lock_guard lock(mu_);
  components_.erase(name);
  probes_[name] = std::move(probe);
}

std::map<std::string, Readiness::Component> Readiness::snapshot() const {
  std::map<std::string, std::function<Component()>> probes;
  std::map<std::string, Component> out;
  {
    std::lock_guard lock(mu_);
    out = components_;
    probes = probes_;
  }
  // Outside the lock: a probe may take its own locks.
  for (const auto& [name, probe] : probes) out[name] = probe();
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
