#include "risk/lists.h"

#include <algorithm>

namespace tpw::risk {

std::string_view ListErrorMessage(ListError error) {
  switch (error) {
    case ListError::unknown_list:
      return "no list of that name in the active rules: declare it as [lists.NAME] first";
    case ListError::invalid_value:
      return "not a value of the list's kind (ids: decimal digits; countries: \"FR\"; ips: "
             "\"203.0.113.7\")";
    case ListError::list_full:
      return "the list is full (1,000,000 items): remove items or split the list";
  }
  return "unknown list error";
}

ListSet ListSet::FromRules(const RuleSet& rules) { return ListSet().Rebase(rules); }

ListSet ListSet::Rebase(const RuleSet& rules) const {
  ListSet next;
  for (const ListSpec& spec : rules.lists()) {
    List list{spec.name, spec.kind, {}};
    for (const List& old : lists_) {
      if (old.name == spec.name && old.kind == spec.kind) list.items = old.items;
    }
    for (u128 item : spec.items) list.items.Insert(item);
    next.lists_.push_back(std::move(list));
  }
  return next;
}

ListSet::List* ListSet::Find(std::string_view name) {
  for (List& list : lists_) {
    if (list.name == name) return &list;
  }
  return nullptr;
}

Status<ListError> ListSet::Add(std::string_view list_name, std::string_view value_text) {
  List* list = Find(list_name);
  if (list == nullptr) return Err{ListError::unknown_list};
  u128 value = 0;
  if (!ParseKeyValue(list->kind, value_text, value)) return Err{ListError::invalid_value};
  if (list->items.size() >= kListItemsMax && !list->items.Contains(value)) {
    return Err{ListError::list_full};
  }
  list->items.Insert(value);
  return Status<ListError>::Ok();
}

Status<ListError> ListSet::Remove(std::string_view list_name, std::string_view value_text) {
  List* list = Find(list_name);
  if (list == nullptr) return Err{ListError::unknown_list};
  u128 value = 0;
  if (!ParseKeyValue(list->kind, value_text, value)) return Err{ListError::invalid_value};
  list->items.Erase(value);
  return Status<ListError>::Ok();
}

std::vector<u128> ListSet::SortedItems(size_t index) const { return lists_[index].items.Sorted(); }

// Layout: u32 list count; per list: string name, u8 kind, u32 item count, sorted u128 items.
void ListSet::Save(BinaryWriter& writer) const {
  writer.U32(static_cast<uint32_t>(lists_.size()));
  for (size_t i = 0; i < lists_.size(); ++i) {
    writer.String(lists_[i].name);
    writer.U8(static_cast<uint8_t>(lists_[i].kind));
    const std::vector<u128> items = SortedItems(i);
    writer.U32(static_cast<uint32_t>(items.size()));
    for (u128 item : items) writer.U128(item);
  }
}

bool ListSet::Load(BinaryReader& reader) {
  const uint32_t count = reader.U32();
  if (!reader.ok() || count > kListsMax) return false;
  std::vector<List> lists;
  for (uint32_t i = 0; i < count; ++i) {
    List list;
    list.name = reader.String(static_cast<uint32_t>(kNameLengthMax));
    const uint8_t kind = reader.U8();
    const uint32_t items = reader.U32();
    // Each item takes 16 bytes: a count beyond what is left is malformed, not an allocation.
    if (!reader.ok() || kind > static_cast<uint8_t>(KeyKind::country) || items > kListItemsMax ||
        items > reader.remaining() / 16) {
      return false;
    }
    list.kind = static_cast<KeyKind>(kind);
    u128 previous = 0;
    for (uint32_t j = 0; j < items; ++j) {
      const u128 item = reader.U128();
      if (j > 0 && item <= previous) return false;  // sorted and unique: one encoding per set
      list.items.Insert(item);
      previous = item;
    }
    for (const List& other : lists) {
      if (other.name == list.name) return false;
    }
    lists.push_back(std::move(list));
  }
  if (!reader.ok()) return false;
  lists_ = std::move(lists);
  return true;
}

}  // namespace tpw::risk
