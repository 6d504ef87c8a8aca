// Queries: GetAccountTransfers and GetAccountBalances filters, pagination and every QueryError
// (docs/ledger.md, "Queries").
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "ledger/ledger_test_util.h"

namespace tpw::ledger::testing {
namespace {

using R = CreateTransferResult;
namespace af = account_flags;
namespace ff = filter_flags;

constexpr uint32_t kBoth = ff::kDebits | ff::kCredits;

// Account 1 has history; 2, 3 and 4 are plain.
class QueryTest : public LedgerTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(CreateAccount(MakeAccount(1, af::kHistory)), CreateAccountResult::created);
    CreatePlainAccounts({2, 3, 4});
  }

  std::vector<uint64_t> TransferIds(const AccountFilter& filter) {
    const Result<std::vector<Transfer>, QueryError> result = ledger_.GetAccountTransfers(filter);
    EXPECT_TRUE(result.ok()) << ResultName(result.ok() ? QueryError{} : result.error());
    return result.ok() ? IdsOf(*result) : std::vector<uint64_t>{};
  }
  QueryError TransfersError(const AccountFilter& filter) {
    const Result<std::vector<Transfer>, QueryError> result = ledger_.GetAccountTransfers(filter);
    EXPECT_FALSE(result.ok());
    return result.ok() ? QueryError{} : result.error();
  }
  QueryError BalancesError(const AccountFilter& filter) {
    const Result<std::vector<AccountBalance>, QueryError> result =
        ledger_.GetAccountBalances(filter);
    EXPECT_FALSE(result.ok());
    return result.ok() ? QueryError{} : result.error();
  }
  std::vector<AccountBalance> Balances(const AccountFilter& filter) {
    const Result<std::vector<AccountBalance>, QueryError> result =
        ledger_.GetAccountBalances(filter);
    EXPECT_TRUE(result.ok()) << ResultName(result.ok() ? QueryError{} : result.error());
    return result.ok() ? *result : std::vector<AccountBalance>{};
  }

  // Creates transfer `id` with `code` in its own batch and returns its timestamp.
  Timestamp Make(u128 id, u128 debit, u128 credit, uint16_t code = kTransferCode) {
    Transfer transfer = MakeTransfer(id, debit, credit, 1);
    transfer.code = code;
    EXPECT_EQ(CreateTransfer(transfer), R::created);
    return GetTransfer(id).timestamp;
  }
};

void ExpectBalance(const AccountBalance& balance, Timestamp timestamp, u128 debits_pending,
                   u128 debits_posted, u128 credits_pending, u128 credits_posted) {
  EXPECT_EQ(balance.timestamp, timestamp);
  EXPECT_EQ(balance.debits_pending, Amt(debits_pending));
  EXPECT_EQ(balance.debits_posted, Amt(debits_posted));
  EXPECT_EQ(balance.credits_pending, Amt(credits_pending));
  EXPECT_EQ(balance.credits_posted, Amt(credits_posted));
}

// ---- Query errors ----------------------------------------------------------------------------

TEST_F(QueryTest, ZeroOrMaxAccountIdIsInvalid) {
  EXPECT_EQ(TransfersError(MakeFilter(0, kBoth)), QueryError::account_id_invalid);
  EXPECT_EQ(TransfersError(MakeFilter(kU128Max, kBoth)), QueryError::account_id_invalid);
  EXPECT_EQ(BalancesError(MakeFilter(0, kBoth)), QueryError::account_id_invalid);
  EXPECT_EQ(BalancesError(MakeFilter(kU128Max, kBoth)), QueryError::account_id_invalid);
}

TEST_F(QueryTest, UnknownAccountIsNotFound) {
  EXPECT_EQ(TransfersError(MakeFilter(77, kBoth)), QueryError::account_not_found);
  EXPECT_EQ(BalancesError(MakeFilter(77, kBoth)), QueryError::account_not_found);
}

TEST_F(QueryTest, ZeroLimitIsRejected) {
  EXPECT_EQ(TransfersError(MakeFilter(1, kBoth, 0)), QueryError::limit_must_not_be_zero);
  EXPECT_EQ(BalancesError(MakeFilter(1, kBoth, 0)), QueryError::limit_must_not_be_zero);
}

TEST_F(QueryTest, LimitAboveTheMaximumIsRejected) {
  EXPECT_EQ(TransfersError(MakeFilter(1, kBoth, kQueryLimitMax + 1)), QueryError::limit_too_large);
  EXPECT_EQ(BalancesError(MakeFilter(1, kBoth, kQueryLimitMax + 1)), QueryError::limit_too_large);
  EXPECT_TRUE(TransferIds(MakeFilter(1, kBoth, kQueryLimitMax)).empty());
}

TEST_F(QueryTest, FilterWithoutDebitsOrCreditsIsRejected) {
  EXPECT_EQ(TransfersError(MakeFilter(1, 0)), QueryError::flags_invalid);
  EXPECT_EQ(TransfersError(MakeFilter(1, ff::kReversed)), QueryError::flags_invalid);
  EXPECT_EQ(BalancesError(MakeFilter(1, ff::kReversed)), QueryError::flags_invalid);
}

TEST_F(QueryTest, UnknownFilterFlagIsRejected) {
  EXPECT_EQ(TransfersError(MakeFilter(1, kBoth | (1u << 3))), QueryError::flags_invalid);
  EXPECT_EQ(TransfersError(MakeFilter(1, ff::kDebits | (1u << 31))), QueryError::flags_invalid);
  EXPECT_EQ(BalancesError(MakeFilter(1, kBoth | (1u << 3))), QueryError::flags_invalid);
}

TEST_F(QueryTest, InvertedTimestampRangeIsRejected) {
  AccountFilter filter = MakeFilter(1, kBoth);
  filter.timestamp_min = Ts(10);
  filter.timestamp_max = Ts(9);
  EXPECT_EQ(TransfersError(filter), QueryError::timestamp_range_invalid);
  EXPECT_EQ(BalancesError(filter), QueryError::timestamp_range_invalid);
  // A zero bound is open, not "before the minimum".
  filter.timestamp_max = Ts(0);
  EXPECT_TRUE(TransferIds(filter).empty());
  // A single-instant range is valid.
  filter.timestamp_max = Ts(10);
  EXPECT_TRUE(TransferIds(filter).empty());
}

TEST_F(QueryTest, BalancesOfAnAccountWithoutHistoryAreRejected) {
  EXPECT_EQ(BalancesError(MakeFilter(2, kBoth)), QueryError::history_not_enabled);
  // Its transfers can still be listed.
  Make(10, 2, 3);
  EXPECT_EQ(TransferIds(MakeFilter(2, kBoth)), (std::vector<uint64_t>{10}));
}

// ---- GetAccountTransfers ---------------------------------------------------------------------

TEST_F(QueryTest, DebitsCreditsAndBothSelectTheAccountsSide) {
  Make(10, 1, 2);  // 1 debited
  Make(11, 2, 1);  // 1 credited
  Make(12, 3, 4);  // not 1
  Make(13, 1, 3);  // 1 debited
  Make(14, 4, 1);  // 1 credited
  EXPECT_EQ(TransferIds(MakeFilter(1, ff::kDebits)), (std::vector<uint64_t>{10, 13}));
  EXPECT_EQ(TransferIds(MakeFilter(1, ff::kCredits)), (std::vector<uint64_t>{11, 14}));
  EXPECT_EQ(TransferIds(MakeFilter(1, kBoth)), (std::vector<uint64_t>{10, 11, 13, 14}));
  EXPECT_EQ(TransferIds(MakeFilter(3, kBoth)), (std::vector<uint64_t>{12, 13}));
}

TEST_F(QueryTest, ReturnedTransfersAreTheStoredRecords) {
  const Timestamp at = Make(10, 1, 2);
  const Result<std::vector<Transfer>, QueryError> result =
      ledger_.GetAccountTransfers(MakeFilter(2, kBoth));
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->size(), 1u);
  const Transfer& t = (*result)[0];
  EXPECT_EQ(t.id, TransferId(10));
  EXPECT_EQ(t.debit_account_id, AccountId(1));
  EXPECT_EQ(t.credit_account_id, AccountId(2));
  EXPECT_EQ(t.amount, Amt(1));
  EXPECT_EQ(t.timestamp, at);
}

TEST_F(QueryTest, FailedTransfersAreNotListed) {
  Make(10, 1, 2);
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 1, 2, 5, 0, kLedgerEur)),
            R::transfer_must_have_the_same_ledger_as_accounts);
  Make(12, 1, 2);
  EXPECT_EQ(TransferIds(MakeFilter(1, kBoth)), (std::vector<uint64_t>{10, 12}));
}

TEST_F(QueryTest, PostsAndVoidsAreListedForBothAccounts) {
  ASSERT_EQ(CreateTransfer(MakePending(10, 1, 2, 50)), R::created);
  ASSERT_EQ(CreateTransfer(MakePost(11, 10, Amt(20))), R::created);
  ASSERT_EQ(CreateTransfer(MakePending(12, 3, 1, 50)), R::created);
  ASSERT_EQ(CreateTransfer(MakeVoid(13, 12)), R::created);
  EXPECT_EQ(TransferIds(MakeFilter(1, ff::kDebits)), (std::vector<uint64_t>{10, 11}));
  EXPECT_EQ(TransferIds(MakeFilter(1, ff::kCredits)), (std::vector<uint64_t>{12, 13}));
  EXPECT_EQ(TransferIds(MakeFilter(2, ff::kCredits)), (std::vector<uint64_t>{10, 11}));
}

TEST_F(QueryTest, CodeFilterSelectsOneCode) {
  Make(10, 1, 2, 5);
  Make(11, 1, 2, 6);
  Make(12, 2, 1, 5);
  AccountFilter filter = MakeFilter(1, kBoth);
  filter.code = 5;
  EXPECT_EQ(TransferIds(filter), (std::vector<uint64_t>{10, 12}));
  filter.code = 6;
  EXPECT_EQ(TransferIds(filter), (std::vector<uint64_t>{11}));
  filter.code = 7;
  EXPECT_TRUE(TransferIds(filter).empty());
  filter.code = 0;
  EXPECT_EQ(TransferIds(filter), (std::vector<uint64_t>{10, 11, 12}));
}

TEST_F(QueryTest, TimestampRangeIsInclusive) {
  const Timestamp t10 = Make(10, 1, 2);
  const Timestamp t11 = Make(11, 1, 2);
  const Timestamp t12 = Make(12, 1, 2);
  const Timestamp t13 = Make(13, 1, 2);
  AccountFilter filter = MakeFilter(1, kBoth);
  filter.timestamp_min = t11;
  filter.timestamp_max = t12;
  EXPECT_EQ(TransferIds(filter), (std::vector<uint64_t>{11, 12}));
  filter.timestamp_min = Ts(t11.ns + 1);
  filter.timestamp_max = Ts(t13.ns - 1);
  EXPECT_EQ(TransferIds(filter), (std::vector<uint64_t>{12}));
  filter.timestamp_min = Ts(0);
  filter.timestamp_max = t10;
  EXPECT_EQ(TransferIds(filter), (std::vector<uint64_t>{10}));
  filter.timestamp_min = t13;
  filter.timestamp_max = Ts(0);
  EXPECT_EQ(TransferIds(filter), (std::vector<uint64_t>{13}));
  filter.timestamp_min = Ts(t13.ns + 1);
  EXPECT_TRUE(TransferIds(filter).empty());
}

TEST_F(QueryTest, LimitKeepsTheOldest) {
  for (u128 id = 10; id < 20; ++id) Make(id, 1, 2);
  EXPECT_EQ(TransferIds(MakeFilter(1, kBoth, 3)), (std::vector<uint64_t>{10, 11, 12}));
  EXPECT_EQ(TransferIds(MakeFilter(1, kBoth, 1)), (std::vector<uint64_t>{10}));
}

TEST_F(QueryTest, ReversedGivesNewestFirst) {
  for (u128 id = 10; id < 15; ++id) Make(id, 1, 2);
  EXPECT_EQ(TransferIds(MakeFilter(1, kBoth | ff::kReversed)),
            (std::vector<uint64_t>{14, 13, 12, 11, 10}));
  EXPECT_EQ(TransferIds(MakeFilter(1, kBoth | ff::kReversed, 2)), (std::vector<uint64_t>{14, 13}));
}

TEST_F(QueryTest, ReversedWithRangeAndCode) {
  const Timestamp t10 = Make(10, 1, 2, 5);
  Make(11, 1, 2, 6);
  Make(12, 1, 2, 5);
  const Timestamp t13 = Make(13, 1, 2, 5);
  Make(14, 1, 2, 5);
  AccountFilter filter = MakeFilter(1, kBoth | ff::kReversed, 2);
  filter.code = 5;
  filter.timestamp_min = t10;
  filter.timestamp_max = t13;
  EXPECT_EQ(TransferIds(filter), (std::vector<uint64_t>{13, 12}));
}

// A long history interleaved with other accounts' transfers and failures; paging with the
// timestamp cursor must return every transfer of the account exactly once, in order.
class QueryPaginationTest : public QueryTest {
 protected:
  void SetUp() override {
    QueryTest::SetUp();
    u128 id = 1000;
    for (int batch_no = 0; batch_no < 20; ++batch_no) {
      std::vector<Transfer> batch;
      for (int i = 0; i < 40; ++i) {
        ++id;
        if (i % 5 == 0) {
          batch.push_back(MakeTransfer(id, 2, 3, 1));  // other accounts
        } else if (i % 7 == 0) {
          batch.push_back(MakeTransfer(id, 1, 1, 1));  // fails
        } else {
          const bool debit = (i % 2) == 0;
          batch.push_back(MakeTransfer(id, debit ? 1 : 4, debit ? 4 : 1, 1));
          expected_.push_back(Low64(id));
        }
      }
      ASSERT_FALSE(CreateTransfers(batch).empty());  // the failures are reported
    }
    ASSERT_GT(expected_.size(), 500u);
  }
  std::vector<uint64_t> expected_;
};

TEST_F(QueryPaginationTest, ForwardPagesHaveNoDuplicatesOrGaps) {
  std::vector<uint64_t> seen;
  AccountFilter filter = MakeFilter(1, kBoth, 7);
  for (int page = 0; page < 1000; ++page) {
    const Result<std::vector<Transfer>, QueryError> result = ledger_.GetAccountTransfers(filter);
    ASSERT_TRUE(result.ok());
    if (result->empty()) break;
    ASSERT_LE(result->size(), 7u);
    for (const Transfer& t : *result) seen.push_back(Low64(t.id.value));
    filter.timestamp_min = Ts(result->back().timestamp.ns + 1);
  }
  EXPECT_EQ(seen, expected_);
  EXPECT_EQ(std::set<uint64_t>(seen.begin(), seen.end()).size(), seen.size());
  EXPECT_EQ(TransferIds(MakeFilter(1, kBoth)), expected_);
}

TEST_F(QueryPaginationTest, ReversedPagesHaveNoDuplicatesOrGaps) {
  std::vector<uint64_t> seen;
  AccountFilter filter = MakeFilter(1, kBoth | ff::kReversed, 11);
  for (int page = 0; page < 1000; ++page) {
    const Result<std::vector<Transfer>, QueryError> result = ledger_.GetAccountTransfers(filter);
    ASSERT_TRUE(result.ok());
    if (result->empty()) break;
    for (size_t i = 1; i < result->size(); ++i) {
      ASSERT_GT((*result)[i - 1].timestamp, (*result)[i].timestamp);
    }
    for (const Transfer& t : *result) seen.push_back(Low64(t.id.value));
    filter.timestamp_max = Ts(result->back().timestamp.ns - 1);
  }
  std::vector<uint64_t> expected_reversed = expected_;
  std::reverse(expected_reversed.begin(), expected_reversed.end());
  EXPECT_EQ(seen, expected_reversed);
}

TEST_F(QueryPaginationTest, DebitOnlyPagesSkipCredits) {
  std::vector<uint64_t> seen;
  AccountFilter filter = MakeFilter(1, ff::kDebits, 13);
  for (int page = 0; page < 1000; ++page) {
    const Result<std::vector<Transfer>, QueryError> result = ledger_.GetAccountTransfers(filter);
    ASSERT_TRUE(result.ok());
    if (result->empty()) break;
    for (const Transfer& t : *result) {
      EXPECT_EQ(t.debit_account_id, AccountId(1));
      seen.push_back(Low64(t.id.value));
    }
    filter.timestamp_min = Ts(result->back().timestamp.ns + 1);
  }
  std::vector<uint64_t> expected_debits;
  for (uint64_t id : expected_) {
    if (GetTransfer(id).debit_account_id == AccountId(1)) expected_debits.push_back(id);
  }
  EXPECT_FALSE(expected_debits.empty());
  EXPECT_EQ(seen, expected_debits);
}

// ---- GetAccountBalances ----------------------------------------------------------------------

// Account 1 (history) goes through pending, partial post, pending + void, pending + expiry and
// a plain transfer; there is one history entry per change, with the balances right after it.
TEST_F(QueryTest, HistoryHasOneEntryPerChange) {
  const Timestamp start = NextFirst();
  ASSERT_EQ(CreateTransfer(MakePending(10, 1, 2, 30)), R::created);
  const Timestamp t_pending = GetTransfer(10).timestamp;
  ASSERT_EQ(CreateTransfer(MakePost(11, 10, Amt(20))), R::created);
  const Timestamp t_post = GetTransfer(11).timestamp;
  ASSERT_EQ(CreateTransfer(MakePending(12, 1, 2, 10)), R::created);
  const Timestamp t_pending2 = GetTransfer(12).timestamp;
  ASSERT_EQ(CreateTransfer(MakeVoid(13, 12)), R::created);
  const Timestamp t_void = GetTransfer(13).timestamp;
  ASSERT_EQ(CreateTransfer(MakePending(14, 2, 1, 5, 1)), R::created);
  const Timestamp t_pending3 = GetTransfer(14).timestamp;
  EXPECT_EQ(CreateTransfer(MakeTransfer(15, 1, 1, 5)), R::accounts_must_be_different);  // none
  const Timestamp t_expiry = Ts(t_pending3.ns + kSecond);
  std::vector<ExpiredTransfer> expired;
  EXPECT_FALSE(ledger_.ExpirePendingTransfers(t_expiry, 10, expired));
  ASSERT_EQ(expired.size(), 1u);
  ASSERT_EQ(CreateTransfer(MakeTransfer(16, 3, 1, 100)), R::created);
  const Timestamp t_plain = GetTransfer(16).timestamp;

  AccountFilter filter = MakeFilter(1, kBoth);
  filter.timestamp_min = start;  // from the first transfer on
  const std::vector<AccountBalance> history = Balances(filter);
  ASSERT_EQ(history.size(), 7u);
  ExpectBalance(history[0], t_pending, 30, 0, 0, 0);
  ExpectBalance(history[1], t_post, 0, 20, 0, 0);
  ExpectBalance(history[2], t_pending2, 10, 20, 0, 0);
  ExpectBalance(history[3], t_void, 0, 20, 0, 0);
  ExpectBalance(history[4], t_pending3, 0, 20, 5, 0);
  ExpectBalance(history[5], t_expiry, 0, 20, 0, 0);
  ExpectBalance(history[6], t_plain, 0, 20, 0, 100);

  // Reversed, limited and ranged views of the same history.
  filter.flags = kBoth | ff::kReversed;
  filter.limit = 2;
  const std::vector<AccountBalance> newest = Balances(filter);
  ASSERT_EQ(newest.size(), 2u);
  EXPECT_EQ(newest[0].timestamp, t_plain);
  EXPECT_EQ(newest[1].timestamp, t_expiry);
  filter.flags = kBoth;
  filter.limit = kQueryLimitMax;
  filter.timestamp_min = t_post;
  filter.timestamp_max = t_void;
  const std::vector<AccountBalance> middle = Balances(filter);
  ASSERT_EQ(middle.size(), 3u);
  EXPECT_EQ(middle[0].timestamp, t_post);
  EXPECT_EQ(middle[2].timestamp, t_void);
  ledger_.CheckInvariants();
}

TEST_F(QueryTest, ExpiriesInOnePassAreStampedNowNowPlusOne) {
  const Timestamp at = NextFirst();
  // 10 credits account 1 and expires first; 11 debits it and expires second.
  const std::vector<Transfer> batch = {MakePending(10, 2, 1, 5, 1), MakePending(11, 1, 2, 7, 1)};
  ASSERT_TRUE(CreateTransfers(batch, at).empty());
  const Timestamp now = Ts(at.ns + 1 + kSecond);
  std::vector<ExpiredTransfer> expired;
  EXPECT_FALSE(ledger_.ExpirePendingTransfers(now, 10, expired));
  ASSERT_EQ(expired.size(), 2u);
  AccountFilter filter = MakeFilter(1, kBoth);
  filter.timestamp_min = now;
  const std::vector<AccountBalance> history = Balances(filter);
  ASSERT_EQ(history.size(), 2u);
  ExpectBalance(history[0], now, 7, 0, 0, 0);
  ExpectBalance(history[1], Ts(now.ns + 1), 0, 0, 0, 0);
  EXPECT_GE(ledger_.last_timestamp(), Ts(now.ns + 1));
  ledger_.CheckInvariants();
}

TEST_F(QueryTest, FailedTransfersAddNoHistory) {
  AccountFilter filter = MakeFilter(1, kBoth);
  const size_t before = Balances(filter).size();
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 77, 5)), R::credit_account_not_found);
  EXPECT_EQ(CreateTransfer(MakePost(11, 99)), R::pending_transfer_not_found);
  EXPECT_EQ(Balances(filter).size(), before);
  Make(12, 1, 2);
  EXPECT_EQ(Balances(filter).size(), before + 1);
}

TEST_F(QueryTest, HistoryPaginatesByTimestamp) {
  for (u128 id = 10; id < 60; ++id) {
    const bool debit = id % 2 == 0;
    Make(id, debit ? u128{1} : u128{2}, debit ? u128{2} : u128{1});
  }
  AccountFilter all = MakeFilter(1, kBoth);
  const std::vector<AccountBalance> full = Balances(all);
  ASSERT_GE(full.size(), 50u);
  std::vector<Timestamp> seen;
  AccountFilter filter = MakeFilter(1, kBoth, 6);
  for (int page = 0; page < 100; ++page) {
    const std::vector<AccountBalance> part = Balances(filter);
    if (part.empty()) break;
    for (const AccountBalance& b : part) seen.push_back(b.timestamp);
    filter.timestamp_min = Ts(part.back().timestamp.ns + 1);
  }
  ASSERT_EQ(seen.size(), full.size());
  for (size_t i = 0; i < full.size(); ++i) EXPECT_EQ(seen[i], full[i].timestamp);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

}  // namespace
}  // namespace tpw::ledger::testing
