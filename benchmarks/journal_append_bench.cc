// journal_append_bench: group-commit throughput of the journal on a real disk.
//
// Appends `groups` groups of `records` records of `bytes` bytes each, with one fdatasync per
// group (the default fsync=always policy), into a fresh directory that is removed afterwards.
// Prints the settings, records/s, MB/s and per-group latency percentiles, the same way every run.
//
//   journal_append_bench [directory] [groups] [records] [bytes]
//   defaults:             ./journal-bench 200 8189 128
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/clock.h"
#include "journal/journal.h"
#include "storage/posix_storage.h"

namespace {

using tpw::journal::JournalWriter;
using tpw::journal::RecordInput;
using tpw::journal::RecordLocation;

uint64_t Percentile(std::vector<uint64_t> values, double fraction) {
  std::sort(values.begin(), values.end());
  const size_t index = static_cast<size_t>(fraction * static_cast<double>(values.size() - 1));
  return values[index];
}

double Ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

void PrintReport(const std::string& base, uint64_t groups, size_t records, size_t bytes,
                 const tpw::journal::JournalStats& stats, uint64_t elapsed,
                 const std::vector<uint64_t>& append_ns, const std::vector<uint64_t>& sync_ns,
                 const std::vector<uint64_t>& total_ns) {
  const double seconds = static_cast<double>(elapsed) / 1e9;
  std::printf(
      "journal_append_bench: %llu groups x %zu records x %zu bytes, fdatasync per group, "
      "segment %llu MiB, dir %s\n",
      static_cast<unsigned long long>(groups), records, bytes,
      static_cast<unsigned long long>(tpw::journal::kSegmentBytesDefault >> 20), base.c_str());
  std::printf("  records/s      %.0f\n", static_cast<double>(stats.records) / seconds);
  std::printf("  payload MB/s   %.1f   (record bytes only)\n",
              static_cast<double>(stats.record_bytes) / seconds / 1e6);
  std::printf("  disk MB/s      %.1f   (with headers: %llu bytes in %llu segments)\n",
              static_cast<double>(stats.bytes) / seconds / 1e6,
              static_cast<unsigned long long>(stats.bytes),
              static_cast<unsigned long long>(stats.segments));
  std::printf("  group ms       p50 %.2f  p99 %.2f  max %.2f   (append+sync)\n",
              Ms(Percentile(total_ns, 0.5)), Ms(Percentile(total_ns, 0.99)),
              Ms(*std::max_element(total_ns.begin(), total_ns.end())));
  std::printf("  append ms      p50 %.2f  p99 %.2f   (encode, crc32c, BLAKE2b, write)\n",
              Ms(Percentile(append_ns, 0.5)), Ms(Percentile(append_ns, 0.99)));
  std::printf("  fdatasync ms   p50 %.2f  p99 %.2f\n", Ms(Percentile(sync_ns, 0.5)),
              Ms(Percentile(sync_ns, 0.99)));
}

int Run(const std::string& base, uint64_t groups, size_t records, size_t bytes) {
  const std::string directory = base + "/journal-bench-" + std::to_string(::getpid());
  auto storage = tpw::storage::PosixStorage::Open(base, true);  // make sure the parent exists
  if (!storage.ok()) {
    std::fprintf(stderr, "journal_append_bench: %s\n", storage.error().Message().c_str());
    return 1;
  }
  storage = tpw::storage::PosixStorage::Open(directory, true);
  if (!storage.ok()) {
    std::fprintf(stderr, "journal_append_bench: %s\n", storage.error().Message().c_str());
    return 1;
  }
  auto writer = JournalWriter::Open(*storage.value(), {});
  if (!writer.ok()) {
    std::fprintf(stderr, "journal_append_bench: %s\n", writer.error().Message().c_str());
    return 1;
  }
  std::vector<uint8_t> payload(records * bytes);
  tpw::SeededRandom(1).Fill(payload);
  std::vector<RecordInput> inputs(records);
  for (size_t i = 0; i < records; ++i) {
    inputs[i] = RecordInput{1, std::span<const uint8_t>(payload.data() + i * bytes, bytes)};
  }
  std::vector<RecordLocation> locations(records);
  std::vector<uint64_t> append_ns, sync_ns, total_ns;
  tpw::SystemClock clock;
  const uint64_t start = clock.MonotonicNs();
  for (uint64_t g = 0; g < groups; ++g) {
    const uint64_t t0 = clock.MonotonicNs();
    auto appended = writer.value()->AppendGroup(inputs, locations);
    const uint64_t t1 = clock.MonotonicNs();
    auto synced = appended.ok() ? writer.value()->Sync() : tpw::journal::JournalStatus::Ok();
    const uint64_t t2 = clock.MonotonicNs();
    if (!appended.ok() || !synced.ok()) {
      std::fprintf(stderr, "journal_append_bench: %s\n",
                   (appended.ok() ? synced.error() : appended.error()).Message().c_str());
      return 1;
    }
    append_ns.push_back(t1 - t0);
    sync_ns.push_back(t2 - t1);
    total_ns.push_back(t2 - t0);
  }
  const uint64_t elapsed = clock.MonotonicNs() - start;
  const tpw::journal::JournalStats stats = writer.value()->stats();
  writer.value().reset();
  storage.value().reset();
  std::error_code ignored;
  std::filesystem::remove_all(directory, ignored);

  PrintReport(base, groups, records, bytes, stats, elapsed, append_ns, sync_ns, total_ns);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string base = argc > 1 ? argv[1] : "./journal-bench";
  const uint64_t groups = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 200;
  const size_t records = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 8189;
  const size_t bytes = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 128;
  if (groups == 0 || records == 0 || records > tpw::journal::kGroupRecordsMax) {
    std::fprintf(stderr,
                 "usage: journal_append_bench [directory] [groups>0] [records 1..%u] [bytes]\n",
                 tpw::journal::kGroupRecordsMax);
    return 2;
  }
  return Run(base, groups, records, bytes);
}
