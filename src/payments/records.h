// Binary layouts of the payments records (internal header), shared by events (events.cc) and
// snapshots (Payments::Save/Load). Little-endian via common/codec.h; layouts in
// docs/payments.md ("Record layouts").
//
// Every Get reads with a sticky-failure BinaryReader and returns false on any bad value: counts
// are checked against their limit before anything is allocated, strings against their length
// limit, enums against their range, bools are 0 or 1. No assertion fires on input.
#pragma once

#include "common/codec.h"
#include "payments/types.h"

namespace tpw::payments::records {

void Put(BinaryWriter& w, const Payment& payment);
void Put(BinaryWriter& w, const Customer& customer);
void Put(BinaryWriter& w, const Coupon& coupon);
void Put(BinaryWriter& w, const PointsProgram& program);
void Put(BinaryWriter& w, const FxRate& rate);
void Put(BinaryWriter& w, const FxQuote& quote);
void Put(BinaryWriter& w, const FxAccount& account);

[[nodiscard]] bool Get(BinaryReader& r, Payment& payment);
[[nodiscard]] bool Get(BinaryReader& r, Customer& customer);
[[nodiscard]] bool Get(BinaryReader& r, Coupon& coupon);
[[nodiscard]] bool Get(BinaryReader& r, PointsProgram& program);
[[nodiscard]] bool Get(BinaryReader& r, FxRate& rate);
[[nodiscard]] bool Get(BinaryReader& r, FxQuote& quote);
[[nodiscard]] bool Get(BinaryReader& r, FxAccount& account);

}  // namespace tpw::payments::records
