#include "fault_support.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace scribepod::testing {
namespace {

constexpr const char* kBoundary = "----scribepod-fault-boundary";

}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string read_speech(const std::string& name) {
  return read_file("/usr/share/pocketsphinx/test/data/" + name);
}

std::string multipart_body(const std::string& field, const std::string& data,
                           const std::string& type) {
  std::string body = std::string("--") + kBoundary + "\r\n";
  body += "Content-Disposition: form-data; name=\"" + field + "\"; filename=\"speech.wav\"\r\n";
  body += "Content-Type: " + type + "\r\n\r\n" + data + "\r\n--" + kBoundary + "--\r\n";
  return body;
}

Headers multipart_headers(const std::string& session) {
  Headers h = {{"Content-Type", std::string("multipart/form-data; boundary=") + kBoundary}};
  if (!session.empty()) h.emplace_back("X-Session-Id", session);
  return h;
}

std::optional<double> metric_value(std::uint16_t port, const std::string& name,
                                   const std::string& labels) {
  const HttpResponse res = http_get(port, "/metrics");
  if (res.status != 200) return std::nullopt;
  const std::string sample = labels.empty() ? name + " " : name + "{" + labels + "} ";
  std::istringstream lines(res.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(sample, 0) == 0) return std::stod(line.substr(sample.size()));
  }
  return std::nullopt;
}

std::string source_dir() {
  if (const char* env = std::getenv("SCRIBEPOD_SOURCE_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return SCRIBEPOD_SOURCE_ROOT;
}

TimedResponse post_new_utterance(std::uint16_t port, const std::string& wav) {
  TimedResponse out;
  const auto start = Clock::now();
  try {
    HttpConnection conn(port);
    if (!conn.send(make_request("POST", "/conversation?chunk=1", multipart_headers(),
                                multipart_body("audio_data", wav)))) {
      throw std::runtime_error("the connection closed while sending");
    }
    out.response = conn.read(std::chrono::seconds(20));
  } catch (const std::exception& e) {
    out.transport_error = true;
    out.error = e.what();
  }
  out.ms = ms_since(start);
  return out;
}

}  // namespace scribepod::testing
