// ListSet: the run-time contents of the named lists a rule set declares (allow/deny/watch lists
// of accounts, devices, merchants, terminals, IPs, countries). Conditions read them with
// `device in blocked_devices`; operators change them at run time with Add/Remove.
//
// Not thread-safe: it belongs to one RiskEngine (the sequencer's), like the velocity state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/codec.h"
#include "common/result.h"
#include "risk/rules.h"
#include "risk/u128_set.h"

namespace tpw::risk {

enum class ListError : uint8_t {
  unknown_list = 1,   // no list of that name in the active rules
  invalid_value = 2,  // not a value of the list's kind ("FR", "203.0.113.7", decimal ids)
  list_full = 3,      // the list holds kListItemsMax items
};
std::string_view ListErrorMessage(ListError error);

class ListSet {
 public:
  ListSet() = default;
  // The lists `rules` declares, holding the items written in the file.
  static ListSet FromRules(const RuleSet& rules);
  // The lists of `rules`, keeping the current contents of every list that has the same name and
  // kind here (plus the items the new file declares); other lists start from the file.
  ListSet Rebase(const RuleSet& rules) const;

  [[nodiscard]] Status<ListError> Add(std::string_view list, std::string_view value);
  [[nodiscard]] Status<ListError> Remove(std::string_view list, std::string_view value);

  // Index is the list's position in RuleSet::lists() (the one this set was made for).
  bool Contains(uint32_t index, u128 value) const { return lists_[index].items.Contains(value); }
  size_t size() const { return lists_.size(); }
  const std::string& name(size_t index) const { return lists_[index].name; }
  KeyKind kind(size_t index) const { return lists_[index].kind; }
  size_t items(size_t index) const { return lists_[index].items.size(); }
  // Sorted items of one list (for saving and showing).
  std::vector<u128> SortedItems(size_t index) const;

  void Save(BinaryWriter& writer) const;
  // False on anything malformed (then the set is unchanged).
  [[nodiscard]] bool Load(BinaryReader& reader);

 private:
  struct List {
    std::string name;
    KeyKind kind = KeyKind::account;
    U128Set items;
  };
  List* Find(std::string_view name);
  std::vector<List> lists_;
};

}  // namespace tpw::risk
