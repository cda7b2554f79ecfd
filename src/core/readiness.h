// Readiness: what each component (an engine, a store, the listener) says
// about whether it can serve. /ready answers 200 only when every component
// registered here is ready, and names the ones that are not.
//
// Components call set() when their state changes, or register a probe that
// is asked at every snapshot (for states that change by themselves, such as
// a remote backend's circuit breaker). Readers take a snapshot. Probes must
// be cheap and must not block. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace scribepod {

class Readiness {
 public:
  struct Component {
    bool ready = false;
    std::string detail;  // e.g. "pocketsphinx en-us loaded", or why not
  };

  void set(const std::string& name, bool ready, std::string detail = {});
  // Replaces any set() value of `name`: the probe decides from now on.
  void set_probe(const std::string& name, std::function<Component()> probe);
  std::map<std::string, Component> snapshot() const;
  // Names of components that are not ready (empty when all are).
  std::vector<std::string> not_ready() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, Component> components_;
  std::map<std::string, std::function<Component()>> probes_;
};

}  // namespace scribepod
