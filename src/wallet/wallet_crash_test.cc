// Crash safety: no counter is ever released twice, whatever the moment of a power cut.
//
// CrashingStorage forwards to a SimulatedStorage and cuts the power just before its N-th
// mutating call (open for writing, append, write, truncate, sync, rename, remove). The test runs
// a whole wallet life (create, pin, install, pay, sync, pay) once per N until a run finishes
// without reaching N, reopens the wallet after each cut, lets it live on, and checks every token
// it ever released. A seeded run with random I/O faults and crashes, and a real-disk run whose
// paying process is killed with SIGKILL at random moments, complete the picture.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/clock.h"
#include "storage/posix_storage.h"
#include "storage/simulated_storage.h"
#include "storage/test_temp_dir.h"
#include "wallet/test_util.h"
#include "wallet/wallet.h"

namespace tpw::wallet {
namespace {

using namespace test_support;
using storage::OpenMode;
using storage::StorageError;
using storage::StorageResult;
using storage::StorageStatus;

// Shared between a CrashingStorage and its files: counts steps, crashes once at `crash_at`.
struct PowerSwitch {
  storage::SimulatedStorage* sim = nullptr;
  Random* random = nullptr;
  uint64_t crash_at = UINT64_MAX;  // the 0-based step that never happens
  uint64_t steps = 0;
  bool dead = false;

  // False when the step must fail because the power is (now) off.
  bool Step() {
    if (dead) return false;
    if (steps++ == crash_at) {
      sim->Crash(*random);
      dead = true;
      return false;
    }
    return true;
  }
  StorageStatus Off() const { return storage::StorageFail(StorageError::io_error, 0, "power cut"); }
};

class CrashingFile final : public storage::File {
 public:
  CrashingFile(std::unique_ptr<storage::File> file, PowerSwitch& power)
      : file_(std::move(file)), power_(power) {}
  StorageStatus Append(std::span<const uint8_t> bytes) override {
    return power_.Step() ? file_->Append(bytes) : power_.Off();
  }
  StorageStatus Write(uint64_t offset, std::span<const uint8_t> bytes) override {
    return power_.Step() ? file_->Write(offset, bytes) : power_.Off();
  }
  StorageResult<size_t> Read(uint64_t offset, std::span<uint8_t> out) override {
    if (power_.dead) return Err{power_.Off().error()};
    return file_->Read(offset, out);
  }
  StorageResult<uint64_t> Size() override {
    if (power_.dead) return Err{power_.Off().error()};
    return file_->Size();
  }
  StorageStatus Truncate(uint64_t size) override {
    return power_.Step() ? file_->Truncate(size) : power_.Off();
  }
  StorageStatus DataSync() override { return power_.Step() ? file_->DataSync() : power_.Off(); }
  const std::string& path() const override { return file_->path(); }

 private:
  std::unique_ptr<storage::File> file_;
  PowerSwitch& power_;
};

class CrashingStorage final : public storage::Storage {
 public:
  explicit CrashingStorage(PowerSwitch& power) : power_(power) {}
  StorageResult<std::unique_ptr<storage::File>> Open(std::string_view name,
                                                     OpenMode mode) override {
    const bool writes = mode != OpenMode::read_only;
    if (power_.dead || (writes && !power_.Step())) return Err{power_.Off().error()};
    auto file = power_.sim->Open(name, mode);
    if (!file.ok()) return Err{file.error()};
    return std::unique_ptr<storage::File>(
        std::make_unique<CrashingFile>(std::move(file).value(), power_));
  }
  StorageResult<std::vector<std::string>> List() override { return power_.sim->List(); }
  StorageStatus Rename(std::string_view from, std::string_view to) override {
    return power_.Step() ? power_.sim->Rename(from, to) : power_.Off();
  }
  StorageStatus Remove(std::string_view name) override {
    return power_.Step() ? power_.sim->Remove(name) : power_.Off();
  }
  StorageStatus SyncDirectory() override {
    return power_.Step() ? power_.sim->SyncDirectory() : power_.Off();
  }
  StorageResult<std::unique_ptr<storage::DirectoryLock>> LockDirectory() override {
    if (power_.dead) return Err{power_.Off().error()};
    return power_.sim->LockDirectory();
  }
  std::string PathOf(std::string_view name) const override { return power_.sim->PathOf(name); }

 private:
  PowerSwitch& power_;
};

// One wallet life, written to be re-run after a crash: every step tolerates having been done.
// Tokens Pay returned are handed to `released` (they left the device).
void Live(storage::Storage& storage, const Issuer& issuer, ReleasedTokens& released) {
  auto opened = Wallet::Open(storage, Pass());
  if (!opened.ok() && opened.error().code == WalletError::no_wallet) {
    opened = Wallet::Create(storage, Pass(), FastOptions());
  }
  if (!opened.ok()) return;  // the power is off
  Wallet& wallet = *opened.value();
  if (!wallet.PinIssuer(issuer.pin()).ok()) return;
  const offline::DeviceCertificate first = issuer.CertificateFor(wallet, 1, 10);
  (void)wallet.InstallCertificate(issuer.Sign(first));  // fails once replaced: fine
  auto pay = [&](uint8_t nonce) {
    auto paid = wallet.Pay(Request(100, kAsset, nonce), {}, kNow);
    if (paid.ok()) released.Add(paid->token);
    return paid.ok() || paid.error().code != WalletError::storage_failed;
  };
  for (uint8_t i = 0; i < 3; ++i) {
    if (!pay(i)) return;
  }
  if (auto held = wallet.Info().certificates; !held.empty() && held[0].certificate.serial == 1) {
    auto request = wallet.MakeSyncRequest(1);
    if (!request.ok()) return;
    const auto statement =
        issuer.Statement(first, issuer.CertificateFor(wallet, 2, 15), request->last_counter_used);
    if (!wallet.InstallSyncStatement(statement).ok()) return;
  }
  for (uint8_t i = 3; i < 6; ++i) {
    if (!pay(i)) return;
  }
}

// After a crash: every released token's counter is marked used in the reopened state.
void ExpectReleasedCountersAreDurable(storage::Storage& storage, const ReleasedTokens& released) {
  auto info = Wallet::Inspect(storage);
  if (!info.ok()) {
    // Only a wallet that never finished Create may be missing; it released nothing.
    EXPECT_EQ(info.error().code, WalletError::no_wallet) << info.error().Message();
    EXPECT_EQ(released.size(), 0u);
    return;
  }
  for (const auto& token : released.tokens()) {
    const offline::PaymentToken t = offline::DecodeToken(token).value();
    if (t.certificate.device_id != info->device_id) continue;  // an abandoned half-created one
    bool covered = t.counter <= info->counter_high_water;
    for (const CertificateState& e : info->certificates) {
      if (e.certificate.serial == t.certificate.serial) {
        covered = t.counter <= e.last_counter_used();
      }
    }
    EXPECT_TRUE(covered) << "counter " << t.counter << " released but not durable";
  }
}

TEST(WalletCrashTest, APowerCutAtEveryStepNeverReleasesACounterTwice) {
  const Issuer issuer;
  uint64_t crash_at = 0;
  for (;; ++crash_at) {
    SeededRandom random(1000 + crash_at);
    storage::SimulatedStorage sim(random);
    PowerSwitch power{&sim, &random, crash_at};
    CrashingStorage crashing(power);
    ReleasedTokens released;
    Live(crashing, issuer, released);
    if (!power.dead) break;  // the whole life ran without reaching the crash point
    SCOPED_TRACE("crash before step " + std::to_string(crash_at));
    ExpectReleasedCountersAreDurable(sim, released);
    {
      auto reopened = Wallet::Open(sim, Pass());  // a cut never leaves an unopenable wallet
      EXPECT_TRUE(reopened.ok() || reopened.error().code == WalletError::no_wallet)
          << reopened.error().Message();
    }
    Live(sim, issuer, released);  // the device restarts and lives on
    ASSERT_FALSE(HasFailure()) << "reproduce: crash_at=" << crash_at;
    EXPECT_GE(released.size(), 3u);
  }
  EXPECT_GT(crash_at, 40u);  // the life has many steps; each was a crash point once
}

TEST(WalletCrashTest, RandomFaultsAndCrashesNeverReleaseACounterTwice) {
  const Issuer issuer;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE("reproduce with seed " + std::to_string(seed));
    SeededRandom random(seed);
    storage::SimulatedStorage sim(random);
    ReleasedTokens released;
    for (int life = 0; life < 6; ++life) {
      sim.set_faults(storage::SimulatedFaults{0, 50'000, 50'000, 20'000, UINT64_MAX});
      Live(sim, issuer, released);
      sim.set_faults({});
      sim.Crash(random);
      ExpectReleasedCountersAreDurable(sim, released);
    }
    ASSERT_FALSE(HasFailure());
  }
}

// Real disk, real process death: a child pays in a loop and reports each token through a pipe;
// the parent kills it at a random moment, reopens the wallet and checks, several times.
TEST(WalletCrashTest, SigkillDuringPaymentsOnARealDiskNeverReusesACounter) {
  storage::TempDir dir;
  const Issuer issuer;
  {
    auto disk = storage::PosixStorage::Open(dir.path(), false).value();
    CreateOptions options = FastOptions();
    options.issuer = issuer.pin();
    auto wallet = Wallet::Create(*disk, Pass(), options).value();
    offline::DeviceCertificate c = issuer.CertificateFor(*wallet, 1, 10);
    c.payment_count_max = 100'000;
    c.allowance = Amount::FromMinor(100'000'000);
    ASSERT_TRUE(wallet->InstallCertificate(issuer.Sign(c)).ok());
  }
  ReleasedTokens released;
  SeededRandom random(99);
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(fds[0]);
      auto disk = storage::PosixStorage::Open(dir.path(), false);
      if (!disk.ok()) ::_exit(2);
      auto wallet = Wallet::Open(*disk.value(), Pass());
      if (!wallet.ok()) ::_exit(3);
      for (uint8_t i = 0;; ++i) {
        auto paid = wallet.value()->Pay(Request(1, kAsset, i), {}, kNow);
        if (!paid.ok()) ::_exit(4);
        if (::write(fds[1], paid->token.data(), paid->token.size()) !=
            static_cast<ssize_t>(paid->token.size())) {
          ::_exit(5);
        }
      }
    }
    ::close(fds[1]);
    // Drain the pipe while the child runs, so it never blocks on a full pipe: the kill must
    // land at a random point of Pay, not always at the same write.
    std::vector<std::vector<uint8_t>> tokens;
    std::thread reader([&tokens, fd = fds[0]] {
      std::vector<uint8_t> token(offline::kTokenBytes);
      size_t got = 0;
      for (ssize_t n; (n = ::read(fd, token.data() + got, token.size() - got)) > 0;) {
        got += static_cast<size_t>(n);
        if (got == token.size()) {
          tokens.push_back(token);
          got = 0;
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + random.Uniform(80)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    reader.join();
    ::close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped by itself, exit " << WEXITSTATUS(status);
    for (const auto& token : tokens) released.Add(token);
    auto disk = storage::PosixStorage::Open(dir.path(), false).value();
    auto wallet = Wallet::Open(*disk, Pass());
    ASSERT_TRUE(wallet.ok()) << wallet.error().Message();
    ExpectReleasedCountersAreDurable(*disk, released);
  }
  EXPECT_GT(released.size(), 0u);
}

}  // namespace
}  // namespace tpw::wallet
