// distinct() features against a model of their semantics: 16 remembered values per key, each
// with the absolute bucket it was last seen in, read at any time (late and offline events read
// far behind the key's newest bucket, and a value seen long before the newest still counts
// there), and the bytes Save writes. The table keeps the values' buckets in fewer bytes than
// the saved state does; these tests pin that it remembers exactly what the saved state says.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <vector>

#include "common/clock.h"
#include "risk/test_util.h"

namespace tpw::risk {
namespace {

using test::At;
using test::SampleEvent;

// One key of a distinct() feature as docs/risk-rules.md defines it, with u64 buckets.
struct ModelKey {
  struct Entry {
    u128 value = 0;                // 0: empty
    uint64_t bucket_plus_one = 0;  // 0: empty
  };
  bool present = false;
  uint64_t head = 0;  // the newest bucket recorded
  std::array<Entry, kDistinctValuesMax> entries{};

  void Record(u128 value, uint64_t bucket) {
    if (!present) {
      present = true;
      head = bucket;
    } else if (head >= bucket + kWindowBuckets) {
      return;  // already expired
    }
    head = std::max(head, bucket);
    // The value's own entry, else the first of the entries seen longest ago (empty ones first).
    Entry* target = &entries[0];
    for (Entry& e : entries) {
      if (e.value == value) {
        target = &e;
        break;
      }
      if (e.bucket_plus_one < target->bucket_plus_one) target = &e;
    }
    const uint64_t kept = target->value == value ? target->bucket_plus_one : 0;
    target->value = value;
    target->bucket_plus_one = std::max(kept, bucket + 1);
  }

  uint64_t Read(uint64_t now_bucket) const {
    uint64_t count = 0;
    for (const Entry& e : entries) {
      if (e.bucket_plus_one == 0) continue;
      const uint64_t bucket = e.bucket_plus_one - 1;
      if (bucket <= now_bucket && now_bucket - bucket < kWindowBuckets) ++count;
    }
    return count;
  }
};

constexpr uint64_t kBucketNs = kNanosPerSecond;  // a 16 s window: buckets of 1 s

FeatureSpec DistinctSpec() {
  FeatureSpec spec;
  spec.kind = FeatureKind::distinct;
  spec.key = KeyKind::device;
  spec.value = KeyKind::merchant;
  spec.window_seconds = kWindowBuckets * kBucketNs / kNanosPerSecond;
  return spec;
}

Event EventOf(u128 device, u128 merchant) {
  Event e = SampleEvent();
  e.device = device;
  e.merchant = merchant;
  return e;
}

// The saved table must hold, per key and in slot order, the model's head and its entries'
// buckets; fingerprints must be 0 exactly for empty entries and name values one to one.
void ExpectSavedAsModel(const std::vector<uint8_t>& saved, const std::vector<u128>& devices,
                        const std::map<u128, ModelKey>& model) {
  BinaryReader reader(saved);
  const uint32_t keys = reader.U32();
  reader.U32();  // the eviction cursor
  ASSERT_EQ(keys, devices.size());
  std::map<uint64_t, u128> value_of_fingerprint;
  for (const u128 device : devices) {  // in the order the keys were first recorded
    ASSERT_EQ(reader.U128(), device);
    ASSERT_EQ(reader.U32(), 0u);  // asset
    const ModelKey& key = model.at(device);
    ASSERT_EQ(reader.U64(), key.head);
    for (const ModelKey::Entry& entry : key.entries) {
      const uint64_t fingerprint = reader.U64();
      ASSERT_EQ(reader.U64(), entry.bucket_plus_one);
      ASSERT_EQ(fingerprint == 0, entry.value == 0);
      if (fingerprint == 0) continue;
      const auto [it, inserted] = value_of_fingerprint.emplace(fingerprint, entry.value);
      ASSERT_EQ(it->second, entry.value) << "one fingerprint for two values";
    }
  }
  ASSERT_TRUE(reader.AtEndOk());
}

FeatureTable Reloaded(const FeatureTable& table) {
  BinaryWriter saved;
  table.Save(saved);
  FeatureTable loaded(DistinctSpec(), {});
  BinaryReader reader(saved.buffer());
  EXPECT_TRUE(loaded.LoadKeys(reader));
  return loaded;
}

// Times mostly move forward a little; some events come late (behind the key's newest bucket,
// within or past the window), some after a long silence (2^16 buckets and more: a value's age
// no longer fits 16 bits), some at the end of time (then new devices carry on: the old ones
// can record nothing more). Reads look anywhere: now, behind the newest bucket, far behind it
// (where only the values seen before a silence count).
TEST(RiskVelocityDistinct, MatchesTheModelForLateAndFarApartEventsThroughSaveAndLoad) {
  SeededRandom random(7);
  FeatureTable table(DistinctSpec(), {});
  std::map<u128, ModelKey> model;
  std::vector<u128> devices;       // in the order of their first record: the table's slot order
  std::vector<uint64_t> silences;  // buckets where long silences started, to read back at
  constexpr uint64_t kStartNs = 1'000 * kBucketNs;
  uint64_t clock_ns = kStartNs;
  u128 first_device = 1;  // the devices in use: first_device .. first_device + 2
  const auto read_both = [&](u128 device, uint64_t now_ns) {
    const ModelKey& key = model[device];
    const uint64_t expected = key.present ? key.Read(now_ns / kBucketNs) : 0;
    ASSERT_EQ(table.Read(EventOf(device, 1), Timestamp{now_ns}), expected)
        << "device " << Low64(device) << " at bucket " << now_ns / kBucketNs;
  };
  for (int step = 0; step < 40'000; ++step) {
    const u128 device = first_device + random.Uniform(3);
    const u128 merchant = 1 + random.Uniform(step % 1000 < 500 ? 6 : 40);
    const uint64_t roll = random.Uniform(1000);
    uint64_t t = clock_ns;
    if (roll < 700) {
      clock_ns += random.Uniform(3 * kBucketNs);
      t = clock_ns;
    } else if (roll < 950) {
      t = clock_ns - std::min(clock_ns - kStartNs, random.Uniform(24 * kBucketNs));  // late
    } else if (roll < 985) {
      silences.push_back(clock_ns / kBucketNs);
      clock_ns += (65'520 + random.Uniform(40)) * kBucketNs;  // ages around 2^16 buckets
      t = clock_ns;
    } else if (roll < 998) {
      silences.push_back(clock_ns / kBucketNs);
      clock_ns += random.Uniform(uint64_t{1} << 60);  // far later
      t = clock_ns;
    } else {
      t = UINT64_MAX - random.Uniform(20 * kBucketNs);
      clock_ns = UINT64_MAX;  // the end of time: new devices from here
    }
    if (!model[device].present) devices.push_back(device);
    table.Record(EventOf(device, merchant), Timestamp{t});
    model[device].Record(merchant, t / kBucketNs);
    for (u128 d = first_device; d < first_device + 3; ++d) {
      read_both(d, t);
      read_both(d, t + std::min(UINT64_MAX - t, random.Uniform(20 * kBucketNs)));
      read_both(d, t - std::min(t, random.Uniform(40 * kBucketNs)));
      if (!silences.empty()) {
        const uint64_t silence = silences[random.Uniform(silences.size())];
        read_both(d, (silence - std::min<uint64_t>(silence, random.Uniform(20))) * kBucketNs);
      }
      read_both(d, random.NextU64());
    }
    if (HasFatalFailure()) return;
    if (clock_ns > UINT64_MAX / 2) {
      first_device += 3;
      clock_ns = kStartNs;
    }
    if (step % 5'000 == 4'999) {
      BinaryWriter saved;
      table.Save(saved);
      ExpectSavedAsModel(saved.buffer(), devices, model);
      if (HasFatalFailure()) return;
      table = Reloaded(table);  // continues exactly as if it had never stopped
      BinaryWriter again;
      table.Save(again);
      ASSERT_EQ(again.buffer(), saved.buffer());
    }
  }
  EXPECT_GT(devices.size(), 3u);  // the end of time was reached at least once
}

// An event older than the key's newest bucket (a late or offline payment) counts its value in
// its own bucket, does not move the newest bucket back, and keeps a value seen later where it
// was; one a whole window or more behind the newest bucket is not recorded at all.
TEST(RiskVelocityDistinct, ALateEventCountsInItsOwnBucketAndAnExpiredOneNotAtAll) {
  FeatureTable table(DistinctSpec(), {});
  table.Record(EventOf(5, 100), At(1'000));
  table.Record(EventOf(5, 200), At(995));  // late, inside the window: counts from 995 s
  EXPECT_EQ(table.Read(EventOf(5, 0), At(995)), 1u);  // 100 was seen at 1000 s, not yet
  EXPECT_EQ(table.Read(EventOf(5, 0), At(1'000)), 2u);
  EXPECT_EQ(table.Read(EventOf(5, 0), At(1'010)), 2u);
  EXPECT_EQ(table.Read(EventOf(5, 0), At(1'011)), 1u);  // 200 expired (995 + 16)
  table.Record(EventOf(5, 100), At(990));  // late again: 100 keeps its newer bucket
  EXPECT_EQ(table.Read(EventOf(5, 0), At(992)), 0u);
  EXPECT_EQ(table.Read(EventOf(5, 0), At(1'015)), 1u);
  table.Record(EventOf(5, 300), At(984));  // 16 buckets behind the newest: already expired
  EXPECT_EQ(table.Read(EventOf(5, 0), At(990)), 0u);
  EXPECT_EQ(table.Read(EventOf(5, 0), At(999)), 1u);  // only 200
}

// A value seen before a long silence still counts when a read looks back at that time, and is
// saved with its exact bucket, whether the silence is 2^16 buckets or 2^40.
TEST(RiskVelocityDistinct, AValueSeenBeforeALongSilenceCountsWhenReadBackThere) {
  for (const uint64_t silence : {uint64_t{65'535}, uint64_t{65'536}, uint64_t{1} << 40}) {
    FeatureTable table(DistinctSpec(), {});
    table.Record(EventOf(5, 100), At(10));
    table.Record(EventOf(5, 200), At(10 + silence));
    const FeatureTable reloaded = Reloaded(table);
    for (const FeatureTable* t : {static_cast<const FeatureTable*>(&table), &reloaded}) {
      EXPECT_EQ(t->Read(EventOf(5, 0), At(10)), 1u) << silence;
      EXPECT_EQ(t->Read(EventOf(5, 0), At(25)), 1u) << silence;
      EXPECT_EQ(t->Read(EventOf(5, 0), At(26)), 0u) << silence;
      EXPECT_EQ(t->Read(EventOf(5, 0), At(10 + silence)), 1u) << silence;
    }
    table.Record(EventOf(5, 100), At(11 + silence));  // seen again: one entry, now recent
    EXPECT_EQ(table.Read(EventOf(5, 0), At(11 + silence)), 2u) << silence;
    EXPECT_EQ(table.Read(EventOf(5, 0), At(10)), 0u) << silence;
  }
}

}  // namespace
}  // namespace tpw::risk
