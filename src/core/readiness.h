// Readiness: what each component (an engine, a store, the listener) says
// about whether it can serve. /ready answers 200 only when every component
// registered here is ready, and names the ones that are not.
//
// Components call set() when their state changes, or register a probe that
// is asked at every snapshot (for states that change by themselves, such as
// a remote backend's circuit breaker). Readers take a snapshot. A probe that
// does I/O (a database round trip) is given a max_age: its answer is reused
// for that long, and while one caller refreshes it the others get the last
// answer, so a flood of /health requests costs at most one check per
// max_age. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
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
  // Replaces any set() value of `name`: the probe decides from now on. With
  // max_age 0 it is asked at every snapshot.
  void set_probe(const std::string& name, std::function<Component()> probe,
                 std::chrono::milliseconds max_age = std::chrono::milliseconds(0));
  std::map<std::string, Component> snapshot() const;
  // Names of components that are not ready (empty when all are).
  std::vector<std::string> not_ready() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, Component> components_;
  struct Probe {
    std::function<Component()> fn;
    std::chrono::milliseconds max_age{0};
    std::mutex refresh_mu;  // held while fn runs
    std::mutex value_mu;    // guards last, asked, has_answer
    Component last;
    std::chrono::steady_clock::time_point asked{};
    bool has_answer = false;
  };
  static Component ask(Probe& probe);
  std::map<std::string, std::shared_ptr<Probe>> probes_;
};

}  // namespace scribepod
