// live_capacity: the client of bench/live_capacity.sh. Opens K idle streams
// on GET /v1/stream of a running `scribepod serve` (pid PID) and measures
// the server's memory and CPU while it holds them.
//
//   live_capacity PORT PID K [CPU_SECONDS [upgrade-only]]
//
// Each stream sends `start`, waits for its `session` event, then sends one
// 100 ms frame of digital silence every second. Silence never reaches the
// recogniser (the voice activity gate keeps it out), so this measures the
// gateway: sockets, WebSocket state, sessions, the VAD on 10 % of real-time
// audio. At most 64 handshakes are in flight at once. The server's RSS
// (VmRSS in /proc/PID/status) is read before the first connection and 3 s
// after the last session event; its CPU (utime + stime in /proc/PID/stat)
// over CPU_SECONDS (default 10) after that.
//
// With `upgrade-only` the streams stop after the WebSocket upgrade (no
// `start`, no session, no audio; they hold the connection with a ping each
// second instead): the transport's share of the memory.
//
// Prints one machine-readable line `CAPACITY|...` for live_capacity.sh.
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxHandshakes = 64;

long rss_kib(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// utime + stime of the process, in clock ticks.
long cpu_ticks(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(all.substr(all.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

struct Shared {
  net::io_context ioc;
  tcp::endpoint server;
  std::size_t target = 0;
  bool upgrade_only = false;
  std::size_t launched = 0;
  std::atomic<std::size_t> established{0};
  std::atomic<std::size_t> failed{0};
  std::atomic<std::size_t> closed_after{0};
  std::mutex mu;
  std::string first_error;
  void fail(const std::string& what) {
    {
      std::lock_guard lock(mu);
      if (first_error.empty()) first_error = what;
    }
    ++failed;
  }
  void launch_next();
};

class IdleStream : public std::enable_shared_from_this<IdleStream> {
 public:
  explicit IdleStream(Shared& s) : s_(s), ws_(s.ioc), timer_(s.ioc), frame_(3200, '\0') {}

  void start() {
    ws_.next_layer().async_connect(s_.server, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->give_up("connect: " + ec.message());
      self->ws_.async_handshake("127.0.0.1", "/v1/stream", [self](beast::error_code hec) {
        if (hec) return self->give_up("handshake: " + hec.message());
        if (self->s_.upgrade_only) return self->established();
        self->ws_.text(true);
        self->ws_.async_write(net::buffer(kStart), [self](beast::error_code wec, std::size_t) {
          if (wec) return self->give_up("start: " + wec.message());
          self->ws_.async_read(self->buf_, [self](beast::error_code rec, std::size_t) {
            if (rec || beast::buffers_to_string(self->buf_.data()).find("\"session\"") ==
                           std::string::npos) {
              return self->give_up(
                  "session event: " +
                  (rec ? rec.message() : beast::buffers_to_string(self->buf_.data())));
            }
            self->established();
          });
        });
      });
    });
  }

 private:
  void established() {
    up_ = true;
    ++s_.established;
    s_.launch_next();
    read();
    tick();
  }
  void give_up(const std::string& why) {
    s_.fail(why);
    s_.launch_next();
  }
  void read() {
    buf_.consume(buf_.size());
    ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        ++self->s_.closed_after;
        self->s_.fail("closed by the server: " + ec.message() + " " +
                      std::to_string(self->ws_.reason().code));
        self->timer_.cancel();
        return;
      }
      self->read();
    });
  }
  void tick() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      if (self->s_.upgrade_only) {
        self->ws_.async_ping({}, [self](beast::error_code pec) {
          if (!pec) self->tick();
        });
        return;
      }
      self->ws_.binary(true);
      self->ws_.async_write(net::buffer(self->frame_), [self](beast::error_code wec, std::size_t) {
        if (!wec) self->tick();
      });
    });
  }

  static constexpr std::string_view kStart =
      R"({"type":"start","sample_rate":16000,"encoding":"pcm16"})";
  Shared& s_;
  websocket::stream<tcp::socket> ws_;
  net::steady_timer timer_;
  std::string frame_;
  beast::flat_buffer buf_;
  bool up_ = false;
};

void Shared::launch_next() {
  if (launched >= target) return;
  ++launched;
  std::make_shared<IdleStream>(*this)->start();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: live_capacity PORT PID K [CPU_SECONDS]\n");
    return 2;
  }
  const std::string pid = argv[2];
  const double cpu_s = argc > 4 ? std::stod(argv[4]) : 10.0;
  Shared s;
  s.server =
      tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(std::stoi(argv[1])));
  s.target = std::stoul(argv[3]);
  s.upgrade_only = argc > 5 && std::string(argv[5]) == "upgrade-only";

  const long rss_before = rss_kib(pid);
  const auto began = Clock::now();
  for (std::size_t i = 0; i < kMaxHandshakes; ++i) s.launch_next();
  auto guard = net::make_work_guard(s.ioc);
  std::thread io([&] { s.ioc.run(); });
  while (s.established + s.failed < s.target && Clock::now() - began < std::chrono::seconds(90)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const double ramp_s = std::chrono::duration<double>(Clock::now() - began).count();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const long rss_after = rss_kib(pid);
  const long t0 = cpu_ticks(pid);
  std::this_thread::sleep_for(std::chrono::duration<double>(cpu_s));
  const long t1 = cpu_ticks(pid);
  const std::size_t held = s.established - s.closed_after;

  const double cpu_pct =
      100.0 * static_cast<double>(t1 - t0) / static_cast<double>(sysconf(_SC_CLK_TCK)) / cpu_s;
  const double per_stream_kib =
      held == 0 ? 0 : static_cast<double>(rss_after - rss_before) / static_cast<double>(held);
  std::string err;
  {
    std::lock_guard lock(s.mu);
    err = s.first_error.empty() ? "-" : s.first_error;
  }
  std::printf("CAPACITY|%zu|%zu|%zu|%.1f|%.1f|%.1f|%.1f|%.1f|%.3f|%s\n", s.target, held,
              s.failed.load(), ramp_s, static_cast<double>(rss_before) / 1024.0,
              static_cast<double>(rss_after) / 1024.0, per_stream_kib, cpu_pct,
              held == 0 ? 0.0 : cpu_pct / static_cast<double>(held), err.c_str());
  std::fflush(stdout);
  // The streams' handlers still hold sockets; the process ends here rather
  // than unwinding them (the script kills the server next anyway).
  std::_Exit(0);
}
