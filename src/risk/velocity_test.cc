// Velocity features: window edges, expiry, per-asset sums, distinct counts, the key bound.
#include <gtest/gtest.h>

#include "risk/test_util.h"

namespace tpw::risk {
namespace {

using test::At;
using test::SampleEvent;

FeatureSpec Spec(FeatureKind kind, KeyKind key, uint64_t window_seconds,
                 KeyKind value = KeyKind::account) {
  FeatureSpec spec;
  spec.kind = kind;
  spec.key = key;
  spec.value = kind == FeatureKind::distinct ? value : KeyKind::account;
  spec.window_seconds = window_seconds;
  return spec;
}

Timestamp AtNs(uint64_t ns) { return Timestamp{ns}; }

TEST(RiskVelocity, EventCountsUntilExactlyOneWindowAfterItsBucketStarts) {
  FeatureTable table(Spec(FeatureKind::count, KeyKind::account, 3600), {});
  const Event e = SampleEvent();
  table.Record(e, At(7200));               // 7200 s starts a bucket (buckets of 225 s)
  EXPECT_EQ(table.Read(e, At(7199)), 0u);  // before the event
  EXPECT_EQ(table.Read(e, At(7200)), 1u);
  EXPECT_EQ(table.Read(e, AtNs(10800 * kNanosPerSecond - 1)), 1u);  // last ns of the window
  EXPECT_EQ(table.Read(e, At(10800)), 0u);                          // exactly W later: gone
}

TEST(RiskVelocity, UnalignedEventKeepsItsWholeBucket) {
  FeatureTable table(Spec(FeatureKind::count, KeyKind::account, 3600), {});
  const Event e = SampleEvent();
  table.Record(e, At(7300));  // inside the bucket [7200, 7425)
  EXPECT_EQ(table.Read(e, AtNs(10800 * kNanosPerSecond - 1)), 1u);
  EXPECT_EQ(table.Read(e, At(10800)), 0u);  // expires with its bucket: 3500 s after the event
}

TEST(RiskVelocity, CountsAccumulateAndExpireBucketByBucket) {
  FeatureTable table(Spec(FeatureKind::count, KeyKind::device, 160), {});  // buckets of 10 s
  const Event e = SampleEvent();
  for (uint64_t t = 0; t < 160; t += 10) table.Record(e, At(t));  // one per bucket
  EXPECT_EQ(table.Read(e, At(159)), 16u);
  EXPECT_EQ(table.Read(e, At(160)), 15u);
  EXPECT_EQ(table.Read(e, At(245)), 7u);
  EXPECT_EQ(table.Read(e, At(309)), 1u);  // the last event (t=150) until 150 + 160
  EXPECT_EQ(table.Read(e, At(310)), 0u);
  table.Record(e, At(1000));  // far later: the ring restarts from empty
  EXPECT_EQ(table.Read(e, At(1000)), 1u);
}

TEST(RiskVelocity, OtherKeysAndEventsWithoutTheKeyAreSeparate) {
  FeatureTable table(Spec(FeatureKind::count, KeyKind::terminal, 3600), {});
  Event a = SampleEvent();
  Event b = SampleEvent();
  b.terminal = 902;
  Event none = SampleEvent();
  none.terminal = 0;  // no terminal: not counted under a shared "0" key
  table.Record(a, At(0));
  table.Record(a, At(1));
  table.Record(none, At(2));
  EXPECT_EQ(table.Read(a, At(3)), 2u);
  EXPECT_EQ(table.Read(b, At(3)), 0u);
  EXPECT_EQ(table.Read(none, At(3)), 0u);
  EXPECT_EQ(table.keys(), 1u);
}

TEST(RiskVelocity, SumsAreExactAndPerAsset) {
  FeatureTable table(Spec(FeatureKind::sum, KeyKind::account, 86400), {});
  Event eur = SampleEvent();
  eur.amount = Amount::FromMinor(kU128Max - 5);
  table.Record(eur, At(0));
  eur.amount = Amount::FromMinor(3);
  table.Record(eur, At(1));
  EXPECT_EQ(table.Read(eur, At(2)), kU128Max - 2);
  table.Record(eur, At(2));
  table.Record(eur, At(3));
  EXPECT_EQ(table.Read(eur, At(4)), kU128Max);  // saturates, never wraps
  Event usd = SampleEvent();
  usd.asset = test::kUsd;
  usd.amount = Amount::FromMinor(700);
  table.Record(usd, At(5));
  EXPECT_EQ(table.Read(usd, At(6)), 700u);
  EXPECT_EQ(table.Read(eur, At(86399)), kU128Max);  // the bucket [0, 5400 s) is in the window
  EXPECT_EQ(table.Read(eur, At(86400)), 0u);        // until exactly 24 h after it started
}

// Sum buckets are u64 in memory; a key whose bucket passes 2^64 - 1 moves to u128 buckets.
TEST(RiskVelocity, SumBucketsPastTwoToThe64StayExactThroughSaveAndLoad) {
  const FeatureSpec spec = Spec(FeatureKind::sum, KeyKind::account, 86400);
  FeatureTable table(spec, {});
  Event e = SampleEvent();
  const u128 u64_max = UINT64_MAX;
  e.amount = Amount::FromMinor(u64_max - 1);
  table.Record(e, At(0));
  e.amount = Amount::FromMinor(1);
  table.Record(e, At(1));
  EXPECT_EQ(table.Read(e, At(2)), u64_max);  // still fits a u64 bucket
  e.amount = Amount::FromMinor(5);
  table.Record(e, At(2));  // passes 2^64 - 1: the key's buckets widen
  EXPECT_EQ(table.Read(e, At(3)), u64_max + 5);
  table.Record(e, At(6000));  // another bucket, on the wide ring
  EXPECT_EQ(table.Read(e, At(6001)), u64_max + 10);
  Event other = SampleEvent();
  other.account = e.account + 1;
  other.amount = Amount::FromMinor(u64_max);
  table.Record(other, At(6000));
  table.Record(other, At(6001));  // 2^65 - 2 over two records in one bucket
  EXPECT_EQ(table.Read(other, At(6002)), 2 * u64_max);

  BinaryWriter saved;
  table.Save(saved);
  FeatureTable loaded(spec, {});
  BinaryReader reader(saved.buffer());
  ASSERT_TRUE(loaded.LoadKeys(reader));
  EXPECT_EQ(loaded.Read(e, At(6001)), u64_max + 10);
  EXPECT_EQ(loaded.Read(other, At(6002)), 2 * u64_max);
  BinaryWriter again;
  loaded.Save(again);
  EXPECT_EQ(again.buffer(), saved.buffer());
  EXPECT_EQ(loaded.Read(e, At(86399)), u64_max + 10);  // the first bucket's last ns in window
  EXPECT_EQ(loaded.Read(e, At(86400)), 5u);            // then only the bucket of 6000 s
}

TEST(RiskVelocity, AnEvictedWideSumKeyLeavesNothingToItsSlotsNextKey) {
  VelocityOptions options;
  options.keys_max = 1;
  FeatureTable table(Spec(FeatureKind::sum, KeyKind::account, 3600), options);
  Event wide = SampleEvent();
  wide.amount = Amount::FromMinor(kU128Max / 2);
  table.Record(wide, At(0));
  Event narrow = SampleEvent();
  narrow.account = wide.account + 1;
  narrow.amount = Amount::FromMinor(7);
  table.Record(narrow, At(300));  // evicts the wide key: the slot starts from zero
  EXPECT_EQ(table.Read(narrow, At(301)), 7u);
  EXPECT_EQ(table.Read(wide, At(301)), 0u);
  table.Record(wide, At(400));  // back (evicting narrow), wide again from its first amount
  table.Record(wide, At(401));
  EXPECT_EQ(table.Read(wide, At(402)), kU128Max - 1);
  EXPECT_EQ(table.Read(narrow, At(402)), 0u);
}

// Count buckets are u16 until one passes 65535; then the key's ring is u32 on the side. Counts
// stay exact through the widening, a save and a load, and the saved bytes do not depend on it.
TEST(RiskVelocity, CountBucketsPast65535StayExactThroughSaveAndLoad) {
  const FeatureSpec spec = Spec(FeatureKind::count, KeyKind::terminal, 300);  // buckets of 18.75 s
  FeatureTable table(spec, {});
  Event e = SampleEvent();
  for (uint32_t i = 0; i < 65'535; ++i) table.Record(e, At(0));
  EXPECT_EQ(table.Read(e, At(1)), 65'535u);  // still fits a u16 bucket
  table.Record(e, At(1));                    // passes 65535: the key's buckets widen
  EXPECT_EQ(table.Read(e, At(2)), 65'536u);
  table.Record(e, At(100));  // another bucket, on the wide ring
  EXPECT_EQ(table.Read(e, At(101)), 65'537u);
  Event other = SampleEvent();
  other.terminal = e.terminal + 1;
  table.Record(other, At(100));
  EXPECT_EQ(table.Read(other, At(101)), 1u);

  BinaryWriter saved;
  table.Save(saved);
  FeatureTable loaded(spec, {});
  BinaryReader reader(saved.buffer());
  ASSERT_TRUE(loaded.LoadKeys(reader));
  EXPECT_EQ(loaded.Read(e, At(101)), 65'537u);
  EXPECT_EQ(loaded.Read(other, At(101)), 1u);
  BinaryWriter again;
  loaded.Save(again);
  EXPECT_EQ(again.buffer(), saved.buffer());
  EXPECT_EQ(loaded.Read(e, AtNs(300 * kNanosPerSecond - 1)), 65'537u);  // first bucket's last ns
  EXPECT_EQ(loaded.Read(e, At(300)), 1u);  // then only the bucket of 100 s
  loaded.Record(e, At(600));               // far later: the wide ring restarts from zero
  EXPECT_EQ(loaded.Read(e, At(601)), 1u);
}

TEST(RiskVelocity, AnEvictedWideCountKeyLeavesNothingToItsSlotsNextKey) {
  VelocityOptions options;
  options.keys_max = 1;
  FeatureTable table(Spec(FeatureKind::count, KeyKind::account, 600), options);
  Event wide = SampleEvent();
  for (uint32_t i = 0; i < 70'000; ++i) table.Record(wide, At(0));
  EXPECT_EQ(table.Read(wide, At(1)), 70'000u);
  Event narrow = SampleEvent();
  narrow.account = wide.account + 1;
  table.Record(narrow, At(300));  // evicts the wide key: the slot starts from zero
  table.Record(narrow, At(300));
  EXPECT_EQ(table.Read(narrow, At(301)), 2u);
  EXPECT_EQ(table.Read(wide, At(301)), 0u);
  table.Record(wide, At(400));  // back (evicting narrow), narrow buckets again
  EXPECT_EQ(table.Read(wide, At(401)), 1u);
  EXPECT_EQ(table.Read(narrow, At(401)), 0u);
}

TEST(RiskVelocity, DistinctCountsEachValueOnceAndSaturates) {
  FeatureTable table(Spec(FeatureKind::distinct, KeyKind::device, 3600, KeyKind::merchant), {});
  Event e = SampleEvent();
  for (int repeat = 0; repeat < 3; ++repeat) {
    for (u128 m = 1; m <= 5; ++m) {
      e.merchant = m;
      table.Record(e, At(10));
    }
  }
  EXPECT_EQ(table.Read(e, At(11)), 5u);
  for (u128 m = 100; m < 140; ++m) {
    e.merchant = m;
    table.Record(e, At(20));
  }
  EXPECT_EQ(table.Read(e, At(21)), kDistinctValuesMax);
  EXPECT_EQ(table.Read(e, At(3599)), kDistinctValuesMax);
  EXPECT_EQ(table.Read(e, At(3600)), 0u);  // all were in the bucket [0, 225 s)
  e.merchant = 0;                          // an event without the counted value is not recorded
  table.Record(e, At(5000));
  EXPECT_EQ(table.Read(e, At(5000)), 0u);
}

TEST(RiskVelocity, DistinctForgetsOldValuesFirst) {
  FeatureTable table(Spec(FeatureKind::distinct, KeyKind::device, 160, KeyKind::merchant), {});
  Event e = SampleEvent();
  e.merchant = 1;
  table.Record(e, At(0));
  e.merchant = 2;
  table.Record(e, At(100));
  EXPECT_EQ(table.Read(e, At(100)), 2u);
  EXPECT_EQ(table.Read(e, At(160)), 1u);  // merchant 1 expired with its bucket
  e.merchant = 1;
  table.Record(e, At(170));  // seen again: counts again
  EXPECT_EQ(table.Read(e, At(171)), 2u);
}

TEST(RiskVelocity, AFullTableEvictsTheCandidateRecordedLongestAgo) {
  // keys_max == kEvictionCandidates: every key is a candidate, so eviction is exact LRU (by
  // bucket; buckets of a 3600 s window are 225 s).
  VelocityOptions options;
  options.keys_max = FeatureTable::kEvictionCandidates;
  ASSERT_EQ(options.keys_max, 4u);
  FeatureTable table(Spec(FeatureKind::count, KeyKind::account, 3600), options);
  Event e = SampleEvent();
  for (u128 account = 1; account <= 4; ++account) {
    e.account = account;
    table.Record(e, At(static_cast<uint64_t>(account) * 300));  // one bucket each
  }
  e.account = 1;
  table.Record(e, At(1500));  // account 1 is now the most recent; 2 is the least recent
  e.account = 5;
  table.Record(e, At(1600));  // evicts 2
  e.account = 6;
  table.Record(e, At(1700));  // evicts 3
  EXPECT_EQ(table.keys(), 4u);
  const auto read = [&](u128 account) {
    e.account = account;
    return table.Read(e, At(1800));
  };
  EXPECT_EQ(read(1), 2u);
  EXPECT_EQ(read(2), 0u);  // evicted
  EXPECT_EQ(read(3), 0u);  // evicted
  EXPECT_EQ(read(4), 1u);
  EXPECT_EQ(read(5), 1u);
  EXPECT_EQ(read(6), 1u);
}

TEST(RiskVelocity, EvictionPrefersAnExpiredKeyAmongTheCandidates) {
  VelocityOptions options;
  options.keys_max = 64;
  FeatureTable table(Spec(FeatureKind::count, KeyKind::account, 3600), options);
  Event e = SampleEvent();
  for (u128 account = 1; account <= 64; ++account) {
    e.account = account;
    // Account 3 is recorded long before the others (expired by the time the table is full).
    table.Record(e, At(account == 3 ? 10 : 100'000));
  }
  e.account = 1000;
  table.Record(e, At(100'000));  // candidates: slots 0..3 (accounts 1..4); 3 has expired
  const auto read = [&](u128 account) {
    e.account = account;
    return table.Read(e, At(100'000));
  };
  EXPECT_EQ(read(1000), 1u);
  for (u128 account : {u128{1}, u128{2}, u128{4}, u128{64}}) EXPECT_EQ(read(account), 1u);
  e.account = 3;
  EXPECT_EQ(table.Read(e, At(20)), 0u) << "account 3 was evicted, not only expired";
}

TEST(RiskVelocity, ManyKeysThroughASmallTableStayFindable) {
  // Eviction deletes from the open-addressing index; every live key must stay findable.
  VelocityOptions options;
  options.keys_max = 64;
  FeatureTable table(Spec(FeatureKind::count, KeyKind::account, 3600), options);
  Event e = SampleEvent();
  for (u128 account = 1; account <= 10'000; ++account) {
    e.account = account;
    table.Record(e, At(1));
    ASSERT_EQ(table.Read(e, At(1)), 1u) << static_cast<uint64_t>(account);
  }
  EXPECT_EQ(table.keys(), 64u);
  for (u128 account = 10'000 - 63; account <= 10'000; ++account) {
    e.account = account;
    EXPECT_EQ(table.Read(e, At(1)), 1u);
  }
  e.account = 10'000 - 64;
  EXPECT_EQ(table.Read(e, At(1)), 0u);
}

TEST(RiskVelocity, AReservedTableHoldsItsKeysMemoryBeforeAnyKeyArrives) {
  const FeatureSpec spec = Spec(FeatureKind::sum, KeyKind::account, 3600);
  FeatureTable growing(spec, {});
  FeatureTable reserved(spec, VelocityOptions{.keys_max = 1u << 20, .reserve_keys = 100'000});
  EXPECT_EQ(reserved.reserved_keys(), 100'000u);
  EXPECT_EQ(reserved.keys(), 0u);
  // The slots for the reserved keys are held already, and the index is sized for them
  // (2^18 entries of 8 bytes); a growing table holds no slot yet and the presized 2^21 entries.
  EXPECT_GE(reserved.BytesUsed(), 100'000 * (32u + 128u) + (1u << 18) * 8u);
  EXPECT_LT(reserved.BytesUsed(), 100'000 * (32u + 128u) + (2u << 20) + (1u << 18) * 8u);
  EXPECT_GE(growing.BytesUsed(), (1u << 21) * 8u);
  const Event e = SampleEvent();
  reserved.Record(e, At(10));
  growing.Record(e, At(10));
  EXPECT_EQ(reserved.Read(e, At(11)), growing.Read(e, At(11)));
  EXPECT_EQ(reserved.keys(), 1u);
}

TEST(RiskVelocity, AFeatureReservesNoMoreThanItsKeyKindsPopulation) {
  VelocityOptions options{.keys_max = 1u << 20, .reserve_keys = 100'000};
  options.reserve_keys_max_by_key[static_cast<size_t>(KeyKind::terminal)] = 2'000;
  const FeatureTable terminals(Spec(FeatureKind::count, KeyKind::terminal, 300), options);
  const FeatureTable accounts(Spec(FeatureKind::count, KeyKind::account, 300), options);
  EXPECT_EQ(terminals.reserved_keys(), 2'000u);
  EXPECT_EQ(accounts.reserved_keys(), 100'000u);  // no population given: reserve_keys
  EXPECT_LT(terminals.BytesUsed(), accounts.BytesUsed());
  options.reserve_keys_max_by_key[static_cast<size_t>(KeyKind::account)] = 200'000;
  EXPECT_EQ(FeatureTable(Spec(FeatureKind::count, KeyKind::account, 300), options).reserved_keys(),
            100'000u);  // a cap above reserve_keys changes nothing
}

TEST(RiskVelocity, BytesPerKeyMatchTheLayout) {
  // A 32-byte header and the buckets in one slot, and two 8-byte index entries (slot, tag).
  EXPECT_EQ(FeatureTable::BytesPerKey(FeatureKind::count), 32u + 32u + 16u);  // u16 buckets
  EXPECT_EQ(FeatureTable::BytesPerKey(FeatureKind::sum), 32u + 128u + 16u);   // u64 buckets
  // 16 u16 ages beside the header, then 16 u64 fingerprints.
  EXPECT_EQ(FeatureTable::BytesPerKey(FeatureKind::distinct), 32u + 32u + 128u + 16u);
}

}  // namespace
}  // namespace tpw::risk
