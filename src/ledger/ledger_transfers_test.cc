// Regular (single-phase) transfers: validation codes and their order, idempotency,
// id_already_failed, balance limits with overdraft, balancing, overflows, closed accounts,
// timestamps and batch limits (docs/ledger.md, "Transfer creation: checks in order").
#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "ledger/ledger_test_util.h"

namespace tpw::ledger::testing {
namespace {

using R = CreateTransferResult;
namespace af = account_flags;
namespace tf = transfer_flags;

// Accounts 1, 2, 3 are flag-free on USD; 4 is flag-free on EUR.
class TransfersTest : public LedgerTest {
 protected:
  TransfersTest() = default;
  explicit TransfersTest(LedgerOptions options) : LedgerTest(options) {}
  void SetUp() override {
    CreatePlainAccounts({1, 2, 3});
    ASSERT_EQ(CreateAccount(MakeAccount(4, 0, kLedgerEur)), CreateAccountResult::created);
  }
};

TEST_F(TransfersTest, TransferMovesPostedBalancesAndIsStored) {
  Transfer transfer = MakeTransfer(10, 1, 2, 250);
  transfer.user_data_128 = MakeU128(9, 9);
  transfer.user_data_64 = 8;
  transfer.user_data_32 = 7;
  const Timestamp first = NextFirst();
  ASSERT_EQ(CreateTransfer(transfer, first), R::created);
  ExpectBalances(1, 0, 250, 0, 0);
  ExpectBalances(2, 0, 0, 0, 250);

  const Transfer stored = GetTransfer(10);
  EXPECT_EQ(stored.debit_account_id, AccountId(1));
  EXPECT_EQ(stored.credit_account_id, AccountId(2));
  EXPECT_EQ(stored.amount, Amt(250));
  EXPECT_EQ(stored.timestamp, first);
  EXPECT_EQ(stored.ledger, kLedgerUsd);
  EXPECT_EQ(stored.code, kTransferCode);
  EXPECT_EQ(stored.flags, 0u);
  EXPECT_TRUE(stored.user_data_128 == MakeU128(9, 9));
  EXPECT_EQ(stored.user_data_64, 8u);
  EXPECT_EQ(stored.user_data_32, 7u);
  EXPECT_EQ(ledger_.transfer_count(), 1u);
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(10)), PendingStatus::none);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, TotalsBalancePerLedger) {
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 300)), R::created);
  ASSERT_EQ(CreateTransfer(MakePending(11, 2, 3, 40)), R::created);
  bool saw_usd = false;
  for (const LedgerTotals& totals : ledger_.Totals()) {
    EXPECT_EQ(totals.debits_posted, totals.credits_posted);
    EXPECT_EQ(totals.debits_pending, totals.credits_pending);
    if (totals.ledger == kLedgerUsd) {
      saw_usd = true;
      EXPECT_EQ(totals.debits_posted, Amt(300));
      EXPECT_EQ(totals.debits_pending, Amt(40));
    }
  }
  EXPECT_TRUE(saw_usd);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, ZeroAmountTransferIsCreatedAndMovesNothing) {
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 0)), R::created);
  EXPECT_EQ(GetTransfer(10).amount, Amt(0));
  ExpectBalances(1, 0, 0, 0, 0);
  ExpectBalances(2, 0, 0, 0, 0);
  ASSERT_EQ(CreateTransfer(MakePending(11, 1, 2, 0)), R::created);
  ExpectBalances(1, 0, 0, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, UnknownTransferIsNotFound) {
  EXPECT_FALSE(ledger_.LookupTransfer(TransferId(10)).has_value());
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(10)), PendingStatus::none);
}

// ---- Common validation -----------------------------------------------------------------------

TEST_F(TransfersTest, NonZeroTimestampIsRejected) {
  Transfer transfer = MakeTransfer(10, 1, 2, 5);
  transfer.timestamp = Ts(1);
  EXPECT_EQ(CreateTransfer(transfer), R::timestamp_must_be_zero);
  EXPECT_FALSE(TransferExists(10));
}

TEST_F(TransfersTest, UnknownFlagBitIsRejected) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5, 1u << 8)), R::reserved_flag);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5, 1u << 15)), R::reserved_flag);
}

TEST_F(TransfersTest, ZeroIdIsRejected) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(0, 1, 2, 5)), R::id_must_not_be_zero);
}

TEST_F(TransfersTest, MaxIdIsRejected) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(kU128Max, 1, 2, 5)), R::id_must_not_be_int_max);
}

TEST_F(TransfersTest, PhaseFlagsAreMutuallyExclusive) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5, tf::kPending | tf::kPostPendingTransfer)),
            R::flags_are_mutually_exclusive);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5, tf::kPending | tf::kVoidPendingTransfer)),
            R::flags_are_mutually_exclusive);
  EXPECT_EQ(CreateTransfer(
                MakeTransfer(10, 1, 2, 5, tf::kPostPendingTransfer | tf::kVoidPendingTransfer)),
            R::flags_are_mutually_exclusive);
}

TEST_F(TransfersTest, PostAndVoidExcludeBalancingAndClosingFlags) {
  for (uint16_t extra :
       {tf::kBalancingDebit, tf::kBalancingCredit, tf::kClosingDebit, tf::kClosingCredit}) {
    Transfer post = MakePost(10, 5);
    post.flags = static_cast<uint16_t>(post.flags | extra);
    EXPECT_EQ(CreateTransfer(post), R::flags_are_mutually_exclusive) << "flag " << extra;
    Transfer void_transfer = MakeVoid(10, 5);
    void_transfer.flags = static_cast<uint16_t>(void_transfer.flags | extra);
    EXPECT_EQ(CreateTransfer(void_transfer), R::flags_are_mutually_exclusive) << "flag " << extra;
  }
}

TEST_F(TransfersTest, PendingMayCombineWithBalancingAndClosing) {
  EXPECT_EQ(CreateTransfer(MakePending(10, 1, 2, 5, 0,
                                       tf::kBalancingDebit | tf::kBalancingCredit |
                                           tf::kClosingDebit | tf::kClosingCredit)),
            R::created);
  ledger_.CheckInvariants();
}

// ---- Regular/pending validation --------------------------------------------------------------

TEST_F(TransfersTest, ZeroDebitAccountIdIsRejected) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 0, 2, 5)), R::debit_account_id_must_not_be_zero);
}

TEST_F(TransfersTest, MaxDebitAccountIdIsRejected) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, kU128Max, 2, 5)),
            R::debit_account_id_must_not_be_int_max);
}

TEST_F(TransfersTest, ZeroCreditAccountIdIsRejected) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 0, 5)), R::credit_account_id_must_not_be_zero);
}

TEST_F(TransfersTest, MaxCreditAccountIdIsRejected) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, kU128Max, 5)),
            R::credit_account_id_must_not_be_int_max);
}

TEST_F(TransfersTest, SameDebitAndCreditAccountIsRejected) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 1, 5)), R::accounts_must_be_different);
  ExpectBalances(1, 0, 0, 0, 0);
}

TEST_F(TransfersTest, PendingIdOnARegularTransferIsRejected) {
  Transfer transfer = MakeTransfer(10, 1, 2, 5);
  transfer.pending_id = TransferId(3);
  EXPECT_EQ(CreateTransfer(transfer), R::pending_id_must_be_zero);
}

TEST_F(TransfersTest, TimeoutWithoutPendingIsRejected) {
  Transfer transfer = MakeTransfer(10, 1, 2, 5);
  transfer.timeout = 1;
  EXPECT_EQ(CreateTransfer(transfer), R::timeout_reserved_for_pending_transfer);
}

TEST_F(TransfersTest, ClosingFlagWithoutPendingIsRejected) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5, tf::kClosingDebit)),
            R::closing_transfer_must_be_pending);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5, tf::kClosingCredit)),
            R::closing_transfer_must_be_pending);
  EXPECT_FALSE(IsClosed(1));
  EXPECT_FALSE(IsClosed(2));
}

TEST_F(TransfersTest, ZeroLedgerIsRejected) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5, 0, 0)), R::ledger_must_not_be_zero);
}

TEST_F(TransfersTest, ZeroCodeIsRejected) {
  Transfer transfer = MakeTransfer(10, 1, 2, 5);
  transfer.code = 0;
  EXPECT_EQ(CreateTransfer(transfer), R::code_must_not_be_zero);
}

TEST_F(TransfersTest, MissingDebitAccountIsRejected) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 50, 2, 5)), R::debit_account_not_found);
  ExpectBalances(2, 0, 0, 0, 0);
}

TEST_F(TransfersTest, MissingCreditAccountIsRejected) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 50, 5)), R::credit_account_not_found);
  ExpectBalances(1, 0, 0, 0, 0);
}

TEST_F(TransfersTest, AccountsOnDifferentLedgersAreRejected) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 4, 5)), R::accounts_must_have_the_same_ledger);
  ExpectBalances(1, 0, 0, 0, 0);
  ExpectBalances(4, 0, 0, 0, 0);
}

TEST_F(TransfersTest, TransferLedgerDifferentFromAccountsIsRejected) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5, 0, kLedgerEur)),
            R::transfer_must_have_the_same_ledger_as_accounts);
  ExpectBalances(1, 0, 0, 0, 0);
}

// ---- Check order -----------------------------------------------------------------------------

TEST_F(TransfersTest, TimestampIsCheckedFirst) {
  Transfer transfer = MakeTransfer(0, 0, 0, 5, 1u << 9);
  transfer.timestamp = Ts(3);
  EXPECT_EQ(CreateTransfer(transfer), R::timestamp_must_be_zero);
}

TEST_F(TransfersTest, ReservedFlagIsCheckedBeforeId) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(0, 1, 2, 5, 1u << 9)), R::reserved_flag);
}

TEST_F(TransfersTest, IdIsCheckedBeforeFlagCombinations) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(0, 1, 2, 5, tf::kPending | tf::kPostPendingTransfer)),
            R::id_must_not_be_zero);
}

TEST_F(TransfersTest, AccountIdsAreCheckedInDocumentedOrder) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 0, 0, 5, 0, 0)), R::debit_account_id_must_not_be_zero);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, kU128Max, 5, 0, 0)),
            R::credit_account_id_must_not_be_int_max);
  Transfer transfer = MakeTransfer(10, 1, 1, 5, tf::kClosingDebit, 0);
  transfer.pending_id = TransferId(3);
  transfer.timeout = 1;
  EXPECT_EQ(CreateTransfer(transfer), R::accounts_must_be_different);
  transfer.credit_account_id = AccountId(2);
  EXPECT_EQ(CreateTransfer(transfer), R::pending_id_must_be_zero);
  transfer.pending_id = TransferId(0);
  EXPECT_EQ(CreateTransfer(transfer), R::timeout_reserved_for_pending_transfer);
  transfer.timeout = 0;
  EXPECT_EQ(CreateTransfer(transfer), R::closing_transfer_must_be_pending);
  transfer.flags = 0;
  transfer.code = 0;
  EXPECT_EQ(CreateTransfer(transfer), R::ledger_must_not_be_zero);
  transfer.ledger = kLedgerEur;
  EXPECT_EQ(CreateTransfer(transfer), R::code_must_not_be_zero);
}

TEST_F(TransfersTest, AccountExistenceIsCheckedBeforeLedgerMatch) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 50, 51, 5, 0, kLedgerEur)), R::debit_account_not_found);
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 4, 51, 5)), R::credit_account_not_found);
  EXPECT_EQ(CreateTransfer(MakeTransfer(12, 4, 1, 5, 0, kLedgerEur)),
            R::accounts_must_have_the_same_ledger);
}

// ---- Closed accounts -------------------------------------------------------------------------

TEST_F(TransfersTest, ClosedDebitAccountRejectsTransfers) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kClosed)), CreateAccountResult::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 20, 2, 5)), R::debit_account_already_closed);
  ExpectBalances(20, 0, 0, 0, 0);
  ExpectBalances(2, 0, 0, 0, 0);
}

TEST_F(TransfersTest, ClosedCreditAccountRejectsTransfers) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kClosed)), CreateAccountResult::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 20, 5)), R::credit_account_already_closed);
  EXPECT_EQ(CreateTransfer(MakePending(11, 1, 20, 5)), R::credit_account_already_closed);
  ExpectBalances(1, 0, 0, 0, 0);
}

TEST_F(TransfersTest, LedgerMismatchIsCheckedBeforeClosed) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kClosed)), CreateAccountResult::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 20, 4, 5)), R::accounts_must_have_the_same_ledger);
}

// ---- Balance limits and overdraft ------------------------------------------------------------

TEST_F(TransfersTest, DebitLimitedAccountCannotGoBelowZero) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kDebitsMustNotExceedCredits)),
            CreateAccountResult::created);
  Fund(20, 100);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 20, 2, 101)), R::exceeds_credits);
  ExpectBalances(20, 0, 0, 0, 100);
  ExpectBalances(2, 0, 0, 0, 0);
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 20, 2, 100)), R::created);
  ExpectBalances(20, 0, 100, 0, 100);
  EXPECT_EQ(CreateTransfer(MakeTransfer(12, 20, 2, 1)), R::exceeds_credits);
  ExpectBalances(20, 0, 100, 0, 100);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, OverdraftLimitAllowsDebitsUpToCreditsPlusLimit) {
  ASSERT_EQ(CreateAccount(MakeLimitedAccount(20, af::kDebitsMustNotExceedCredits, 50)),
            CreateAccountResult::created);
  Fund(20, 100);
  // credits_posted 100 + limit 50 = 150: one minor unit more is refused.
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 20, 2, 151)), R::exceeds_credits);
  ExpectBalances(20, 0, 0, 0, 100);
  ASSERT_EQ(CreateTransfer(MakeTransfer(11, 20, 2, 150)), R::created);
  ExpectBalances(20, 0, 150, 0, 100);
  ExpectBalances(2, 0, 0, 0, 150);
  EXPECT_EQ(CreateTransfer(MakeTransfer(12, 20, 2, 1)), R::exceeds_credits);
  ExpectBalances(20, 0, 150, 0, 100);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, OverdraftLimitWorksWithoutAnyCredits) {
  ASSERT_EQ(CreateAccount(MakeLimitedAccount(20, af::kDebitsMustNotExceedCredits, 30)),
            CreateAccountResult::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 20, 2, 31)), R::exceeds_credits);
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 20, 2, 30)), R::created);
  ExpectBalances(20, 0, 30, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, PendingDebitsCountAgainstTheLimit) {
  ASSERT_EQ(CreateAccount(MakeLimitedAccount(20, af::kDebitsMustNotExceedCredits, 10)),
            CreateAccountResult::created);
  Fund(20, 100);
  ASSERT_EQ(CreateTransfer(MakePending(10, 20, 2, 60)), R::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 20, 2, 51)), R::exceeds_credits);
  EXPECT_EQ(CreateTransfer(MakePending(12, 20, 2, 51)), R::exceeds_credits);
  ExpectBalances(20, 60, 0, 0, 100);
  EXPECT_EQ(CreateTransfer(MakeTransfer(13, 20, 2, 50)), R::created);
  ExpectBalances(20, 60, 50, 0, 100);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, PendingCreditsDoNotRaiseTheDebitLimit) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kDebitsMustNotExceedCredits)),
            CreateAccountResult::created);
  ASSERT_EQ(CreateTransfer(MakePending(10, 1, 20, 100)), R::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 20, 2, 1)), R::exceeds_credits);
  ExpectBalances(20, 0, 0, 100, 0);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, CreditLimitedAccountCannotBeCreditedPastItsDebits) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kCreditsMustNotExceedDebits)),
            CreateAccountResult::created);
  Drain(20, 100);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 20, 101)), R::exceeds_debits);
  ExpectBalances(20, 0, 100, 0, 0);
  ExpectBalances(1, 0, 0, 0, 0);
  ASSERT_EQ(CreateTransfer(MakeTransfer(11, 1, 20, 100)), R::created);
  ExpectBalances(20, 0, 100, 0, 100);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, CreditOverdraftLimitAllowsCreditsUpToDebitsPlusLimit) {
  ASSERT_EQ(CreateAccount(MakeLimitedAccount(20, af::kCreditsMustNotExceedDebits, 20)),
            CreateAccountResult::created);
  Drain(20, 100);
  ASSERT_EQ(CreateTransfer(MakePending(9, 1, 20, 10)), R::created);  // pending counts too
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 20, 111)), R::exceeds_debits);
  ExpectBalances(20, 0, 100, 10, 0);
  ASSERT_EQ(CreateTransfer(MakeTransfer(11, 1, 20, 110)), R::created);
  ExpectBalances(20, 0, 100, 10, 110);
  EXPECT_EQ(CreateTransfer(MakeTransfer(12, 1, 20, 1)), R::exceeds_debits);
  ExpectBalances(20, 0, 100, 10, 110);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, ExceedsCreditsIsReportedBeforeExceedsDebits) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kDebitsMustNotExceedCredits)),
            CreateAccountResult::created);
  ASSERT_EQ(CreateAccount(MakeAccount(21, af::kCreditsMustNotExceedDebits)),
            CreateAccountResult::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 20, 21, 1)), R::exceeds_credits);
  Fund(20, 5);
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 20, 21, 1)), R::exceeds_debits);
  ExpectBalances(20, 0, 0, 0, 5);
  ExpectBalances(21, 0, 0, 0, 0);
}

TEST_F(TransfersTest, AccountsWithoutLimitFlagsMayGoNegative) {
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 1'000'000)), R::created);
  ASSERT_EQ(CreateTransfer(MakeTransfer(11, 2, 1, 1'000'001)), R::created);
  ExpectBalances(1, 0, 1'000'000, 0, 1'000'001);
  ledger_.CheckInvariants();
}

// ---- Balancing -------------------------------------------------------------------------------

TEST_F(TransfersTest, BalancingDebitClampsToTheAvailableBalance) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kDebitsMustNotExceedCredits)),
            CreateAccountResult::created);
  Fund(20, 100);
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 20, 2, 30)), R::created);
  ASSERT_EQ(CreateTransfer(MakeTransfer(11, 20, 2, 1000, tf::kBalancingDebit)), R::created);
  EXPECT_EQ(GetTransfer(11).amount, Amt(70));
  ExpectBalances(20, 0, 100, 0, 100);
  ExpectBalances(2, 0, 0, 0, 100);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, BalancingDebitBelowTheAvailableBalanceIsNotChanged) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kDebitsMustNotExceedCredits)),
            CreateAccountResult::created);
  Fund(20, 100);
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 20, 2, 40, tf::kBalancingDebit)), R::created);
  EXPECT_EQ(GetTransfer(10).amount, Amt(40));
  ExpectBalances(20, 0, 40, 0, 100);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, BalancingDebitIncludesTheOverdraftLimitAndPendingDebits) {
  ASSERT_EQ(CreateAccount(MakeLimitedAccount(20, af::kDebitsMustNotExceedCredits, 50)),
            CreateAccountResult::created);
  Fund(20, 100);
  ASSERT_EQ(CreateTransfer(MakePending(10, 20, 2, 25)), R::created);
  // 100 + 50 - 25 - 0 = 125.
  ASSERT_EQ(CreateTransfer(MakeTransfer(11, 20, 2, 1000, tf::kBalancingDebit)), R::created);
  EXPECT_EQ(GetTransfer(11).amount, Amt(125));
  ExpectBalances(20, 25, 125, 0, 100);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, BalancingDebitOfAnExhaustedAccountIsAZeroTransfer) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kDebitsMustNotExceedCredits)),
            CreateAccountResult::created);
  Fund(20, 10);
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 20, 2, 10)), R::created);
  ASSERT_EQ(CreateTransfer(MakeTransfer(11, 20, 2, 5, tf::kBalancingDebit)), R::created);
  EXPECT_EQ(GetTransfer(11).amount, Amt(0));
  ExpectBalances(20, 0, 10, 0, 10);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, BalancingDebitWithoutLimitFlagDoesNotClamp) {
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 1000, tf::kBalancingDebit)), R::created);
  EXPECT_EQ(GetTransfer(10).amount, Amt(1000));
  ExpectBalances(1, 0, 1000, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, BalancingCreditClampsToWhatTheCreditAccountMayTake) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kCreditsMustNotExceedDebits)),
            CreateAccountResult::created);
  Drain(20, 100);
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 1, 20, 500, tf::kBalancingCredit)), R::created);
  EXPECT_EQ(GetTransfer(10).amount, Amt(100));
  ExpectBalances(20, 0, 100, 0, 100);
  ExpectBalances(1, 0, 100, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, BalancingCreditIncludesTheOverdraftLimit) {
  ASSERT_EQ(CreateAccount(MakeLimitedAccount(20, af::kCreditsMustNotExceedDebits, 15)),
            CreateAccountResult::created);
  Drain(20, 100);
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 1, 20, 500, tf::kBalancingCredit)), R::created);
  EXPECT_EQ(GetTransfer(10).amount, Amt(115));
  ExpectBalances(20, 0, 100, 0, 115);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, BalancingCreditWithoutLimitFlagDoesNotClamp) {
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 777, tf::kBalancingCredit)), R::created);
  EXPECT_EQ(GetTransfer(10).amount, Amt(777));
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, BalancingDebitAndCreditTakeTheSmallerClamp) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kDebitsMustNotExceedCredits)),
            CreateAccountResult::created);
  ASSERT_EQ(CreateAccount(MakeAccount(21, af::kCreditsMustNotExceedDebits)),
            CreateAccountResult::created);
  Fund(20, 80);
  Drain(21, 30);
  ASSERT_EQ(
      CreateTransfer(MakeTransfer(10, 20, 21, 1000, tf::kBalancingDebit | tf::kBalancingCredit)),
      R::created);
  EXPECT_EQ(GetTransfer(10).amount, Amt(30));
  ExpectBalances(20, 0, 30, 0, 80);
  ExpectBalances(21, 0, 30, 0, 30);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, PendingBalancingDebitReservesTheClampedAmount) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kDebitsMustNotExceedCredits)),
            CreateAccountResult::created);
  Fund(20, 60);
  ASSERT_EQ(CreateTransfer(MakePending(10, 20, 2, 100, 0, tf::kBalancingDebit)), R::created);
  EXPECT_EQ(GetTransfer(10).amount, Amt(60));
  ExpectBalances(20, 60, 0, 0, 60);
  ExpectBalances(2, 0, 0, 60, 0);
  ledger_.CheckInvariants();
}

// ---- Overflows (accounts without limit flags, amounts near 2^128-1) --------------------------

TEST_F(TransfersTest, DebitsPostedOverflowIsRejected) {
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, kU128Max)), R::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 1, 3, 1)), R::overflows_debits_posted);
  ExpectBalances(1, 0, kU128Max, 0, 0);
  ExpectBalances(3, 0, 0, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, CreditsPostedOverflowIsRejected) {
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, kU128Max)), R::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 3, 2, 1)), R::overflows_credits_posted);
  ExpectBalances(2, 0, 0, 0, kU128Max);
  ExpectBalances(3, 0, 0, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, DebitsPendingOverflowIsRejected) {
  ASSERT_EQ(CreateTransfer(MakePending(10, 1, 2, kU128Max - 1)), R::created);
  EXPECT_EQ(CreateTransfer(MakePending(11, 1, 3, 2)), R::overflows_debits_pending);
  ExpectBalances(1, kU128Max - 1, 0, 0, 0);
  ExpectBalances(3, 0, 0, 0, 0);
  EXPECT_EQ(CreateTransfer(MakePending(12, 1, 3, 1)), R::created);  // exactly 2^128-1 fits
  ExpectBalances(1, kU128Max, 0, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, CreditsPendingOverflowIsRejected) {
  ASSERT_EQ(CreateTransfer(MakePending(10, 1, 2, kU128Max)), R::created);
  EXPECT_EQ(CreateTransfer(MakePending(11, 3, 2, 1)), R::overflows_credits_pending);
  ExpectBalances(2, 0, 0, kU128Max, 0);
  ExpectBalances(3, 0, 0, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, TotalDebitsOverflowIsRejected) {
  // debits_pending is full; a posted debit fits debits_posted but not the total.
  ASSERT_EQ(CreateTransfer(MakePending(10, 1, 2, kU128Max)), R::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 1, 3, 1)), R::overflows_debits);
  ExpectBalances(1, kU128Max, 0, 0, 0);
  ExpectBalances(3, 0, 0, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, TotalCreditsOverflowIsRejected) {
  ASSERT_EQ(CreateTransfer(MakePending(10, 1, 2, kU128Max)), R::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 3, 2, 1)), R::overflows_credits);
  ExpectBalances(2, 0, 0, kU128Max, 0);
  ExpectBalances(3, 0, 0, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, PendingOverflowOfTheTotalIsOverflowsDebits) {
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, kU128Max)), R::created);
  EXPECT_EQ(CreateTransfer(MakePending(11, 1, 3, 1)), R::overflows_debits);
  ExpectBalances(1, 0, kU128Max, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, OverflowsAreCheckedBeforeBalanceLimits) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kDebitsMustNotExceedCredits)),
            CreateAccountResult::created);
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, kU128Max)), R::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 20, 2, 1)), R::overflows_credits_posted);
}

TEST_F(TransfersTest, TimeoutThatOverflowsTheClockIsRejected) {
  // Event 0 expires at exactly 2^64-1 (fits); event 1, one ns later, does not fit.
  const uint64_t first = UINT64_MAX - kSecond;
  const std::vector<Transfer> batch = {MakePending(10, 1, 2, 5, 1), MakePending(11, 1, 2, 7, 1)};
  EXPECT_EQ(Dense(CreateTransfers(batch, Ts(first)), 2),
            (std::vector<R>{R::created, R::overflows_timeout}));
  ExpectBalances(1, 5, 0, 0, 0);
  ASSERT_TRUE(ledger_.NextExpiry().has_value());
  EXPECT_EQ(*ledger_.NextExpiry(), Ts(UINT64_MAX));
  // overflows_timeout is transient: the id is burnt.
  EXPECT_EQ(CreateTransfer(MakePending(11, 1, 2, 7)), R::id_already_failed);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, LargestTimeoutOverflowsLateTimestamps) {
  const uint64_t first = UINT64_MAX - uint64_t{UINT32_MAX} * kSecond + 1;
  EXPECT_EQ(CreateTransfer(MakePending(10, 1, 2, 5, UINT32_MAX), Ts(first)), R::overflows_timeout);
  ExpectBalances(1, 0, 0, 0, 0);
  EXPECT_FALSE(ledger_.NextExpiry().has_value());
}

TEST_F(TransfersTest, PendingWithoutTimeoutNeverOverflowsTheClock) {
  EXPECT_EQ(CreateTransfer(MakePending(10, 1, 2, 5, 0), Ts(UINT64_MAX - 1)), R::created);
  EXPECT_FALSE(ledger_.NextExpiry().has_value());
}

// ---- Idempotency -----------------------------------------------------------------------------

class TransferExistsTest : public TransfersTest {
 protected:
  void SetUp() override {
    TransfersTest::SetUp();
    original_ = MakePending(10, 1, 2, 100, 60);
    original_.user_data_128 = 21;
    original_.user_data_64 = 22;
    original_.user_data_32 = 23;
    ASSERT_EQ(CreateTransfer(original_), R::created);
    stored_at_ = GetTransfer(10).timestamp;
  }
  void ExpectUnchanged() {
    const Transfer stored = GetTransfer(10);
    EXPECT_EQ(stored.timestamp, stored_at_);
    EXPECT_EQ(stored.amount, Amt(100));
    EXPECT_EQ(ledger_.transfer_count(), 1u);
    ExpectBalances(1, 100, 0, 0, 0);
    ExpectBalances(2, 0, 0, 100, 0);
  }
  Transfer original_;
  Timestamp stored_at_;
};

TEST_F(TransferExistsTest, IdenticalTransferReportsExistsAndMovesNothingMore) {
  EXPECT_EQ(CreateTransfer(original_), R::exists);
  ExpectUnchanged();
  ledger_.CheckInvariants();
}

TEST_F(TransferExistsTest, DifferentFlagsAreReported) {
  Transfer transfer = original_;
  transfer.flags = 0;
  transfer.timeout = 0;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_flags);
  ExpectUnchanged();
}

TEST_F(TransferExistsTest, LinkedFlagIsIgnoredWhenComparing) {
  const std::vector<Transfer> batch = {Linked(original_), MakeTransfer(11, 1, 2, 1)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 2), (std::vector<R>{R::exists, R::created}));
}

TEST_F(TransferExistsTest, DifferentDebitAccountIsReported) {
  Transfer transfer = original_;
  transfer.debit_account_id = AccountId(3);
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_debit_account_id);
  ExpectUnchanged();
}

TEST_F(TransferExistsTest, DifferentCreditAccountIsReported) {
  Transfer transfer = original_;
  transfer.credit_account_id = AccountId(3);
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_credit_account_id);
  ExpectUnchanged();
}

TEST_F(TransferExistsTest, RepeatedIdWithDifferentAmountIsRejected) {
  Transfer transfer = original_;
  transfer.amount = Amt(101);
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_amount);
  transfer.amount = Amt(99);
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_amount);
  ExpectUnchanged();
}

TEST_F(TransferExistsTest, DifferentTimeoutIsReported) {
  Transfer transfer = original_;
  transfer.timeout = 61;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_timeout);
  ExpectUnchanged();
}

TEST_F(TransferExistsTest, DifferentUserData128IsReported) {
  Transfer transfer = original_;
  transfer.user_data_128 = MakeU128(1, 21);
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_user_data_128);
}

TEST_F(TransferExistsTest, DifferentUserData64IsReported) {
  Transfer transfer = original_;
  transfer.user_data_64 = 0;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_user_data_64);
}

TEST_F(TransferExistsTest, DifferentUserData32IsReported) {
  Transfer transfer = original_;
  transfer.user_data_32 = 24;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_user_data_32);
}

TEST_F(TransferExistsTest, DifferentLedgerIsReported) {
  Transfer transfer = original_;
  transfer.ledger = kLedgerEur;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_ledger);
}

TEST_F(TransferExistsTest, DifferentCodeIsReported) {
  Transfer transfer = original_;
  transfer.code = kTransferCode + 1;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_code);
  ExpectUnchanged();
}

TEST_F(TransferExistsTest, FirstDifferenceInDocumentedOrderWins) {
  Transfer transfer = original_;
  transfer.debit_account_id = AccountId(3);
  transfer.credit_account_id = AccountId(3);
  transfer.amount = Amt(1);
  transfer.pending_id = TransferId(5);
  transfer.timeout = 1;
  transfer.user_data_128 = 1;
  transfer.user_data_64 = 1;
  transfer.user_data_32 = 1;
  transfer.ledger = 9;
  transfer.code = 9;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_debit_account_id);
  transfer.debit_account_id = original_.debit_account_id;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_credit_account_id);
  transfer.credit_account_id = original_.credit_account_id;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_amount);
  transfer.amount = original_.amount;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_pending_id);
  transfer.pending_id = original_.pending_id;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_timeout);
  transfer.timeout = original_.timeout;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_user_data_128);
  transfer.user_data_128 = original_.user_data_128;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_user_data_64);
  transfer.user_data_64 = original_.user_data_64;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_user_data_32);
  transfer.user_data_32 = original_.user_data_32;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_ledger);
  transfer.ledger = original_.ledger;
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_code);
  transfer.code = original_.code;
  EXPECT_EQ(CreateTransfer(transfer), R::exists);
  ExpectUnchanged();
}

TEST_F(TransferExistsTest, ExistingIdIsReportedEvenWhenTheRetryWouldNowFailValidation) {
  // Step 5 (exists) comes before the account checks: an unknown account in the retry is
  // reported as a difference, not as debit_account_not_found.
  Transfer transfer = original_;
  transfer.debit_account_id = AccountId(50);  // unknown account
  EXPECT_EQ(CreateTransfer(transfer), R::exists_with_different_debit_account_id);
}

TEST_F(TransfersTest, SameIdTwiceInOneBatchIsCreatedThenExists) {
  const std::vector<Transfer> batch = {MakeTransfer(10, 1, 2, 5), MakeTransfer(10, 1, 2, 5),
                                       MakeTransfer(10, 1, 2, 6)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 3),
            (std::vector<R>{R::created, R::exists, R::exists_with_different_amount}));
  ExpectBalances(1, 0, 5, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, BalancingRetryWithTheOriginalAmountIsExists) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kDebitsMustNotExceedCredits)),
            CreateAccountResult::created);
  Fund(20, 30);
  const Transfer request = MakeTransfer(10, 20, 2, 100, tf::kBalancingDebit);
  ASSERT_EQ(CreateTransfer(request), R::created);
  EXPECT_EQ(GetTransfer(10).amount, Amt(30));
  EXPECT_EQ(CreateTransfer(request), R::exists);  // 100 >= stored 30
  Transfer exact = request;
  exact.amount = Amt(30);
  EXPECT_EQ(CreateTransfer(exact), R::exists);
  Transfer smaller = request;
  smaller.amount = Amt(29);
  EXPECT_EQ(CreateTransfer(smaller), R::exists_with_different_amount);
  ExpectBalances(20, 0, 30, 0, 30);
  ledger_.CheckInvariants();
}

// ---- id_already_failed -----------------------------------------------------------------------

TEST_F(TransfersTest, IdThatFailedForInsufficientFundsCannotSucceedLater) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kDebitsMustNotExceedCredits)),
            CreateAccountResult::created);
  const Transfer transfer = MakeTransfer(10, 20, 2, 50);
  EXPECT_EQ(CreateTransfer(transfer), R::exceeds_credits);
  Fund(20, 100);  // the funds are there now, but the id is burnt
  EXPECT_EQ(CreateTransfer(transfer), R::id_already_failed);
  ExpectBalances(20, 0, 0, 0, 100);
  EXPECT_FALSE(TransferExists(10));
  // Any later transfer with that id, even a different one, is refused.
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 3, 1)), R::id_already_failed);
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 20, 2, 50)), R::created);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, IdThatFailedForAMissingAccountIsRemembered) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 50, 5)), R::credit_account_not_found);
  CreatePlainAccounts({50});
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 50, 5)), R::id_already_failed);
  ExpectBalances(50, 0, 0, 0, 0);
}

TEST_F(TransfersTest, IdThatFailedForAClosedAccountIsRemembered) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kClosed)), CreateAccountResult::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 20, 2, 5)), R::debit_account_already_closed);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5)), R::id_already_failed);
}

TEST_F(TransfersTest, IdThatOverflowedIsRemembered) {
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, kU128Max)), R::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 1, 3, 1)), R::overflows_debits_posted);
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 3, 1, 1)), R::id_already_failed);
}

TEST_F(TransfersTest, NonTransientFailureDoesNotBurnTheId) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5, 0, 0)), R::ledger_must_not_be_zero);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 1, 5)), R::accounts_must_be_different);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 4, 5)), R::accounts_must_have_the_same_ledger);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5, 0, kLedgerEur)),
            R::transfer_must_have_the_same_ledger_as_accounts);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5)), R::created);
  ExpectBalances(1, 0, 5, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, ValidationFailureIsReportedBeforeIdAlreadyFailed) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 50, 5)), R::credit_account_not_found);
  Transfer transfer = MakeTransfer(10, 1, 50, 5);
  transfer.timestamp = Ts(1);
  EXPECT_EQ(CreateTransfer(transfer), R::timestamp_must_be_zero);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5, tf::kPending | tf::kVoidPendingTransfer)),
            R::flags_are_mutually_exclusive);
}

// ---- Timestamps and batches ------------------------------------------------------------------

TEST_F(TransfersTest, EventIsStampedFirstPlusIndexAndFailuresConsumeTheirTimestamp) {
  const Timestamp first = Ts(ledger_.last_timestamp().ns + 100);
  const std::vector<Transfer> batch = {MakeTransfer(10, 1, 2, 1), MakeTransfer(11, 1, 50, 1),
                                       MakeTransfer(12, 1, 2, 1), MakeTransfer(13, 1, 1, 1),
                                       MakeTransfer(14, 2, 3, 1)};
  EXPECT_EQ(Dense(CreateTransfers(batch, first), 5),
            (std::vector<R>{R::created, R::credit_account_not_found, R::created,
                            R::accounts_must_be_different, R::created}));
  EXPECT_EQ(GetTransfer(10).timestamp, first);
  EXPECT_EQ(GetTransfer(12).timestamp, Ts(first.ns + 2));
  EXPECT_EQ(GetTransfer(14).timestamp, Ts(first.ns + 4));
  EXPECT_EQ(ledger_.last_timestamp(), Ts(first.ns + 4));
  EXPECT_EQ(ledger_.transfer_count(), 3u);
  ledger_.CheckInvariants();
}

TEST_F(TransfersTest, BatchWhereEveryEventFailsStillAdvancesTheClock) {
  const Timestamp first = NextFirst();
  const std::vector<Transfer> batch = {MakeTransfer(10, 1, 1, 1), MakeTransfer(0, 1, 2, 1),
                                       MakeTransfer(12, 1, 50, 1)};
  EXPECT_EQ(Dense(CreateTransfers(batch, first), 3),
            (std::vector<R>{R::accounts_must_be_different, R::id_must_not_be_zero,
                            R::credit_account_not_found}));
  EXPECT_EQ(ledger_.last_timestamp(), Ts(first.ns + 2));
}

// A batch may start at any timestamp above last_timestamp(), including the last nanosecond a
// u64 can hold: its one event is stamped 2^64-1. Run in a child process, since a failed
// assertion aborts.
TEST_F(TransfersTest, EventStampedAtTheLastRepresentableNanosecondIsAccepted) {
  EXPECT_EXIT(
      {
        const std::vector<Transfer> batch = {MakeTransfer(10, 1, 2, 5)};
        std::vector<CreateTransfersResult> results;
        const bool ok = ledger_.CreateTransfers(batch, Ts(UINT64_MAX), results).ok() &&
                        results.empty() && ledger_.last_timestamp() == Ts(UINT64_MAX) &&
                        GetTransfer(10).timestamp == Ts(UINT64_MAX);
        std::exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(TransfersTest, ResultsVectorIsClearedFirst) {
  std::vector<CreateTransfersResult> results = {{3, R::exists}};
  const std::vector<Transfer> batch = {MakeTransfer(10, 1, 2, 1)};
  ASSERT_TRUE(ledger_.CreateTransfers(batch, NextFirst(), results).ok());
  EXPECT_TRUE(results.empty());
}

TEST_F(TransfersTest, OversizedBatchIsRejectedAndNothingIsApplied) {
  std::vector<Transfer> batch;
  for (u128 id = 1; id <= kBatchEventsMax + 1; ++id) batch.push_back(MakeTransfer(id, 1, 2, 1));
  const Timestamp before = ledger_.last_timestamp();
  std::vector<CreateTransfersResult> results;
  const Status<BatchError> status = ledger_.CreateTransfers(batch, NextFirst(), results);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error(), BatchError::too_many_events);
  EXPECT_EQ(ledger_.transfer_count(), 0u);
  EXPECT_FALSE(TransferExists(1));
  ExpectBalances(1, 0, 0, 0, 0);
  EXPECT_EQ(ledger_.last_timestamp(), before);
  // The largest allowed batch goes through.
  batch.pop_back();
  EXPECT_TRUE(CreateTransfers(batch).empty());
  ExpectBalances(1, 0, kBatchEventsMax, 0, 0);
  ledger_.CheckInvariants();
}

// ---- too_many_pending_transfers --------------------------------------------------------------

// At most two pending transfers open at once (LedgerOptions::pending_transfers_max); SetUp
// opens both: 10 (1 -> 2, 100) and 11 (1 -> 3, 50), 11 expiring after one second.
class PendingLimitTest : public TransfersTest {
 protected:
  static LedgerOptions TwoPending() {
    LedgerOptions options;
    options.pending_transfers_max = 2;
    return options;
  }
  PendingLimitTest() : TransfersTest(TwoPending()) {}
  void SetUp() override {
    TransfersTest::SetUp();
    ASSERT_EQ(CreateTransfer(MakePending(10, 1, 2, 100)), R::created);
    ASSERT_EQ(CreateTransfer(MakePending(11, 1, 3, 50, 1)), R::created);
    ASSERT_EQ(ledger_.pending_count(), 2u);
  }
  // Balances and counts exactly as SetUp left them.
  void ExpectAsSetUp() {
    ExpectBalances(1, 150, 0, 0, 0);
    ExpectBalances(2, 0, 0, 100, 0);
    ExpectBalances(3, 0, 0, 50, 0);
    EXPECT_EQ(ledger_.pending_count(), 2u);
    EXPECT_EQ(ledger_.transfer_count(), 2u);
    EXPECT_EQ(ledger_.GetPendingStatus(TransferId(10)), PendingStatus::pending);
    EXPECT_EQ(ledger_.GetPendingStatus(TransferId(11)), PendingStatus::pending);
  }
};

TEST_F(PendingLimitTest, PendingTransferBeyondTheLimitIsRejectedAndNothingIsApplied) {
  EXPECT_EQ(CreateTransfer(MakePending(12, 2, 3, 7)), R::too_many_pending_transfers);
  ExpectAsSetUp();
  EXPECT_FALSE(TransferExists(12));
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(12)), PendingStatus::none);
  EXPECT_TRUE(ledger_.GetAccountTransfers(MakeFilter(3, filter_flags::kDebits)).value().empty());
  // The limit counts open pending transfers only: single-phase transfers still go through.
  EXPECT_EQ(CreateTransfer(MakeTransfer(13, 2, 3, 7)), R::created);
  ExpectBalances(3, 0, 0, 50, 7);
  ledger_.CheckInvariants();
}

TEST_F(PendingLimitTest, TooManyPendingTransfersIsTransientSoTheIdIsRemembered) {
  EXPECT_EQ(CreateTransfer(MakePending(12, 2, 3, 7)), R::too_many_pending_transfers);
  ASSERT_EQ(CreateTransfer(MakePost(20, 10)), R::created);  // frees a slot
  EXPECT_EQ(CreateTransfer(MakePending(12, 2, 3, 7)), R::id_already_failed);
  EXPECT_EQ(CreateTransfer(MakePending(14, 2, 3, 7)), R::created);
}

TEST_F(PendingLimitTest, PostingFreesASlot) {
  ASSERT_EQ(CreateTransfer(MakePost(20, 10, Amt(60))), R::created);  // partial post
  EXPECT_EQ(ledger_.pending_count(), 1u);
  EXPECT_EQ(CreateTransfer(MakePending(12, 2, 3, 7)), R::created);
  EXPECT_EQ(ledger_.pending_count(), 2u);
  EXPECT_EQ(CreateTransfer(MakePending(13, 2, 3, 7)), R::too_many_pending_transfers);
  ExpectBalances(1, 50, 60, 0, 0);
  ExpectBalances(2, 7, 0, 0, 60);
  ExpectBalances(3, 0, 0, 57, 0);
  ledger_.CheckInvariants();
}

TEST_F(PendingLimitTest, VoidingFreesASlot) {
  ASSERT_EQ(CreateTransfer(MakeVoid(20, 11)), R::created);
  EXPECT_EQ(ledger_.pending_count(), 1u);
  EXPECT_EQ(CreateTransfer(MakePending(12, 2, 3, 7)), R::created);
  EXPECT_EQ(CreateTransfer(MakePending(13, 2, 3, 7)), R::too_many_pending_transfers);
  ExpectBalances(1, 100, 0, 0, 0);
  ExpectBalances(3, 0, 0, 7, 0);
  ledger_.CheckInvariants();
}

TEST_F(PendingLimitTest, ExpiryFreesASlot) {
  std::vector<ExpiredTransfer> expired;
  const Timestamp after_expiry = Ts(ledger_.last_timestamp().ns + 2 * kSecond);
  EXPECT_FALSE(ledger_.ExpirePendingTransfers(after_expiry, 10, expired));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, TransferId(11));
  EXPECT_EQ(ledger_.pending_count(), 1u);
  EXPECT_EQ(CreateTransfer(MakePending(12, 2, 3, 7)), R::created);
  EXPECT_EQ(CreateTransfer(MakePending(13, 2, 3, 7)), R::too_many_pending_transfers);
  ExpectBalances(1, 100, 0, 0, 0);
  ExpectBalances(3, 0, 0, 7, 0);
  ledger_.CheckInvariants();
}

TEST_F(PendingLimitTest, TooManyPendingTransfersRollsBackItsLinkedChain) {
  // The void frees a slot, 12 takes it, 13 finds the limit reached: the whole chain undoes,
  // including the void, so 11 is pending again and both slots are taken.
  const std::vector<Transfer> batch = {Linked(MakeTransfer(20, 2, 3, 5)), Linked(MakeVoid(21, 11)),
                                       Linked(MakePending(12, 2, 3, 7)), MakePending(13, 3, 2, 9)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 4),
            (std::vector<R>{R::linked_event_failed, R::linked_event_failed, R::linked_event_failed,
                            R::too_many_pending_transfers}));
  ExpectAsSetUp();
  for (const u128 id : {u128{20}, u128{21}, u128{12}, u128{13}}) EXPECT_FALSE(TransferExists(id));
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(12)), PendingStatus::none);
  EXPECT_EQ(CreateTransfer(MakePending(14, 2, 3, 7)), R::too_many_pending_transfers);
  // Only the event that broke the chain has its id remembered.
  EXPECT_EQ(CreateTransfer(MakePending(13, 3, 2, 9)), R::id_already_failed);
  ledger_.CheckInvariants();
}

TEST_F(PendingLimitTest, ChainThatFreesASlotBeforeUsingItIsCreated) {
  const std::vector<Transfer> batch = {Linked(MakePost(20, 10)), MakePending(12, 2, 3, 7)};
  EXPECT_TRUE(CreateTransfers(batch).empty());
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(10)), PendingStatus::posted);
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(12)), PendingStatus::pending);
  EXPECT_EQ(ledger_.pending_count(), 2u);
  ledger_.CheckInvariants();
}

}  // namespace
}  // namespace tpw::ledger::testing
