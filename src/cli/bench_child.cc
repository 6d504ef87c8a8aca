#include "cli/bench_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/bench.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

constexpr int kServerStartTimeoutMs = 60'000;
constexpr int kServerStopTimeoutMs = 60'000;

std::string SelfExecutable() {
  std::error_code ec;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("tpwallet") : path.string();
}

// fork + exec of this binary with `args`; the child's stdout goes to `stdout_fd` (or
// /dev/null when -1), and it gets SIGTERM if the bench dies.
pid_t Spawn(const std::vector<std::string>& args, int stdout_fd) {
  const std::string exe = SelfExecutable();
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid != 0) return pid;
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  const int out = stdout_fd >= 0 ? stdout_fd : open("/dev/null", O_WRONLY);
  dup2(out, STDOUT_FILENO);
  execv(exe.c_str(), argv.data());
  _exit(127);
}

}  // namespace

// utime + stime of another process, from /proc (clock-tick resolution: 10 ms); 0 if unknown.
uint64_t OtherProcessCpuNs(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  uint64_t utime = 0;
  uint64_t stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return (utime + stime) * (1'000'000'000u / static_cast<uint64_t>(sysconf(_SC_CLK_TCK)));
}

double LoadAverage() {
  double load[1] = {0};
  return getloadavg(load, 1) == 1 ? load[0] : -1;
}

ChildServer::~ChildServer() {
  uint64_t ignored = 0;
  Stop(ignored);
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool ChildServer::Start(uint32_t threads, std::string& error, std::vector<std::string> extra_args) {
  if (!MakeDir(error)) return false;
  const pid_t init = Spawn({"tpwallet", "init", "--data-dir", dir_}, -1);
  int status = 0;
  if (init < 0 || waitpid(init, &status, 0) != init || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    error = "tpwallet init --data-dir " + dir_ + " failed";
    return false;
  }
  serve_args_ = {"tpwallet", "serve", "--data-dir", dir_, "--json",
                 "--listen", "127.0.0.1:0", "--rate-limit", kChildRateLimit};
  if (threads != 0) serve_args_.insert(serve_args_.end(), {"--threads", std::to_string(threads)});
  serve_args_.insert(serve_args_.end(), extra_args.begin(), extra_args.end());
  return Serve(error);
}

bool ChildServer::Serve(std::string& error) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return (error = "pipe failed", false);
  pid_ = Spawn(serve_args_, pipe_fds[1]);
  close(pipe_fds[1]);
  stdout_fd_ = pipe_fds[0];
  if (pid_ < 0) return (error = "fork failed", false);
  return ReadListening(error);
}

void ChildServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  if (stdout_fd_ >= 0) close(stdout_fd_);
  stdout_fd_ = -1;
}

bool ChildServer::Restart(std::string& error) {
  Kill();
  return Serve(error);
}

bool ChildServer::Stop(uint64_t& cpu_ns) {
  if (pid_ <= 0) return true;
  kill(pid_, SIGTERM);
  int status = 0;
  rusage usage{};
  pid_t done = 0;
  for (int waited_ms = 0; done == 0 && waited_ms < kServerStopTimeoutMs; waited_ms += 10) {
    done = wait4(pid_, &status, WNOHANG, &usage);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (done == 0) {
    kill(pid_, SIGKILL);
    done = wait4(pid_, &status, 0, &usage);
  }
  pid_ = -1;
  if (stdout_fd_ >= 0) close(stdout_fd_);
  stdout_fd_ = -1;
  cpu_ns = static_cast<uint64_t>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1'000'000'000u +
           static_cast<uint64_t>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000u;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool ChildServer::MakeDir(std::string& error) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                        "/tpwallet-bench-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    error = "cannot create a temporary directory for the benchmark";
    return false;
  }
  dir_ = pattern;
  return true;
}

bool ChildServer::ReadListening(std::string& error) {
  std::string line;
  const uint64_t deadline = NowNs() + uint64_t{kServerStartTimeoutMs} * 1'000'000;
  while (line.empty() || line.back() != '\n') {
    pollfd p{stdout_fd_, POLLIN, 0};
    const uint64_t now = NowNs();
    if (now >= deadline || poll(&p, 1, static_cast<int>((deadline - now) / 1'000'000)) <= 0) {
      return (error = "the server did not start within 60 s", false);
    }
    char c = 0;
    if (read(stdout_fd_, &c, 1) != 1) return (error = "the server exited at start", false);
    line.push_back(c);
  }
  bj::error_code ec;
  const bj::value json = bj::parse(line, ec);
  if (ec || !json.is_object() || !json.get_object().contains("port")) {
    return (error = "unexpected first line from the server: " + line, false);
  }
  const bj::object& o = json.get_object();
  port_ = static_cast<uint16_t>(o.at("port").to_number<uint64_t>());
  threads_ = static_cast<uint32_t>(o.at("threads").to_number<uint64_t>());
  if (const bj::value* key = o.if_contains("admin_key"); key != nullptr && key->is_string()) {
    admin_key_ = std::string(key->get_string());
  }
  return true;
}

}  // namespace tpw::cli
