// Named limits of the risk engine (STYLE.md rule 6). Over a limit is an error at the input (the
// rules file, a list update, a state blob) and an assertion inside.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tpw::risk {

// Bytes of one rules file.
inline constexpr size_t kRulesFileBytesMax = 4u << 20;
// Rules in one file.
inline constexpr size_t kRulesMax = 1'000;
// Characters of one rule name, list name or version.
inline constexpr size_t kNameLengthMax = 64;
// Characters of one condition.
inline constexpr size_t kConditionLengthMax = 4'096;
// Values on the evaluation stack: bounds how deeply a condition may nest.
inline constexpr size_t kStackSlotsMax = 32;
// Bytecode instructions of one condition.
inline constexpr size_t kConditionOpsMax = 1'024;
// Distinct velocity features (count/sum/distinct with their key and window) in one rule set.
inline constexpr size_t kFeaturesMax = 16;
// Named lists in one rule set.
inline constexpr size_t kListsMax = 64;
// Values of one `in [..]` literal list, and items of one list as declared in the file.
inline constexpr size_t kLiteralListValuesMax = 10'000;
inline constexpr size_t kFileListItemsMax = 100'000;
// Items of one named list after run-time updates.
inline constexpr size_t kListItemsMax = 1'000'000;
// |weight| of one rule and |threshold|: 1000 rules of 10^6 each cannot overflow an int64 score.
inline constexpr int64_t kWeightAbsMax = 1'000'000;
// Longest velocity window (30 days) in seconds.
inline constexpr uint64_t kWindowSecondsMax = 30ull * 24 * 3600;
// Sub-buckets a velocity window is split into: its time resolution is window / this.
inline constexpr uint32_t kWindowBuckets = 16;
// Distinct values remembered per key of a distinct() feature; the count saturates here.
inline constexpr uint32_t kDistinctValuesMax = 16;
// Active keys of one velocity feature, the largest setting allowed.
inline constexpr uint32_t kFeatureKeysMax = 1u << 26;
// Bytes of one serialized risk state (velocity windows and lists).
inline constexpr size_t kStateBytesMax = size_t{4} << 30;

}  // namespace tpw::risk
