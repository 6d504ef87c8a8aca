// Text forms for the simulator's trace and failure messages, and field-by-field differences.
#pragma once

#include <string>
#include <vector>

#include "engine/engine.h"

namespace tpw::sim {

std::string Dec(u128 v);
std::string Describe(const ledger::Account& a);
std::string Describe(const ledger::Transfer& t);
std::string Describe(const ledger::AccountFilter& f);
std::string Describe(const ledger::AccountBalance& b);
// The request's kind and events (the first few in full).
std::string Describe(const engine::Request& r);
std::string_view KindName(engine::RequestKind kind);
std::string_view PendingStatusName(ledger::PendingStatus status);

// "" when equal, else "field: expected X, engine Y; ..." over every field.
std::string DiffAccount(const ledger::Account& want, const ledger::Account& got);
std::string DiffTransfer(const ledger::Transfer& want, const ledger::Transfer& got);
std::string DiffBalance(const ledger::AccountBalance& want, const ledger::AccountBalance& got);

}  // namespace tpw::sim
