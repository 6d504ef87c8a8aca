// Two-phase transfers: pending, post (full and partial), void, closing transfers, expiry and
// ExpirePendingTransfers (docs/ledger.md, "post or void" checks and "Expiry").
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "ledger/ledger_test_util.h"

namespace tpw::ledger::testing {
namespace {

using R = CreateTransferResult;
namespace af = account_flags;
namespace tf = transfer_flags;

// Accounts 1, 2, 3 are flag-free on USD; 4 is flag-free on EUR. Transfer 100 is a pending
// transfer of 100 from 1 to 2 without timeout.
class TwoPhaseTest : public LedgerTest {
 protected:
  void SetUp() override {
    CreatePlainAccounts({1, 2, 3});
    ASSERT_EQ(CreateAccount(MakeAccount(4, 0, kLedgerEur)), CreateAccountResult::created);
    ASSERT_EQ(CreateTransfer(MakePending(kPendingId, 1, 2, 100)), R::created);
  }

  // Still exactly as SetUp left it: 100 pending from 1 to 2.
  void ExpectStillPending() {
    ExpectBalances(1, 100, 0, 0, 0);
    ExpectBalances(2, 0, 0, 100, 0);
    EXPECT_EQ(ledger_.GetPendingStatus(TransferId(kPendingId)), PendingStatus::pending);
  }

  std::vector<ExpiredTransfer> Expire(Timestamp now, size_t limit, bool* more = nullptr) {
    std::vector<ExpiredTransfer> expired;
    const bool more_remain = ledger_.ExpirePendingTransfers(now, limit, expired);
    if (more != nullptr) *more = more_remain;
    return expired;
  }

  static constexpr u128 kPendingId = 100;
};

TEST_F(TwoPhaseTest, PendingTransferReservesTheAmount) {
  ExpectStillPending();
  EXPECT_EQ(ledger_.pending_count(), 1u);
  const Transfer stored = GetTransfer(kPendingId);
  EXPECT_EQ(stored.flags, tf::kPending);
  EXPECT_EQ(stored.amount, Amt(100));
  EXPECT_FALSE(ledger_.NextExpiry().has_value());  // no timeout: never expires
  ledger_.CheckInvariants();
}

// ---- Post ------------------------------------------------------------------------------------

TEST_F(TwoPhaseTest, PostWithFullAmountMarkerPostsEverything) {
  const Timestamp first = NextFirst();
  ASSERT_EQ(CreateTransfer(MakePost(200, kPendingId, kPostFullAmount), first), R::created);
  ExpectBalances(1, 0, 100, 0, 0);
  ExpectBalances(2, 0, 0, 0, 100);
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(kPendingId)), PendingStatus::posted);
  EXPECT_EQ(ledger_.pending_count(), 0u);

  // The stored post has the resolved accounts, ledger, code and the posted amount.
  const Transfer stored = GetTransfer(200);
  EXPECT_EQ(stored.debit_account_id, AccountId(1));
  EXPECT_EQ(stored.credit_account_id, AccountId(2));
  EXPECT_EQ(stored.ledger, kLedgerUsd);
  EXPECT_EQ(stored.code, kTransferCode);
  EXPECT_EQ(stored.amount, Amt(100));
  EXPECT_EQ(stored.pending_id, TransferId(kPendingId));
  EXPECT_EQ(stored.timestamp, first);
  EXPECT_EQ(GetTransfer(kPendingId).amount, Amt(100));  // the pending record is unchanged
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, PostWithTheExactAmountPostsEverything) {
  ASSERT_EQ(CreateTransfer(MakePost(200, kPendingId, Amt(100))), R::created);
  ExpectBalances(1, 0, 100, 0, 0);
  ExpectBalances(2, 0, 0, 0, 100);
  EXPECT_EQ(GetTransfer(200).amount, Amt(100));
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, PartialPostReleasesTheRest) {
  ASSERT_EQ(CreateTransfer(MakePost(200, kPendingId, Amt(60))), R::created);
  ExpectBalances(1, 0, 60, 0, 0);
  ExpectBalances(2, 0, 0, 0, 60);
  EXPECT_EQ(GetTransfer(200).amount, Amt(60));
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(kPendingId)), PendingStatus::posted);
  // The rest is gone, not still pending: the transfer cannot be posted again.
  EXPECT_EQ(CreateTransfer(MakePost(201, kPendingId, Amt(40))), R::pending_transfer_already_posted);
  ExpectBalances(1, 0, 60, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, PostOfZeroReleasesEverything) {
  ASSERT_EQ(CreateTransfer(MakePost(200, kPendingId, Amt(0))), R::created);
  ExpectBalances(1, 0, 0, 0, 0);
  ExpectBalances(2, 0, 0, 0, 0);
  EXPECT_EQ(GetTransfer(200).amount, Amt(0));
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(kPendingId)), PendingStatus::posted);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, PostAboveThePendingAmountIsRejected) {
  EXPECT_EQ(CreateTransfer(MakePost(200, kPendingId, Amt(101))),
            R::exceeds_pending_transfer_amount);
  EXPECT_EQ(CreateTransfer(MakePost(201, kPendingId, Amt(kU128Max - 1))),
            R::exceeds_pending_transfer_amount);
  ExpectStillPending();
  EXPECT_FALSE(TransferExists(200));
  // Not transient: the id can be used for a correct post.
  EXPECT_EQ(CreateTransfer(MakePost(200, kPendingId, Amt(100))), R::created);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, PostWithMatchingExplicitFieldsIsAccepted) {
  Transfer post = MakePost(200, kPendingId, Amt(100));
  post.debit_account_id = AccountId(1);
  post.credit_account_id = AccountId(2);
  post.ledger = kLedgerUsd;
  post.code = kTransferCode;
  EXPECT_EQ(CreateTransfer(post), R::created);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, PostDoesNotRecheckBalanceLimits) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kDebitsMustNotExceedCredits)),
            CreateAccountResult::created);
  Fund(20, 50);
  ASSERT_EQ(CreateTransfer(MakePending(101, 20, 2, 50)), R::created);
  ASSERT_EQ(CreateTransfer(MakePost(200, 101)), R::created);
  ExpectBalances(20, 0, 50, 0, 50);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, PostOfAPendingBalancingTransferUsesTheClampedAmount) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kDebitsMustNotExceedCredits)),
            CreateAccountResult::created);
  Fund(20, 30);
  ASSERT_EQ(CreateTransfer(MakePending(101, 20, 2, 1000, 0, tf::kBalancingDebit)), R::created);
  EXPECT_EQ(CreateTransfer(MakePost(200, 101, Amt(31))), R::exceeds_pending_transfer_amount);
  ASSERT_EQ(CreateTransfer(MakePost(201, 101)), R::created);
  EXPECT_EQ(GetTransfer(201).amount, Amt(30));
  ExpectBalances(20, 0, 30, 0, 30);
  ledger_.CheckInvariants();
}

// ---- Void ------------------------------------------------------------------------------------

TEST_F(TwoPhaseTest, VoidWithZeroAmountReleasesThePendingAmount) {
  ASSERT_EQ(CreateTransfer(MakeVoid(200, kPendingId, Amt(0))), R::created);
  ExpectBalances(1, 0, 0, 0, 0);
  ExpectBalances(2, 0, 0, 0, 0);
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(kPendingId)), PendingStatus::voided);
  EXPECT_EQ(ledger_.pending_count(), 0u);
  const Transfer stored = GetTransfer(200);
  EXPECT_EQ(stored.amount, Amt(100));  // p's amount
  EXPECT_EQ(stored.debit_account_id, AccountId(1));
  EXPECT_EQ(stored.credit_account_id, AccountId(2));
  EXPECT_EQ(stored.ledger, kLedgerUsd);
  EXPECT_EQ(stored.code, kTransferCode);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, VoidWithTheExactAmountReleasesThePendingAmount) {
  ASSERT_EQ(CreateTransfer(MakeVoid(200, kPendingId, Amt(100))), R::created);
  ExpectBalances(1, 0, 0, 0, 0);
  ExpectBalances(2, 0, 0, 0, 0);
  EXPECT_EQ(GetTransfer(200).amount, Amt(100));
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, VoidWithAnotherAmountIsRejected) {
  EXPECT_EQ(CreateTransfer(MakeVoid(200, kPendingId, Amt(50))),
            R::pending_transfer_has_different_amount);
  EXPECT_EQ(CreateTransfer(MakeVoid(200, kPendingId, Amt(101))),
            R::pending_transfer_has_different_amount);
  EXPECT_EQ(CreateTransfer(MakeVoid(200, kPendingId, kPostFullAmount)),
            R::pending_transfer_has_different_amount);
  ExpectStillPending();
}

// ---- Post/void validation --------------------------------------------------------------------

TEST_F(TwoPhaseTest, PostWithoutPendingIdIsRejected) {
  EXPECT_EQ(CreateTransfer(MakePost(200, 0)), R::pending_id_must_not_be_zero);
  EXPECT_EQ(CreateTransfer(MakeVoid(200, 0)), R::pending_id_must_not_be_zero);
  ExpectStillPending();
}

TEST_F(TwoPhaseTest, PostWithMaxPendingIdIsRejected) {
  EXPECT_EQ(CreateTransfer(MakePost(200, kU128Max)), R::pending_id_must_not_be_int_max);
}

TEST_F(TwoPhaseTest, PostThatNamesItselfIsRejected) {
  EXPECT_EQ(CreateTransfer(MakePost(200, 200)), R::pending_id_must_be_different);
  EXPECT_EQ(CreateTransfer(MakeVoid(200, 200)), R::pending_id_must_be_different);
}

TEST_F(TwoPhaseTest, PostWithTimeoutIsRejected) {
  Transfer post = MakePost(200, kPendingId);
  post.timeout = 5;
  EXPECT_EQ(CreateTransfer(post), R::timeout_reserved_for_pending_transfer);
  ExpectStillPending();
}

TEST_F(TwoPhaseTest, PostOfAnUnknownPendingTransferIsRejected) {
  EXPECT_EQ(CreateTransfer(MakePost(200, 555)), R::pending_transfer_not_found);
  EXPECT_EQ(CreateTransfer(MakeVoid(201, 555)), R::pending_transfer_not_found);
}

TEST_F(TwoPhaseTest, PendingTransferNotFoundIsTransient) {
  EXPECT_EQ(CreateTransfer(MakePost(200, 555)), R::pending_transfer_not_found);
  ASSERT_EQ(CreateTransfer(MakePending(555, 1, 2, 5)), R::created);
  EXPECT_EQ(CreateTransfer(MakePost(200, 555)), R::id_already_failed);
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(555)), PendingStatus::pending);
}

TEST_F(TwoPhaseTest, PostOfARegularTransferIsRejected) {
  ASSERT_EQ(CreateTransfer(MakeTransfer(101, 1, 2, 5)), R::created);
  EXPECT_EQ(CreateTransfer(MakePost(200, 101)), R::pending_transfer_not_pending);
  EXPECT_EQ(CreateTransfer(MakeVoid(201, 101)), R::pending_transfer_not_pending);
  ExpectBalances(1, 100, 5, 0, 0);
}

TEST_F(TwoPhaseTest, PostOfAPostIsRejected) {
  ASSERT_EQ(CreateTransfer(MakePost(200, kPendingId)), R::created);
  EXPECT_EQ(CreateTransfer(MakePost(201, 200)), R::pending_transfer_not_pending);
}

TEST_F(TwoPhaseTest, PostWithAnotherDebitAccountIsRejected) {
  Transfer post = MakePost(200, kPendingId);
  post.debit_account_id = AccountId(3);
  EXPECT_EQ(CreateTransfer(post), R::pending_transfer_has_different_debit_account_id);
  ExpectStillPending();
}

TEST_F(TwoPhaseTest, PostWithAnotherCreditAccountIsRejected) {
  Transfer post = MakePost(200, kPendingId);
  post.credit_account_id = AccountId(3);
  EXPECT_EQ(CreateTransfer(post), R::pending_transfer_has_different_credit_account_id);
  ExpectStillPending();
}

TEST_F(TwoPhaseTest, PostWithAnotherLedgerIsRejected) {
  Transfer post = MakePost(200, kPendingId);
  post.ledger = kLedgerEur;
  EXPECT_EQ(CreateTransfer(post), R::pending_transfer_has_different_ledger);
  ExpectStillPending();
}

TEST_F(TwoPhaseTest, VoidWithAnotherCodeIsRejected) {
  Transfer void_transfer = MakeVoid(200, kPendingId);
  void_transfer.code = kTransferCode + 1;
  EXPECT_EQ(CreateTransfer(void_transfer), R::pending_transfer_has_different_code);
  ExpectStillPending();
}

TEST_F(TwoPhaseTest, PostChecksAreInDocumentedOrder) {
  Transfer post = MakePost(200, 555, Amt(1000));
  post.timeout = 1;
  post.debit_account_id = AccountId(3);
  post.code = 9;
  EXPECT_EQ(CreateTransfer(post), R::timeout_reserved_for_pending_transfer);
  post.timeout = 0;
  EXPECT_EQ(CreateTransfer(post), R::pending_transfer_not_found);
  post.id = TransferId(201);  // 200 is burnt now
  post.pending_id = TransferId(kPendingId);
  EXPECT_EQ(CreateTransfer(post), R::pending_transfer_has_different_debit_account_id);
  post.debit_account_id = AccountId(0);
  EXPECT_EQ(CreateTransfer(post), R::pending_transfer_has_different_code);
  post.code = 0;
  EXPECT_EQ(CreateTransfer(post), R::exceeds_pending_transfer_amount);
  ExpectStillPending();
}

TEST_F(TwoPhaseTest, SecondPostOfThePendingTransferIsRejected) {
  ASSERT_EQ(CreateTransfer(MakePost(200, kPendingId)), R::created);
  EXPECT_EQ(CreateTransfer(MakePost(201, kPendingId)), R::pending_transfer_already_posted);
  EXPECT_EQ(CreateTransfer(MakeVoid(202, kPendingId)), R::pending_transfer_already_posted);
  ExpectBalances(1, 0, 100, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, PostAfterVoidIsRejected) {
  ASSERT_EQ(CreateTransfer(MakeVoid(200, kPendingId)), R::created);
  EXPECT_EQ(CreateTransfer(MakePost(201, kPendingId)), R::pending_transfer_already_voided);
  EXPECT_EQ(CreateTransfer(MakeVoid(202, kPendingId)), R::pending_transfer_already_voided);
  ExpectBalances(1, 0, 0, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, AmountIsCheckedBeforeAlreadyPosted) {
  ASSERT_EQ(CreateTransfer(MakePost(200, kPendingId)), R::created);
  EXPECT_EQ(CreateTransfer(MakePost(201, kPendingId, Amt(101))),
            R::exceeds_pending_transfer_amount);
  EXPECT_EQ(CreateTransfer(MakeVoid(202, kPendingId, Amt(7))),
            R::pending_transfer_has_different_amount);
}

TEST_F(TwoPhaseTest, PostAndVoidOfTheSamePendingInOneBatch) {
  const std::vector<Transfer> batch = {MakePost(200, kPendingId, Amt(30)),
                                       MakeVoid(201, kPendingId)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 2),
            (std::vector<R>{R::created, R::pending_transfer_already_posted}));
  ExpectBalances(1, 0, 30, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, PendingAndItsPostInOneBatch) {
  const std::vector<Transfer> batch = {MakePending(101, 1, 3, 40), MakePost(200, 101, Amt(25))};
  EXPECT_TRUE(CreateTransfers(batch).empty());
  ExpectBalances(3, 0, 0, 0, 25);
  ledger_.CheckInvariants();
}

// ---- Idempotency of posts and voids ----------------------------------------------------------

TEST_F(TwoPhaseTest, RepeatedPostIsExists) {
  ASSERT_EQ(CreateTransfer(MakePost(200, kPendingId, Amt(60))), R::created);
  EXPECT_EQ(CreateTransfer(MakePost(200, kPendingId, Amt(60))), R::exists);
  Transfer explicit_fields = MakePost(200, kPendingId, Amt(60));
  explicit_fields.debit_account_id = AccountId(1);
  explicit_fields.credit_account_id = AccountId(2);
  explicit_fields.ledger = kLedgerUsd;
  explicit_fields.code = kTransferCode;
  EXPECT_EQ(CreateTransfer(explicit_fields), R::exists);
  ExpectBalances(1, 0, 60, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, RepeatedFullPostWithTheMarkerIsExists) {
  ASSERT_EQ(CreateTransfer(MakePost(200, kPendingId)), R::created);
  EXPECT_EQ(CreateTransfer(MakePost(200, kPendingId)), R::exists);
  ExpectBalances(1, 0, 100, 0, 0);
}

TEST_F(TwoPhaseTest, RepeatedPostWithAnotherAmountIsRejected) {
  ASSERT_EQ(CreateTransfer(MakePost(200, kPendingId, Amt(60))), R::created);
  EXPECT_EQ(CreateTransfer(MakePost(200, kPendingId, Amt(59))), R::exists_with_different_amount);
}

TEST_F(TwoPhaseTest, RepeatedPostWithAnotherPendingIdIsRejected) {
  ASSERT_EQ(CreateTransfer(MakePending(101, 1, 2, 100)), R::created);
  ASSERT_EQ(CreateTransfer(MakePost(200, kPendingId, Amt(100))), R::created);
  EXPECT_EQ(CreateTransfer(MakePost(200, 101, Amt(100))), R::exists_with_different_pending_id);
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(101)), PendingStatus::pending);
}

TEST_F(TwoPhaseTest, RepeatedPostWithAnotherDebitAccountIsRejected) {
  ASSERT_EQ(CreateTransfer(MakePost(200, kPendingId, Amt(100))), R::created);
  Transfer post = MakePost(200, kPendingId, Amt(100));
  post.debit_account_id = AccountId(3);
  EXPECT_EQ(CreateTransfer(post), R::exists_with_different_debit_account_id);
}

TEST_F(TwoPhaseTest, RepeatedPostAsAVoidIsRejected) {
  ASSERT_EQ(CreateTransfer(MakePost(200, kPendingId)), R::created);
  EXPECT_EQ(CreateTransfer(MakeVoid(200, kPendingId)), R::exists_with_different_flags);
}

TEST_F(TwoPhaseTest, RepeatedVoidIsExistsWithZeroOrTheAmount) {
  ASSERT_EQ(CreateTransfer(MakeVoid(200, kPendingId)), R::created);
  EXPECT_EQ(CreateTransfer(MakeVoid(200, kPendingId, Amt(0))), R::exists);
  EXPECT_EQ(CreateTransfer(MakeVoid(200, kPendingId, Amt(100))), R::exists);
  EXPECT_EQ(CreateTransfer(MakeVoid(200, kPendingId, Amt(99))), R::exists_with_different_amount);
  ExpectBalances(1, 0, 0, 0, 0);
}

// ---- Closing transfers -----------------------------------------------------------------------

TEST_F(TwoPhaseTest, ClosingDebitClosesTheDebitAccountAndVoidReopensIt) {
  ASSERT_EQ(CreateTransfer(MakePending(101, 3, 2, 0, 0, tf::kClosingDebit)), R::created);
  EXPECT_TRUE(IsClosed(3));
  EXPECT_FALSE(IsClosed(2));
  EXPECT_EQ(CreateTransfer(MakeTransfer(102, 3, 1, 5)), R::debit_account_already_closed);
  EXPECT_EQ(CreateTransfer(MakeTransfer(103, 1, 3, 5)), R::credit_account_already_closed);
  EXPECT_EQ(CreateTransfer(MakePending(104, 3, 1, 5)), R::debit_account_already_closed);
  ExpectBalances(3, 0, 0, 0, 0);

  ASSERT_EQ(CreateTransfer(MakeVoid(200, 101)), R::created);
  EXPECT_FALSE(IsClosed(3));
  EXPECT_EQ(CreateTransfer(MakeTransfer(105, 3, 1, 5)), R::created);
  ExpectBalances(3, 0, 5, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, ClosingCreditClosesTheCreditAccountAndVoidReopensIt) {
  ASSERT_EQ(CreateTransfer(MakePending(101, 1, 3, 7, 0, tf::kClosingCredit)), R::created);
  EXPECT_TRUE(IsClosed(3));
  EXPECT_FALSE(IsClosed(1));
  EXPECT_EQ(CreateTransfer(MakeTransfer(102, 2, 3, 5)), R::credit_account_already_closed);
  ExpectBalances(3, 0, 0, 7, 0);
  ASSERT_EQ(CreateTransfer(MakeVoid(200, 101)), R::created);
  EXPECT_FALSE(IsClosed(3));
  ExpectBalances(3, 0, 0, 0, 0);
  EXPECT_EQ(CreateTransfer(MakeTransfer(103, 2, 3, 5)), R::created);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, ClosingBothAccountsAndVoidReopensBoth) {
  ASSERT_EQ(CreateTransfer(MakePending(101, 1, 3, 1, 0, tf::kClosingDebit | tf::kClosingCredit)),
            R::created);
  EXPECT_TRUE(IsClosed(1));
  EXPECT_TRUE(IsClosed(3));
  ASSERT_EQ(CreateTransfer(MakeVoid(200, 101)), R::created);
  EXPECT_FALSE(IsClosed(1));
  EXPECT_FALSE(IsClosed(3));
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, PostingAClosingTransferKeepsTheAccountClosed) {
  ASSERT_EQ(CreateTransfer(MakePending(101, 3, 2, 0, 0, tf::kClosingDebit)), R::created);
  ASSERT_EQ(CreateTransfer(MakePost(200, 101)), R::created);
  EXPECT_TRUE(IsClosed(3));
  EXPECT_EQ(CreateTransfer(MakeTransfer(102, 3, 1, 5)), R::debit_account_already_closed);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, PendingTransfersOfAClosedAccountCanStillBeResolved) {
  // 1 holds kPendingId (100 to 2); closing 1 does not block posting what was already reserved.
  ASSERT_EQ(CreateTransfer(MakePending(101, 1, 3, 0, 0, tf::kClosingDebit)), R::created);
  ASSERT_TRUE(IsClosed(1));
  EXPECT_EQ(CreateTransfer(MakePost(200, kPendingId)), R::created);
  ExpectBalances(1, 0, 100, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, ClosedAccountFailureIsTransient) {
  ASSERT_EQ(CreateTransfer(MakePending(101, 3, 2, 0, 0, tf::kClosingDebit)), R::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(102, 3, 1, 5)), R::debit_account_already_closed);
  ASSERT_EQ(CreateTransfer(MakeVoid(200, 101)), R::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(102, 3, 1, 5)), R::id_already_failed);
  ExpectBalances(3, 0, 0, 0, 0);
}

// ---- Expiry ----------------------------------------------------------------------------------

TEST_F(TwoPhaseTest, PostOneNanosecondBeforeExpiryIsAccepted) {
  const Timestamp at = NextFirst();
  ASSERT_EQ(CreateTransfer(MakePending(101, 1, 3, 40, 2), at), R::created);
  const uint64_t expires_at = at.ns + 2 * kSecond;
  ASSERT_TRUE(ledger_.NextExpiry().has_value());
  EXPECT_EQ(*ledger_.NextExpiry(), Ts(expires_at));
  ASSERT_EQ(CreateTransfer(MakePost(200, 101), Ts(expires_at - 1)), R::created);
  ExpectBalances(3, 0, 0, 0, 40);
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(101)), PendingStatus::posted);
  EXPECT_FALSE(ledger_.NextExpiry().has_value());
  // Expiry time passes: nothing left to expire.
  bool more = true;
  EXPECT_TRUE(Expire(Ts(expires_at + 10), 10, &more).empty());
  EXPECT_FALSE(more);
  ExpectBalances(3, 0, 0, 0, 40);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, PostAtTheExactExpiryInstantIsExpired) {
  const Timestamp at = NextFirst();
  ASSERT_EQ(CreateTransfer(MakePending(101, 1, 3, 40, 2), at), R::created);
  const uint64_t expires_at = at.ns + 2 * kSecond;
  EXPECT_EQ(CreateTransfer(MakePost(200, 101), Ts(expires_at)), R::pending_transfer_expired);
  EXPECT_FALSE(TransferExists(200));
  ExpectBalances(3, 0, 0, 40, 0);  // not released until ExpirePendingTransfers runs
  // The sequencer's expiry pass then releases it.
  const std::vector<ExpiredTransfer> expired = Expire(NextFirst(), 10);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, TransferId(101));
  EXPECT_EQ(expired[0].amount, Amt(40));
  ExpectBalances(3, 0, 0, 0, 0);
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(101)), PendingStatus::expired);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, VoidAfterExpiryTimeBeforeTheExpiryPassIsExpired) {
  const Timestamp at = NextFirst();
  ASSERT_EQ(CreateTransfer(MakePending(101, 1, 3, 40, 1), at), R::created);
  EXPECT_EQ(CreateTransfer(MakeVoid(200, 101), Ts(at.ns + 5 * kSecond)),
            R::pending_transfer_expired);
  // pending_transfer_expired is transient: the id is burnt.
  EXPECT_EQ(CreateTransfer(MakeVoid(200, kPendingId)), R::id_already_failed);
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(kPendingId)), PendingStatus::pending);
  ExpectBalances(1, 140, 0, 0, 0);
}

TEST_F(TwoPhaseTest, PostAfterTheExpiryPassIsExpired) {
  const Timestamp at = NextFirst();
  ASSERT_EQ(CreateTransfer(MakePending(101, 1, 3, 40, 1), at), R::created);
  ExpectBalances(1, 140, 0, 0, 0);
  const std::vector<ExpiredTransfer> expired = Expire(Ts(at.ns + kSecond), 10);
  ASSERT_EQ(expired.size(), 1u);
  ExpectBalances(1, 100, 0, 0, 0);
  ExpectBalances(3, 0, 0, 0, 0);
  EXPECT_EQ(CreateTransfer(MakePost(200, 101)), R::pending_transfer_expired);
  EXPECT_EQ(CreateTransfer(MakeVoid(201, 101)), R::pending_transfer_expired);
  ExpectBalances(1, 100, 0, 0, 0);
  EXPECT_EQ(ledger_.pending_count(), 1u);  // kPendingId only
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, ExpiryPassBeforeExpiryTimeDoesNothing) {
  const Timestamp at = NextFirst();
  ASSERT_EQ(CreateTransfer(MakePending(101, 1, 3, 40, 1), at), R::created);
  bool more = true;
  EXPECT_TRUE(Expire(Ts(at.ns + kSecond - 1), 10, &more).empty());
  EXPECT_FALSE(more);
  ExpectBalances(3, 0, 0, 40, 0);
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(101)), PendingStatus::pending);
  EXPECT_EQ(*ledger_.NextExpiry(), Ts(at.ns + kSecond));
}

TEST_F(TwoPhaseTest, ExpiryPassHonoursItsLimitAndGoesEarliestFirst) {
  const Timestamp at = NextFirst();
  // Timestamps at, at+1, at+2; expiries at+3s, at+1+1s, at+2+2s: order 102, 103, 101.
  const std::vector<Transfer> batch = {MakePending(101, 1, 3, 10, 3), MakePending(102, 1, 3, 20, 1),
                                       MakePending(103, 1, 3, 30, 2)};
  ASSERT_TRUE(CreateTransfers(batch, at).empty());
  EXPECT_EQ(*ledger_.NextExpiry(), Ts(at.ns + 1 + kSecond));

  const Timestamp now = Ts(at.ns + 3 * kSecond);  // all three are due
  bool more = false;
  std::vector<ExpiredTransfer> expired = Expire(now, 2, &more);
  EXPECT_TRUE(more);
  ASSERT_EQ(expired.size(), 2u);
  EXPECT_EQ(expired[0].id, TransferId(102));
  EXPECT_EQ(expired[0].amount, Amt(20));
  EXPECT_EQ(expired[1].id, TransferId(103));
  EXPECT_EQ(expired[1].amount, Amt(30));
  ExpectBalances(3, 0, 0, 10, 0);
  EXPECT_EQ(*ledger_.NextExpiry(), Ts(at.ns + 3 * kSecond));
  EXPECT_GE(ledger_.last_timestamp(), Ts(now.ns + 1));  // stamped now, now+1

  expired = Expire(NextFirst(), 2, &more);
  EXPECT_FALSE(more);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, TransferId(101));
  ExpectBalances(3, 0, 0, 0, 0);
  ExpectBalances(1, 100, 0, 0, 0);
  EXPECT_FALSE(ledger_.NextExpiry().has_value());
  for (const u128 id : {u128{101}, u128{102}, u128{103}}) {
    EXPECT_EQ(ledger_.GetPendingStatus(TransferId(id)), PendingStatus::expired);
  }
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, ExpiryPassReportsMoreWhenItStopsAtTheLimit) {
  const Timestamp at = NextFirst();
  const std::vector<Transfer> batch = {MakePending(101, 1, 3, 1, 1), MakePending(102, 1, 3, 1, 1)};
  ASSERT_TRUE(CreateTransfers(batch, at).empty());
  bool more = false;
  EXPECT_EQ(Expire(Ts(at.ns + 2 * kSecond), 1, &more).size(), 1u);
  EXPECT_TRUE(more);
  EXPECT_EQ(Expire(NextFirst(), 1, &more).size(), 1u);
  EXPECT_FALSE(more);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, ExpiryReleasesFundsOfALimitedAccount) {
  ASSERT_EQ(CreateAccount(MakeAccount(20, af::kDebitsMustNotExceedCredits)),
            CreateAccountResult::created);
  Fund(20, 50);
  const Timestamp at = NextFirst();
  ASSERT_EQ(CreateTransfer(MakePending(101, 20, 2, 50, 1), at), R::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(102, 20, 2, 1)), R::exceeds_credits);
  ASSERT_EQ(Expire(Ts(at.ns + kSecond), 10).size(), 1u);
  ExpectBalances(20, 0, 0, 0, 50);
  EXPECT_EQ(CreateTransfer(MakeTransfer(103, 20, 2, 50)), R::created);
  ledger_.CheckInvariants();
}

TEST_F(TwoPhaseTest, VoidedTransferIsNotExpiredLater) {
  const Timestamp at = NextFirst();
  ASSERT_EQ(CreateTransfer(MakePending(101, 1, 3, 40, 1), at), R::created);
  ASSERT_EQ(CreateTransfer(MakeVoid(200, 101)), R::created);
  EXPECT_FALSE(ledger_.NextExpiry().has_value());
  EXPECT_TRUE(Expire(Ts(at.ns + 2 * kSecond), 10).empty());
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(101)), PendingStatus::voided);
  ExpectBalances(1, 100, 0, 0, 0);
  ledger_.CheckInvariants();
}

}  // namespace
}  // namespace tpw::ledger::testing
