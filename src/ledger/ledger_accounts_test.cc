// Account creation: every CreateAccountResult code, check order, idempotency, timestamps and
// batch limits (docs/ledger.md, "Account creation: checks in order").
#include <gtest/gtest.h>

#include <vector>

#include "ledger/ledger_test_util.h"

namespace tpw::ledger::testing {
namespace {

using R = CreateAccountResult;
namespace af = account_flags;

class AccountsTest : public LedgerTest {};

TEST_F(AccountsTest, ValidAccountIsCreatedWithZeroBalancesAndItsTimestamp) {
  Account account = MakeAccount(7, af::kHistory);
  account.user_data_128 = MakeU128(1, 2);
  account.user_data_64 = 3;
  account.user_data_32 = 4;
  ASSERT_EQ(CreateAccount(account, Ts(1000)), R::created);

  const Account stored = GetAccount(7);
  EXPECT_EQ(stored.id, AccountId(7));
  EXPECT_EQ(stored.timestamp, Ts(1000));
  EXPECT_EQ(stored.flags, af::kHistory);
  EXPECT_EQ(stored.ledger, kLedgerUsd);
  EXPECT_EQ(stored.code, kAccountCode);
  EXPECT_TRUE(stored.user_data_128 == MakeU128(1, 2));
  EXPECT_EQ(stored.user_data_64, 3u);
  EXPECT_EQ(stored.user_data_32, 4u);
  ExpectBalances(7, 0, 0, 0, 0);
  EXPECT_EQ(ledger_.account_count(), 1u);
  EXPECT_EQ(ledger_.last_timestamp(), Ts(1000));
}

TEST_F(AccountsTest, UnknownAccountIsNotFound) {
  EXPECT_FALSE(ledger_.LookupAccount(AccountId(1)).has_value());
  CreatePlainAccounts({1});
  EXPECT_FALSE(ledger_.LookupAccount(AccountId(2)).has_value());
}

TEST_F(AccountsTest, AccountCanBeCreatedClosed) {
  ASSERT_EQ(CreateAccount(MakeAccount(1, af::kClosed)), R::created);
  EXPECT_TRUE(IsClosed(1));
}

TEST_F(AccountsTest, OverdraftLimitWithBalanceFlagIsAccepted) {
  ASSERT_EQ(CreateAccount(MakeLimitedAccount(1, af::kDebitsMustNotExceedCredits, 500)), R::created);
  ASSERT_EQ(CreateAccount(MakeLimitedAccount(2, af::kCreditsMustNotExceedDebits, 500)), R::created);
  EXPECT_EQ(GetAccount(1).overdraft_limit, Amt(500));
  EXPECT_EQ(GetAccount(2).overdraft_limit, Amt(500));
}

// ---- Validation, one code each -------------------------------------------------------------

TEST_F(AccountsTest, NonZeroTimestampIsRejected) {
  Account account = MakeAccount(1);
  account.timestamp = Ts(5);
  EXPECT_EQ(CreateAccount(account), R::timestamp_must_be_zero);
  EXPECT_EQ(ledger_.account_count(), 0u);
}

TEST_F(AccountsTest, UnknownFlagBitIsRejected) {
  EXPECT_EQ(CreateAccount(MakeAccount(1, 1u << 5)), R::reserved_flag);
  EXPECT_EQ(CreateAccount(MakeAccount(1, 1u << 15)), R::reserved_flag);
  EXPECT_EQ(ledger_.account_count(), 0u);
}

TEST_F(AccountsTest, ZeroIdIsRejected) {
  EXPECT_EQ(CreateAccount(MakeAccount(0)), R::id_must_not_be_zero);
}

TEST_F(AccountsTest, MaxIdIsRejected) {
  EXPECT_EQ(CreateAccount(MakeAccount(kU128Max)), R::id_must_not_be_int_max);
}

TEST_F(AccountsTest, BothBalanceLimitFlagsAreMutuallyExclusive) {
  EXPECT_EQ(CreateAccount(
                MakeAccount(1, af::kDebitsMustNotExceedCredits | af::kCreditsMustNotExceedDebits)),
            R::flags_are_mutually_exclusive);
}

TEST_F(AccountsTest, NonZeroDebitsPendingIsRejected) {
  Account account = MakeAccount(1);
  account.debits_pending = Amt(1);
  EXPECT_EQ(CreateAccount(account), R::debits_pending_must_be_zero);
}

TEST_F(AccountsTest, NonZeroDebitsPostedIsRejected) {
  Account account = MakeAccount(1);
  account.debits_posted = Amt(1);
  EXPECT_EQ(CreateAccount(account), R::debits_posted_must_be_zero);
}

TEST_F(AccountsTest, NonZeroCreditsPendingIsRejected) {
  Account account = MakeAccount(1);
  account.credits_pending = Amt(1);
  EXPECT_EQ(CreateAccount(account), R::credits_pending_must_be_zero);
}

TEST_F(AccountsTest, NonZeroCreditsPostedIsRejected) {
  Account account = MakeAccount(1);
  account.credits_posted = Amt(1);
  EXPECT_EQ(CreateAccount(account), R::credits_posted_must_be_zero);
}

TEST_F(AccountsTest, ZeroLedgerIsRejected) {
  EXPECT_EQ(CreateAccount(MakeAccount(1, 0, 0)), R::ledger_must_not_be_zero);
}

TEST_F(AccountsTest, ZeroCodeIsRejected) {
  Account account = MakeAccount(1);
  account.code = 0;
  EXPECT_EQ(CreateAccount(account), R::code_must_not_be_zero);
}

TEST_F(AccountsTest, OverdraftLimitWithoutBalanceFlagIsRejected) {
  EXPECT_EQ(CreateAccount(MakeLimitedAccount(1, 0, 1)), R::overdraft_limit_requires_balance_flag);
  EXPECT_EQ(CreateAccount(MakeLimitedAccount(1, af::kHistory, 1)),
            R::overdraft_limit_requires_balance_flag);
  EXPECT_EQ(ledger_.account_count(), 0u);
}

// ---- Check order -----------------------------------------------------------------------------

TEST_F(AccountsTest, TimestampIsCheckedBeforeEverythingElse) {
  Account account = MakeAccount(0, 1u << 9, 0);  // also: reserved flag, zero id, zero ledger
  account.timestamp = Ts(1);
  EXPECT_EQ(CreateAccount(account), R::timestamp_must_be_zero);
}

TEST_F(AccountsTest, ReservedFlagIsCheckedBeforeId) {
  EXPECT_EQ(CreateAccount(MakeAccount(0, 1u << 9)), R::reserved_flag);
}

TEST_F(AccountsTest, IdIsCheckedBeforeMutuallyExclusiveFlags) {
  EXPECT_EQ(CreateAccount(
                MakeAccount(0, af::kDebitsMustNotExceedCredits | af::kCreditsMustNotExceedDebits)),
            R::id_must_not_be_zero);
}

TEST_F(AccountsTest, MutuallyExclusiveFlagsAreCheckedBeforeBalances) {
  Account account =
      MakeAccount(1, af::kDebitsMustNotExceedCredits | af::kCreditsMustNotExceedDebits);
  account.debits_pending = Amt(1);
  EXPECT_EQ(CreateAccount(account), R::flags_are_mutually_exclusive);
}

TEST_F(AccountsTest, BalancesAreCheckedInFieldOrderBeforeLedger) {
  Account account = MakeAccount(1, 0, 0);
  account.credits_posted = Amt(1);
  account.credits_pending = Amt(1);
  EXPECT_EQ(CreateAccount(account), R::credits_pending_must_be_zero);
  account.credits_pending = Amt(0);
  EXPECT_EQ(CreateAccount(account), R::credits_posted_must_be_zero);
  account.credits_posted = Amt(0);
  account.debits_posted = Amt(1);
  EXPECT_EQ(CreateAccount(account), R::debits_posted_must_be_zero);
}

TEST_F(AccountsTest, LedgerIsCheckedBeforeCodeAndCodeBeforeOverdraftLimit) {
  Account account = MakeLimitedAccount(1, 0, 5);
  account.ledger = 0;
  account.code = 0;
  EXPECT_EQ(CreateAccount(account), R::ledger_must_not_be_zero);
  account.ledger = kLedgerUsd;
  EXPECT_EQ(CreateAccount(account), R::code_must_not_be_zero);
  account.code = kAccountCode;
  EXPECT_EQ(CreateAccount(account), R::overdraft_limit_requires_balance_flag);
}

TEST_F(AccountsTest, ValidationFailureOfAnExistingIdIsReportedBeforeExists) {
  CreatePlainAccounts({1});
  Account account = MakeAccount(1);
  account.debits_posted = Amt(1);
  EXPECT_EQ(CreateAccount(account), R::debits_posted_must_be_zero);
}

// ---- Idempotency -----------------------------------------------------------------------------

class AccountExistsTest : public AccountsTest {
 protected:
  void SetUp() override {
    original_ = MakeLimitedAccount(1, af::kDebitsMustNotExceedCredits | af::kHistory, 100);
    original_.user_data_128 = 11;
    original_.user_data_64 = 12;
    original_.user_data_32 = 13;
    ASSERT_EQ(CreateAccount(original_), R::created);
    created_at_ = GetAccount(1).timestamp;
  }
  Account original_;
  Timestamp created_at_;
};

TEST_F(AccountExistsTest, IdenticalAccountReportsExistsAndKeepsTheOriginal) {
  EXPECT_EQ(CreateAccount(original_), R::exists);
  EXPECT_EQ(ledger_.account_count(), 1u);
  EXPECT_EQ(GetAccount(1).timestamp, created_at_);
}

TEST_F(AccountExistsTest, DifferentFlagsAreReported) {
  Account account = original_;
  account.flags = af::kDebitsMustNotExceedCredits;
  EXPECT_EQ(CreateAccount(account), R::exists_with_different_flags);
}

TEST_F(AccountExistsTest, LinkedFlagIsIgnoredWhenComparing) {
  const std::vector<Account> batch = {Linked(original_), MakeAccount(2)};
  EXPECT_EQ(Dense(CreateAccounts(batch), 2), (std::vector<R>{R::exists, R::created}));
}

TEST_F(AccountExistsTest, DifferentUserData128IsReported) {
  Account account = original_;
  account.user_data_128 = MakeU128(1, 11);
  EXPECT_EQ(CreateAccount(account), R::exists_with_different_user_data_128);
}

TEST_F(AccountExistsTest, DifferentUserData64IsReported) {
  Account account = original_;
  account.user_data_64 = 0;
  EXPECT_EQ(CreateAccount(account), R::exists_with_different_user_data_64);
}

TEST_F(AccountExistsTest, DifferentUserData32IsReported) {
  Account account = original_;
  account.user_data_32 = 14;
  EXPECT_EQ(CreateAccount(account), R::exists_with_different_user_data_32);
}

TEST_F(AccountExistsTest, DifferentLedgerIsReported) {
  Account account = original_;
  account.ledger = kLedgerEur;
  EXPECT_EQ(CreateAccount(account), R::exists_with_different_ledger);
}

TEST_F(AccountExistsTest, DifferentCodeIsReported) {
  Account account = original_;
  account.code = kAccountCode + 1;
  EXPECT_EQ(CreateAccount(account), R::exists_with_different_code);
}

TEST_F(AccountExistsTest, DifferentOverdraftLimitIsReported) {
  Account account = original_;
  account.overdraft_limit = Amt(101);
  EXPECT_EQ(CreateAccount(account), R::exists_with_different_overdraft_limit);
}

TEST_F(AccountExistsTest, FirstDifferenceInDocumentedOrderWins) {
  Account account = original_;
  account.overdraft_limit = Amt(1);
  account.code = 99;
  account.ledger = 99;
  account.user_data_32 = 99;
  account.user_data_64 = 99;
  account.user_data_128 = 99;
  account.flags = af::kDebitsMustNotExceedCredits;
  EXPECT_EQ(CreateAccount(account), R::exists_with_different_flags);
  account.flags = original_.flags;
  EXPECT_EQ(CreateAccount(account), R::exists_with_different_user_data_128);
  account.user_data_128 = original_.user_data_128;
  EXPECT_EQ(CreateAccount(account), R::exists_with_different_user_data_64);
  account.user_data_64 = original_.user_data_64;
  EXPECT_EQ(CreateAccount(account), R::exists_with_different_user_data_32);
  account.user_data_32 = original_.user_data_32;
  EXPECT_EQ(CreateAccount(account), R::exists_with_different_ledger);
  account.ledger = original_.ledger;
  EXPECT_EQ(CreateAccount(account), R::exists_with_different_code);
  account.code = original_.code;
  EXPECT_EQ(CreateAccount(account), R::exists_with_different_overdraft_limit);
  account.overdraft_limit = original_.overdraft_limit;
  EXPECT_EQ(CreateAccount(account), R::exists);
  // None of the failed attempts changed the stored account.
  const Account stored = GetAccount(1);
  EXPECT_EQ(stored.code, original_.code);
  EXPECT_EQ(stored.ledger, original_.ledger);
  EXPECT_EQ(stored.overdraft_limit, original_.overdraft_limit);
  EXPECT_EQ(stored.timestamp, created_at_);
}

// docs/ledger.md: flags are compared with only the `linked` bit ignored. An account created
// closed (no closing transfer involved) and resent without `closed` differs in flags.
TEST_F(AccountsTest, AccountCreatedClosedResentWithoutClosedHasDifferentFlags) {
  ASSERT_EQ(CreateAccount(MakeAccount(1, af::kClosed)), R::created);
  EXPECT_EQ(CreateAccount(MakeAccount(1, af::kClosed)), R::exists);
  EXPECT_EQ(CreateAccount(MakeAccount(1)), R::exists_with_different_flags);
}

TEST_F(AccountsTest, AccountCreatedOpenResentClosedHasDifferentFlags) {
  ASSERT_EQ(CreateAccount(MakeAccount(1)), R::created);
  EXPECT_EQ(CreateAccount(MakeAccount(1, af::kClosed)), R::exists_with_different_flags);
}

TEST_F(AccountsTest, SameIdTwiceInOneBatchIsCreatedThenExists) {
  const std::vector<Account> batch = {MakeAccount(1), MakeAccount(1)};
  EXPECT_EQ(Dense(CreateAccounts(batch), 2), (std::vector<R>{R::created, R::exists}));
  EXPECT_EQ(ledger_.account_count(), 1u);
}

// ---- Timestamps and batches ------------------------------------------------------------------

TEST_F(AccountsTest, EventIsStampedFirstPlusIndexAndFailuresConsumeTheirTimestamp) {
  const std::vector<Account> batch = {MakeAccount(1), MakeAccount(0), MakeAccount(3),
                                      MakeAccount(4, 0, 0), MakeAccount(5)};
  const std::vector<CreateAccountsResult> results = CreateAccounts(batch, Ts(500));
  EXPECT_EQ(Dense(results, 5), (std::vector<R>{R::created, R::id_must_not_be_zero, R::created,
                                               R::ledger_must_not_be_zero, R::created}));
  EXPECT_EQ(GetAccount(1).timestamp, Ts(500));
  EXPECT_EQ(GetAccount(3).timestamp, Ts(502));
  EXPECT_EQ(GetAccount(5).timestamp, Ts(504));
  EXPECT_EQ(ledger_.last_timestamp(), Ts(504));
}

TEST_F(AccountsTest, BatchWhoseLastEventFailsStillAdvancesTheClock) {
  const std::vector<Account> batch = {MakeAccount(1), MakeAccount(2), MakeAccount(0)};
  EXPECT_EQ(Dense(CreateAccounts(batch, Ts(10)), 3),
            (std::vector<R>{R::created, R::created, R::id_must_not_be_zero}));
  EXPECT_EQ(ledger_.last_timestamp(), Ts(12));
}

TEST_F(AccountsTest, ResultsAreSparseAndTheVectorIsClearedFirst) {
  std::vector<CreateAccountsResult> results = {{7, R::exists}, {8, R::exists}};
  const std::vector<Account> batch = {MakeAccount(1), MakeAccount(2)};
  ASSERT_TRUE(ledger_.CreateAccounts(batch, NextFirst(), results).ok());
  EXPECT_TRUE(results.empty());
}

TEST_F(AccountsTest, NextTimestampIsAfterTheLastTimestamp) {
  CreatePlainAccounts({1});
  const Timestamp last = ledger_.last_timestamp();
  EXPECT_GT(ledger_.NextTimestamp(Ts(0)), last);  // wall clock behind the ledger
  const Timestamp ahead = Ts(last.ns + 1'000'000);
  EXPECT_GE(ledger_.NextTimestamp(ahead), ahead);
}

TEST_F(AccountsTest, BatchOfTheMaximumSizeIsApplied) {
  std::vector<Account> batch;
  for (u128 id = 1; id <= kBatchEventsMax; ++id) batch.push_back(MakeAccount(id));
  EXPECT_TRUE(CreateAccounts(batch, Ts(100)).empty());
  EXPECT_EQ(ledger_.account_count(), kBatchEventsMax);
  EXPECT_EQ(ledger_.last_timestamp(), Ts(100 + kBatchEventsMax - 1));
}

TEST_F(AccountsTest, OversizedBatchIsRejectedAndNothingIsApplied) {
  CreatePlainAccounts({100'000});
  const Timestamp before = ledger_.last_timestamp();
  std::vector<Account> batch;
  for (u128 id = 1; id <= kBatchEventsMax + 1; ++id) batch.push_back(MakeAccount(id));
  std::vector<CreateAccountsResult> results;
  const Status<BatchError> status = ledger_.CreateAccounts(batch, NextFirst(), results);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error(), BatchError::too_many_events);
  EXPECT_EQ(ledger_.account_count(), 1u);
  EXPECT_FALSE(ledger_.LookupAccount(AccountId(1)).has_value());
  EXPECT_EQ(ledger_.last_timestamp(), before);
}

// ---- Linked account chains -------------------------------------------------------------------

TEST_F(AccountsTest, FailedLinkedAccountChainCreatesNoneOfItsAccounts) {
  const std::vector<Account> batch = {Linked(MakeAccount(1)), Linked(MakeAccount(2, 0, 0)),
                                      MakeAccount(3), MakeAccount(4)};
  EXPECT_EQ(Dense(CreateAccounts(batch), 4),
            (std::vector<R>{R::linked_event_failed, R::ledger_must_not_be_zero,
                            R::linked_event_failed, R::created}));
  EXPECT_FALSE(ledger_.LookupAccount(AccountId(1)).has_value());
  EXPECT_FALSE(ledger_.LookupAccount(AccountId(3)).has_value());
  EXPECT_EQ(ledger_.account_count(), 1u);
  // The chain's ids are free: resending it fixed creates all three.
  const std::vector<Account> fixed = {Linked(MakeAccount(1)), Linked(MakeAccount(2)),
                                      MakeAccount(3)};
  EXPECT_TRUE(CreateAccounts(fixed).empty());
  EXPECT_EQ(ledger_.account_count(), 4u);
}

TEST_F(AccountsTest, AccountChainOpenAtTheEndOfTheBatchFails) {
  const std::vector<Account> batch = {MakeAccount(1), Linked(MakeAccount(2)),
                                      Linked(MakeAccount(3))};
  EXPECT_EQ(Dense(CreateAccounts(batch), 3),
            (std::vector<R>{R::created, R::linked_event_failed, R::linked_event_chain_open}));
  EXPECT_TRUE(ledger_.LookupAccount(AccountId(1)).has_value());
  EXPECT_FALSE(ledger_.LookupAccount(AccountId(2)).has_value());
  EXPECT_FALSE(ledger_.LookupAccount(AccountId(3)).has_value());
}

TEST_F(AccountsTest, SingleLinkedAccountAtTheEndIsAnOpenChain) {
  const std::vector<Account> batch = {Linked(MakeAccount(1))};
  EXPECT_EQ(Dense(CreateAccounts(batch), 1), (std::vector<R>{R::linked_event_chain_open}));
  EXPECT_EQ(ledger_.account_count(), 0u);
}

TEST_F(AccountsTest, ExistingAccountInsideAChainCountsAsSuccess) {
  CreatePlainAccounts({1});
  const std::vector<Account> batch = {Linked(MakeAccount(1)), MakeAccount(2)};
  EXPECT_EQ(Dense(CreateAccounts(batch), 2), (std::vector<R>{R::exists, R::created}));
  EXPECT_TRUE(ledger_.LookupAccount(AccountId(2)).has_value());
}

TEST_F(AccountsTest, ExistsWithDifferentFieldsBreaksAChain) {
  CreatePlainAccounts({1});
  Account changed = MakeAccount(1);
  changed.code = 77;
  const std::vector<Account> batch = {Linked(MakeAccount(2)), changed};
  EXPECT_EQ(Dense(CreateAccounts(batch), 2),
            (std::vector<R>{R::linked_event_failed, R::exists_with_different_code}));
  EXPECT_FALSE(ledger_.LookupAccount(AccountId(2)).has_value());
}

// ---- too_many_accounts -----------------------------------------------------------------------

// A ledger that holds at most three accounts (LedgerOptions::accounts_max).
class AccountLimitTest : public LedgerTest {
 protected:
  static LedgerOptions ThreeAccounts() {
    LedgerOptions options;
    options.accounts_max = 3;
    return options;
  }
  AccountLimitTest() : LedgerTest(ThreeAccounts()) {}
};

TEST_F(AccountLimitTest, AccountBeyondTheLimitIsRejectedAndNothingIsApplied) {
  CreatePlainAccounts({1, 2, 3});
  const Timestamp first = NextFirst();
  EXPECT_EQ(CreateAccount(MakeAccount(4), first), R::too_many_accounts);
  EXPECT_EQ(ledger_.account_count(), 3u);
  EXPECT_FALSE(ledger_.LookupAccount(AccountId(4)).has_value());
  EXPECT_EQ(ledger_.last_timestamp(), first);  // the failed event consumed its timestamp
  // Resending an existing account still reports exists: that check comes first.
  EXPECT_EQ(CreateAccount(MakeAccount(2)), R::exists);
  Account changed = MakeAccount(3);
  changed.code = 77;
  EXPECT_EQ(CreateAccount(changed), R::exists_with_different_code);
  ledger_.CheckInvariants();
}

TEST_F(AccountLimitTest, BatchIsCutAtTheLimitEventByEvent) {
  CreatePlainAccounts({1});
  const std::vector<Account> batch = {MakeAccount(2), MakeAccount(3), MakeAccount(4),
                                      MakeAccount(5)};
  EXPECT_EQ(Dense(CreateAccounts(batch), 4),
            (std::vector<R>{R::created, R::created, R::too_many_accounts, R::too_many_accounts}));
  EXPECT_EQ(ledger_.account_count(), 3u);
  EXPECT_TRUE(ledger_.LookupAccount(AccountId(3)).has_value());
  EXPECT_FALSE(ledger_.LookupAccount(AccountId(4)).has_value());
  EXPECT_FALSE(ledger_.LookupAccount(AccountId(5)).has_value());
}

TEST_F(AccountLimitTest, TooManyAccountsInALinkedChainRollsBackTheChain) {
  CreatePlainAccounts({1});
  const std::vector<Account> batch = {Linked(MakeAccount(2)), Linked(MakeAccount(3)),
                                      MakeAccount(4)};
  EXPECT_EQ(Dense(CreateAccounts(batch), 3),
            (std::vector<R>{R::linked_event_failed, R::linked_event_failed, R::too_many_accounts}));
  EXPECT_EQ(ledger_.account_count(), 1u);
  EXPECT_FALSE(ledger_.LookupAccount(AccountId(2)).has_value());
  EXPECT_FALSE(ledger_.LookupAccount(AccountId(3)).has_value());
  // The rolled-back accounts freed their places: a chain that fits goes through.
  const std::vector<Account> fits = {Linked(MakeAccount(2)), MakeAccount(3)};
  EXPECT_TRUE(CreateAccounts(fits).empty());
  EXPECT_EQ(ledger_.account_count(), 3u);
  ledger_.CheckInvariants();
}

}  // namespace
}  // namespace tpw::ledger::testing
