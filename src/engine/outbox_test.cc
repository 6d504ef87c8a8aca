// The outbox's pure parts (outbox.h): event types and filters, the event-id set against a
// std::set model, the outbox's durable-only reads, and snapshot sections that load back the same
// or are refused when damaged.
#include "engine/outbox.h"

#include <gtest/gtest.h>

#include <set>

#include "common/clock.h"

namespace tpw::engine {
namespace {

class BufferSink final : public ledger::StateSink {
 public:
  void Write(std::span<const uint8_t> bytes) override { bytes_.insert(bytes_.end(), bytes.begin(), bytes.end()); }
  std::vector<uint8_t> bytes_;
};

class BufferSource final : public ledger::StateSource {
 public:
  explicit BufferSource(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  bool Read(std::span<uint8_t> out) override {
    if (out.size() > bytes_.size() - offset_) return false;
    std::copy_n(bytes_.begin() + static_cast<ptrdiff_t>(offset_), out.size(), out.begin());
    offset_ += out.size();
    return true;
  }
  uint64_t remaining() const override { return bytes_.size() - offset_; }

 private:
  std::span<const uint8_t> bytes_;
  size_t offset_ = 0;
};

TEST(EventTypeTest, TypesAreDottedLowerCaseWords) {
  for (const char* ok : {"payment.succeeded", "test.event", "a", "x_1.y_2.z"}) {
    EXPECT_TRUE(ValidEventType(ok)) << ok;
  }
  for (const char* bad : {"", ".", "a.", ".a", "a..b", "A.b", "a b", "a-b", "a.*", "*", "é"}) {
    EXPECT_FALSE(ValidEventType(bad)) << bad;
  }
  EXPECT_FALSE(ValidEventType(std::string(kEventTypeBytesMax + 1, 'a')));
  EXPECT_TRUE(ValidEventType(std::string(kEventTypeBytesMax, 'a')));
  EXPECT_TRUE(ValidTestEventType("test.x"));
  EXPECT_FALSE(ValidTestEventType("test"));
  EXPECT_FALSE(ValidTestEventType("testing.x"));
}

TEST(EventTypeTest, FiltersMatchExactlyAllOrByPrefix) {
  EXPECT_TRUE(ValidEventFilterEntry("*"));
  EXPECT_TRUE(ValidEventFilterEntry("payment.*"));
  EXPECT_FALSE(ValidEventFilterEntry("payment*"));
  EXPECT_FALSE(ValidEventFilterEntry("*.succeeded"));
  EXPECT_FALSE(ValidEventFilterEntry(".*"));
  const std::vector<std::string> filter = {"payment.*", "test.event"};
  EXPECT_TRUE(EventTypeMatches(filter, "payment.succeeded"));
  EXPECT_TRUE(EventTypeMatches(filter, "payment.refund.created"));
  EXPECT_FALSE(EventTypeMatches(filter, "payment"));
  EXPECT_FALSE(EventTypeMatches(filter, "payments.x"));
  EXPECT_TRUE(EventTypeMatches(filter, "test.event"));
  EXPECT_FALSE(EventTypeMatches(filter, "test.events"));
  EXPECT_TRUE(EventTypeMatches(std::vector<std::string>{"*"}, "anything"));
  EXPECT_FALSE(EventTypeMatches(std::vector<std::string>{}, "anything"));
}

TEST(EventIdSetTest, BehavesLikeASortedSet) {
  SeededRandom random(3);
  EventIdSet set;
  std::set<uint64_t> model;
  for (int i = 0; i < 20'000; ++i) {
    const uint64_t id = 1'000'000 + random.Uniform(5000) - (i % 100 == 0 ? random.Uniform(4000) : 0);
    if (random.Chance(3, 5)) {
      EXPECT_EQ(set.Insert(id), model.insert(id).second);
    } else {
      EXPECT_EQ(set.Erase(id), model.erase(id) == 1);
    }
    ASSERT_EQ(set.size(), model.size());
    ASSERT_EQ(set.Min(), model.empty() ? std::nullopt : std::optional<uint64_t>(*model.begin()));
  }
  std::vector<uint64_t> listed;
  set.ForEach([&](uint64_t id) {
    listed.push_back(id);
    return true;
  });
  EXPECT_EQ(listed, std::vector<uint64_t>(model.begin(), model.end()));
  for (const uint64_t id : model) EXPECT_TRUE(set.Contains(id));
  EXPECT_FALSE(set.Contains(0));
  BufferSink sink;
  set.Save(sink);
  EventIdSet loaded;
  BufferSource source(sink.bytes_);
  ASSERT_TRUE(loaded.Load(source));
  EXPECT_TRUE(loaded == set);
  set.Clear();
  EXPECT_EQ(set.size(), 0u);
  EXPECT_FALSE(set.Min());
}

TEST(EventIdSetTest, DamagedSectionsAreRefused) {
  EventIdSet set;
  set.Insert(70);
  set.Insert(300);
  BufferSink sink;
  set.Save(sink);
  for (size_t n = 0; n < sink.bytes_.size(); ++n) {
    EventIdSet loaded;
    BufferSource source(std::span(sink.bytes_).first(n));
    EXPECT_FALSE(loaded.Load(source)) << n;
  }
  std::vector<uint8_t> unaligned = sink.bytes_;
  unaligned[0] = 65;  // base not a multiple of 64
  EventIdSet loaded;
  BufferSource source(unaligned);
  EXPECT_FALSE(loaded.Load(source));
}

TEST(OutboxTest, ReadersSeeOnlyDurableEvents) {
  Outbox outbox;
  for (uint64_t i = 0; i < 5; ++i) outbox.Append(100 + i, "test.event", kEventFormatJson, {'{', '}'});
  EXPECT_TRUE(outbox.Read(0, 10).empty());
  EXPECT_EQ(outbox.ReadOne(1), nullptr);
  outbox.MarkDurable(3);
  EXPECT_EQ(outbox.Read(0, 10).size(), 3u);
  EXPECT_EQ(outbox.ReadOne(3)->time_ms, 102u);
  EXPECT_EQ(outbox.ReadOne(4), nullptr);
  outbox.MarkDurable(2);  // never goes back
  EXPECT_EQ(outbox.durable_id(), 3u);
  outbox.MarkDurable(99);  // never past the last event
  EXPECT_EQ(outbox.durable_id(), 5u);
  outbox.PopFront(false);
  outbox.PopFront(true);
  EXPECT_EQ(outbox.Read(0, 10).front()->id, 3u);  // from the oldest retained
  EXPECT_EQ(outbox.Window(), std::make_pair(uint64_t{3}, uint64_t{5}));
  EXPECT_EQ(outbox.counters().pruned, 1u);
  EXPECT_EQ(outbox.counters().dropped_over_cap, 1u);
  EXPECT_EQ(outbox.bytes(), 3u * 12);
}

TEST(OutboxTest, SnapshotSectionLoadsBackAndRefusesDamage) {
  Outbox outbox;
  outbox.Append(1, "test.a", kEventFormatJson, {'{', '}'});
  outbox.Append(2, "payment.succeeded", kEventFormatPayments, {1, 2, 3});
  outbox.PopFront(false);
  outbox.Append(3, "test.b", kEventFormatJson, {});
  BufferSink sink;
  outbox.Save(sink);
  Outbox loaded;
  BufferSource source(sink.bytes_);
  ASSERT_TRUE(loaded.Load(source));
  EXPECT_EQ(source.remaining(), 0u);
  EXPECT_EQ(loaded.durable_id(), 3u);
  const auto events = loaded.Read(0, 10);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]->id, 2u);
  EXPECT_EQ(events[0]->type, "payment.succeeded");
  EXPECT_EQ(events[0]->payload, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(loaded.counters().pruned, 1u);
  BufferSink again;
  loaded.Save(again);
  EXPECT_EQ(again.bytes_, sink.bytes_);
  for (size_t n = 0; n < sink.bytes_.size(); n += 3) {
    Outbox cut;
    BufferSource short_source(std::span(sink.bytes_).first(n));
    EXPECT_FALSE(cut.Load(short_source)) << n;
  }
}

}  // namespace
}  // namespace tpw::engine
