#include "core/readiness.h"

namespace scribepod {

void Readiness::set(const std::string& name, bool ready, std::string detail) {
  std::lock_guard lock(mu_);
  components_[name] = Component{ready, std::move(detail)};
}

std::map<std::string, Readiness::Component> Readiness::snapshot() const {
  std::lock_guard lock(mu_);
  return components_;
}

std::vector<std::string> Readiness::not_ready() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, c] : components_) {
    if (!c.ready) out.push_back(name);
  }
  return out;
}

}  // namespace scribepod
