// Test-only: running `tpwallet` (or any program) as a child process with its standard output
// and error going to files — no pipe can fill up and block — and reading what it left behind.
// Shared by the CLI integration tests.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tpw::test_support {

struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128 + the signal that ended it; -1 if never run
  std::string out;
  std::string err;
};

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A directory's file names and sizes (the engine's LOCK file left out), to show a refused
// command changed nothing.
inline std::string DirectoryListing(const std::string& dir) {
  std::vector<std::string> entries;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name == "LOCK") continue;  // the engine's lock file, created by any opener
    entries.push_back(name + ":" + std::to_string(entry.is_regular_file() ? entry.file_size() : 0));
  }
  std::sort(entries.begin(), entries.end());
  std::string out;
  for (const std::string& e : entries) out += e + "\n";
  return out;
}

// Starts `args` (args[0] is the program's path) with stdout and stderr going to the files.
// TPWALLET_DATA_DIR is `data_dir_env` in the child, or unset when that is "".
inline pid_t SpawnToFiles(std::vector<std::string> args, const std::string& out_path,
                          const std::string& err_path, const std::string& data_dir_env = "") {
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
    if (data_dir_env.empty()) {
      unsetenv("TPWALLET_DATA_DIR");
    } else {
      setenv("TPWALLET_DATA_DIR", data_dir_env.c_str(), 1);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Runs `args` to the end (as SpawnToFiles) and returns its exit code and output.
inline ProcessResult RunToFiles(const std::vector<std::string>& args, const std::string& out_path,
                                const std::string& err_path, const std::string& data_dir_env = "") {
  const pid_t pid = SpawnToFiles(args, out_path, err_path, data_dir_env);
  ProcessResult run;
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.out = ReadAll(out_path);
  run.err = ReadAll(err_path);
  return run;
}

}  // namespace tpw::test_support
