#include "cli/batch_input.h"

#include "cli/json_fields.h"

#include <algorithm>
#include <array>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <span>

namespace tpw::cli {
namespace {

namespace bj = boost::json;

// ---- Reading the file -------------------------------------------------------------------

struct FileCloser {
  void operator()(std::FILE* file) const {
    if (file != stdin) std::fclose(file);
  }
};
using FileHandle = std::unique_ptr<std::FILE, FileCloser>;

// Reads at most kBatchFileBytesMax + 1 bytes, so an oversized file is detected without reading
// all of it.
InputResult<std::string> ReadBounded(const std::string& path) {
  FileHandle file(path == "-" ? stdin : std::fopen(path.c_str(), "rb"));
  if (!file) return InputFail("cannot open batch file " + path + ": " + std::strerror(errno));
  std::string bytes;
  char chunk[65536];
  while (bytes.size() <= kBatchFileBytesMax) {
    const size_t n = std::fread(chunk, 1, sizeof chunk, file.get());
    bytes.append(chunk, n);
    if (n < sizeof chunk) break;
  }
  if (std::ferror(file.get()) != 0) {
    return InputFail("cannot read batch file " + path + ": " + std::strerror(errno));
  }
  if (bytes.size() > kBatchFileBytesMax) {
    return InputFail("batch file " + path + " is larger than " +
                     std::to_string(kBatchFileBytesMax) + " bytes; split it");
  }
  return bytes;
}

bool IsBlank(std::string_view line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

// ---- Repeated keys ------------------------------------------------------------------------
// boost::json::parse keeps the last of repeated keys; {"amount":"1","amount":"1000"} must not
// quietly mean 1000, so a SAX pass over the line rejects any key repeated in one object.

// With a value_stack it also builds the value, as boost::json::parser's own handler does, so one
// pass both parses and checks (the API's hot path); without one it only looks for repeats.
class RepeatedKeyFinder {
 public:
  // No limits of its own: its callers bound the text (a batch line, an HTTP body).
  static constexpr std::size_t max_object_size = SIZE_MAX;
  static constexpr std::size_t max_array_size = SIZE_MAX;
  static constexpr std::size_t max_key_size = SIZE_MAX;
  static constexpr std::size_t max_string_size = SIZE_MAX;

  explicit RepeatedKeyFinder(bj::value_stack* stack = nullptr) : stack_(stack) {}

  bool on_document_begin(bj::error_code&) { return true; }
  bool on_document_end(bj::error_code&) { return true; }
  bool on_array_begin(bj::error_code&) { return true; }
  bool on_array_end(std::size_t n, bj::error_code&) {
    if (stack_ != nullptr) stack_->push_array(n);
    return true;
  }
  bool on_object_begin(bj::error_code&) {
    starts_.push_back(used_);
    sets_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t n, bj::error_code&) {
    used_ = starts_.back();
    starts_.pop_back();
    sets_.pop_back();
    if (stack_ != nullptr) stack_->push_object(n);
    return true;
  }
  bool on_string_part(bj::string_view s, std::size_t, bj::error_code&) {
    if (stack_ != nullptr) stack_->push_chars(s);
    return true;
  }
  bool on_string(bj::string_view s, std::size_t, bj::error_code&) {
    if (stack_ != nullptr) stack_->push_string(s);
    return true;
  }
  bool on_key_part(bj::string_view s, std::size_t, bj::error_code&) {
    key_.append(s.data(), s.size());
    if (stack_ != nullptr) stack_->push_chars(s);
    return true;
  }
  bool on_key(bj::string_view s, std::size_t, bj::error_code& ec) {
    key_.append(s.data(), s.size());
    if (Seen()) {
      repeated_ = key_;
      ec = bj::error::syntax;  // any error stops the parse; repeated_ says why
      return false;
    }
    if (used_ == keys_.size()) keys_.emplace_back();
    keys_[used_++] = key_;  // reuses the slot's capacity: small objects allocate nothing
    key_.clear();
    if (stack_ != nullptr) stack_->push_key(s);
    return true;
  }
  bool on_number_part(bj::string_view, bj::error_code&) { return true; }
  bool on_int64(int64_t i, bj::string_view, bj::error_code&) {
    if (stack_ != nullptr) stack_->push_int64(i);
    return true;
  }
  bool on_uint64(uint64_t u, bj::string_view, bj::error_code&) {
    if (stack_ != nullptr) stack_->push_uint64(u);
    return true;
  }
  bool on_double(double d, bj::string_view, bj::error_code&) {
    if (stack_ != nullptr) stack_->push_double(d);
    return true;
  }
  bool on_bool(bool b, bj::error_code&) {
    if (stack_ != nullptr) stack_->push_bool(b);
    return true;
  }
  bool on_null(bj::error_code&) {
    if (stack_ != nullptr) stack_->push_null();
    return true;
  }
  bool on_comment_part(bj::string_view, bj::error_code&) { return true; }
  bool on_comment(bj::string_view, bj::error_code&) { return true; }

  const std::string& repeated() const { return repeated_; }

 private:
  // Whether key_ is already a key of the innermost open object: a linear scan while the object
  // is small (the common case: a transfer has a handful of keys), a set once it has more than
  // kLinearKeysMax, so a hostile object with many keys stays O(n log n).
  bool Seen() {
    const size_t first = starts_.back();
    std::unique_ptr<std::set<std::string>>& set = sets_.back();
    if (set != nullptr) return !set->insert(key_).second;
    for (size_t i = first; i < used_; ++i) {
      if (keys_[i] == key_) return true;
    }
    if (used_ - first + 1 > kLinearKeysMax) {
      set = std::make_unique<std::set<std::string>>(keys_.begin() + static_cast<std::ptrdiff_t>(first),
                                                    keys_.begin() + static_cast<std::ptrdiff_t>(used_));
      set->insert(key_);
    }
    return false;
  }

  static constexpr size_t kLinearKeysMax = 16;
  bj::value_stack* stack_;
  // The keys of the open objects, outermost first: the innermost object's are
  // keys_[starts_.back(), used_). Slots past used_ are kept for reuse.
  std::vector<std::string> keys_;
  size_t used_ = 0;
  std::vector<size_t> starts_;
  std::vector<std::unique_ptr<std::set<std::string>>> sets_;  // per open object; null if small
  std::string key_;
  std::string repeated_;
};

}  // namespace

StrictJson ParseJsonRejectingRepeatedKeys(std::string_view text, bj::storage_ptr storage,
                                          const bj::parse_options& options) {
  StrictJson result;
  bj::value_stack stack;
  stack.reset(std::move(storage));
  bj::basic_parser<RepeatedKeyFinder> parser{options, &stack};
  const size_t consumed = parser.write_some(false, text.data(), text.size(), result.error);
  if (!result.error && consumed != text.size()) result.error = bj::error::extra_data;
  if (!result.error && !parser.done()) result.error = bj::error::incomplete;
  if (result.error) {
    result.repeated_key = parser.handler().repeated();
    return result;
  }
  result.value = stack.release();
  return result;
}

std::optional<std::string> FindRepeatedKey(std::string_view text) {
  bj::basic_parser<RepeatedKeyFinder> parser{bj::parse_options{}};
  bj::error_code ec;
  parser.write_some(false, text.data(), text.size(), ec);
  if (!parser.handler().repeated().empty()) return parser.handler().repeated();
  return std::nullopt;
}

namespace {

// ---- One line -----------------------------------------------------------------------------

// A boost::json value as json_fields.h reads one.
class BoostJsonValue {
 public:
  explicit BoostJsonValue(const bj::value& value) : value_(&value) {}
  bool is_string() const { return value_->is_string(); }
  std::string_view string() const {
    const bj::string& s = value_->get_string();
    return std::string_view(s.data(), s.size());
  }
  bool is_int64() const { return value_->is_int64(); }
  int64_t int64() const { return value_->get_int64(); }
  bool is_uint64() const { return value_->is_uint64(); }
  uint64_t uint64() const { return value_->get_uint64(); }
  bool is_array() const { return value_->is_array(); }
  size_t size() const { return value_->get_array().size(); }
  template <typename Fn>
  void ForEachItem(Fn fn) const {
    const bj::array& items = value_->get_array();
    for (size_t i = 0; i < items.size(); ++i) {
      if (!fn(i, BoostJsonValue(items[i]))) return;
    }
  }

 private:
  const bj::value* value_;
};

// A boost::json object as json_fields.h reads one.
class BoostJsonObject {
 public:
  explicit BoostJsonObject(const bj::object& object) : object_(&object) {}
  std::optional<BoostJsonValue> Find(std::string_view key) const {
    const bj::value* value = object_->if_contains(bj::string_view(key.data(), key.size()));
    if (value == nullptr) return std::nullopt;
    return BoostJsonValue(*value);
  }
  template <typename Fn>
  void ForEachMember(Fn fn) const {
    for (const auto& entry : *object_) {
      const std::string_view key(entry.key().data(), entry.key().size());
      if (!fn(key, BoostJsonValue(entry.value()))) return;
    }
  }

 private:
  const bj::object* object_;
};

InputResult<bj::object> ParseObjectLine(std::string_view text,
                                        std::span<const std::string_view> known_keys) {
  StrictJson parsed = ParseJsonRejectingRepeatedKeys(text, {}, bj::parse_options{});
  if (!parsed.repeated_key.empty()) {
    return InputFail("key \"" + parsed.repeated_key + "\" appears twice");
  }
  if (parsed.error) {
    return InputFail("not valid JSON (" + parsed.error.message() + "); is the line cut short?");
  }
  bj::value& value = parsed.value;
  if (!value.is_object()) return InputFail("a line must be one JSON object {...}");
  InputResult<bool> keys = CheckKeys(BoostJsonObject(value.get_object()), known_keys);
  if (!keys.ok()) return Err{keys.error()};
  return std::move(value.get_object());
}

}  // namespace

InputResult<std::vector<BatchLine>> ReadBatchFile(const std::string& path) {
  InputResult<std::string> bytes = ReadBounded(path);
  if (!bytes.ok()) return Err{bytes.error()};
  const std::string_view all = bytes.value();
  std::vector<BatchLine> lines;
  uint32_t number = 0;
  for (size_t start = 0; start < all.size();) {
    size_t end = all.find('\n', start);
    if (end == std::string_view::npos) end = all.size();
    const std::string_view line = all.substr(start, end - start);
    start = end + 1;
    ++number;
    if (line.size() > kBatchLineBytesMax) {
      return InputFail(path + ":" + std::to_string(number) + ": line is longer than " +
                       std::to_string(kBatchLineBytesMax) + " bytes");
    }
    if (IsBlank(line)) continue;
    if (lines.size() == kBatchEventsMax) {
      return InputFail(path + " holds more than " + std::to_string(kBatchEventsMax) +
                       " events (the most one batch may hold); split it");
    }
    lines.push_back(BatchLine{number, std::string(line)});
  }
  if (lines.empty()) return InputFail(path + " holds no events");
  return lines;
}

bool IsPostOrVoid(const ledger::Transfer& transfer) {
  return (transfer.flags & (ledger::transfer_flags::kPostPendingTransfer |
                            ledger::transfer_flags::kVoidPendingTransfer)) != 0;
}

InputResult<ledger::Transfer> ResolveTransferAmount(const TransferDraft& draft,
                                                    uint32_t amount_ledger,
                                                    const AssetTable& assets) {
  ledger::Transfer transfer = draft.transfer;
  if (!draft.amount.has_value()) {
    if (!IsPostOrVoid(transfer)) {
      return InputFail("transfer " + FormatId(transfer.id) + " needs an amount");
    }
    const bool post = (transfer.flags & ledger::transfer_flags::kPostPendingTransfer) != 0;
    transfer.amount = post ? ledger::kPostFullAmount : Amount::Zero();
    return transfer;
  }
  const std::string_view field = draft.line == 0 ? "--amount" : "amount";
  InputResult<Amount> amount =
      ParseAmountText(field, draft.amount->text, amount_ledger, draft.amount->minor_units, assets);
  if (!amount.ok()) return Err{amount.error()};
  transfer.amount = amount.value();
  return transfer;
}

namespace {

bool NeedsPendingLedger(const TransferDraft& draft) {
  return IsPostOrVoid(draft.transfer) && draft.transfer.ledger == 0 && draft.amount.has_value() &&
         !draft.amount->minor_units;
}

}  // namespace

std::vector<TransferId> PendingLedgersToLookUp(const std::vector<TransferDraft>& drafts) {
  std::set<u128> earlier;  // ids of the events before, that carry a ledger
  std::set<u128> wanted;
  std::vector<TransferId> ids;
  for (const TransferDraft& d : drafts) {
    const u128 pending = d.transfer.pending_id.value;
    if (NeedsPendingLedger(d) && earlier.count(pending) == 0 && wanted.insert(pending).second) {
      ids.push_back(d.transfer.pending_id);
    }
    if (d.transfer.ledger != 0) earlier.insert(d.transfer.id.value);
  }
  return ids;
}

Result<std::vector<ledger::Transfer>, DraftError> ResolveTransferDrafts(
    const std::vector<TransferDraft>& drafts, const std::map<u128, uint32_t>& stored_ledgers,
    const AssetTable& assets) {
  std::map<u128, uint32_t> batch_ledgers;  // id → ledger of the events before
  std::vector<ledger::Transfer> transfers;
  transfers.reserve(drafts.size());
  for (size_t i = 0; i < drafts.size(); ++i) {
    const TransferDraft& d = drafts[i];
    uint32_t amount_ledger = d.transfer.ledger;
    if (NeedsPendingLedger(d)) {
      const u128 pending = d.transfer.pending_id.value;
      auto in_batch = batch_ledgers.find(pending);
      auto stored = stored_ledgers.find(pending);
      if (in_batch == batch_ledgers.end() && stored == stored_ledgers.end()) {
        return Err{DraftError{i, true,
                              "pending transfer " + FormatId(pending) +
                                  " is not found, so the asset of the amount is unknown; give "
                                  "the ledger, or the amount in minor units; nothing was "
                                  "submitted"}};
      }
      amount_ledger = in_batch != batch_ledgers.end() ? in_batch->second : stored->second;
    }
    InputResult<ledger::Transfer> t = ResolveTransferAmount(d, amount_ledger, assets);
    if (!t.ok()) return Err{DraftError{i, false, t.error().message}};
    if (d.transfer.ledger != 0) batch_ledgers.emplace(d.transfer.id.value, d.transfer.ledger);
    transfers.push_back(t.value());
  }
  return transfers;
}

InputResult<ledger::Account> ParseAccountLine(std::string_view text, const AssetTable& assets) {
  InputResult<bj::object> object = ParseObjectLine(text, kAccountKeys);
  if (!object.ok()) return Err{object.error()};
  return AccountFromJson(object.value(), assets);
}

InputResult<ledger::Account> AccountFromJson(const bj::object& object, const AssetTable& assets) {
  return AccountFromFields(BoostJsonObject(object), assets);
}

InputResult<TransferDraft> ParseTransferLine(std::string_view text, const AssetTable& assets) {
  InputResult<bj::object> object = ParseObjectLine(text, kTransferKeys);
  if (!object.ok()) return Err{object.error()};
  return TransferDraftFromJson(object.value(), assets);
}

InputResult<TransferDraft> TransferDraftFromJson(const bj::object& object,
                                                 const AssetTable& assets) {
  return TransferDraftFromFields(BoostJsonObject(object), assets);
}

std::string UnknownKeyMessage(std::string_view key, std::span<const std::string_view> known_keys) {
  std::string known;
  for (std::string_view k : known_keys) known += (known.empty() ? "" : ", ") + std::string(k);
  return "unknown key \"" + std::string(key) + "\"; known keys: " + known;
}

}  // namespace tpw::cli
