// Linked transfer chains: all-or-nothing, rollback of balances, pending state, closing flags,
// stored records and history; which ids a failed chain leaves free (docs/ledger.md, "Batches
// and linked chains" and "id_already_failed").
#include <gtest/gtest.h>

#include <vector>

#include "ledger/ledger_test_util.h"

namespace tpw::ledger::testing {
namespace {

using R = CreateTransferResult;
namespace af = account_flags;
namespace tf = transfer_flags;

// Accounts 1, 2, 3 are flag-free; 20 has debits_must_not_exceed_credits and 50 in credits.
class LinkedTest : public LedgerTest {
 protected:
  void SetUp() override {
    CreatePlainAccounts({1, 2, 3});
    ASSERT_EQ(CreateAccount(MakeAccount(20, af::kDebitsMustNotExceedCredits | af::kHistory)),
              CreateAccountResult::created);
    Fund(20, 50);
    transfers_before_ = ledger_.transfer_count();
  }
  uint64_t transfers_before_ = 0;
};

TEST_F(LinkedTest, SuccessfulChainAppliesEveryEvent) {
  const std::vector<Transfer> batch = {Linked(MakeTransfer(10, 1, 2, 5)),
                                       Linked(MakeTransfer(11, 2, 3, 4)),
                                       MakeTransfer(12, 3, 1, 3)};
  EXPECT_TRUE(CreateTransfers(batch).empty());
  ExpectBalances(1, 0, 5, 0, 3);
  ExpectBalances(2, 0, 4, 0, 5);
  ExpectBalances(3, 0, 3, 0, 4);
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, ChainFailingAtTheEndRollsBackEarlierEvents) {
  const std::vector<Transfer> batch = {Linked(MakeTransfer(10, 1, 2, 5)),
                                       Linked(MakeTransfer(11, 20, 3, 30)),
                                       MakeTransfer(12, 20, 3, 21)};  // 30 + 21 > 50
  EXPECT_EQ(Dense(CreateTransfers(batch), 3),
            (std::vector<R>{R::linked_event_failed, R::linked_event_failed, R::exceeds_credits}));
  ExpectBalances(1, 0, 0, 0, 0);
  ExpectBalances(2, 0, 0, 0, 0);
  ExpectBalances(3, 0, 0, 0, 0);
  ExpectBalances(20, 0, 0, 0, 50);
  EXPECT_FALSE(TransferExists(10));
  EXPECT_FALSE(TransferExists(11));
  EXPECT_FALSE(TransferExists(12));
  EXPECT_EQ(ledger_.transfer_count(), transfers_before_);
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, FailedChainIdsAreFreeExceptTheTransientlyFailedOne) {
  const std::vector<Transfer> batch = {Linked(MakeTransfer(10, 1, 2, 5)),
                                       Linked(MakeTransfer(11, 20, 3, 51)),
                                       MakeTransfer(12, 1, 3, 1)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 3),
            (std::vector<R>{R::linked_event_failed, R::exceeds_credits, R::linked_event_failed}));
  // The linked_event_failed events were never applied: their ids may be reused, even with
  // other fields.
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 6)), R::created);
  EXPECT_EQ(CreateTransfer(MakeTransfer(12, 1, 3, 1)), R::created);
  // The event that broke the chain failed transiently: its id is remembered.
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 20, 3, 50)), R::id_already_failed);
  ExpectBalances(20, 0, 0, 0, 50);
  ExpectBalances(2, 0, 0, 0, 6);
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, NonTransientFailureInAChainLeavesItsIdFree) {
  const std::vector<Transfer> batch = {Linked(MakeTransfer(10, 1, 2, 5)),
                                       MakeTransfer(11, 1, 1, 5)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 2),
            (std::vector<R>{R::linked_event_failed, R::accounts_must_be_different}));
  const std::vector<Transfer> fixed = {Linked(MakeTransfer(10, 1, 2, 5)),
                                       MakeTransfer(11, 1, 3, 5)};
  EXPECT_TRUE(CreateTransfers(fixed).empty());
  ExpectBalances(1, 0, 10, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, FailureInTheMiddleFailsEventsAfterItButNotOtherChains) {
  const std::vector<Transfer> batch = {
      MakeTransfer(9, 1, 2, 1),            // standalone, before
      Linked(MakeTransfer(10, 1, 2, 5)),   // chain start
      Linked(MakeTransfer(11, 1, 50, 5)),  // fails: account 50 missing
      MakeTransfer(12, 2, 3, 5),           // chain end
      MakeTransfer(13, 2, 3, 7),           // standalone, after
  };
  EXPECT_EQ(Dense(CreateTransfers(batch), 5),
            (std::vector<R>{R::created, R::linked_event_failed, R::credit_account_not_found,
                            R::linked_event_failed, R::created}));
  EXPECT_TRUE(TransferExists(9));
  EXPECT_FALSE(TransferExists(10));
  EXPECT_FALSE(TransferExists(12));
  EXPECT_TRUE(TransferExists(13));
  ExpectBalances(1, 0, 1, 0, 0);
  ExpectBalances(2, 0, 7, 0, 1);
  ExpectBalances(3, 0, 0, 0, 7);
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, EventsAfterTheFailureAreNotAppliedEvenIfValid) {
  // Event 2 would succeed on its own; as part of the failed chain it must not be applied, and
  // it must not observe the rolled-back effect of event 0 either.
  const std::vector<Transfer> batch = {Linked(MakeTransfer(10, 1, 20, 100)),
                                       Linked(MakeTransfer(11, 1, 1, 1)),
                                       MakeTransfer(12, 20, 3, 120)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 3),
            (std::vector<R>{R::linked_event_failed, R::accounts_must_be_different,
                            R::linked_event_failed}));
  ExpectBalances(20, 0, 0, 0, 50);
  ExpectBalances(3, 0, 0, 0, 0);
  EXPECT_FALSE(TransferExists(12));
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, EventAfterTheFailureIsNotRememberedEvenIfItWouldFailTransiently) {
  const std::vector<Transfer> batch = {Linked(MakeTransfer(10, 1, 1, 5)),
                                       MakeTransfer(11, 20, 3, 999)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 2),
            (std::vector<R>{R::accounts_must_be_different, R::linked_event_failed}));
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 20, 3, 10)), R::created);
  ExpectBalances(20, 0, 10, 0, 50);
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, LaterEventInAChainSeesEarlierEffects) {
  // 20 has 50; event 0 brings it to 150, so event 1 may take 120.
  const std::vector<Transfer> batch = {Linked(MakeTransfer(10, 1, 20, 100)),
                                       MakeTransfer(11, 20, 3, 120)};
  EXPECT_TRUE(CreateTransfers(batch).empty());
  ExpectBalances(20, 0, 120, 0, 150);
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, TwoChainsInOneBatchAreIndependent) {
  const std::vector<Transfer> batch = {
      Linked(MakeTransfer(10, 1, 2, 5)), MakeTransfer(11, 20, 3, 999),  // fails
      Linked(MakeTransfer(12, 1, 2, 6)), MakeTransfer(13, 2, 3, 2),     // succeeds
  };
  EXPECT_EQ(Dense(CreateTransfers(batch), 4),
            (std::vector<R>{R::linked_event_failed, R::exceeds_credits, R::created, R::created}));
  ExpectBalances(1, 0, 6, 0, 0);
  ExpectBalances(2, 0, 2, 0, 6);
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, ChainOpenAtTheEndOfTheBatchFails) {
  const std::vector<Transfer> batch = {MakeTransfer(10, 1, 2, 5), Linked(MakeTransfer(11, 1, 2, 6)),
                                       Linked(MakeTransfer(12, 2, 3, 7))};
  EXPECT_EQ(Dense(CreateTransfers(batch), 3),
            (std::vector<R>{R::created, R::linked_event_failed, R::linked_event_chain_open}));
  ExpectBalances(1, 0, 5, 0, 0);
  ExpectBalances(2, 0, 0, 0, 5);
  ExpectBalances(3, 0, 0, 0, 0);
  EXPECT_FALSE(TransferExists(11));
  EXPECT_FALSE(TransferExists(12));
  // Nothing transient happened: both ids are free.
  const std::vector<Transfer> closed_chain = {Linked(MakeTransfer(11, 1, 2, 6)),
                                              MakeTransfer(12, 2, 3, 7)};
  EXPECT_TRUE(CreateTransfers(closed_chain).empty());
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, SingleLinkedEventAtTheEndIsAnOpenChain) {
  const std::vector<Transfer> batch = {Linked(MakeTransfer(10, 1, 2, 5))};
  EXPECT_EQ(Dense(CreateTransfers(batch), 1), (std::vector<R>{R::linked_event_chain_open}));
  ExpectBalances(1, 0, 0, 0, 0);
  EXPECT_FALSE(TransferExists(10));
}

TEST_F(LinkedTest, ExistsInsideAChainCountsAsSuccess) {
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5)), R::created);
  const std::vector<Transfer> batch = {Linked(MakeTransfer(10, 1, 2, 5)),
                                       MakeTransfer(11, 2, 3, 5)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 2), (std::vector<R>{R::exists, R::created}));
  ExpectBalances(1, 0, 5, 0, 0);
  ExpectBalances(3, 0, 0, 0, 5);
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, ExistsBeforeTheFailureIsReportedAsLinkedEventFailed) {
  ASSERT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5)), R::created);
  const std::vector<Transfer> batch = {Linked(MakeTransfer(10, 1, 2, 5)),
                                       Linked(MakeTransfer(11, 2, 3, 5)),
                                       MakeTransfer(12, 1, 1, 5)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 3),
            (std::vector<R>{R::linked_event_failed, R::linked_event_failed,
                            R::accounts_must_be_different}));
  // The rollback does not undo the transfer that existed before the batch.
  EXPECT_TRUE(TransferExists(10));
  EXPECT_FALSE(TransferExists(11));
  ExpectBalances(1, 0, 5, 0, 0);
  ExpectBalances(3, 0, 0, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, IdAlreadyFailedBreaksAChain) {
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 20, 3, 51)), R::exceeds_credits);
  const std::vector<Transfer> batch = {Linked(MakeTransfer(10, 1, 2, 5)),
                                       MakeTransfer(11, 20, 3, 1)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 2),
            (std::vector<R>{R::linked_event_failed, R::id_already_failed}));
  ExpectBalances(1, 0, 0, 0, 0);
  // Transfer 10 is free.
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 5)), R::created);
}

TEST_F(LinkedTest, RolledBackTransferIdsInsideTheBatchAreFreeForLaterEvents) {
  // The failed chain created transfer 10 tentatively; a later event of the same batch may use
  // the id.
  const std::vector<Transfer> batch = {Linked(MakeTransfer(10, 1, 2, 5)),
                                       MakeTransfer(11, 1, 1, 5),  // fails
                                       MakeTransfer(10, 2, 3, 9)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 3),
            (std::vector<R>{R::linked_event_failed, R::accounts_must_be_different, R::created}));
  EXPECT_EQ(GetTransfer(10).debit_account_id, AccountId(2));
  EXPECT_EQ(GetTransfer(10).amount, Amt(9));
  ExpectBalances(1, 0, 0, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, TimestampsOfAFailedChainAreStillConsumed) {
  const Timestamp first = NextFirst();
  const std::vector<Transfer> batch = {Linked(MakeTransfer(10, 1, 2, 5)), MakeTransfer(11, 1, 1, 5),
                                       MakeTransfer(12, 2, 3, 1)};
  ASSERT_EQ(CreateTransfers(batch, first).size(), 2u);
  EXPECT_EQ(GetTransfer(12).timestamp, Ts(first.ns + 2));
  EXPECT_EQ(ledger_.last_timestamp(), Ts(first.ns + 2));
}

// ---- Rollback of two-phase state -------------------------------------------------------------

TEST_F(LinkedTest, RolledBackPendingTransferIsGone) {
  const std::vector<Transfer> batch = {Linked(MakePending(10, 1, 2, 5, 60)),
                                       MakeTransfer(11, 1, 50, 1)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 2),
            (std::vector<R>{R::linked_event_failed, R::credit_account_not_found}));
  ExpectBalances(1, 0, 0, 0, 0);
  ExpectBalances(2, 0, 0, 0, 0);
  EXPECT_EQ(ledger_.pending_count(), 0u);
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(10)), PendingStatus::none);
  EXPECT_FALSE(ledger_.NextExpiry().has_value());
  EXPECT_EQ(CreateTransfer(MakePost(12, 10)), R::pending_transfer_not_found);
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, RolledBackPostLeavesThePendingTransferPending) {
  ASSERT_EQ(CreateTransfer(MakePending(10, 1, 2, 40, 60)), R::created);
  const std::vector<Transfer> batch = {Linked(MakePost(11, 10, Amt(30))),
                                       MakeTransfer(12, 20, 3, 51)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 2),
            (std::vector<R>{R::linked_event_failed, R::exceeds_credits}));
  ExpectBalances(1, 40, 0, 0, 0);
  ExpectBalances(2, 0, 0, 40, 0);
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(10)), PendingStatus::pending);
  EXPECT_EQ(ledger_.pending_count(), 1u);
  ASSERT_TRUE(ledger_.NextExpiry().has_value());
  // It can still be posted in full.
  EXPECT_EQ(CreateTransfer(MakePost(11, 10)), R::created);
  ExpectBalances(1, 0, 40, 0, 0);
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, RolledBackVoidOfAClosingTransferKeepsTheAccountClosed) {
  ASSERT_EQ(CreateTransfer(MakePending(10, 3, 2, 0, 0, tf::kClosingDebit)), R::created);
  ASSERT_TRUE(IsClosed(3));
  const std::vector<Transfer> batch = {Linked(MakeVoid(11, 10)), MakeTransfer(12, 1, 1, 1)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 2),
            (std::vector<R>{R::linked_event_failed, R::accounts_must_be_different}));
  EXPECT_TRUE(IsClosed(3));
  EXPECT_EQ(ledger_.GetPendingStatus(TransferId(10)), PendingStatus::pending);
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, RolledBackClosingTransferReopensTheAccount) {
  const std::vector<Transfer> batch = {Linked(MakePending(10, 3, 2, 0, 0, tf::kClosingDebit)),
                                       MakeTransfer(11, 1, 1, 1)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 2),
            (std::vector<R>{R::linked_event_failed, R::accounts_must_be_different}));
  EXPECT_FALSE(IsClosed(3));
  EXPECT_EQ(CreateTransfer(MakeTransfer(12, 3, 1, 1)), R::created);
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, ClosingAndThenUsingTheAccountInOneChainFails) {
  const std::vector<Transfer> batch = {Linked(MakePending(10, 3, 2, 0, 0, tf::kClosingCredit)),
                                       MakeTransfer(11, 1, 2, 1)};
  EXPECT_EQ(Dense(CreateTransfers(batch), 2),
            (std::vector<R>{R::linked_event_failed, R::credit_account_already_closed}));
  EXPECT_FALSE(IsClosed(2));
  EXPECT_EQ(CreateTransfer(MakeTransfer(11, 1, 2, 1)), R::id_already_failed);
  EXPECT_EQ(CreateTransfer(MakeTransfer(10, 1, 2, 1)), R::created);
}

TEST_F(LinkedTest, RolledBackTransfersLeaveNoQueryResultsOrHistory) {
  const AccountFilter filter = MakeFilter(20, filter_flags::kDebits | filter_flags::kCredits);
  const Result<std::vector<AccountBalance>, QueryError> history_before =
      ledger_.GetAccountBalances(filter);
  ASSERT_TRUE(history_before.ok());
  const std::vector<Transfer> batch = {Linked(MakeTransfer(10, 1, 20, 5)),
                                       Linked(MakePending(11, 20, 2, 7)),
                                       MakeTransfer(12, 20, 3, 49)};  // 7 + 49 > 55
  EXPECT_EQ(Dense(CreateTransfers(batch), 3),
            (std::vector<R>{R::linked_event_failed, R::linked_event_failed, R::exceeds_credits}));

  const Result<std::vector<Transfer>, QueryError> transfers = ledger_.GetAccountTransfers(filter);
  ASSERT_TRUE(transfers.ok());
  EXPECT_EQ(IdsOf(*transfers), (std::vector<uint64_t>{900'000'000}));  // the funding only
  const Result<std::vector<AccountBalance>, QueryError> history =
      ledger_.GetAccountBalances(filter);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), history_before->size());
  EXPECT_EQ(ledger_.transfer_count(), transfers_before_);

  // The store is consistent after rollback: new transfers append and are found.
  ASSERT_EQ(CreateTransfer(MakeTransfer(13, 1, 20, 5)), R::created);
  const Result<std::vector<Transfer>, QueryError> after = ledger_.GetAccountTransfers(filter);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(IdsOf(*after), (std::vector<uint64_t>{900'000'000, 13}));
  EXPECT_EQ(GetTransfer(13).amount, Amt(5));
  ledger_.CheckInvariants();
}

TEST_F(LinkedTest, LongFailedChainRestoresEveryBalance) {
  std::vector<Transfer> batch;
  for (u128 i = 0; i < 1000; ++i) {
    const u128 from = 1 + i % 3;
    const u128 to = 1 + (i + 1) % 3;
    batch.push_back(Linked(MakeTransfer(1000 + i, from, to, 1 + i)));
  }
  batch.push_back(MakeTransfer(5000, 20, 1, 51));
  const std::vector<CreateTransfersResult> results = CreateTransfers(batch);
  const std::vector<R> dense = Dense(results, batch.size());
  EXPECT_EQ(results.size(), batch.size());
  EXPECT_EQ(dense.back(), R::exceeds_credits);
  for (size_t i = 0; i + 1 < dense.size(); ++i) {
    ASSERT_EQ(dense[i], R::linked_event_failed) << "event " << i;
  }
  for (u128 id : {u128{1}, u128{2}, u128{3}}) ExpectBalances(id, 0, 0, 0, 0);
  ExpectBalances(20, 0, 0, 0, 50);
  EXPECT_EQ(ledger_.transfer_count(), transfers_before_);
  ledger_.CheckInvariants();
}

}  // namespace
}  // namespace tpw::ledger::testing
