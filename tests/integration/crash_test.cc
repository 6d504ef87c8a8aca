// Crash test with a real process and a real disk: crash_child runs the engine on a temp
// directory and is killed with SIGKILL after a random delay, several rounds on the same
// directory. After each kill this process reopens the engine and checks that
//   - every acknowledged `created` transfer is there with the fields that were sent,
//   - every transfer acknowledged as refused is absent,
//   - no transfer id appears twice in the journal, and the engine holds exactly the journal's,
//   - the ledger's invariants hold (Ledger::CheckInvariants runs in recovery; the per-ledger
//     debit/credit totals and the no-overdraft accounts are checked here from the accounts),
//   - journal::VerifyJournal passes before the reopen (a torn tail allowed) and after it.
// The next child resumes each thread at its first unacknowledged request, retrying the request
// that was in flight with the same ids. Reproduce a failure with TPW_TEST_SEED=N.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/limits.h"
#include "common/test_seed.h"
#include "crash_workload.h"
#include "engine/engine.h"
#include "engine/facts.h"
#include "journal/journal.h"
#include "ledger/results.h"
#include "storage/posix_storage.h"
#include "storage/test_temp_dir.h"

extern char** environ;

namespace tpw::crash_test {
namespace {

using ledger::CreateTransferResult;
using ledger::Transfer;

constexpr uint32_t kThreads = 4;
constexpr int kRounds = 16;
constexpr uint64_t kKillDelayMinMs = 50;
constexpr uint64_t kKillDelayMaxMs = 500;

struct Ack {
  uint32_t thread = 0;
  uint64_t index = 0;
  std::vector<int> codes;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Complete lines only: a line the kill cut short has no newline and was not acknowledged.
std::vector<Ack> ParseAcks(const std::string& text) {
  std::vector<Ack> acks;
  size_t begin = 0;
  while (true) {
    const size_t end = text.find('\n', begin);
    if (end == std::string::npos) break;
    std::istringstream line(text.substr(begin, end - begin));
    begin = end + 1;
    std::string tag;
    Ack ack;
    line >> tag >> ack.thread >> ack.index;
    EXPECT_EQ(tag, "A");
    EXPECT_LT(ack.thread, kThreads);
    int code = 0;
    while (line >> code) ack.codes.push_back(code);
    acks.push_back(ack);
  }
  return acks;
}

// Runs the child until the kill; returns its stdout. The child must die by SIGKILL (not exit).
// The delay counts from the child's "ready" byte (recovery done, requests starting), or from the
// spawn when `from_spawn`, so that some kills land in the middle of recovery.
std::string RunAndKill(const std::string& data_dir, const std::string& scratch_dir, uint64_t seed,
                       const std::vector<uint64_t>& starts, uint64_t delay_ms, bool from_spawn) {
  const std::string out_path = scratch_dir + "/stdout";
  const std::string err_path = scratch_dir + "/stderr";
  std::vector<std::string> args = {TPW_CRASH_CHILD, data_dir, std::to_string(seed)};
  for (const uint64_t start : starts) args.push_back(std::to_string(start));
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int ready[2] = {-1, -1};
  EXPECT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, ready[1], 3);  // the copy survives exec
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(ready[1]);
  EXPECT_EQ(spawned, 0) << "cannot start " << argv[0];
  if (spawned != 0) {
    ::close(ready[0]);
    return {};
  }
  if (!from_spawn) {
    char byte = 0;
    // Returns when the child is ready, or at EOF if it died first (then waitpid reports it).
    (void)::read(ready[0], &byte, 1);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));  // the random kill point
  EXPECT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(ready[0]);  // only now: the child's write to a closed pipe would raise SIGPIPE
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child ended by itself (status " << status << "): " << ReadText(err_path);
  return ReadText(out_path);
}

bool IsSuccess(int code) {
  return code == static_cast<int>(CreateTransferResult::created) ||
         code == static_cast<int>(CreateTransferResult::exists);
}

// What the acknowledgements so far promise about the directory.
struct Expected {
  std::map<u128, Transfer> created;  // acknowledged created/exists: the event as sent
  std::set<u128> refused;            // acknowledged as failed, in a request never sent again
};

void ExpectSameTransfer(const Transfer& stored, const Transfer& sent) {
  SCOPED_TRACE("transfer " + U128ToHex(sent.id.value));
  EXPECT_EQ(stored.id, sent.id);
  EXPECT_EQ(stored.debit_account_id, sent.debit_account_id);
  EXPECT_EQ(stored.credit_account_id, sent.credit_account_id);
  if ((sent.flags &
       (ledger::transfer_flags::kBalancingDebit | ledger::transfer_flags::kBalancingCredit)) != 0) {
    EXPECT_LE(stored.amount, sent.amount);  // clamped to what the accounts allowed
  } else {
    EXPECT_EQ(stored.amount, sent.amount);
  }
  EXPECT_EQ(stored.pending_id, sent.pending_id);
  EXPECT_EQ(stored.user_data_128, sent.user_data_128);
  EXPECT_EQ(stored.user_data_64, sent.user_data_64);
  EXPECT_EQ(stored.user_data_32, sent.user_data_32);
  EXPECT_EQ(stored.timeout, sent.timeout);
  EXPECT_EQ(stored.ledger, sent.ledger);
  EXPECT_EQ(stored.code, sent.code);
  EXPECT_EQ(stored.flags, sent.flags);
  EXPECT_NE(stored.timestamp.ns, 0u);
}

// Transfer ids of every transfers_created fact in the journal, in journal order.
std::vector<u128> JournaledTransferIds(storage::Storage& storage) {
  std::vector<u128> ids;
  auto reader = journal::JournalReader::Open(storage, journal::SequenceNo{1});
  EXPECT_TRUE(reader.ok()) << reader.error().Message();
  if (!reader.ok()) return ids;
  while (true) {
    auto next = reader.value()->Next();
    EXPECT_TRUE(next.ok()) << next.error().Message();
    if (!next.ok() || !next.value().has_value()) break;
    const journal::RecordView& record = *next.value();
    if (record.type != static_cast<uint16_t>(engine::FactType::transfers_created)) continue;
    auto fact = engine::DecodeFact(record.type, record.bytes);
    EXPECT_TRUE(fact.ok()) << fact.error();
    if (!fact.ok()) continue;
    for (const Transfer& t : fact.value().transfers) ids.push_back(t.id.value);
  }
  return ids;
}

// `started`: some child acknowledged something, so the directory must be initialized. Before
// that, a kill may have landed before or inside Engine::Initialize: no marker yet (Open says
// not_initialized and the next child initializes) or a marker but no journal yet (Open creates
// it).
void CheckDirectory(const std::string& data_dir, const Expected& expected, bool started) {
  auto storage = storage::PosixStorage::Open(data_dir, true);
  ASSERT_TRUE(storage.ok());
  {
    auto verified = journal::VerifyJournal(*storage.value());
    if (!started && !verified.ok() && verified.error().code == journal::JournalError::no_journal) {
      std::printf("[ round    ] killed before the journal existed\n");
    } else {
      ASSERT_TRUE(verified.ok()) << verified.error().Message();
    }
  }
  engine::EngineOptions options;
  options.expire_when_idle = false;
  auto opened = engine::Engine::Open(*storage.value(), options);  // runs CheckInvariants
  if (!started && !opened.ok() && opened.error().code == engine::EngineError::not_initialized) {
    std::printf("[ round    ] killed before the directory was initialized\n");
    return;
  }
  ASSERT_TRUE(opened.ok()) << opened.error().Message();
  engine::Engine& engine = *opened.value();

  // Acknowledged transfers: present, with the fields sent.
  std::vector<TransferId> ids;
  for (const auto& [id, sent] : expected.created) ids.push_back(TransferId{id});
  for (size_t i = 0; i < ids.size(); i += kLookupIdsMax) {
    const std::vector<TransferId> chunk(
        ids.begin() + static_cast<ptrdiff_t>(i),
        ids.begin() + static_cast<ptrdiff_t>(std::min(ids.size(), i + kLookupIdsMax)));
    engine::Reply found = engine.LookupTransfers(chunk);
    ASSERT_FALSE(found.error);
    ASSERT_EQ(found.transfers.size(), chunk.size()) << "acknowledged transfers are missing";
    for (const Transfer& stored : found.transfers) {
      ExpectSameTransfer(stored, expected.created.at(stored.id.value));
    }
  }
  // Refused transfers: absent.
  std::vector<TransferId> refused;
  for (const u128 id : expected.refused) refused.push_back(TransferId{id});
  for (size_t i = 0; i < refused.size(); i += kLookupIdsMax) {
    const std::vector<TransferId> chunk(
        refused.begin() + static_cast<ptrdiff_t>(i),
        refused.begin() + static_cast<ptrdiff_t>(std::min(refused.size(), i + kLookupIdsMax)));
    engine::Reply found = engine.LookupTransfers(chunk);
    ASSERT_FALSE(found.error);
    for (const Transfer& t : found.transfers) {
      ADD_FAILURE() << "refused transfer " << U128ToHex(t.id.value) << " is present";
    }
  }
  // Per-ledger totals from all accounts, and the accounts that may not overdraw.
  std::vector<AccountId> account_ids;
  for (const ledger::Account& a : Accounts()) account_ids.push_back(a.id);
  engine::Reply accounts = engine.LookupAccounts(account_ids);
  // The child creates every account in one batch before its first request. Until a request was
  // acknowledged, a kill may land before that batch was durable: then none exist (never some).
  if (started || !accounts.accounts.empty()) {
    ASSERT_EQ(accounts.accounts.size(), account_ids.size());
  } else {
    std::printf("[ round    ] killed before the accounts were durable\n");
  }
  u128 debits_pending = 0, debits_posted = 0, credits_pending = 0, credits_posted = 0;
  for (const ledger::Account& a : accounts.accounts) {
    debits_pending += a.debits_pending.minor();
    debits_posted += a.debits_posted.minor();
    credits_pending += a.credits_pending.minor();
    credits_posted += a.credits_posted.minor();
    if ((a.flags & ledger::account_flags::kDebitsMustNotExceedCredits) != 0) {
      EXPECT_LE(a.debits_pending.minor() + a.debits_posted.minor(), a.credits_posted.minor())
          << "account " << U128ToHex(a.id.value) << " is overdrawn";
    }
  }
  EXPECT_EQ(debits_pending, credits_pending);
  EXPECT_EQ(debits_posted, credits_posted);
  // No transfer id twice in the journal, and the engine holds exactly the journal's transfers.
  std::vector<u128> journaled = JournaledTransferIds(*storage.value());
  const size_t journaled_count = journaled.size();
  std::sort(journaled.begin(), journaled.end());
  EXPECT_EQ(std::adjacent_find(journaled.begin(), journaled.end()), journaled.end())
      << "a transfer id is journaled twice";
  EXPECT_EQ(engine.Stats().transfers, journaled_count);
  opened.value().reset();

  auto verified = journal::VerifyJournal(*storage.value());
  ASSERT_TRUE(verified.ok()) << verified.error().Message();
  EXPECT_EQ(verified.value().stats.torn_tail_bytes, 0u);  // recovery truncated it
}

TEST(CrashTest, KilledChildrenNeverLoseAcknowledgedTransfersOrBreakTheLedger) {
  const uint64_t seed = test_support::TestSeed("CrashTest");
  SCOPED_TRACE(test_support::SeedTrace(seed));
  SeededRandom random(seed);
  storage::TempDir data;
  storage::TempDir scratch;
  std::vector<uint64_t> next(kThreads, 0);
  Expected expected;
  uint64_t acknowledged_requests = 0;
  int rounds_with_acks = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const uint64_t delay_ms =
        kKillDelayMinMs + random.Uniform(kKillDelayMaxMs - kKillDelayMinMs + 1);
    const bool from_spawn = random.Chance(1, 4);
    const std::vector<uint64_t> starts = next;
    const std::string output =
        RunAndKill(data.path(), scratch.path(), seed, starts, delay_ms, from_spawn);
    ASSERT_FALSE(HasFailure());
    const std::vector<Ack> acks = ParseAcks(output);
    for (const Ack& ack : acks) {
      ASSERT_EQ(ack.index, next[ack.thread])
          << "thread " << ack.thread << " acknowledged out of order";
      next[ack.thread] = ack.index + 1;
      const std::vector<Transfer> events = Item(seed, ack.thread, ack.index);
      ASSERT_EQ(ack.codes.size(), events.size());
      // The first request of each thread in a round may be a retry of the one in flight at the
      // previous kill: it may find its own transfers (`exists`), or its earlier failures.
      const bool retry = ack.index == starts[ack.thread] && round > 0;
      for (size_t i = 0; i < events.size(); ++i) {
        const int code = ack.codes[i];
        if (IsSuccess(code)) {
          if (!retry) {
            EXPECT_EQ(code, static_cast<int>(CreateTransferResult::created))
                << "a fresh id already existed: " << U128ToHex(events[i].id.value);
          }
          expected.created.emplace(events[i].id.value, events[i]);
        } else if (!retry) {
          expected.refused.insert(events[i].id.value);
        }
      }
    }
    acknowledged_requests += acks.size();
    if (!acks.empty()) ++rounds_with_acks;
    std::printf("[ round    ] %d: killed %llu ms after %s, %zu requests acknowledged\n", round,
                static_cast<unsigned long long>(delay_ms), from_spawn ? "the start" : "recovery",
                acks.size());
    CheckDirectory(data.path(), expected, acknowledged_requests > 0);
    ASSERT_FALSE(HasFailure());
  }
  std::printf("[ total    ] %llu requests, %zu transfers created, %zu refused\n",
              static_cast<unsigned long long>(acknowledged_requests), expected.created.size(),
              expected.refused.size());
  // How much each round gets done depends on the disk's fsync latency; the test only needs
  // some acknowledged work to check.
  EXPECT_GT(rounds_with_acks, 0) << "no child ever acknowledged a request";
}

}  // namespace
}  // namespace tpw::crash_test
