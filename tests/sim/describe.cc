#include "sim/describe.h"

#include <sstream>

namespace tpw::sim {

using engine::Request;
using engine::RequestKind;
using ledger::Account;
using ledger::Transfer;

namespace {
constexpr size_t kEventsShown = 6;

// Ids and amounts near 2^128 read better as "max-k".
std::string Big(u128 v) {
  if (v != 0 && kU128Max - v < 1'000'000) return "max-" + Dec(kU128Max - v);
  return Dec(v);
}

template <typename T>
void Field(std::string& out, const char* name, const T& want, const T& got) {
  if (want == got) return;
  std::ostringstream s;
  s << name << ": expected " << want << ", engine " << got << "; ";
  out += s.str();
}
void FieldBig(std::string& out, const char* name, u128 want, u128 got) {
  if (want != got)
    out += std::string(name) + ": expected " + Big(want) + ", engine " + Big(got) + "; ";
}
}  // namespace

std::string Dec(u128 v) { return U128ToDecimal(v); }

std::string Describe(const Account& a) {
  std::ostringstream s;
  s << "account{id " << Big(a.id.value) << ", ledger " << a.ledger << ", code " << a.code
    << ", flags 0x" << std::hex << a.flags << std::dec << ", dp " << Big(a.debits_pending.minor())
    << ", dP " << Big(a.debits_posted.minor()) << ", cp " << Big(a.credits_pending.minor())
    << ", cP " << Big(a.credits_posted.minor()) << ", limit " << Big(a.overdraft_limit.minor())
    << ", ud " << Dec(a.user_data_128) << "/" << a.user_data_64 << "/" << a.user_data_32 << ", ts "
    << a.timestamp.ns << "}";
  return s.str();
}

std::string Describe(const Transfer& t) {
  std::ostringstream s;
  s << "transfer{id " << Big(t.id.value) << ", " << Big(t.debit_account_id.value) << "->"
    << Big(t.credit_account_id.value) << ", amount " << Big(t.amount.minor()) << ", flags 0x"
    << std::hex << t.flags << std::dec;
  if (t.pending_id.value != 0) s << ", pending_id " << Big(t.pending_id.value);
  if (t.timeout != 0) s << ", timeout " << t.timeout << "s";
  s << ", ledger " << t.ledger << ", code " << t.code << ", ud " << Dec(t.user_data_128) << "/"
    << t.user_data_64 << "/" << t.user_data_32 << ", ts " << t.timestamp.ns << "}";
  return s.str();
}

std::string Describe(const ledger::AccountFilter& f) {
  std::ostringstream s;
  s << "filter{account " << Big(f.account_id.value) << ", ts " << f.timestamp_min.ns << ".."
    << f.timestamp_max.ns << ", code " << f.code << ", limit " << f.limit << ", flags " << f.flags
    << "}";
  return s.str();
}

std::string Describe(const ledger::AccountBalance& b) {
  std::ostringstream s;
  s << "balance{ts " << b.timestamp.ns << ", dp " << Big(b.debits_pending.minor()) << ", dP "
    << Big(b.debits_posted.minor()) << ", cp " << Big(b.credits_pending.minor()) << ", cP "
    << Big(b.credits_posted.minor()) << "}";
  return s.str();
}

std::string_view KindName(RequestKind kind) {
  switch (kind) {
    case RequestKind::create_accounts:
      return "create_accounts";
    case RequestKind::create_transfers:
      return "create_transfers";
    case RequestKind::lookup_accounts:
      return "lookup_accounts";
    case RequestKind::lookup_transfers:
      return "lookup_transfers";
    case RequestKind::get_account_transfers:
      return "get_account_transfers";
    case RequestKind::get_account_balances:
      return "get_account_balances";
    case RequestKind::get_pending_status:
      return "get_pending_status";
    case RequestKind::offline:
      return "offline";
    case RequestKind::access:
      return "access";
    case RequestKind::risk:
      return "risk";
    case RequestKind::payments:
      return "payments";
    case RequestKind::payments_digest:
      return "payments_digest";
    case RequestKind::webhooks:
      return "webhooks";
  }
  return "?";
}

std::string_view PendingStatusName(ledger::PendingStatus status) {
  switch (status) {
    case ledger::PendingStatus::none:
      return "none";
    case ledger::PendingStatus::pending:
      return "pending";
    case ledger::PendingStatus::posted:
      return "posted";
    case ledger::PendingStatus::voided:
      return "voided";
    case ledger::PendingStatus::expired:
      return "expired";
  }
  return "?";
}

std::string Describe(const Request& r) {
  std::ostringstream s;
  s << KindName(r.kind);
  switch (r.kind) {
    case RequestKind::create_accounts:
      s << " (" << r.accounts.size() << " events)";
      for (size_t i = 0; i < r.accounts.size() && i < kEventsShown; ++i) {
        s << "\n      [" << i << "] " << Describe(r.accounts[i]);
      }
      break;
    case RequestKind::create_transfers:
      s << " (" << r.transfers.size() << " events)";
      for (size_t i = 0; i < r.transfers.size() && i < kEventsShown; ++i) {
        s << "\n      [" << i << "] " << Describe(r.transfers[i]);
      }
      break;
    case RequestKind::get_account_transfers:
    case RequestKind::get_account_balances:
      s << " " << Describe(r.filter);
      break;
    default:
      s << " (" << r.ids.size() << " ids)";
      break;
  }
  if (r.accounts.size() > kEventsShown || r.transfers.size() > kEventsShown) s << "\n      ...";
  return s.str();
}

std::string DiffAccount(const Account& want, const Account& got) {
  std::string out;
  FieldBig(out, "id", want.id.value, got.id.value);
  FieldBig(out, "debits_pending", want.debits_pending.minor(), got.debits_pending.minor());
  FieldBig(out, "debits_posted", want.debits_posted.minor(), got.debits_posted.minor());
  FieldBig(out, "credits_pending", want.credits_pending.minor(), got.credits_pending.minor());
  FieldBig(out, "credits_posted", want.credits_posted.minor(), got.credits_posted.minor());
  FieldBig(out, "overdraft_limit", want.overdraft_limit.minor(), got.overdraft_limit.minor());
  FieldBig(out, "user_data_128", want.user_data_128, got.user_data_128);
  Field(out, "user_data_64", want.user_data_64, got.user_data_64);
  Field(out, "user_data_32", want.user_data_32, got.user_data_32);
  Field(out, "ledger", want.ledger, got.ledger);
  Field(out, "code", want.code, got.code);
  Field(out, "flags", want.flags, got.flags);
  Field(out, "timestamp", want.timestamp.ns, got.timestamp.ns);
  return out;
}

std::string DiffTransfer(const Transfer& want, const Transfer& got) {
  std::string out;
  FieldBig(out, "id", want.id.value, got.id.value);
  FieldBig(out, "debit_account_id", want.debit_account_id.value, got.debit_account_id.value);
  FieldBig(out, "credit_account_id", want.credit_account_id.value, got.credit_account_id.value);
  FieldBig(out, "amount", want.amount.minor(), got.amount.minor());
  FieldBig(out, "pending_id", want.pending_id.value, got.pending_id.value);
  FieldBig(out, "user_data_128", want.user_data_128, got.user_data_128);
  Field(out, "user_data_64", want.user_data_64, got.user_data_64);
  Field(out, "user_data_32", want.user_data_32, got.user_data_32);
  Field(out, "timeout", want.timeout, got.timeout);
  Field(out, "ledger", want.ledger, got.ledger);
  Field(out, "code", want.code, got.code);
  Field(out, "flags", want.flags, got.flags);
  Field(out, "timestamp", want.timestamp.ns, got.timestamp.ns);
  return out;
}

std::string DiffBalance(const ledger::AccountBalance& want, const ledger::AccountBalance& got) {
  std::string out;
  Field(out, "timestamp", want.timestamp.ns, got.timestamp.ns);
  FieldBig(out, "debits_pending", want.debits_pending.minor(), got.debits_pending.minor());
  FieldBig(out, "debits_posted", want.debits_posted.minor(), got.debits_posted.minor());
  FieldBig(out, "credits_pending", want.credits_pending.minor(), got.credits_pending.minor());
  FieldBig(out, "credits_posted", want.credits_posted.minor(), got.credits_posted.minor());
  return out;
}

}  // namespace tpw::sim
