// The compiled form of conditions (internal to src/risk): one flat array of 8-byte instructions
// for all rules of a rule set, run by a switch loop over a fixed-size value stack. No
// allocation, no virtual call, no recursion per evaluation.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
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
inline constexpr size_t kKeyKinds = 6;
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
//
// Trivial on purpose (no member initializers): the evaluation stack is an uninitialized array,
// so a condition does not pay for zeroing 32 slots it never reads.
struct Value {
  u128 v;
  uint32_t asset;
};
static_assert(std::is_trivial_v<Value>);
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
  // Fused forms of the commonest shapes (one dispatch instead of three):
  field_compare,    // push Field(operand) `compare` constants[arg]
  feature_compare,  // push Feature(operand) `compare` constants[arg]
  field_in_set,     // push Field(operand) ∈ sets[arg]
  field_in_list,    // push Field(operand) ∈ named list `arg`
  // A whole condition `field_compare and field_compare` (this instruction, a jump_if_false,
  // the second field_compare): both tests in one dispatch, the second only when the first holds.
  field_compare_and,
};

struct Instr {
  Op op;
  uint8_t accepted;  // field_compare, feature_compare: OutcomesAccepted(the comparison)
  uint8_t operand;   // fused forms: the Field or the feature index
  // Fused forms: 1 when the next instruction is a jump_if_false or jump_if_true on this result,
  // which this instruction then performs itself (`a and b`: one dispatch fewer, no push and pop
  // when the jump falls through). The jump stays in the code for paths that land on it.
  uint8_t then_jump;
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

// Comparisons without a branch per operator: each operator is the set of outcomes it accepts
// (bit 0 greater, bit 1 equal, bit 2 less), so `a OP b` is one table lookup and one shift.
inline constexpr uint8_t kAcceptsGreater = 1, kAcceptsEqual = 2, kAcceptsLess = 4;
inline unsigned CompareOutcome(u128 a, u128 b) { return a < b ? 2u : (a == b ? 1u : 0u); }
inline uint8_t OutcomesAccepted(Op op) {
  static constexpr uint8_t kAccepted[6] = {
      kAcceptsEqual,                    // eq
      kAcceptsLess | kAcceptsGreater,   // ne
      kAcceptsLess,                     // lt
      kAcceptsLess | kAcceptsEqual,     // le
      kAcceptsGreater,                  // gt
      kAcceptsGreater | kAcceptsEqual,  // ge
  };
  const size_t index = static_cast<size_t>(op) - static_cast<size_t>(Op::eq);
  TPW_ASSERT(index < 6);
  return kAccepted[index];
}

// Fused comparisons whose operands never carry an asset tag (everything but amounts) also set
// kAcceptsUntagged, and skip the assets' check: both tags are 0, always comparable.
inline constexpr uint8_t kAcceptsUntagged = 8;
inline bool Compare(uint8_t accepted, const Value& a, const Value& b) {
  // No assertion on the tags here (the hottest line of a decision): the compiler sets the bit
  // from the operands' types only, and expr_test checks every field and feature kind.
  const unsigned outcomes = accepted;
  if ((outcomes & kAcceptsUntagged) == 0 && !AssetsComparable(a, b)) return false;
  return ((outcomes >> CompareOutcome(a.v, b.v)) & 1u) != 0;
}
inline bool Compare(Op op, const Value& a, const Value& b) {
  return Compare(OutcomesAccepted(op), a, b);
}

// A comparison of an event field or a velocity feature with a constant, as one range test on
// 64 bits: it holds when `operand - first <= span` (mod 2^64), negated when `negate` is set,
// and only when the assets compare: an amount or a sum compared with the assets' check names
// the constant's asset in `asset_check` (RuleSet::test_assets()[asset_check - 1]), whose
// AssetsComparable with the payment's asset a decision works out once; 0: no check. The
// operand is taken
// saturated to 64 bits (Saturated64), exact for constants below 2^64 - 1: a larger value
// compares with them as 2^64 - 1 does. Rules whose whole condition is one or two of these
// joined by `and` (most rules) run as a table of tests instead of bytecode (RuleSet::
// tested_rules); what they decide is the same, rule by rule.
struct RangeTest {
  uint64_t first = 0;
  uint64_t span = UINT64_MAX;  // the default holds for every operand
  uint8_t operand = 0;         // a Field, or kFieldCount + a feature index
  uint8_t negate = 0;
  uint8_t asset_check = 0;
};
inline constexpr size_t kTestOperands = kFieldCount + kFeaturesMax;
// Distinct constants' assets the tests of one rule set check (a rule needing more runs as
// bytecode).
inline constexpr size_t kTestAssetsMax = 15;
inline uint64_t Saturated64(u128 v) { return High64(v) == 0 ? Low64(v) : UINT64_MAX; }

// The range test of a fused comparison (field_compare, feature_compare, the first half of
// field_compare_and) with `constant`, or false when it has none (a constant of 2^64 - 1 or
// more); the caller sets asset_check.
inline bool RangeTestOf(const Instr& in, const Value& constant, RangeTest& test) {
  if (constant.v >= UINT64_MAX) return false;
  const uint64_t c = Low64(constant.v);
  const bool feature = in.op == Op::feature_compare;
  test = RangeTest{};
  test.operand = static_cast<uint8_t>(feature ? kFieldCount + in.operand : in.operand);
  switch (in.accepted & ~kAcceptsUntagged) {
    case kAcceptsEqual:
      test.first = c, test.span = 0;
      return true;
    case kAcceptsLess | kAcceptsGreater:  // !=
      test.first = c, test.span = 0, test.negate = 1;
      return true;
    case kAcceptsLess:  // < 0 never holds: the negation of a test that always does
      if (c == 0) test.negate = 1;
      else test.span = c - 1;
      return true;
    case kAcceptsLess | kAcceptsEqual:
      test.span = c;
      return true;
    case kAcceptsGreater:
      test.first = c + 1, test.span = UINT64_MAX - c - 1;
      return true;
    case kAcceptsGreater | kAcceptsEqual:
      test.first = c, test.span = UINT64_MAX - c;
      return true;
  }
  return false;
}

// `operands` the tests' operands saturated (Saturated64); `comparable[k]` 1 when the payment's
// asset compares with the k-th asset checked, comparable[0] 1.
inline bool Holds(const RangeTest& test, const uint64_t* operands, const uint8_t* comparable) {
  const bool in_range = operands[test.operand] - test.first <= test.span;
  return (comparable[test.asset_check] & ((in_range ? 1u : 0u) ^ test.negate)) != 0;
}

// Runs the conditions of `count` rules in order in one loop (a call per rule would cost about
// as much as a short condition). `range(i)` gives rule i's code as std::pair{begin, end}, or an
// empty range to skip the rule; `visit(i, result)` gets each result before the next rule runs.
// Ctx supplies
//   Value Field(Field), Value Feature(uint32_t index), bool InList(uint32_t list, u128 value).
// The compiler guarantees the stack never exceeds kStackSlotsMax and ends with one value.
// Dispatch is "threaded" (GNU labels as values, which g++ and clang support, like the
// __int128 money already needs): every instruction ends in its own indirect jump, so the branch
// predictor learns each opcode's successor instead of sharing one switch jump for all of them.
// The end of a fused form: push its result `fused`, or perform the jump after it (then_jump).
#define TPW_RISK_PUSH_FUSED()                     \
  do {                                            \
    if (in->then_jump != 0) goto fused_then_jump; \
    stack[top++] = Value{fused ? 1u : 0u, 0};     \
    TPW_RISK_NEXT();                              \
  } while (0)
#define TPW_RISK_NEXT()                         \
  do {                                          \
    if (++pc == end) goto done;                 \
    in = &code[pc];                             \
    goto* kLabels[static_cast<size_t>(in->op)]; \
  } while (0)

// The end of a rule whose result is `r`: visit it, then start the next rule from here. Every
// handler that can end a rule has its own rule-start jump, so the predictor learns which rule
// follows which ending, instead of one shared jump for all 50 rule starts.
#define TPW_RISK_END_RULE(r)                    \
  do {                                          \
    visit(rule, (r));                           \
    if (!start_next_rule()) return;             \
    goto* kLabels[static_cast<size_t>(in->op)]; \
  } while (0)

template <typename Ctx, typename Range, typename Visit>
void RunConditions(const Program& program, size_t count, Range range, Ctx& ctx, Visit visit) {
  // In the order of enum class Op.
  static constexpr void* kLabels[] = {
      &&field,         &&constant,     &&feature,       &&compare,         &&compare,
      &&compare,       &&compare,      &&compare,       &&compare,         &&logical_not,
      &&add,           &&sub,          &&mul,           &&in_set,          &&in_list,
      &&jump_if_false, &&jump_if_true, &&field_compare, &&feature_compare, &&field_in_set,
      &&field_in_list, &&field_compare_and};
  static_assert(sizeof(kLabels) / sizeof(kLabels[0]) ==
                static_cast<size_t>(Op::field_compare_and) + 1);
  const Instr* code = program.code.data();
  const Value* constants = program.constants.data();
  Value stack[kStackSlotsMax];  // uninitialized: the compiler proved every read follows a write
  size_t top = 0;               // number of values on the stack
  uint32_t pc = 0;
  uint32_t end = 0;
  const Instr* in = nullptr;
  bool fused = false;  // a fused form's result
  size_t rule = 0;
  size_t next_rule = 0;
  // Moves to the next rule with code (an empty range skips the rule); false after the last.
  const auto start_next_rule = [&]() -> bool {
    for (; next_rule < count; ++next_rule) {
      const auto [begin, rule_end] = range(next_rule);
      if (begin == rule_end) continue;
      TPW_ASSERT(begin < rule_end);
      rule = next_rule++;
      pc = begin;
      end = rule_end;
      top = 0;
      in = &code[pc];
      return true;
    }
    return false;
  };
  if (!start_next_rule()) return;
  goto* kLabels[static_cast<size_t>(in->op)];

  field:
    stack[top++] = ctx.Field(static_cast<Field>(in->arg));
    TPW_RISK_NEXT();
  constant:
    stack[top++] = constants[in->arg];
    TPW_RISK_NEXT();
  feature:
    stack[top++] = ctx.Feature(in->arg);
    TPW_RISK_NEXT();
  compare:
    --top;
    stack[top - 1] = Value{Compare(in->op, stack[top - 1], stack[top]) ? 1u : 0u, 0};
    TPW_RISK_NEXT();
  logical_not:
    stack[top - 1].v = stack[top - 1].v == 0 ? 1 : 0;
    TPW_RISK_NEXT();
  add:
    --top;
    stack[top - 1] = Value{SaturatingAdd(stack[top - 1].v, stack[top].v),
                           CombineAssets(stack[top - 1].asset, stack[top].asset)};
    TPW_RISK_NEXT();
  sub:
    --top;
    stack[top - 1] = Value{SaturatingSub(stack[top - 1].v, stack[top].v),
                           CombineAssets(stack[top - 1].asset, stack[top].asset)};
    TPW_RISK_NEXT();
  mul:
    --top;
    stack[top - 1] = Value{SaturatingMul(stack[top - 1].v, stack[top].v),
                           CombineAssets(stack[top - 1].asset, stack[top].asset)};
    TPW_RISK_NEXT();
  in_set : {
    const std::vector<u128>& set = program.sets[in->arg];
    stack[top - 1] =
        Value{std::binary_search(set.begin(), set.end(), stack[top - 1].v) ? 1u : 0u, 0};
    TPW_RISK_NEXT();
  }
  in_list:
    stack[top - 1] = Value{ctx.InList(in->arg, stack[top - 1].v) ? 1u : 0u, 0};
    TPW_RISK_NEXT();
  jump_if_false:
    // `and`: a false left side is the result; skip the right side (the jump lands on `end` or
    // on the instruction after the right side, never past `end`).
    if (stack[top - 1].v == 0) {
      if (in->arg == end) TPW_RISK_END_RULE(false);  // the whole condition is this `and`
      pc = in->arg - 1;
    } else {
      --top;
    }
    TPW_RISK_NEXT();
  jump_if_true:
    if (stack[top - 1].v != 0) {
      if (in->arg == end) TPW_RISK_END_RULE(true);  // the whole condition is this `or`
      pc = in->arg - 1;
    } else {
      --top;
    }
    TPW_RISK_NEXT();
  field_compare:
    fused = Compare(in->accepted, ctx.Field(static_cast<Field>(in->operand)),
                    constants[in->arg]);
    TPW_RISK_PUSH_FUSED();
  feature_compare:
    fused = Compare(in->accepted, ctx.Feature(in->operand), constants[in->arg]);
    TPW_RISK_PUSH_FUSED();
  field_in_set : {
    const std::vector<u128>& set = program.sets[in->arg];
    const u128 value = ctx.Field(static_cast<Field>(in->operand)).v;
    fused = std::binary_search(set.begin(), set.end(), value);
    TPW_RISK_PUSH_FUSED();
  }
  field_in_list:
    fused = ctx.InList(in->arg, ctx.Field(static_cast<Field>(in->operand)).v);
    TPW_RISK_PUSH_FUSED();
  field_compare_and : {
    TPW_ASSERT(pc + 3 == end);
    const Instr& second = code[pc + 2];
    TPW_RISK_END_RULE(Compare(in->accepted, ctx.Field(static_cast<Field>(in->operand)),
                              constants[in->arg]) &&
                      Compare(second.accepted, ctx.Field(static_cast<Field>(second.operand)),
                              constants[second.arg]));
  }
  fused_then_jump : {
    // The next instruction is the jump on `fused`: do what it would do with `fused` on top.
    in = &code[++pc];
    TPW_ASSERT(in->op == Op::jump_if_false || in->op == Op::jump_if_true);
    const bool taken = in->op == Op::jump_if_false ? !fused : fused;
    if (!taken) TPW_RISK_NEXT();  // the jump would pop `fused` and fall through
    if (in->arg == end) TPW_RISK_END_RULE(fused);  // the condition is this `and` / `or`
    stack[top++] = Value{fused ? 1u : 0u, 0};
    pc = in->arg - 1;
    TPW_RISK_NEXT();
  }

done:
  TPW_ASSERT(top == 1);
  TPW_RISK_END_RULE(stack[0].v != 0);
}

// Runs code[begin, end) and returns the boolean it leaves.
template <typename Ctx>
bool RunCondition(const Program& program, uint32_t begin, uint32_t end, Ctx& ctx) {
  bool result = false;
  RunConditions(
      program, 1,
      [&](size_t) {
        return std::pair{begin, end};
      },
      ctx, [&](size_t, bool r) { result = r; });
  return result;
}
#undef TPW_RISK_NEXT
#undef TPW_RISK_END_RULE
#undef TPW_RISK_PUSH_FUSED

}  // namespace tpw::risk
