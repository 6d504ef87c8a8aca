// The benchmarks' child server: `tpwallet serve` (this very binary) on a fresh temporary data
// directory in a child process, so the server runs exactly as in production (durable,
// fsync=always), and the CPU-time helpers the benchmarks report with. `tpwallet bench http` and
// `tpwallet bench webhooks` (which kills it with SIGKILL mid-run and starts it again on the same
// directory).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tpw::cli {

// The child server's per-key rate limit: high enough that a bench measures the server, not the
// limiter (the default of 10,000/s would answer most requests 429).
inline constexpr const char* kChildRateLimit = "10000000";

// CPU time (user + system) of another process (from /proc, clock-tick resolution: 10 ms; 0 if
// unknown). This process's: ProcessCpuNs (bench.h).
uint64_t OtherProcessCpuNs(pid_t pid);
// The 1-minute load average (-1 if unknown).
double LoadAverage();

class ChildServer {
 public:
  ~ChildServer();  // stops the server and removes its directory

  // Makes a fresh directory, `tpwallet init`s it and serves it on a free loopback port with
  // `threads` I/O threads (0: the server's default) and `extra_args` (e.g. --no-auth).
  bool Start(uint32_t threads, std::string& error, std::vector<std::string> extra_args = {});
  // SIGKILL: no shutdown at all, as a crash (what is not durable is lost; nothing acknowledged).
  void Kill();
  // Serves the same directory again (after Kill or Stop), on a new free port.
  bool Restart(std::string& error);
  // SIGTERM (the server answers what it read, makes everything durable and exits 0), then
  // waits; `cpu_ns` is the server's whole CPU time. False if it did not exit 0.
  bool Stop(uint64_t& cpu_ns);

  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  uint32_t threads() const { return threads_; }
  const std::string& admin_key() const { return admin_key_; }
  const std::string& dir() const { return dir_; }

 private:
  bool MakeDir(std::string& error);
  bool Serve(std::string& error);
  // The server's first stdout line: {"listening":..,"port":..,"threads":..,"admin_key":..}.
  bool ReadListening(std::string& error);

  std::string dir_;
  std::vector<std::string> serve_args_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  uint16_t port_ = 0;
  uint32_t threads_ = 0;
  std::string admin_key_;
};

}  // namespace tpw::cli
