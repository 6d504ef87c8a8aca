// The compiled form of conditions (internal to src/risk): one flat array of 8-byte instructions
// for all rules of a rule set, run by a switch loop over a fixed-size value stack. No
// allocation, no virtual call, no recursion per evaluation.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/assert.h"
#include "common/int128.h"
#include "risk/limits.h"

namespace tpw::risk {

// What a condition can read from the event (docs/risk-rules.md, "Fields").
enum class Field : uint8_t {
  amount,
  asset,
  account,
  device,
  merchant,
  terminal,
  merchant_category,
  channel,
  country,
  ip,
  hour,
  device_age,
  cvm_performed,
};
inline constexpr size_t kFieldCount = 13;

// The keys velocity features and named lists are about.
enum class KeyKind : uint8_t { account, device, merchant, terminal, ip, country };
enum class FeatureKind : uint8_t { count, sum, distinct };

// count(key, window), sum(key, window), distinct(value, key, window).
struct FeatureSpec {
  FeatureKind kind = FeatureKind::count;
  KeyKind key = KeyKind::account;
  KeyKind value = KeyKind::account;  // distinct() only
  uint64_t window_seconds = 0;
  friend bool operator==(const FeatureSpec&, const FeatureSpec&) = default;
};
std::string FeatureText(const FeatureSpec& spec);  // "count(account, 1h)"
std::string_view KeyKindName(KeyKind kind);

// One stack value. `asset` tags amounts with their asset's ledger number: 0 for a value without
// an asset (plain integers, counts), kAssetMismatch for the result of adding two amounts in
// different assets. Comparing amounts of different assets is false whatever the operator.
struct Value {
  u128 v = 0;
  uint32_t asset = 0;
};
inline constexpr uint32_t kAssetMismatch = UINT32_MAX;

enum class Op : uint8_t {
  field,     // push event field `arg` (a Field)
  constant,  // push constants[arg]
  feature,   // push velocity feature `arg`
  eq,
  ne,
  lt,
  le,
  gt,
  ge,  // pop b, pop a, push a OP b
  logical_not,
  add,
  sub,
  mul,            // saturating at 0 and 2^128-1; asset tags combine
  in_set,         // pop a, push a ∈ sets[arg] (sorted)
  in_list,        // pop a, push a ∈ named list `arg`
  jump_if_false,  // top false: jump to arg keeping it; else pop it (`and`)
  jump_if_true,   // top true: jump to arg keeping it; else pop it (`or`)
};

struct Instr {
  Op op;
  uint8_t reserved[3];
  uint32_t arg;
};
static_assert(sizeof(Instr) == 8);

struct Program {
  std::vector<Instr> code;
  std::vector<Value> constants;
  std::vector<std::vector<u128>> sets;  // `in [..]` literal lists, each sorted and unique
  std::vector<FeatureSpec> features;
};

inline bool AssetsComparable(const Value& a, const Value& b) {
  if (a.asset == kAssetMismatch || b.asset == kAssetMismatch) return false;
  return a.asset == 0 || b.asset == 0 || a.asset == b.asset;
}
inline uint32_t CombineAssets(uint32_t a, uint32_t b) {
  if (a == 0) return b;
  if (b == 0 || a == b) return a;
  return kAssetMismatch;
}
inline u128 SaturatingAdd(u128 a, u128 b) {
  u128 r = 0;
  return __builtin_add_overflow(a, b, &r) ? kU128Max : r;
}
inline u128 SaturatingSub(u128 a, u128 b) { return a > b ? a - b : 0; }
inline u128 SaturatingMul(u128 a, u128 b) {
  u128 r = 0;
  return __builtin_mul_overflow(a, b, &r) ? kU128Max : r;
}

inline bool Compare(Op op, const Value& a, const Value& b) {
  if (!AssetsComparable(a, b)) return false;
  switch (op) {
    case Op::eq:
      return a.v == b.v;
    case Op::ne:
      return a.v != b.v;
    case Op::lt:
      return a.v < b.v;
    case Op::le:
      return a.v <= b.v;
    case Op::gt:
      return a.v > b.v;
    case Op::ge:
      return a.v >= b.v;
    default:
      TPW_UNREACHABLE();
  }
}

// Runs code[begin, end) and returns the boolean it leaves. Ctx supplies
//   Value Field(Field), Value Feature(uint32_t index), bool InList(uint32_t list, u128 value).
// The compiler guarantees the stack never exceeds kStackSlotsMax and ends with one value.
template <typename Ctx>
bool RunCondition(const Program& program, uint32_t begin, uint32_t end, Ctx& ctx) {
  std::array<Value, kStackSlotsMax> stack;
  size_t top = 0;  // number of values on the stack
  const Instr* code = program.code.data();
  for (uint32_t pc = begin; pc < end; ++pc) {
    const Instr& in = code[pc];
    switch (in.op) {
      case Op::field:
        stack[top++] = ctx.Field(static_cast<Field>(in.arg));
        break;
      case Op::constant:
        stack[top++] = program.constants[in.arg];
        break;
      case Op::feature:
        stack[top++] = ctx.Feature(in.arg);
        break;
      case Op::eq:
      case Op::ne:
      case Op::lt:
      case Op::le:
      case Op::gt:
      case Op::ge:
        --top;
        stack[top - 1] = Value{Compare(in.op, stack[top - 1], stack[top]) ? 1u : 0u, 0};
        break;
      case Op::logical_not:
        stack[top - 1].v = stack[top - 1].v == 0 ? 1 : 0;
        break;
      case Op::add:
        --top;
        stack[top - 1] = Value{SaturatingAdd(stack[top - 1].v, stack[top].v),
                               CombineAssets(stack[top - 1].asset, stack[top].asset)};
        break;
      case Op::sub:
        --top;
        stack[top - 1] = Value{SaturatingSub(stack[top - 1].v, stack[top].v),
                               CombineAssets(stack[top - 1].asset, stack[top].asset)};
        break;
      case Op::mul:
        --top;
        stack[top - 1] = Value{SaturatingMul(stack[top - 1].v, stack[top].v),
                               CombineAssets(stack[top - 1].asset, stack[top].asset)};
        break;
      case Op::in_set: {
        const std::vector<u128>& set = program.sets[in.arg];
        stack[top - 1] =
            Value{std::binary_search(set.begin(), set.end(), stack[top - 1].v) ? 1u : 0u, 0};
        break;
      }
      case Op::in_list:
        stack[top - 1] = Value{ctx.InList(in.arg, stack[top - 1].v) ? 1u : 0u, 0};
        break;
      case Op::jump_if_false:
        if (stack[top - 1].v == 0) {
          pc = in.arg - 1;
        } else {
          --top;
        }
        break;
      case Op::jump_if_true:
        if (stack[top - 1].v != 0) {
          pc = in.arg - 1;
        } else {
          --top;
        }
        break;
    }
  }
  TPW_ASSERT(top == 1);
  return stack[0].v != 0;
}

}  // namespace tpw::risk
