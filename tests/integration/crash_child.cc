// crash_child: the process crash_test kills. Opens (initializing if needed) an Engine on a real
// directory, creates the workload's accounts if missing, then runs the workload from a few
// threads until it is killed. After each acknowledged reply it writes one line to stdout with a
// single write(2) call, so every line in the output names a request that was durable:
//
//   A <thread> <index> <result code of event 0> <result code of event 1> ...
//
// Usage: crash_child <data dir> <seed> <start index of thread 0> [<start of thread 1> ...]
// When fd 3 is open, one byte is written to it once recovery is done and requests start.
// Exits non-zero (with a message on stderr) on anything unexpected.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "crash_workload.h"
#include "engine/engine.h"
#include "storage/posix_storage.h"

namespace {

using tpw::engine::Engine;
using tpw::engine::EngineError;
using tpw::engine::Reply;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "crash_child: %s\n", message.c_str());
  std::exit(2);
}

void WriteLine(const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) Die("cannot write to stdout");
    done += static_cast<size_t>(n);
  }
}

void RunThread(Engine& engine, uint64_t seed, uint32_t thread, uint64_t start) {
  for (uint64_t index = start;; ++index) {
    const std::vector<tpw::ledger::Transfer> events = tpw::crash_test::Item(seed, thread, index);
    Reply reply = engine.CreateTransfers(events);
    if (reply.error) {
      Die("request " + std::to_string(index) + " of thread " + std::to_string(thread) +
          " failed: " + std::string(tpw::engine::EngineErrorName(*reply.error)));
    }
    std::vector<int> codes(events.size(), 0);
    for (const auto& result : reply.transfer_results) {
      codes.at(result.index) = static_cast<int>(result.result);
    }
    std::string line = "A " + std::to_string(thread) + " " + std::to_string(index);
    for (const int code : codes) line += " " + std::to_string(code);
    line += "\n";
    WriteLine(line);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) Die("usage: crash_child <dir> <seed> <start of thread 0> [...]");
  const std::string directory = argv[1];
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  std::vector<uint64_t> starts;
  for (int i = 3; i < argc; ++i) starts.push_back(std::strtoull(argv[i], nullptr, 10));
  if (starts.size() > tpw::crash_test::kThreadsMax) Die("too many threads");

  auto storage = tpw::storage::PosixStorage::Open(directory, true);
  if (!storage.ok()) Die(storage.error().Message());
  tpw::engine::EngineOptions options;
  options.snapshot_every_records = 400;  // snapshots get written (and interrupted) too
  options.snapshots_kept = 2;
  auto engine = Engine::Open(*storage.value(), options);
  if (!engine.ok() && engine.error().code == EngineError::not_initialized) {
    if (auto s = Engine::Initialize(*storage.value()); !s.ok()) Die(s.error().Message());
    engine = Engine::Open(*storage.value(), options);
  }
  if (!engine.ok()) Die(engine.error().Message());

  Reply accounts = engine.value()->CreateAccounts(tpw::crash_test::Accounts());
  if (accounts.error) Die("creating accounts failed");
  for (const auto& result : accounts.account_results) {
    if (result.result != tpw::ledger::CreateAccountResult::exists) Die("an account was refused");
  }

  // Tell the test (if it passed a pipe as fd 3) that recovery is done and requests start now.
  if (::write(3, "R", 1) == 1) ::close(3);

  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < starts.size(); ++t) {
    threads.emplace_back(RunThread, std::ref(*engine.value()), seed, t, starts[t]);
  }
  for (std::thread& thread : threads) thread.join();  // never: the test kills the process
  return 0;
}
