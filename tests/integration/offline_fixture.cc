// offline_fixture: plays a wallet device and a merchant terminal for trying the issuer / clearing
// commands by hand (docs/cli.md, "Offline payments: issuer and clearing"). NOT a wallet: keys are
// raw 32-byte seeds in plain files, there is no counter store and no checks. Test use only.
//
//   offline_fixture keygen KEY_FILE                      new key; prints its public key (hex)
//   offline_fixture pay KEY_FILE CERT_FILE COUNTER AMOUNT_MINOR TERMINAL MERCHANT OUT_FILE
//                                                        a signed payment token (binary)
//   offline_fixture batch KEY_FILE TERMINAL OUT_FILE TOKEN_FILE...
//                                                        a signed terminal batch (binary)
//   offline_fixture sync-sign KEY_FILE DEVICE SERIAL LAST_COUNTER
//                                                        the device's sync-request signature
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "crypto/base64.h"
#include "crypto/hash.h"
#include "crypto/secure.h"
#include "crypto/sign.h"
#include "engine/offline.h"
#include "offline/messages.h"

namespace {

using namespace tpw;
using Bytes = std::vector<uint8_t>;

std::optional<Bytes> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool WriteFile(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

std::optional<uint64_t> Number(const char* text) {
  errno = 0;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-') return std::nullopt;
  return value;
}

std::optional<crypto::SecretKey> LoadKey(const std::string& path) {
  const std::optional<Bytes> seed = ReadFile(path);
  if (!seed || seed->size() != crypto::kSigningSeedBytes) return std::nullopt;
  return crypto::SigningKeyFromSeed(
      std::span<const uint8_t, crypto::kSigningSeedBytes>(seed->data(), crypto::kSigningSeedBytes));
}

void SignLast64(const crypto::SecretKey& key, std::string_view domain, offline::MessageType type,
                Bytes& encoded) {
  const crypto::Signature s = crypto::Sign(key, domain, offline::SignedPart(encoded, type));
  std::copy(s.bytes.begin(), s.bytes.end(), encoded.end() - 64);
}

int Keygen(const std::string& path) {
  Bytes seed(crypto::kSigningSeedBytes);
  crypto::RandomBytes(seed);
  const crypto::SecretKey key = crypto::SigningKeyFromSeed(
      std::span<const uint8_t, crypto::kSigningSeedBytes>(seed.data(), seed.size()));
  if (!WriteFile(path, seed)) return 1;
  std::printf("%s\n", crypto::ToHex(key.public_key().bytes).c_str());
  return 0;
}

int Pay(char** a) {
  const std::optional<crypto::SecretKey> key = LoadKey(a[0]);
  const std::optional<Bytes> cert_bytes = ReadFile(a[1]);
  const auto counter = Number(a[2]), amount = Number(a[3]), terminal = Number(a[4]),
             merchant = Number(a[5]);
  if (!key || !cert_bytes || !counter || !amount || !terminal || !merchant) return 2;
  auto cert = offline::DecodeCertificate(*cert_bytes);
  if (!cert.ok()) return 2;
  offline::PaymentToken t;
  t.asset = cert.value().asset;
  t.certificate = cert.value();
  t.counter = *counter;
  t.amount = Amount::FromMinor(*amount);
  t.cvm = t.amount > t.certificate.cvm_threshold ? offline::Cvm::pin : offline::Cvm::none;
  t.merchant_id = *merchant;
  t.terminal_id = *terminal;
  crypto::RandomBytes(t.nonce);
  t.terminal_time = t.certificate.valid_from + 1000;
  t.device_time = t.terminal_time;
  Bytes bytes = offline::Encode(t);
  SignLast64(*key, offline::kTokenDomain, offline::MessageType::payment_token, bytes);
  return WriteFile(a[6], bytes) ? 0 : 1;
}

int Batch(int count, char** a) {
  const std::optional<crypto::SecretKey> key = LoadKey(a[0]);
  const auto terminal = Number(a[1]);
  if (!key || !terminal) return 2;
  offline::TerminalBatch batch;
  batch.terminal_id = *terminal;
  crypto::RandomBytes(batch.batch_id);
  batch.created = 1;
  for (int i = 3; i < count; ++i) {
    const std::optional<Bytes> token = ReadFile(a[i]);
    if (!token) return 2;
    auto decoded = offline::DecodeToken(*token);
    if (!decoded.ok()) return 2;
    batch.tokens.push_back(decoded.value());
  }
  Bytes bytes = offline::Encode(batch);
  SignLast64(*key, offline::kBatchDomain, offline::MessageType::terminal_batch, bytes);
  return WriteFile(a[2], bytes) ? 0 : 1;
}

int SyncSign(char** a) {
  const std::optional<crypto::SecretKey> key = LoadKey(a[0]);
  const auto device = Number(a[1]), serial = Number(a[2]), last = Number(a[3]);
  if (!key || !device || !serial || !last) return 2;
  const crypto::Signature s = crypto::Sign(*key, engine::kSyncRequestDomain,
                                           engine::SyncRequestBytes(*device, *serial, *last));
  std::printf("%s\n", crypto::Base64UrlEncode(s.bytes).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  int code = 2;
  if (command == "keygen" && argc == 3) code = Keygen(argv[2]);
  if (command == "pay" && argc == 9) code = Pay(argv + 2);
  if (command == "batch" && argc >= 6) code = Batch(argc - 2, argv + 2);
  if (command == "sync-sign" && argc == 6) code = SyncSign(argv + 2);
  if (code == 2) {
    std::fprintf(
        stderr,
        "usage (test fixture, not a wallet):\n"
        "  offline_fixture keygen KEY_FILE\n"
        "  offline_fixture pay KEY_FILE CERT_FILE COUNTER AMOUNT_MINOR TERMINAL MERCHANT OUT\n"
        "  offline_fixture batch KEY_FILE TERMINAL OUT TOKEN_FILE...\n"
        "  offline_fixture sync-sign KEY_FILE DEVICE SERIAL LAST_COUNTER\n");
  }
  return code;
}
