// FaultyStorage: the armed crash fires at exactly the chosen write, carries the operation out or
// not as told, kills the process's handles, and the machine comes back on Reboot().
#include "sim/faulty_storage.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tpw::sim {
namespace {

using storage::OpenMode;

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

std::string Contents(storage::Storage& s, const std::string& name) {
  auto bytes = s.ReadFile(name, 1 << 20);
  if (!bytes.ok()) return "<" + bytes.error().Message() + ">";
  return {bytes.value().begin(), bytes.value().end()};
}

class SimFaultyStorageTest : public ::testing::Test {
 protected:
  SeededRandom disk_random_{1};
  SeededRandom crash_random_{2};
  storage::SimulatedStorage disk_{disk_random_};
  FaultyStorage storage_{disk_, crash_random_};
};

TEST_F(SimFaultyStorageTest, CountsOperationsAndMutations) {
  auto file = storage_.Open("a", OpenMode::create_new);  // a mutation (creates an entry)
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(file.value()->Append(Bytes("xy")).ok());
  uint8_t out[2];
  ASSERT_TRUE(file.value()->Read(0, out).ok());
  ASSERT_TRUE(storage_.List().ok());
  EXPECT_EQ(storage_.mutations(), 2u);
  EXPECT_EQ(storage_.operations(), 4u);
}

TEST_F(SimFaultyStorageTest, ACleanPowerCutAtASyncThatIsNotDoneLosesTheUnsyncedBytes) {
  auto file = storage_.Open("a", OpenMode::create_new);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(storage_.SyncDirectory().ok());
  ASSERT_TRUE(file.value()->Append(Bytes("synced")).ok());
  ASSERT_TRUE(file.value()->DataSync().ok());
  ASSERT_TRUE(file.value()->Append(Bytes("+lost")).ok());
  storage_.Arm(ArmedCrash{storage_.mutations() + 1, CrashKind::power_cut_clean, false, false});
  EXPECT_FALSE(file.value()->DataSync().ok());
  EXPECT_TRUE(storage_.crashed());
  EXPECT_FALSE(storage_.List().ok()) << "a dead process cannot do anything";
  storage_.Reboot();
  EXPECT_FALSE(file.value()->Append(Bytes("z")).ok()) << "handles from before the crash are dead";
  EXPECT_EQ(Contents(storage_, "a"), "synced");
}

TEST_F(SimFaultyStorageTest, ASyncCarriedOutBeforeTheCrashIsDurable) {
  auto file = storage_.Open("a", OpenMode::create_new);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(storage_.SyncDirectory().ok());
  ASSERT_TRUE(file.value()->Append(Bytes("kept")).ok());
  storage_.Arm(ArmedCrash{storage_.mutations() + 1, CrashKind::power_cut_clean, true, false});
  EXPECT_FALSE(file.value()->DataSync().ok()) << "the process died before hearing back";
  storage_.Reboot();
  EXPECT_EQ(Contents(storage_, "a"), "kept");
}

TEST_F(SimFaultyStorageTest, AProcessKillKeepsUnsyncedBytes) {
  auto file = storage_.Open("a", OpenMode::create_new);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(file.value()->Append(Bytes("page cache")).ok());
  storage_.CrashNow(CrashKind::process_kill, false);
  storage_.Reboot();
  EXPECT_EQ(Contents(storage_, "a"), "page cache");
}

TEST_F(SimFaultyStorageTest, AnArmedCrashWaitsForItsMutation) {
  auto file = storage_.Open("a", OpenMode::create_new);
  ASSERT_TRUE(file.ok());
  storage_.Arm(ArmedCrash{storage_.mutations() + 3, CrashKind::power_cut_torn, false, true});
  EXPECT_TRUE(file.value()->Append(Bytes("1")).ok());
  uint8_t out[1];
  EXPECT_TRUE(file.value()->Read(0, out).ok()) << "reads do not count";
  EXPECT_TRUE(file.value()->Append(Bytes("2")).ok());
  EXPECT_FALSE(storage_.crashed());
  EXPECT_FALSE(file.value()->Append(Bytes("3")).ok());
  EXPECT_TRUE(storage_.crashed());
  EXPECT_FALSE(storage_.armed().has_value());
  EXPECT_NE(storage_.last_crash().find("power_cut_torn"), std::string::npos);
}

}  // namespace
}  // namespace tpw::sim
