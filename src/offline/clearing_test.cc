// Clearing's classification: every classification and invalid reason, intra-batch double
// spends, out-of-order uploads across terminals, repeated uploads, failed settlements, sync
// voiding, revocation and the exceptions queue. Signatures are given as checked flags here;
// their verification is tested with the crypto wrappers.
#include "offline/clearing.h"

#include <gtest/gtest.h>

namespace tpw::offline {
namespace {

constexpr u128 kDevice = 1001;
constexpr u128 kTerminalA = 2001;
constexpr u128 kTerminalB = 2002;
constexpr u128 kMerchant = 3001;

DeviceCertificate Certificate(uint64_t serial = 1) {
  DeviceCertificate c;
  c.issuer_key_id = 1;
  c.serial = serial;
  c.device_id = kDevice;
  c.reserve_account_id = 500;
  c.asset = 1;
  c.payment_count_max = 5;
  c.per_payment_max = Amount::FromMinor(1000);
  c.allowance = Amount::FromMinor(2500);
  c.counter_first = 10;
  c.cvm_threshold = Amount::FromMinor(800);
  c.valid_from = 1000;
  c.valid_until = 100000;
  return c;
}

class ClearingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clearing_.RecordCertificate(Certificate(), AccountId{400});
    clearing_.RegisterTerminal(TerminalRecord{kTerminalA, kMerchant, AccountId{600}, {}, true});
    clearing_.RegisterTerminal(TerminalRecord{kTerminalB, kMerchant, AccountId{600}, {}, true});
  }

  CheckedToken Token(uint64_t counter, uint64_t amount, u128 terminal = kTerminalA,
                     uint8_t variant = 0) {
    CheckedToken t;
    t.token.cvm = Cvm::pin;
    t.token.asset = 1;
    t.token.certificate = Certificate();
    t.token.counter = counter;
    t.token.amount = Amount::FromMinor(amount);
    t.token.merchant_id = kMerchant;
    t.token.terminal_id = terminal;
    t.token.terminal_time = 5000;
    t.token.nonce[0] = variant;
    t.token_id = crypto::Blake2b256(Encode(t.token));
    t.certificate_hash = crypto::Blake2b256(Encode(t.token.certificate));
    t.certificate_signature_ok = true;
    t.token_signature_ok = true;
    return t;
  }

  // Uploads tokens as one batch; every planned settlement succeeds unless `failing` says.
  std::vector<TokenOutcome> Upload(std::vector<CheckedToken> tokens, u128 terminal = kTerminalA,
                                   uint8_t batch_number = 1, std::vector<bool> failing = {},
                                   uint64_t upload_time_ms = 6000) {
    TerminalBatch batch;
    batch.terminal_id = terminal;
    batch.batch_id[0] = batch_number;
    batch.batch_id[1] = static_cast<uint8_t>(terminal);
    for (const CheckedToken& t : tokens) batch.tokens.push_back(t.token);
    const crypto::Hash256 hash = crypto::Blake2b256(Encode(batch));
    EXPECT_FALSE(clearing_.CheckBatch(batch, true, hash).has_value());
    BatchPlan plan = clearing_.Plan(batch, hash, tokens, upload_time_ms);
    std::vector<bool> ok(plan.settlements.size(), true);
    for (size_t i = 0; i < failing.size() && i < ok.size(); ++i) ok[i] = !failing[i];
    return clearing_.Commit(plan, hash, tokens, ok);
  }

  Clearing clearing_;
};

TEST_F(ClearingTest, AnHonestTokenClearsOnceAndAgainIsADuplicate) {
  const CheckedToken token = Token(10, 500);
  auto first = Upload({token});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].classification, Classification::cleared);
  auto again = Upload({token}, kTerminalA, 2);  // a new batch holding the same token
  EXPECT_EQ(again[0].classification, Classification::duplicate);
  EXPECT_EQ(clearing_.Certificate(1)->cleared_total, Amount::FromMinor(500));
  EXPECT_TRUE(clearing_.Exceptions(true).empty());
}

TEST_F(ClearingTest, TheSameBatchUploadedTwiceGivesTheSameResultsAndChangesNothing) {
  const CheckedToken token = Token(10, 500);
  auto first = Upload({token});
  auto repeat = Upload({token});  // same batch id and bytes
  ASSERT_EQ(repeat.size(), 1u);
  EXPECT_EQ(repeat[0].classification, Classification::cleared);
  EXPECT_EQ(clearing_.Certificate(1)->cleared_total, Amount::FromMinor(500));
}

TEST_F(ClearingTest, ABatchIdReusedWithOtherContentsIsRejected) {
  Upload({Token(10, 500)});
  TerminalBatch other;
  other.terminal_id = kTerminalA;
  other.batch_id[0] = 1;
  other.batch_id[1] = static_cast<uint8_t>(kTerminalA);
  other.tokens.push_back(Token(11, 100).token);
  EXPECT_EQ(clearing_.CheckBatch(other, true, crypto::Blake2b256(Encode(other))),
            BatchRejection::batch_id_reused);
}

TEST_F(ClearingTest, ACloneSpendingOneCounterAtTwoTerminalsIsADoubleSpendWithProof) {
  const CheckedToken original = Token(12, 300, kTerminalA, 1);
  const CheckedToken clone = Token(12, 300, kTerminalB, 2);
  // Terminal B uploads first: order does not matter, the second one is the double spend.
  auto b = Upload({clone}, kTerminalB);
  EXPECT_EQ(b[0].classification, Classification::cleared);
  auto a = Upload({original}, kTerminalA);
  ASSERT_EQ(a[0].classification, Classification::double_spend);
  EXPECT_EQ(a[0].conflicting_token_id, clone.token_id);
  EXPECT_TRUE(clearing_.Device(kDevice)->revoked);
  EXPECT_EQ(clearing_.deny_list_version(), 1u);
  EXPECT_EQ(clearing_.DeniedDevices(), std::vector<u128>{kDevice});
  auto exceptions = clearing_.Exceptions(true);
  ASSERT_EQ(exceptions.size(), 1u);
  EXPECT_EQ(exceptions[0].classification, Classification::double_spend);
  EXPECT_EQ(exceptions[0].token_id, original.token_id);
  EXPECT_EQ(exceptions[0].conflicting_token_id, clone.token_id);
}

TEST_F(ClearingTest, TwoTokensWithOneCounterInOneBatchAreJudgedAsIfUploadedApart) {
  auto outcomes = Upload({Token(13, 100, kTerminalA, 1), Token(13, 100, kTerminalA, 2)});
  EXPECT_EQ(outcomes[0].classification, Classification::cleared);
  EXPECT_EQ(outcomes[1].classification, Classification::double_spend);
}

TEST_F(ClearingTest, PaymentsPastTheAllowanceAreOverAllowance) {
  auto outcomes = Upload({Token(10, 1000), Token(11, 1000), Token(12, 600)});
  EXPECT_EQ(outcomes[0].classification, Classification::cleared);
  EXPECT_EQ(outcomes[1].classification, Classification::cleared);
  EXPECT_EQ(outcomes[2].classification, Classification::over_allowance);  // 2600 > 2500
  EXPECT_EQ(clearing_.Exceptions(true).size(), 1u);
}

// Found by `tpwallet simulate offline --devices 10000 --terminals 200 --payments 200000`
// (seed 1: ten such pairs, counted as double_spends_missed_behind_over_allowance). A clone's
// token that is over_allowance does not record its (device, counter), so the other copy's
// token with the same
// counter, uploaded later, clears: two different tokens with one counter reached clearing, the
// double spend is never classified and the device is not revoked. Clearing keys double spends
// on *cleared* counters only (docs/offline-protocol.md, "Clearing"), while "Loss bound" promises
// detection "as soon as both tokens are uploaded". Disabled until clearing decides: fixing it
// changes classification (and so replay of existing journals) and the snapshot layout.
TEST_F(ClearingTest, ACounterFirstSeenOverAllowanceIsStillADoubleSpendLater) {
  ASSERT_EQ(Upload({Token(10, 1000), Token(11, 1000)})[1].classification, Classification::cleared);
  // One copy spends counter 12 past the allowance (2000 + 600 > 2500) ...
  const CheckedToken first = Token(12, 600, kTerminalA, 1);
  ASSERT_EQ(Upload({first}, kTerminalA, 2)[0].classification, Classification::over_allowance);
  // ... the other copy spends counter 12 again, small enough to fit.
  const auto second = Upload({Token(12, 400, kTerminalB, 2)}, kTerminalB, 3);
  EXPECT_EQ(second[0].classification, Classification::double_spend);
  EXPECT_EQ(second[0].conflicting_token_id, first.token_id);
  EXPECT_TRUE(clearing_.Device(kDevice)->revoked);
}

TEST_F(ClearingTest, ASettlementTheLedgerRefusesBecomesOverAllowance) {
  auto outcomes = Upload({Token(10, 100)}, kTerminalA, 1, {true});
  EXPECT_EQ(outcomes[0].classification, Classification::over_allowance);
  EXPECT_EQ(clearing_.Certificate(1)->cleared_total, Amount::Zero());
}

TEST_F(ClearingTest, EveryInvalidReasonIsDetected) {
  struct Case {
    InvalidReason reason;
    std::function<void(CheckedToken&)> spoil;
  };
  const std::vector<Case> cases = {
      {InvalidReason::bad_certificate_signature, [](CheckedToken& t) { t.certificate_signature_ok = false; }},
      {InvalidReason::unknown_certificate, [](CheckedToken& t) { t.token.certificate.serial = 99; }},
      {InvalidReason::unknown_certificate, [](CheckedToken& t) { t.token.certificate.allowance = Amount::FromMinor(9999); }},
      {InvalidReason::bad_token_signature, [](CheckedToken& t) { t.token_signature_ok = false; }},
      {InvalidReason::wrong_terminal, [](CheckedToken& t) { t.token.terminal_id = kTerminalB; }},
      {InvalidReason::merchant_mismatch, [](CheckedToken& t) { t.token.merchant_id = 7; }},
      {InvalidReason::asset_mismatch, [](CheckedToken& t) { t.token.asset = 2; }},
      {InvalidReason::certificate_expired, [](CheckedToken& t) { t.token.terminal_time = 100000; }},
      {InvalidReason::certificate_expired, [](CheckedToken& t) { t.token.terminal_time = 999; }},
      {InvalidReason::counter_out_of_range, [](CheckedToken& t) { t.token.counter = 9; }},
      {InvalidReason::counter_out_of_range, [](CheckedToken& t) { t.token.counter = 15; }},
      // Counter 10 is taken by the authentic wrong_terminal and merchant_mismatch tokens above:
      // these two use their own counters, or they would be double spends.
      {InvalidReason::over_per_payment_max, [](CheckedToken& t) { t.token.amount = Amount::FromMinor(1001); t.token.counter = 11; }},
      {InvalidReason::cvm_missing, [](CheckedToken& t) { t.token.cvm = Cvm::none; t.token.counter = 12; }},
  };
  uint8_t batch = 1;
  for (const Case& c : cases) {
    CheckedToken token = Token(10, 900, kTerminalA, batch);
    c.spoil(token);
    token.token_id = crypto::Blake2b256(Encode(token.token));
    token.certificate_hash = crypto::Blake2b256(Encode(token.token.certificate));
    auto outcomes = Upload({token}, kTerminalA, batch++);
    ASSERT_EQ(outcomes.size(), 1u);
    EXPECT_EQ(outcomes[0].classification, Classification::invalid) << InvalidReasonName(c.reason);
    EXPECT_EQ(outcomes[0].reason, c.reason) << InvalidReasonName(c.reason);
  }
  EXPECT_EQ(clearing_.Exceptions(true).size(), cases.size());
  EXPECT_EQ(clearing_.Certificate(1)->cleared_total, Amount::Zero());
}

TEST_F(ClearingTest, ExceptionPagesFollowTheFilterTheCursorAndTheScanBudget) {
  // Ten invalid tokens (over the per-payment maximum), alternately at terminals A and B: ids
  // 1..10, odd ids at A. Ids 2 and 3 are then resolved.
  for (uint64_t i = 0; i < 10; ++i) {
    const u128 terminal = i % 2 == 0 ? kTerminalA : kTerminalB;
    CheckedToken token = Token(20 + i, 1001, terminal);
    ASSERT_EQ(Upload({token}, terminal, static_cast<uint8_t>(10 + i))[0].classification,
              Classification::invalid);
  }
  ASSERT_TRUE(clearing_.ResolveException(2, ExceptionRecord::Status::rejected));
  ASSERT_TRUE(clearing_.ResolveException(3, ExceptionRecord::Status::rejected));
  auto ids = [](const ExceptionsPage& page) {
    std::vector<uint64_t> out;
    for (const ExceptionRecord& e : page.records) out.push_back(e.id);
    return out;
  };

  ExceptionFilter open_at_a;
  open_at_a.status = ExceptionRecord::Status::open;
  open_at_a.terminal_id = kTerminalA;
  open_at_a.limit = 2;
  ExceptionsPage page = clearing_.Exceptions(open_at_a);
  EXPECT_EQ(ids(page), (std::vector<uint64_t>{1, 5}));
  EXPECT_EQ(page.next_after, 5u) << "a full page continues after its last record";
  open_at_a.after = page.next_after;
  page = clearing_.Exceptions(open_at_a);
  EXPECT_EQ(ids(page), (std::vector<uint64_t>{7, 9}));
  EXPECT_EQ(page.next_after, 9u);
  open_at_a.after = page.next_after;
  page = clearing_.Exceptions(open_at_a);
  EXPECT_TRUE(page.records.empty());
  EXPECT_EQ(page.next_after, 0u) << "nothing after id 9 matches: the last page says so";

  // A scan budget ends a page early, with a cursor to go on from: three records looked at.
  ExceptionFilter resolved;
  resolved.status = ExceptionRecord::Status::rejected;
  resolved.scan_max = 3;
  resolved.after = 3;
  page = clearing_.Exceptions(resolved);
  EXPECT_TRUE(page.records.empty());
  EXPECT_EQ(page.next_after, 6u);
  resolved.after = 0;
  page = clearing_.Exceptions(resolved);
  EXPECT_EQ(ids(page), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(page.next_after, 3u);

  // No filter, no limit: everything in id order; a cursor past the end is an empty last page.
  EXPECT_EQ(clearing_.Exceptions(ExceptionFilter{}).records.size(), 10u);
  ExceptionFilter past{};
  past.after = 99;
  EXPECT_TRUE(clearing_.Exceptions(past).records.empty());
  EXPECT_EQ(clearing_.Exceptions(past).next_after, 0u);
}

TEST_F(ClearingTest, CountersAboveTheSyncDeclarationAreVoid) {
  clearing_.VoidCountersAbove(1, 11);
  auto outcomes = Upload({Token(11, 100), Token(12, 100)});
  EXPECT_EQ(outcomes[0].classification, Classification::cleared);
  EXPECT_EQ(outcomes[1].classification, Classification::invalid);
  EXPECT_EQ(outcomes[1].reason, InvalidReason::counter_after_sync);
  // The wallet stops paying before it declares: a token above the declaration is a clone's.
  EXPECT_TRUE(clearing_.Device(kDevice)->revoked);
  EXPECT_EQ(clearing_.deny_list_version(), 1u);
  ASSERT_EQ(clearing_.Exceptions(true).size(), 1u);
  EXPECT_EQ(clearing_.Exceptions(true)[0].reason, InvalidReason::counter_after_sync);
}

TEST_F(ClearingTest, TokensUploadedAfterTheClaimDeadlineAreNotPaid) {
  // The certificate is valid until 100000: its tokens are paid if uploaded before
  // 100000 + kClaimGraceMs, whenever they were made.
  const uint64_t deadline = ClaimDeadlineMs(Certificate().valid_until);
  EXPECT_EQ(deadline, 100000 + kClaimGraceMs);
  auto last_moment = Upload({Token(10, 100)}, kTerminalA, 1, {}, deadline - 1);
  EXPECT_EQ(last_moment[0].classification, Classification::cleared);
  auto too_late = Upload({Token(11, 100)}, kTerminalA, 2, {}, deadline);
  EXPECT_EQ(too_late[0].classification, Classification::invalid);
  EXPECT_EQ(too_late[0].reason, InvalidReason::claim_window_closed);
  EXPECT_EQ(clearing_.Certificate(1)->cleared_total, Amount::FromMinor(100));
  // The verdict is final: the same token comes back the same even if a clock ran backwards.
  auto again = Upload({Token(11, 100)}, kTerminalA, 3, {}, deadline - 1);
  EXPECT_EQ(again[0].reason, InvalidReason::claim_window_closed);
}

TEST_F(ClearingTest, ALateDoubleSpendIsStillADoubleSpend) {
  // Late evidence of a clone still revokes the device, though neither token is paid late.
  const uint64_t deadline = ClaimDeadlineMs(Certificate().valid_until);
  EXPECT_EQ(Upload({Token(10, 100, kTerminalA, 1)})[0].classification, Classification::cleared);
  auto late = Upload({Token(10, 200, kTerminalB, 2)}, kTerminalB, 2, {}, deadline + 1);
  EXPECT_EQ(late[0].classification, Classification::double_spend);
  EXPECT_TRUE(clearing_.Device(kDevice)->revoked);
}

TEST_F(ClearingTest, ClaimDeadlineSaturates) {
  EXPECT_EQ(ClaimDeadlineMs(UINT64_MAX - 1), UINT64_MAX);
  EXPECT_EQ(ClaimDeadlineMs(0), kClaimGraceMs);
}

TEST_F(ClearingTest, UploadsFromAnUnknownOrInactiveTerminalAreRejectedWhole) {
  TerminalBatch batch;
  batch.terminal_id = 9999;
  batch.tokens.push_back(Token(10, 1).token);
  const auto hash = crypto::Blake2b256(Encode(batch));
  EXPECT_EQ(clearing_.CheckBatch(batch, true, hash), BatchRejection::unknown_terminal);
  batch.terminal_id = kTerminalA;
  EXPECT_EQ(clearing_.CheckBatch(batch, false, hash), BatchRejection::bad_batch_signature);
  clearing_.DeactivateTerminal(kTerminalA);
  EXPECT_EQ(clearing_.CheckBatch(batch, true, hash), BatchRejection::terminal_inactive);
}

TEST_F(ClearingTest, ExceptionsAreResolvedOnce) {
  Upload({Token(10, 1001)});
  auto open = clearing_.Exceptions(true);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_TRUE(clearing_.ResolveException(open[0].id, ExceptionRecord::Status::rejected));
  EXPECT_FALSE(clearing_.ResolveException(open[0].id, ExceptionRecord::Status::paid_from_guarantee));
  EXPECT_FALSE(clearing_.ResolveException(999, ExceptionRecord::Status::rejected));
  EXPECT_TRUE(clearing_.Exceptions(true).empty());
  EXPECT_EQ(clearing_.Exceptions(false).size(), 1u);
}

TEST_F(ClearingTest, ReuploadingAnInvalidTokenOpensNoSecondException) {
  CheckedToken token = Token(10, 100);
  token.token_signature_ok = false;
  Upload({token}, kTerminalA, 1);
  auto again = Upload({token}, kTerminalA, 2);
  EXPECT_EQ(again[0].classification, Classification::invalid);
  EXPECT_EQ(clearing_.Exceptions(false).size(), 1u);
}

}  // namespace
}  // namespace tpw::offline
