// The condition language (internal to src/risk): parse, type-check and compile one condition
// into a Program shared by all rules of a rule set. Grammar and types: docs/risk-rules.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "risk/program.h"

namespace tpw::risk {

// A named list as conditions see it: `device in blocked_devices`.
struct ListDecl {
  std::string name;
  KeyKind kind = KeyKind::account;
};

// Where the code of one condition lies in Program::code.
struct CodeRange {
  uint32_t begin = 0;
  uint32_t end = 0;
};

// An error at byte `offset` of the condition text.
struct ExprError {
  size_t offset = 0;
  std::string message;
};

// Either `range` (ok) or `error`.
struct ExprResult {
  bool ok = false;
  CodeRange range;
  ExprError error;
};

// Appends the code of `text` to `program` (adding constants, literal sets and velocity features
// it needs, sharing features already there). On error `program` may hold unused code; the
// caller discards the whole program when any condition fails.
ExprResult CompileCondition(std::string_view text, const std::vector<ListDecl>& lists,
                            Program& program);

// Parses a value of a named list's kind as written in the file or given at run time
// ("12345" for ids, "FR" for countries, "203.0.113.7" for IPs); false when it is not one.
bool ParseKeyValue(KeyKind kind, std::string_view text, u128& value);
std::string KeyValueText(KeyKind kind, u128 value);
bool ParseKeyKind(std::string_view text, KeyKind& kind);

}  // namespace tpw::risk
