// InMemoryStore: per-account transfer lists across block boundaries, rollback (pops) that
// frees blocks, block reuse, and transfer bodies written with streaming stores.
#include "ledger/store.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace tpw::ledger {
namespace {

Transfer MakeBody(uint64_t n) {
  Transfer t;
  t.id = TransferId(MakeU128(n, n + 1));
  t.amount = Amount::FromMinor(n * 3);
  t.user_data_64 = n;
  t.timestamp = Timestamp{n + 100};
  return t;
}

void ExpectList(const InMemoryStore& store, AccountNo account,
                const std::vector<TransferNo>& expected) {
  ASSERT_EQ(store.AccountTransferCount(account), expected.size()) << "account " << account;
  for (uint64_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(store.AccountTransferAt(account, i), expected[i])
        << "account " << account << " #" << i;
  }
}

TEST(InMemoryStoreTest, ListsSpanManyBlocksAndStayInOrder) {
  InMemoryStore store;
  std::vector<TransferNo> a;
  std::vector<TransferNo> b;
  for (TransferNo n = 0; n < 1000; ++n) {
    store.AppendAccountTransfer(n % 3 == 0 ? 0 : 1, n);
    (n % 3 == 0 ? a : b).push_back(n);
  }
  ExpectList(store, 0, a);
  ExpectList(store, 1, b);
  EXPECT_EQ(store.AccountTransferCount(7), 0u);  // never appended to
}

TEST(InMemoryStoreTest, PopsAcrossBlockBoundariesThenAppendsAgain) {
  InMemoryStore store;
  std::vector<TransferNo> a;
  std::vector<TransferNo> b;
  for (TransferNo n = 0; n < 300; ++n) {
    store.AppendAccountTransfer(0, n);
    a.push_back(n);
    store.AppendAccountTransfer(1, 1000 + n);
    b.push_back(1000 + n);
  }
  // Roll account 0 back over several block boundaries, all the way to empty and back.
  for (int i = 0; i < 300; ++i) {
    store.PopAccountTransfer(0);
    a.pop_back();
    if (i % 37 == 0) ExpectList(store, 0, a);
  }
  ExpectList(store, 0, a);
  ExpectList(store, 1, b);  // untouched by the other account's pops
  // Freed blocks are reused, by either account, without mixing lists.
  for (TransferNo n = 0; n < 250; ++n) {
    store.AppendAccountTransfer(n % 2, 5000 + n);
    (n % 2 == 0 ? a : b).push_back(5000 + n);
  }
  ExpectList(store, 0, a);
  ExpectList(store, 1, b);
}

TEST(InMemoryStoreTest, TransferBodiesReadBackAndTruncate) {
  InMemoryStore store;
  store.Reserve(100, 2);
  for (uint64_t n = 0; n < 70'000; ++n) store.AppendTransfer(MakeBody(n));  // > one chunk
  ASSERT_EQ(store.transfer_count(), 70'000u);
  for (uint64_t n :
       {uint64_t{0}, uint64_t{1}, uint64_t{16'383}, uint64_t{16'384}, uint64_t{69'999}}) {
    const Transfer t = store.ReadTransfer(n);
    EXPECT_TRUE(t.id.value == MakeU128(n, n + 1)) << n;
    EXPECT_TRUE(t.amount == Amount::FromMinor(n * 3)) << n;
    EXPECT_EQ(t.user_data_64, n);
    EXPECT_EQ(t.timestamp.ns, n + 100);
  }
  store.TruncateTransfers(16'384);
  EXPECT_EQ(store.transfer_count(), 16'384u);
  store.AppendTransfer(MakeBody(7));
  EXPECT_EQ(store.ReadTransfer(16'384).user_data_64, 7u);
}

}  // namespace
}  // namespace tpw::ledger
