// Readiness: what each component (an engine, a store, the listener) says
// about whether it can serve. /ready answers 200 only when every component
// registered here is ready, and names the ones that are not.
//
// Components call set() when their state changes; readers take a snapshot.
// Thread-safe.
#pragma once

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
  std::map<std::string, Component> snapshot() const;
  // Names of components that are not ready (empty when all are).
  std::vector<std::string> not_ready() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, Component> components_;
};

}  // namespace scribepod
