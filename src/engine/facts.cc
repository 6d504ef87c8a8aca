#include "engine/facts.h"

#include <bit>
#include <cstddef>
#include <cstring>

#include "common/codec.h"

namespace tpw::engine {

using ledger::Account;
using ledger::FailedTransfer;
using ledger::Transfer;
using tpw::TransferId;

// Transfers are copied as raw bytes (they are most of the journal): that is the documented
// little-endian layout only on a little-endian machine with this exact field layout.
static_assert(std::endian::native == std::endian::little, "fact encoding assumes little-endian");
static_assert(sizeof(Transfer) == kTransferFactBytes);
static_assert(offsetof(Transfer, id) == 0 && offsetof(Transfer, debit_account_id) == 16 &&
              offsetof(Transfer, credit_account_id) == 32 && offsetof(Transfer, amount) == 48 &&
              offsetof(Transfer, pending_id) == 64 && offsetof(Transfer, user_data_128) == 80 &&
              offsetof(Transfer, user_data_64) == 96 && offsetof(Transfer, user_data_32) == 104 &&
              offsetof(Transfer, timeout) == 108 && offsetof(Transfer, ledger) == 112 &&
              offsetof(Transfer, code) == 116 && offsetof(Transfer, flags) == 118 &&
              offsetof(Transfer, timestamp) == 120);
static_assert(sizeof(tpw::Amount) == 16 && sizeof(tpw::TransferId) == 16 &&
              sizeof(tpw::Timestamp) == 8);

namespace {

// Written straight into `out`, reserved once for the whole fact (a BinaryWriter here grew its
// own buffer from nothing: six allocations per fact, one fact per request under load). The
// fields are copied as they lie in memory: little-endian, asserted above.
void PutHeader(const FactHeader& header, size_t item_bytes, std::vector<uint8_t>& out) {
  out.clear();  // keeps the capacity of a recycled buffer
  out.reserve(kFactHeaderBytes + header.count * item_bytes);
  out.resize(kFactHeaderBytes);  // zeros: the reserved last eight bytes stay 0
  const uint32_t version = kFactVersion;
  std::memcpy(out.data(), &header.batch_first, 8);
  std::memcpy(out.data() + 8, &header.batch_last, 8);
  std::memcpy(out.data() + 16, &header.count, 4);
  std::memcpy(out.data() + 20, &version, 4);
}

size_t ItemBytes(FactType type) {
  switch (type) {
    case FactType::accounts_created:
      return kAccountFactBytes;
    case FactType::transfers_created:
      return kTransferFactBytes;
    case FactType::transfers_failed:
      return kFailedFactBytes;
    case FactType::transfers_expired:
      return kExpiredFactBytes;
    case FactType::offline:  // not items of a fixed size: DecodeOfflineFact
    case FactType::api_key:  // nor these: access::DecodeApiKey / DecodeIdempotencyRecord
    case FactType::idempotency:
    case FactType::risk_rules:  // nor these: engine/risk_facts.h
    case FactType::risk_list:
    case FactType::risk_decision:
    case FactType::payment:  // nor this: payments::DecodeEvent
    case FactType::webhook_endpoint:  // nor these: engine/outbox_facts.h
    case FactType::outbox_test_events:
    case FactType::webhook_deliveries:
    case FactType::webhook_resend:
      return 0;
  }
  return 0;
}

void PutAccount(const Account& a, BinaryWriter& w) {
  w.U128(a.id.value);
  w.U128(a.debits_pending.minor());
  w.U128(a.debits_posted.minor());
  w.U128(a.credits_pending.minor());
  w.U128(a.credits_posted.minor());
  w.U128(a.overdraft_limit.minor());
  w.U128(a.user_data_128);
  w.U64(a.user_data_64);
  w.U32(a.user_data_32);
  w.U32(a.ledger);
  w.U16(a.code);
  w.U16(a.flags);
  w.U32(0);  // reserved: keeps items 16-byte multiples
  w.U64(a.timestamp.ns);
}

// `reserved_zero` reports whether the item's 4 reserved bytes are zero: AtEndOk and the item
// count only check sizes, not contents, so a non-zero reserved field must be caught here.
Account GetAccount(BinaryReader& r, bool& reserved_zero) {
  Account a;
  a.id = tpw::AccountId{r.U128()};
  a.debits_pending = tpw::Amount::FromMinor(r.U128());
  a.debits_posted = tpw::Amount::FromMinor(r.U128());
  a.credits_pending = tpw::Amount::FromMinor(r.U128());
  a.credits_posted = tpw::Amount::FromMinor(r.U128());
  a.overdraft_limit = tpw::Amount::FromMinor(r.U128());
  a.user_data_128 = r.U128();
  a.user_data_64 = r.U64();
  a.user_data_32 = r.U32();
  a.ledger = r.U32();
  a.code = r.U16();
  a.flags = r.U16();
  reserved_zero = r.U32() == 0;  // the caller rejects the item otherwise
  a.timestamp = tpw::Timestamp{r.U64()};
  return a;
}

}  // namespace

void EncodeAccountsFact(const FactHeader& header, std::span<const Account> accounts,
                        std::vector<uint8_t>& out) {
  TPW_ASSERT(header.count == accounts.size());
  BinaryWriter writer;
  for (const Account& a : accounts) PutAccount(a, writer);
  PutHeader(header, kAccountFactBytes, out);
  const std::vector<uint8_t>& items = writer.buffer();
  TPW_ASSERT(items.size() == accounts.size() * kAccountFactBytes);
  out.insert(out.end(), items.begin(), items.end());
}

void EncodeTransfersFact(const FactHeader& header, std::span<const Transfer> transfers,
                         std::vector<uint8_t>& out) {
  TPW_ASSERT(header.count == transfers.size());
  PutHeader(header, kTransferFactBytes, out);
  const auto* bytes = reinterpret_cast<const uint8_t*>(transfers.data());
  out.insert(out.end(), bytes, bytes + transfers.size_bytes());
}

void EncodeFailuresFact(const FactHeader& header, std::span<const FailedTransfer> failed,
                        std::vector<uint8_t>& out) {
  TPW_ASSERT(header.count == failed.size());
  PutHeader(header, kFailedFactBytes, out);
  BinaryWriter writer;
  for (const FailedTransfer& f : failed) {
    writer.U128(f.id.value);
    writer.U16(static_cast<uint16_t>(f.result));
    writer.U16(0);
    writer.U32(0);
  }
  out.insert(out.end(), writer.buffer().begin(), writer.buffer().end());
}

void EncodeExpiredFact(const FactHeader& header, std::span<const TransferId> ids,
                       std::vector<uint8_t>& out) {
  TPW_ASSERT(header.count == ids.size());
  PutHeader(header, kExpiredFactBytes, out);
  BinaryWriter writer;
  for (const TransferId id : ids) writer.U128(id.value);
  out.insert(out.end(), writer.buffer().begin(), writer.buffer().end());
}

Transfer DecodeTransferItem(std::span<const uint8_t, kTransferFactBytes> bytes) {
  Transfer t;
  std::memcpy(&t, bytes.data(), kTransferFactBytes);
  return t;
}

Result<Fact, std::string> DecodeFact(uint16_t type, std::span<const uint8_t> bytes) {
  Fact fact;
  fact.type = static_cast<FactType>(type);
  const size_t item_bytes = ItemBytes(fact.type);
  if (item_bytes == 0) return Err{"unknown fact type " + std::to_string(type)};
  if (bytes.size() < kFactHeaderBytes) {
    return Err{"fact of " + std::to_string(bytes.size()) + " bytes is shorter than its header"};
  }
  BinaryReader reader(bytes);
  fact.header.batch_first = reader.U64();
  fact.header.batch_last = reader.U64();
  fact.header.count = reader.U32();
  const uint32_t version = reader.U32();
  const uint64_t reserved = reader.U64();
  if (version != kFactVersion) return Err{"fact version " + std::to_string(version)};
  if (reserved != 0) return Err{std::string("fact header reserved bytes are not zero")};
  if (fact.header.count == 0 || reader.remaining() != uint64_t{fact.header.count} * item_bytes) {
    return Err{"fact count " + std::to_string(fact.header.count) + " does not match its " +
               std::to_string(reader.remaining()) + " item bytes"};
  }
  const uint32_t count = fact.header.count;
  switch (fact.type) {
    case FactType::accounts_created:
      fact.accounts.reserve(count);
      for (uint32_t i = 0; i < count; ++i) {
        bool reserved_zero = false;
        fact.accounts.push_back(GetAccount(reader, reserved_zero));
        if (!reserved_zero) return Err{std::string("account item reserved bytes are not zero")};
      }
      break;
    case FactType::transfers_created:
      fact.transfers.resize(count);
      std::memcpy(fact.transfers.data(), bytes.data() + kFactHeaderBytes,
                  size_t{count} * kTransferFactBytes);
      return fact;  // sizes were checked above; the reader did not consume the items
    case FactType::transfers_failed:
      for (uint32_t i = 0; i < count; ++i) {
        FailedTransfer f;
        f.id = TransferId{reader.U128()};
        // The code is a u16 on disk but the result enum is 8 bits wide: a plain cast would read
        // 0x0122 as 0x22. Only transient results are ever journaled as failures.
        const uint16_t code = reader.U16();
        f.result = static_cast<ledger::CreateTransferResult>(code & 0xff);
        if (code > 0xff || !ledger::IsTransient(f.result)) {
          return Err{"failure item code " + std::to_string(code) + " is not a transient result"};
        }
        if (reader.U16() != 0 || reader.U32() != 0) {
          return Err{std::string("failure item padding is not zero")};
        }
        fact.failed.push_back(f);
      }
      break;
    case FactType::transfers_expired:
      for (uint32_t i = 0; i < count; ++i) fact.expired.push_back(TransferId{reader.U128()});
      break;
    case FactType::offline:  // refused by ItemBytes above
    case FactType::api_key:
    case FactType::idempotency:
    case FactType::risk_rules:
    case FactType::risk_list:
    case FactType::risk_decision:
    case FactType::payment:
    case FactType::webhook_endpoint:
    case FactType::outbox_test_events:
    case FactType::webhook_deliveries:
    case FactType::webhook_resend:
      break;
  }
  if (!reader.AtEndOk()) return Err{std::string("fact items are malformed")};
  return fact;
}

void PutVersionedHeader(BinaryWriter& w, uint8_t version) {
  w.U8(version);
  w.U8(0);
  w.U16(0);
}

bool VersionedHeaderOk(BinaryReader& r, uint8_t version) {
  const uint8_t read_version = r.U8();
  const uint8_t reserved8 = r.U8();
  const uint16_t reserved16 = r.U16();
  return r.ok() && read_version == version && reserved8 == 0 && reserved16 == 0;
}

}  // namespace tpw::engine
