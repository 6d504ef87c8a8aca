// The tpwallet program end to end: each test runs the real binary (TPW_BINARY) as a child
// process on a fresh data directory and checks its output, JSON and exit codes. Hostile input
// must give the documented error and exit code and change nothing in the directory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tpwallet_fixture.h"
#include "storage/posix_storage.h"
#include "storage/test_temp_dir.h"

namespace tpw {
namespace {

namespace bj = boost::json;
using test_support::DirectoryListing;
using test_support::ProcessResult;
using test_support::ReadAll;

// Exit codes of docs/cli.md.
constexpr int kOk = 0;
constexpr int kRejected = 1;
constexpr int kUsage = 2;
constexpr int kNotFound = 3;
constexpr int kDataDir = 4;
constexpr int kDamaged = 5;

void WriteAll(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

class CliTest : public test_support::TpwalletFixture {
 protected:
  void Init() { ASSERT_EQ(On({"init"}).exit_code, kOk); }

  // Accounts: 1 issuer (no limit), 2 alice (debits <= credits, history), 3 shop, 4 bob (JPY).
  void InitWithAccounts() {
    Init();
    Expect(On({"account", "create", "--id", "1", "--ledger", "USD", "--code", "30"}), kOk);
    Expect(On({"account", "create", "--id", "2", "--ledger", "USD", "--code", "10", "--flags",
               "debits_must_not_exceed_credits,history"}),
           kOk);
    Expect(On({"account", "create", "--id", "3", "--ledger", "1", "--code", "20"}), kOk);
    Expect(On({"account", "create", "--id", "4", "--ledger", "JPY", "--code", "10"}), kOk);
  }

  void Transfer(const std::string& id, const std::string& debit, const std::string& credit,
                const std::string& amount, std::vector<std::string> extra = {},
                int expected = kOk) {
    std::vector<std::string> args = {"transfer", "--id",   id,         "--debit", debit,
                                     "--credit", credit,   "--amount", amount,    "--ledger",
                                     "USD",      "--code", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    Expect(On(args), expected);
  }

  bj::value Account(const std::string& id) {
    bj::value shown = Json({"account", "show", id});
    EXPECT_EQ(shown.at("accounts").as_array().size(), 1u);
    return shown.at("accounts").as_array().at(0);
  }

  std::string Records() { return Str(Json({"journal", "verify"}), "records"); }

  // Runs `args`, expects `exit_code` and `message` on stderr, and checks the data directory did
  // not change.
  void ExpectRefusedChangingNothing(const std::vector<std::string>& args, int exit_code,
                                    const std::string& message) {
    const std::string before = DirectoryListing(data_);
    const ProcessResult run = On(args);
    EXPECT_EQ(run.exit_code, exit_code) << run.out << run.err;
    EXPECT_NE(run.err.find(message), std::string::npos) << "stderr: " << run.err;
    EXPECT_EQ(DirectoryListing(data_), before);
  }

};

// ---- init -----------------------------------------------------------------------------------

TEST_F(CliTest, InitCreatesTheDirectoryAndRefusesASecondInit) {
  const ProcessResult first = On({"init"});
  Expect(first, kOk);
  EXPECT_NE(first.out.find("initialized"), std::string::npos);
  EXPECT_TRUE(std::filesystem::is_directory(data_));
  ExpectRefusedChangingNothing({"init"}, kDataDir, "already an initialized data directory");
  const bj::value error = Json({"init"}, kDataDir);
  EXPECT_EQ(Str(error.at("error"), "code"), "already_initialized");
  EXPECT_EQ(error.at("error").at("exit_code").as_int64(), kDataDir);
}

TEST_F(CliTest, CommandsOnAMissingOrUninitializedDirectoryAreRefused) {
  const ProcessResult missing = On({"account", "show", "1"});
  Expect(missing, kDataDir);
  EXPECT_NE(missing.err.find("tpwallet init"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(data_)) << "a read command must not create the directory";

  std::filesystem::create_directory(data_);
  WriteAll(data_ + "/unrelated.txt", "keep me");
  ExpectRefusedChangingNothing({"account", "show", "1"}, kDataDir, "not_initialized");
  ExpectRefusedChangingNothing({"transfer", "--id", "1", "--debit", "1", "--credit", "2",
                                "--amount", "1", "--ledger", "USD", "--code", "1"},
                               kDataDir, "not_initialized");
  ExpectRefusedChangingNothing({"snapshot"}, kDataDir, "not_initialized");
  ExpectRefusedChangingNothing({"journal", "verify"}, kDataDir, "no_journal");
}

TEST_F(CliTest, UnwritableDirectoryIsRefused) {
  // Root ignores permission bits, so a path under a regular file stands in for an unwritable
  // place there; otherwise a 0500 directory is the real thing.
  std::string target;
  if (geteuid() == 0) {
    WriteAll(Path("regular-file"), "x");
    target = Path("regular-file") + "/data";
  } else {
    std::filesystem::create_directory(Path("readonly"));
    ASSERT_EQ(chmod(Path("readonly").c_str(), 0500), 0);
    target = Path("readonly") + "/data";
  }
  const ProcessResult run = Tpwallet({"init", "--data-dir", target});
  Expect(run, kDataDir);
  EXPECT_NE(run.err.find("cannot open data directory"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(target));
  if (geteuid() != 0) chmod(Path("readonly").c_str(), 0700);
}

TEST_F(CliTest, ADirectoryHeldByAnotherProcessIsRefusedAsLocked) {
  InitWithAccounts();
  const std::string records = Records();
  {
    // This test process is the "other process": it holds the directory lock (flock) while the
    // child runs.
    auto storage = storage::PosixStorage::Open(data_, false);
    ASSERT_TRUE(storage.ok());
    auto lock = storage.value()->LockDirectory();
    ASSERT_TRUE(lock.ok());
    ExpectRefusedChangingNothing({"account", "show", "1"}, kDataDir, "locked");
    ExpectRefusedChangingNothing({"transfer", "--id", "50", "--debit", "1", "--credit", "2",
                                  "--amount", "1.00", "--ledger", "USD", "--code", "1"},
                                 kDataDir, "locked");
    ExpectRefusedChangingNothing({"snapshot"}, kDataDir, "another process");
    const bj::value error = Json({"account", "show", "1"}, kDataDir);
    EXPECT_EQ(Str(error.at("error"), "code"), "locked");
  }
  EXPECT_EQ(Records(), records);
  Expect(On({"transfer", "show", "50"}), kNotFound);
}

TEST_F(CliTest, DataDirectoryComesFromTheEnvironmentUnlessGiven) {
  Expect(Tpwallet({"init"}, data_), kOk);
  Expect(Tpwallet({"account", "create", "--id", "1", "--ledger", "USD", "--code", "1"}, data_),
         kOk);
  Expect(Tpwallet({"transfer", "show", "1"}, data_), kNotFound);  // not "misplaced options"
  Expect(Tpwallet({"account", "show", "1"}, data_), kOk);
  Expect(Tpwallet({"account", "show", "1", "--data-dir", Path("other")}, data_), kDataDir);
}

// ---- accounts -------------------------------------------------------------------------------

TEST_F(CliTest, AccountShowPrintsEveryFieldInJson) {
  Init();
  Expect(On({"account", "create", "--id", "0x10", "--ledger", "USD", "--code", "7", "--flags",
             "debits_must_not_exceed_credits", "--overdraft-limit", "5.5", "--user-data-128",
             "340282366920938463463374607431768211454", "--user-data-64", "18446744073709551615",
             "--user-data-32", "4294967295"}),
         kOk);
  const bj::value a = Account("16");
  EXPECT_EQ(Str(a, "id"), "16");
  EXPECT_EQ(a.at("ledger").as_int64(), 1);
  EXPECT_EQ(Str(a, "asset"), "USD");
  EXPECT_EQ(a.at("code").as_int64(), 7);
  EXPECT_EQ(a.at("flags").as_array().size(), 1u);
  EXPECT_EQ(Str(a, "overdraft_limit"), "5.50");
  EXPECT_EQ(Str(a, "overdraft_limit_minor"), "550");
  EXPECT_EQ(Str(a, "debits_posted"), "0.00");
  EXPECT_EQ(Str(a, "user_data_128"), "340282366920938463463374607431768211454");
  EXPECT_EQ(Str(a, "user_data_64"), "18446744073709551615");
  EXPECT_EQ(a.at("user_data_32").as_int64(), 4294967295);
  EXPECT_NE(Str(a, "timestamp"), "0");

  const ProcessResult table = On({"account", "show", "16"});
  Expect(table, kOk);
  EXPECT_NE(table.out.find("5.50 USD"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("debits_must_not_exceed_credits"), std::string::npos);
}

TEST_F(CliTest, AccountCreateReportsExistsAndDifferences) {
  InitWithAccounts();
  const ProcessResult again =
      On({"account", "create", "--id", "3", "--ledger", "USD", "--code", "20"});
  Expect(again, kOk);
  EXPECT_NE(again.out.find("account 3: exists"), std::string::npos) << again.out;
  const ProcessResult different =
      On({"account", "create", "--id", "3", "--ledger", "USD", "--code", "21"});
  Expect(different, kRejected);
  EXPECT_NE(different.out.find("exists_with_different_code"), std::string::npos) << different.out;
  const bj::value json = Json({"account", "create", "--id", "5", "--ledger", "USD", "--code", "1",
                               "--overdraft-limit", "1.00"},
                              kRejected);
  EXPECT_EQ(Str(json.at("results").as_array().at(0), "result"),
            "overdraft_limit_requires_balance_flag");
  EXPECT_EQ(json.at("failed").as_int64(), 1);
}

TEST_F(CliTest, AccountBatchFromFile) {
  Init();
  WriteAll(
      Path("accounts.jsonl"),
      R"({"id":"10","ledger":"USD","code":1,"flags":["history"]})"
      "\n"
      "\n"
      R"({"id":"11","ledger":2,"code":1,"overdraft_limit_minor":"100","flags":["credits_must_not_exceed_debits"]})"
      "\n"
      R"({"id":"12","ledger":"EUR","code":0})"
      "\n");
  const bj::value json = Json({"account", "create", "--file", Path("accounts.jsonl")}, kRejected);
  EXPECT_EQ(json.at("events").as_int64(), 3);
  EXPECT_EQ(json.at("created").as_int64(), 2);
  const bj::value& failed = json.at("results").as_array().at(2);
  EXPECT_EQ(failed.at("line").as_int64(), 4);
  EXPECT_EQ(failed.at("index").as_int64(), 2);
  EXPECT_EQ(Str(failed, "result"), "code_must_not_be_zero");
  EXPECT_EQ(Str(Account("11"), "overdraft_limit"), "1.00");
  EXPECT_EQ(Str(Account("11"), "asset"), "EUR");
}

// ---- transfers ------------------------------------------------------------------------------

TEST_F(CliTest, PlainTransferMovesMoneyExactlyAndRetriesAreIdempotent) {
  InitWithAccounts();
  Transfer("100", "1", "2", "100.00");
  Transfer("101", "2", "3", "12.34");
  const ProcessResult retry = On({"transfer", "--id", "101", "--debit", "2", "--credit", "3",
                                  "--amount", "12.34", "--ledger", "USD", "--code", "1"});
  Expect(retry, kOk);
  EXPECT_NE(retry.out.find("transfer 101: exists"), std::string::npos) << retry.out;
  const bj::value alice = Account("2");
  EXPECT_EQ(Str(alice, "credits_posted"), "100.00");
  EXPECT_EQ(Str(alice, "debits_posted"), "12.34");
  EXPECT_EQ(Str(alice, "debits_posted_minor"), "1234");
  // Minor units give the same result as the decimal.
  Transfer("102", "2", "3", "66", {"--minor"});
  EXPECT_EQ(Str(Account("3"), "credits_posted"), "13.00");
}

TEST_F(CliTest, InsufficientFundsIsRejectedWithTheResultNameAndSentence) {
  InitWithAccounts();
  Transfer("100", "1", "2", "10.00");
  const ProcessResult run = On({"transfer", "--id", "101", "--debit", "2", "--credit", "3",
                                "--amount", "10.01", "--ledger", "USD", "--code", "1"});
  Expect(run, kRejected);
  EXPECT_NE(run.out.find("exceeds_credits"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("insufficient funds"), std::string::npos) << run.out;
  EXPECT_EQ(Str(Account("2"), "debits_posted"), "0.00");
  const bj::value retry = Json({"transfer", "--id", "101", "--debit", "2", "--credit", "3",
                                "--amount", "10.01", "--ledger", "USD", "--code", "1"},
                               kRejected);
  const bj::value& result = retry.at("results").as_array().at(0);
  EXPECT_EQ(Str(result, "result"), "id_already_failed");
  EXPECT_EQ(result.at("result_code").as_int64(), 33);
  EXPECT_FALSE(result.at("ok").as_bool());
}

TEST_F(CliTest, PendingThenPartialPostThenVoid) {
  InitWithAccounts();
  Transfer("100", "1", "2", "100.00");
  Transfer("200", "2", "3", "50.00", {"--pending", "--timeout", "3600"});
  EXPECT_EQ(Str(Account("2"), "debits_pending"), "50.00");
  // A post without --ledger reads its amount in the pending transfer's asset.
  Expect(On({"transfer", "--id", "201", "--post", "200", "--amount", "30.00"}), kOk);
  const bj::value alice = Account("2");
  EXPECT_EQ(Str(alice, "debits_pending"), "0.00");
  EXPECT_EQ(Str(alice, "debits_posted"), "30.00");
  EXPECT_EQ(Str(Account("3"), "credits_posted"), "30.00");

  Transfer("202", "2", "3", "5.00", {"--pending"});
  Expect(On({"transfer", "--id", "203", "--void", "202"}), kOk);
  EXPECT_EQ(Str(Account("2"), "debits_pending"), "0.00");

  const bj::value shown = Json({"transfer", "show", "200", "201", "202", "203", "999"}, kNotFound);
  const bj::array& transfers = shown.at("transfers").as_array();
  ASSERT_EQ(transfers.size(), 4u);
  EXPECT_EQ(Str(transfers[0], "pending_status"), "posted");
  EXPECT_EQ(transfers[0].at("timeout").as_int64(), 3600);
  EXPECT_EQ(Str(transfers[1], "amount"), "30.00");
  EXPECT_EQ(Str(transfers[1], "pending_id"), "200");
  EXPECT_TRUE(transfers[1].at("pending_status").is_null());
  EXPECT_EQ(Str(transfers[2], "pending_status"), "voided");
  EXPECT_EQ(shown.at("not_found").as_array().at(0).as_string(), "999");

  // Posting again is refused by the ledger, with its reason.
  const ProcessResult again = On({"transfer", "--id", "204", "--post", "200"});
  Expect(again, kRejected);
  EXPECT_NE(again.out.find("pending_transfer_already_posted"), std::string::npos) << again.out;
}

TEST_F(CliTest, PostOfAnUnknownPendingTransferWithADecimalAmountSubmitsNothing) {
  InitWithAccounts();
  const std::string records = Records();
  ExpectRefusedChangingNothing({"transfer", "--id", "5", "--post", "999", "--amount", "1.00"},
                               kNotFound, "pending transfer 999 is not found");
  EXPECT_EQ(Records(), records);
}

TEST_F(CliTest, LinkedChainInABatchFileFailsAsAUnit) {
  InitWithAccounts();
  Transfer("100", "1", "2", "10.00");
  WriteAll(
      Path("batch.jsonl"),
      R"({"id":"300","debit_account_id":"2","credit_account_id":"3","amount":"4.00","ledger":"USD","code":1,"flags":["linked"]})"
      "\n"
      R"({"id":"301","debit_account_id":"2","credit_account_id":"3","amount":"4.00","ledger":"USD","code":1,"flags":["linked"]})"
      "\n"
      R"({"id":"302","debit_account_id":"2","credit_account_id":"3","amount":"4.00","ledger":"USD","code":1})"
      "\n"
      R"({"id":"303","debit_account_id":"1","credit_account_id":"3","amount_minor":"7","ledger":1,"code":2})"
      "\n");
  const bj::value json = Json({"transfer", "--file", Path("batch.jsonl")}, kRejected);
  EXPECT_EQ(json.at("events").as_int64(), 4);
  EXPECT_EQ(json.at("created").as_int64(), 1);
  EXPECT_EQ(json.at("failed").as_int64(), 3);
  const bj::array& results = json.at("results").as_array();
  EXPECT_EQ(Str(results[0], "result"), "linked_event_failed");
  EXPECT_EQ(Str(results[1], "result"), "linked_event_failed");
  EXPECT_EQ(Str(results[2], "result"), "exceeds_credits");  // 12.00 > 10.00: the chain breaks
  EXPECT_EQ(results[2].at("line").as_int64(), 3);
  EXPECT_EQ(Str(results[3], "result"), "created");
  // Nothing of the chain was applied; the unlinked event was.
  EXPECT_EQ(Str(Account("2"), "debits_posted"), "0.00");
  EXPECT_EQ(Str(Account("3"), "credits_posted"), "0.07");
  const bj::value shown = Json({"transfer", "show", "300", "301", "302", "303"}, kNotFound);
  EXPECT_EQ(shown.at("not_found").as_array().size(), 3u);

  const ProcessResult text = On({"transfer", "--file", Path("batch.jsonl")});
  Expect(text, kRejected);
  EXPECT_NE(text.out.find("4 transfers: 0 created, 1 already existed, 3 failed"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("line 1 (index 0): transfer 300: failed: linked_event_failed"),
            std::string::npos)
      << text.out;
}

TEST_F(CliTest, BatchPostReadsItsAmountInTheAssetOfAPendingTransferFromTheSameFile) {
  InitWithAccounts();
  Transfer("100", "1", "2", "10.00");
  WriteAll(
      Path("two-phase.jsonl"),
      R"({"id":"400","debit_account_id":"2","credit_account_id":"3","amount":"6.00","ledger":"USD","code":1,"flags":["pending"]})"
      "\n"
      R"({"id":"401","pending_id":"400","amount":"2.50","flags":["post_pending_transfer"]})"
      "\n");
  Expect(On({"transfer", "--file", Path("two-phase.jsonl")}), kOk);
  EXPECT_EQ(Str(Account("3"), "credits_posted"), "2.50");
}

// ---- queries --------------------------------------------------------------------------------

TEST_F(CliTest, AccountTransfersFilterAndPage) {
  InitWithAccounts();
  Transfer("100", "1", "2", "50.00");
  Transfer("101", "2", "3", "1.00");
  Transfer("102", "2", "3", "2.00", {"--user-data-32", "7"});
  Expect(On({"transfer", "--id", "103", "--debit", "3", "--credit", "2", "--amount", "0.50",
             "--ledger", "USD", "--code", "9"}),
         kOk);

  auto ids = [](const bj::value& page) {
    std::vector<std::string> out;
    for (const bj::value& t : page.at("transfers").as_array()) out.push_back(Str(t, "id"));
    return out;
  };
  using Ids = std::vector<std::string>;
  EXPECT_EQ(ids(Json({"account", "transfers", "2"})), (Ids{"100", "101", "102", "103"}));
  EXPECT_EQ(ids(Json({"account", "transfers", "2", "--debits"})), (Ids{"101", "102"}));
  EXPECT_EQ(ids(Json({"account", "transfers", "2", "--credits"})), (Ids{"100", "103"}));
  EXPECT_EQ(ids(Json({"account", "transfers", "2", "--code", "9"})), (Ids{"103"}));
  EXPECT_EQ(ids(Json({"account", "transfers", "2", "--reverse", "--limit", "1"})), (Ids{"103"}));

  // Page through two at a time with the cursor.
  const bj::value first = Json({"account", "transfers", "2", "--limit", "2"});
  EXPECT_EQ(ids(first), (Ids{"100", "101"}));
  const std::string cursor = Str(first, "next_cursor");
  const bj::value second = Json({"account", "transfers", "2", "--limit", "2", "--after", cursor});
  EXPECT_EQ(ids(second), (Ids{"102", "103"}));
  const bj::value third =
      Json({"account", "transfers", "2", "--limit", "2", "--after", Str(second, "next_cursor")});
  EXPECT_EQ(ids(third), Ids{});
  EXPECT_TRUE(third.at("next_cursor").is_null());
  const bj::value back =
      Json({"account", "transfers", "2", "--reverse", "--after", Str(second, "next_cursor")});
  EXPECT_EQ(ids(back), (Ids{"102", "101", "100"}));

  // Time range, with a time copied from the output (nanosecond-exact UTC).
  const bj::array all = Json({"account", "transfers", "2"}).at("transfers").as_array();
  const std::string from = Str(all[1], "time");
  const std::string to = Str(all[2], "timestamp");
  EXPECT_EQ(ids(Json({"account", "transfers", "2", "--from", from, "--to", to})),
            (Ids{"101", "102"}));

  const ProcessResult table = On({"account", "transfers", "2", "--limit", "2"});
  Expect(table, kOk);
  EXPECT_NE(table.out.find("more may follow: --after " + cursor), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("50.00 USD"), std::string::npos) << table.out;
}

TEST_F(CliTest, AccountHistoryListsBalancesAfterEachChange) {
  InitWithAccounts();
  Transfer("100", "1", "2", "50.00");
  Transfer("101", "2", "3", "1.25");
  const bj::value history = Json({"account", "history", "2"});
  const bj::array& balances = history.at("balances").as_array();
  ASSERT_EQ(balances.size(), 2u);
  EXPECT_EQ(Str(balances[0], "credits_posted"), "50.00");
  EXPECT_EQ(Str(balances[1], "debits_posted"), "1.25");
  EXPECT_EQ(Str(balances[1], "debits_posted_minor"), "125");
  const bj::value newest = Json({"account", "history", "2", "--reverse", "--limit", "1"});
  EXPECT_EQ(Str(newest.at("balances").as_array().at(0), "debits_posted"), "1.25");

  const ProcessResult no_history = On({"account", "history", "1"});
  Expect(no_history, kRejected);
  EXPECT_NE(no_history.err.find("history_not_enabled"), std::string::npos) << no_history.err;
  Expect(On({"account", "history", "99"}), kNotFound);
}

TEST_F(CliTest, QueriesOfUnknownAccounts) {
  InitWithAccounts();
  const ProcessResult show = On({"account", "show", "1", "99"});
  Expect(show, kNotFound);
  EXPECT_NE(show.err.find("account 99 not found"), std::string::npos);
  const ProcessResult transfers = On({"account", "transfers", "99"});
  Expect(transfers, kNotFound);
  EXPECT_NE(transfers.err.find("account_not_found"), std::string::npos) << transfers.err;
}

// ---- journal and snapshot -----------------------------------------------------------------

TEST_F(CliTest, JournalVerifyReportsTheJournal) {
  InitWithAccounts();
  Transfer("100", "1", "2", "50.00");
  const ProcessResult text = On({"journal", "verify"});
  Expect(text, kOk);
  for (const char* field : {"segments:", "groups:", "records:", "bytes:", "last sequence:",
                            "head hash:", "torn tail:      none"}) {
    EXPECT_NE(text.out.find(field), std::string::npos) << field << "\n" << text.out;
  }
  const bj::value json = Json({"journal", "verify"});
  EXPECT_TRUE(json.at("ok").as_bool());
  EXPECT_NE(Str(json, "records"), "0");
  EXPECT_EQ(Str(json, "last_sequence"), Str(json, "records"));
  EXPECT_EQ(Str(json, "first_sequence"), "1");
  EXPECT_EQ(Str(json, "head_hash").size(), 64u);
  EXPECT_EQ(Str(json, "segments"), "1");
}

TEST_F(CliTest, JournalVerifyStopsAtDamageNamingTheFileAndOffset) {
  InitWithAccounts();
  Transfer("100", "1", "2", "50.00");
  std::string segment;
  for (const auto& entry : std::filesystem::directory_iterator(data_)) {
    if (entry.path().filename().string().starts_with("segment-")) segment = entry.path();
  }
  ASSERT_FALSE(segment.empty());
  // Flip a byte in the first group's payload (segment header 64 + group header 64): later groups
  // follow, so this is damage, not a torn tail.
  std::string bytes = ReadAll(segment);
  ASSERT_GT(bytes.size(), 200u);
  bytes[64 + 64 + 20] = static_cast<char>(bytes[64 + 64 + 20] ^ 0x40);
  WriteAll(segment, bytes);

  const ProcessResult verify = On({"journal", "verify"});
  Expect(verify, kDamaged);
  EXPECT_NE(verify.err.find(segment), std::string::npos) << verify.err;
  EXPECT_NE(verify.err.find("offset"), std::string::npos) << verify.err;
  const bj::value json = Json({"journal", "verify"}, kDamaged);
  EXPECT_EQ(Str(json.at("error"), "kind"), "journal");
  // Opening the engine on it stops too, with the journal's error.
  const ProcessResult show = On({"account", "show", "1"});
  Expect(show, kDamaged);
  EXPECT_NE(show.err.find("journal_corrupt"), std::string::npos) << show.err;
}

TEST_F(CliTest, SnapshotThenReopenKeepsEverything) {
  InitWithAccounts();
  Transfer("100", "1", "2", "50.00");
  Transfer("101", "2", "3", "20.00", {"--pending"});
  const ProcessResult snapshot = On({"snapshot"});
  Expect(snapshot, kOk);
  for (const char* field : {"file:", "sequence:", "size:", "time:"}) {
    EXPECT_NE(snapshot.out.find(field), std::string::npos) << snapshot.out;
  }
  const std::string records = Records();
  const bj::value json = Json({"snapshot"});
  EXPECT_TRUE(std::filesystem::exists(Str(json, "file"))) << Str(json, "file");
  EXPECT_EQ(Str(json, "sequence"), records);
  // After the snapshot: more facts, then every command reopens (snapshot + replay).
  Expect(On({"transfer", "--id", "102", "--post", "101", "--amount", "5.00"}), kOk);
  const bj::value alice = Account("2");
  EXPECT_EQ(Str(alice, "credits_posted"), "50.00");
  EXPECT_EQ(Str(alice, "debits_posted"), "5.00");
  EXPECT_EQ(Str(alice, "debits_pending"), "0.00");
  EXPECT_EQ(Json({"account", "history", "2"}).at("balances").as_array().size(), 3u);
  EXPECT_EQ(
      Str(Json({"transfer", "show", "101"}).at("transfers").as_array().at(0), "pending_status"),
      "posted");
  EXPECT_GT(std::stoull(Records()), std::stoull(records));
}

// ---- hostile input --------------------------------------------------------------------------

TEST_F(CliTest, MalformedIdsAreUsageErrors) {
  InitWithAccounts();
  const std::string records = Records();
  for (const char* id :
       {"abc", "-1", "1.0", "2a", "0x", "1e3", " 1", "340282366920938463463374607431768211456"}) {
    ExpectRefusedChangingNothing({"transfer", "--id", id, "--debit", "1", "--credit", "2",
                                  "--amount", "1.00", "--ledger", "USD", "--code", "1"},
                                 kUsage, "is not an id");
    ExpectRefusedChangingNothing({"account", "show", id}, kUsage, "is not an id");
  }
  ExpectRefusedChangingNothing({"account", "transfers", "x1"}, kUsage, "is not an id");
  EXPECT_EQ(Records(), records);
}

TEST_F(CliTest, BadAmountsAreUsageErrors) {
  InitWithAccounts();
  const std::string records = Records();
  for (const char* amount : {"1.234", "1e3", "1.5e2", "-5", "+5", "1,00", ".5", "5.", "", "NaN",
                             "0x10", "007", "340282366920938463463374607431768211456"}) {
    ExpectRefusedChangingNothing(
        {"transfer", "--id", "9", "--debit", "1", "--credit", "2",
         std::string("--amount=") + amount, "--ledger", "USD", "--code", "1"},
        kUsage, std::string(amount).empty() ? "" : "is not a valid amount");
  }
  // JPY has no decimals; minor units are whole numbers.
  ExpectRefusedChangingNothing({"transfer", "--id", "9", "--debit", "4", "--credit", "1",
                                "--amount", "1.5", "--ledger", "JPY", "--code", "1"},
                               kUsage, "JPY amounts have at most 0 decimals");
  ExpectRefusedChangingNothing({"transfer", "--id", "9", "--debit", "1", "--credit", "2",
                                "--amount", "1.50", "--minor", "--ledger", "USD", "--code", "1"},
                               kUsage, "minor units are whole numbers");
  ExpectRefusedChangingNothing(
      {"account", "create", "--id", "9", "--ledger", "USD", "--code", "1", "--flags",
       "debits_must_not_exceed_credits", "--overdraft-limit", "0.001"},
      kUsage, "too_many_fraction_digits");
  EXPECT_EQ(Records(), records);
}

TEST_F(CliTest, UnknownFlagsAndOptionsAreUsageErrors) {
  InitWithAccounts();
  const std::string records = Records();
  ExpectRefusedChangingNothing({"account", "create", "--id", "9", "--ledger", "USD", "--code", "1",
                                "--flags", "history,overdraft"},
                               kUsage, "unknown account flag \"overdraft\"");
  ExpectRefusedChangingNothing({"account", "create", "--id", "9", "--ledger", "USD", "--code", "1",
                                "--flags", "history,,closed"},
                               kUsage, "empty item");
  ExpectRefusedChangingNothing({"transfer", "--id", "9", "--debit", "1", "--credit", "2",
                                "--amount", "1.00", "--ledger", "USD", "--code", "1", "--linked"},
                               kUsage, "--linked");
  ExpectRefusedChangingNothing({"transfer", "--id", "9", "--debit", "1", "--credit", "2",
                                "--amount", "1.00", "--ledger", "XYZ", "--code", "1"},
                               kUsage, "is neither a ledger number");
  ExpectRefusedChangingNothing({"transfer", "--id", "9", "--debit", "1", "--credit", "2",
                                "--amount", "1.00", "--ledger", "USD", "--code", "65536"},
                               kUsage, "--code");
  ExpectRefusedChangingNothing({"transfer", "--id", "9", "--pending", "--post", "8"}, kUsage,
                               "exclude each other");
  ExpectRefusedChangingNothing(
      {"transfer", "--id", "9", "--debit", "1", "--credit", "2", "--amount", "1.00", "--ledger",
       "USD", "--code", "1", "--timeout", "5"},
      kUsage, "--timeout applies only with --pending");
  ExpectRefusedChangingNothing({"account", "transfers", "2", "--limit", "0"}, kUsage, "--limit");
  ExpectRefusedChangingNothing({"account", "transfers", "2", "--from", "yesterday"}, kUsage,
                               "is not a time");
  ExpectRefusedChangingNothing({"account", "bogus"}, kUsage, "subcommand");
  ExpectRefusedChangingNothing(
      {"transfer", "--id", "9", "--debit", "1", "--credit", "2", "--amount", "1.00", "--ledger",
       "USD", "--code", "1", "--json", "--bogus"},
      kUsage, "--bogus");
  EXPECT_EQ(Records(), records);
}

TEST_F(CliTest, BatchFileWithABadLineIsRefusedWhole) {
  InitWithAccounts();
  Transfer("100", "1", "2", "10.00");
  const std::string records = Records();
  const std::string good =
      R"({"id":"500","debit_account_id":"1","credit_account_id":"2","amount":"1.00","ledger":"USD","code":1})";
  const std::vector<std::pair<std::string, std::string>> bad_lines = {
      {R"({"id":"501","debit_account_id":"1","credit_account_id":"2","amo)", "not valid JSON"},
      {"\x01\x02garbage\xff", "not valid JSON"},
      {R"({"id":"501","amount":"1.00","amount":"900.00"})", "appears twice"},
      {R"({"id":"501","amount":1.5})", "must be a string"},
      {R"({"id":"501","amount":"1.5e2"})", "is not a valid amount"},
      {R"({"id":"501","amount":"-1.00"})", "is not a valid amount"},
      {R"({"id":"501","amount":"1.00","code":-1})", "whole number"},
      {R"({"id":"501","amount":"1.00","flags":["linkd"]})", "unknown transfer flag"},
      {R"({"id":"501","amount":"1.00","colour":"red"})", "unknown key"},
      {R"({"id":"0xZZ","amount":"1.00"})", "is not an id"},
  };
  for (const auto& [line, message] : bad_lines) {
    WriteAll(Path("bad.jsonl"), good + "\n" + line + "\n" + good + "\n");
    ExpectRefusedChangingNothing({"transfer", "--file", Path("bad.jsonl")}, kUsage, message);
    EXPECT_NE(On({"transfer", "--file", Path("bad.jsonl")}).err.find(Path("bad.jsonl") + ":2: "),
              std::string::npos)
        << line;
  }
  ExpectRefusedChangingNothing({"transfer", "--file", Path("missing.jsonl")}, kUsage,
                               "cannot open batch file");
  ExpectRefusedChangingNothing({"transfer", "--file", Path("bad.jsonl"), "--id", "5"}, kUsage,
                               "--file cannot be combined with --id");
  EXPECT_EQ(Records(), records);
  Expect(On({"transfer", "show", "500"}), kNotFound);
}

TEST_F(CliTest, BatchFileOverTheBatchLimitIsRefused) {
  InitWithAccounts();
  const std::string records = Records();
  std::string contents;
  for (int i = 1; i <= 8190; ++i) {
    contents +=
        R"({"id":")" + std::to_string(1000 + i) +
        R"(","debit_account_id":"1","credit_account_id":"3","amount_minor":"1","ledger":1,"code":1})"
        "\n";
  }
  WriteAll(Path("big.jsonl"), contents);
  ExpectRefusedChangingNothing({"transfer", "--file", Path("big.jsonl")}, kUsage,
                               "more than 8189 events");
  EXPECT_EQ(Records(), records);
  // Exactly the limit is one batch.
  WriteAll(Path("full.jsonl"), contents.substr(0, contents.rfind('{')));
  const bj::value json = Json({"transfer", "--file", Path("full.jsonl")});
  EXPECT_EQ(json.at("created").as_int64(), 8189);
  EXPECT_EQ(Str(Account("3"), "credits_posted_minor"), "8189");
}

TEST_F(CliTest, HelpOfEveryCommandHasAnExample) {
  const std::vector<std::vector<std::string>> commands = {{},
                                                          {"init"},
                                                          {"snapshot"},
                                                          {"journal"},
                                                          {"journal", "verify"},
                                                          {"account"},
                                                          {"account", "create"},
                                                          {"account", "show"},
                                                          {"account", "transfers"},
                                                          {"account", "history"},
                                                          {"transfer"},
                                                          {"transfer", "show"}};
  for (std::vector<std::string> command : commands) {
    command.push_back("--help");
    const ProcessResult run = Tpwallet(command);
    EXPECT_EQ(run.exit_code, kOk);
    EXPECT_NE(run.out.find("Example: tpwallet"), std::string::npos) << run.out;
  }
}

}  // namespace
}  // namespace tpw
