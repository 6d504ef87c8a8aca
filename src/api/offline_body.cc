#include "api/offline_body.h"

#include <algorithm>
#include <array>
#include <boost/json/value.hpp>
#include <map>
#include <span>

#include "cli/key_values.h"
#include "cli/offline_values.h"
#include "crypto/base64.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;
using Keys = std::span<const std::string_view>;

// The sync request a wallet hands over: offline::SyncRequestBytes (32) || signature (64).
constexpr size_t kSyncRequestMessageBytes = offline::kSyncRequestBytes + offline::kSignatureBytes;

std::string KnownKeys(Keys known) {
  if (known.empty()) return "this action takes no parameters: send no body, or {}";
  std::string out = "known keys: ";
  for (size_t i = 0; i < known.size(); ++i) out += (i == 0 ? "" : ", ") + std::string(known[i]);
  return out;
}

// The fields of a request object as text: each key known, each value a string, or a
// non-negative whole number where `integers` allows one (kept as its decimal text), or an array
// of strings where `lists` allows one.
class Fields {
 public:
  static ApiResult<Fields> Of(std::string_view body, Keys known, Keys integers = {},
                              Keys lists = {}) {
    ApiResult<bj::value> parsed = ParseJsonBody(body);
    if (!parsed.ok()) return Err{parsed.error()};
    if (!parsed.value().is_object())
      return Err{InvalidBody("the body must be a JSON object {...}")};
    Fields fields;
    for (const auto& entry : parsed.value().get_object()) {
      const std::string key(entry.key());
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        return Err{
            InvalidBody("unknown key \"" + key + "\"; " + KnownKeys(known), key)};
      }
      if (std::find(lists.begin(), lists.end(), key) != lists.end()) {
        std::optional<std::vector<std::string>> items = TextsOf(entry.value());
        if (!items) return Err{InvalidBody(key + " must be a JSON array of strings", key)};
        fields.lists_.emplace(key, std::move(*items));
        continue;
      }
      const bool integer_ok = std::find(integers.begin(), integers.end(), key) != integers.end();
      std::optional<std::string> text = TextOf(entry.value(), integer_ok);
      if (!text) {
        return Err{InvalidBody(key + (integer_ok ? " must be a whole number or a string of digits"
                                                 : " must be a JSON string"),
                               key)};
      }
      fields.values_.emplace(key, std::move(*text));
    }
    return fields;
  }

  // The field's text; "" when absent.
  std::string Get(std::string_view key) const {
    const auto it = values_.find(key);
    return it == values_.end() ? std::string() : it->second;
  }
  bool Has(std::string_view key) const {
    return values_.find(key) != values_.end() || lists_.find(key) != lists_.end();
  }
  // A list field's items; nullopt when absent.
  const std::vector<std::string>* List(std::string_view key) const {
    const auto it = lists_.find(key);
    return it == lists_.end() ? nullptr : &it->second;
  }

  // A 400 for a value check that failed: the field is the message's first word when it names
  // one of this body's keys (a list's item, "key[2]", names the list).
  ApiError Invalid(const cli::InputError& error) const {
    const std::string first = error.message.substr(0, error.message.find_first_of(" ["));
    return InvalidBody(error.message, Has(first) ? first : "");
  }

 private:
  static std::optional<std::string> TextOf(const bj::value& value, bool integer_ok) {
    if (value.is_string()) return std::string(value.get_string());
    if (!integer_ok) return std::nullopt;
    if (value.is_uint64()) return std::to_string(value.get_uint64());
    if (value.is_int64() && value.get_int64() >= 0) return std::to_string(value.get_int64());
    return std::nullopt;  // negative, fraction, exponent, bool, null, array, object
  }
  static std::optional<std::vector<std::string>> TextsOf(const bj::value& value) {
    if (!value.is_array()) return std::nullopt;
    std::vector<std::string> items;
    for (const bj::value& item : value.get_array()) {
      if (!item.is_string()) return std::nullopt;
      items.emplace_back(item.get_string());
    }
    return items;
  }

  std::map<std::string, std::string, std::less<>> values_;
  std::map<std::string, std::vector<std::string>, std::less<>> lists_;
};

// Fails with the field named when a required one is missing.
std::optional<ApiError> Require(const Fields& fields, Keys required) {
  for (std::string_view key : required) {
    if (!fields.Has(key)) {
      return InvalidBody("\"" + std::string(key) + "\" is required", std::string(key));
    }
  }
  return std::nullopt;
}

// `field`'s base64url text, decoding to at most `bytes_max` bytes.
ApiResult<std::vector<uint8_t>> Base64Field(std::string_view field, std::string_view text,
                                            size_t bytes_max) {
  auto decoded = crypto::Base64UrlDecode(text, bytes_max);
  if (decoded.ok()) return std::move(decoded).value();
  if (decoded.error() == crypto::Base64Error::too_long) {
    return Err{ApiError{http::status::payload_too_large, error_type::kInvalidRequest,
                        "message_too_large",
                        std::string(field) + " decodes to more than " + std::to_string(bytes_max) +
                            " bytes, the largest message it can hold",
                        std::string(field)}};
  }
  return Err{InvalidBody(std::string(field) + " is not canonical base64url without padding (" +
                             std::string(crypto::Base64ErrorName(decoded.error())) + ": " +
                             std::string(crypto::Base64ErrorMessage(decoded.error())) + ")",
                         std::string(field))};
}

uint64_t ReadU64Le(std::span<const uint8_t> bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value |= uint64_t{bytes[i]} << (8 * i);
  return value;
}

u128 ReadU128Le(std::span<const uint8_t> bytes) {
  return u128{ReadU64Le(bytes.first(8))} | (u128{ReadU64Le(bytes.subspan(8, 8))} << 64);
}

template <typename T>
ApiResult<T> FromInput(const Fields& fields, cli::InputResult<T> result) {
  if (!result.ok()) return Err{fields.Invalid(result.error())};
  return std::move(result).value();
}

// One of `names` (indexed like the enum's values from `first`), or nullopt.
template <typename Enum, typename NameOf>
std::optional<Enum> EnumByName(std::string_view text, uint8_t first, uint8_t last, NameOf name_of) {
  for (uint8_t v = first; v <= last; ++v) {
    if (name_of(static_cast<Enum>(v)) == text) return static_cast<Enum>(v);
  }
  return std::nullopt;
}

}  // namespace

ApiResult<engine::OfflineCommand> DecodeEnrollBody(std::string_view body,
                                                   const AssetTable& assets) {
  constexpr std::array<std::string_view, 10> kKeys = {
      "device_id", "public_key",      "user_account_id", "reserve_account_id", "ledger",
      "allowance", "per_payment_max", "payments_max",    "cvm_threshold",      "valid_for"};
  constexpr std::array<std::string_view, 1> kIntegers = {"payments_max"};
  ApiResult<Fields> fields = Fields::Of(body, kKeys, kIntegers);
  if (!fields.ok()) return Err{fields.error()};
  const Fields& f = fields.value();
  // per_payment_max and payments_max may come from the risk rules' [offline] section.
  if (auto missing = Require(f, std::span(kKeys).first(6))) return Err{*missing};
  cli::EnrollText text;
  text.device = f.Get("device_id");
  text.public_key = f.Get("public_key");
  text.user_account = f.Get("user_account_id");
  text.reserve_account = f.Get("reserve_account_id");
  text.ledger = f.Get("ledger");
  text.allowance = f.Get("allowance");
  if (f.Has("per_payment_max")) text.per_payment_max = f.Get("per_payment_max");
  if (f.Has("payments_max")) text.payments_max = f.Get("payments_max");
  text.cvm_threshold = f.Get("cvm_threshold");
  if (f.Has("valid_for")) text.valid_for = f.Get("valid_for");
  return FromInput(f, cli::EnrollCommandOf(text, assets, cli::InputNaming::json_field));
}

ApiResult<SyncBody> DecodeSyncBody(std::string_view body, u128 path_device_id) {
  constexpr std::array<std::string_view, 6> kKeys = {
      "request", "allowance", "per_payment_max", "payments_max", "cvm_threshold", "valid_for"};
  constexpr std::array<std::string_view, 1> kIntegers = {"payments_max"};
  ApiResult<Fields> fields = Fields::Of(body, kKeys, kIntegers);
  if (!fields.ok()) return Err{fields.error()};
  const Fields& f = fields.value();
  if (auto missing = Require(f, std::span(kKeys).first(1))) return Err{*missing};
  ApiResult<std::vector<uint8_t>> request =
      Base64Field("request", f.Get("request"), kSyncRequestMessageBytes);
  if (!request.ok()) return Err{request.error()};
  const std::span<const uint8_t> bytes(request.value());
  if (bytes.size() != kSyncRequestMessageBytes) {
    return Err{InvalidBody("request holds " + std::to_string(bytes.size()) +
                               " bytes; a sync "
                               "request is " +
                               std::to_string(kSyncRequestMessageBytes) +
                               " (device id, serial, last counter used, signature)",
                           "request")};
  }
  SyncBody out;
  out.command.kind = engine::OfflineCommandKind::sync_device;
  out.command.device_id = ReadU128Le(bytes.first(16));
  out.serial = ReadU64Le(bytes.subspan(16, 8));
  out.command.last_counter_used = ReadU64Le(bytes.subspan(24, 8));
  std::copy(bytes.begin() + offline::kSyncRequestBytes, bytes.end(),
            out.command.device_signature.begin());
  if (out.command.device_id != path_device_id) {
    return Err{InvalidBody("request is signed for device " + FormatId(out.command.device_id) +
                               ", not for the device in the path",
                           "request")};
  }
  out.limits.allowance = f.Get("allowance");
  out.limits.per_payment_max = f.Get("per_payment_max");
  out.limits.payments_max = f.Get("payments_max");
  out.limits.cvm_threshold = f.Get("cvm_threshold");
  out.limits.valid_for = f.Get("valid_for");
  return out;
}

ApiResult<engine::OfflineCommand> DecodeTerminalBody(std::string_view body) {
  constexpr std::array<std::string_view, 4> kKeys = {"terminal_id", "merchant_id",
                                                     "settlement_account_id", "public_key"};
  ApiResult<Fields> fields = Fields::Of(body, kKeys);
  if (!fields.ok()) return Err{fields.error()};
  const Fields& f = fields.value();
  if (auto missing = Require(f, kKeys)) return Err{*missing};
  cli::TerminalText text;
  text.terminal = f.Get("terminal_id");
  text.merchant = f.Get("merchant_id");
  text.settlement_account = f.Get("settlement_account_id");
  text.public_key = f.Get("public_key");
  return FromInput(f, cli::TerminalCommandOf(text, cli::InputNaming::json_field));
}

ApiResult<engine::OfflineCommand> DecodeResolveBody(std::string_view body, uint64_t exception_id) {
  using Status = offline::ExceptionRecord::Status;
  constexpr std::array<std::string_view, 2> kKeys = {"resolution", "guarantee_account_id"};
  ApiResult<Fields> fields = Fields::Of(body, kKeys);
  if (!fields.ok()) return Err{fields.error()};
  const Fields& f = fields.value();
  engine::OfflineCommand c;
  c.kind = engine::OfflineCommandKind::resolve_exception;
  c.exception_id = exception_id;
  const std::string resolution = f.Get("resolution");
  const bool pay = resolution == "paid_from_guarantee";
  if (!pay && resolution != "rejected") {
    return Err{
        InvalidBody("resolution must be \"rejected\" or \"paid_from_guarantee\"", "resolution")};
  }
  if (pay != f.Has("guarantee_account_id")) {
    return Err{
        InvalidBody("guarantee_account_id is given with resolution paid_from_guarantee "
                    "and only then",
                    "guarantee_account_id")};
  }
  c.resolution = pay ? Status::paid_from_guarantee : Status::rejected;
  if (pay) {
    ApiResult<u128> account =
        FromInput(f, cli::ParseIdText("guarantee_account_id", f.Get("guarantee_account_id")));
    if (!account.ok()) return Err{account.error()};
    c.guarantee_account = AccountId(account.value());
  }
  return c;
}

ApiResult<std::vector<uint8_t>> DecodeBatchUpload(std::string_view body, bool binary) {
  if (binary) {
    if (body.size() > kBatchMessageBytesMax) {
      return Err{ApiError{
          http::status::payload_too_large, error_type::kInvalidRequest, "message_too_large",
          "the batch is " + std::to_string(body.size()) + " bytes; the largest batch (" +
              std::to_string(offline::kBatchTokensMax) + " tokens) is " +
              std::to_string(kBatchMessageBytesMax) + "; split it",
          ""}};
    }
    return std::vector<uint8_t>(body.begin(), body.end());
  }
  constexpr std::array<std::string_view, 1> kKeys = {"batch"};
  ApiResult<Fields> fields = Fields::Of(body, kKeys);
  if (!fields.ok()) return Err{fields.error()};
  if (auto missing = Require(fields.value(), kKeys)) return Err{*missing};
  return Base64Field("batch", fields.value().Get("batch"), kBatchMessageBytesMax);
}

ApiResult<bool> DecodeEmptyBody(std::string_view body) {
  if (body.empty()) return true;
  ApiResult<Fields> fields = Fields::Of(body, {});
  if (!fields.ok()) return Err{fields.error()};
  return true;
}

ApiResult<uint64_t> DecodeDenyListQuery(std::string_view query) {
  constexpr std::array<std::string_view, 1> kKnown = {"since"};
  auto params = ParseQueryParams(query, kKnown);
  if (!params.ok()) return Err{params.error()};
  if (params.value().empty()) return uint64_t{0};
  cli::InputResult<uint64_t> since =
      cli::ParseUnsignedText("since", params.value()[0].second, UINT64_MAX);
  if (!since.ok()) return Err{InvalidParameter(since.error().message, "since")};
  return since.value();
}

ApiResult<ExceptionsQuery> DecodeExceptionsQuery(std::string_view query) {
  using Status = offline::ExceptionRecord::Status;
  constexpr std::array<std::string_view, 6> kKnown = {"status",      "classification", "device_id",
                                                      "terminal_id", "limit",          "after"};
  auto params = ParseQueryParams(query, kKnown);
  if (!params.ok()) return Err{params.error()};
  ExceptionsQuery q;
  q.status = Status::open;
  for (const auto& [key, value] : params.value()) {
    cli::InputResult<uint64_t> number{uint64_t{0}};
    if (key == "status") {
      q.status = EnumByName<Status>(value, 0, 2, cli::ExceptionStatusName);
      if (!q.status && value != "all") {
        return Err{
            InvalidParameter("status must be open, paid_from_guarantee, rejected or all", key)};
      }
    } else if (key == "classification") {
      q.classification =
          EnumByName<offline::Classification>(value, 1, 6, offline::ClassificationName);
      if (!q.classification) {
        return Err{
            InvalidParameter("classification must be cleared, duplicate, double_spend, "
                             "over_allowance, invalid or risk_flag",
                             key)};
      }
    } else if (key == "device_id" || key == "terminal_id") {
      cli::InputResult<u128> id = cli::ParseIdText(key, value);
      if (!id.ok()) return Err{InvalidParameter(id.error().message, key)};
      (key == "device_id" ? q.device_id : q.terminal_id) = id.value();
    } else {
      number = cli::ParseUnsignedText(key, value, key == "limit" ? kExceptionsPageMax : UINT64_MAX);
      if (!number.ok()) return Err{InvalidParameter(number.error().message, key)};
      if (key == "after") q.after = number.value();
      if (key == "limit" && number.value() == 0) {
        return Err{InvalidParameter("limit must be 1.." + std::to_string(kExceptionsPageMax), key)};
      }
      if (key == "limit") q.limit = static_cast<uint32_t>(number.value());
    }
  }
  return q;
}

ApiResult<uint64_t> DecodeExceptionId(std::string_view text) {
  cli::InputResult<uint64_t> id = cli::ParseUnsignedText("exception id", text, UINT64_MAX);
  if (!id.ok() || id.value() == 0) {
    return Err{
        InvalidParameter("the exception id is a whole number from 1 (as listed by GET "
                         "/v1/offline/exceptions)",
                         "id")};
  }
  return id.value();
}

ApiResult<NewApiKey> DecodeApiKeyBody(std::string_view body) {
  constexpr std::array<std::string_view, 4> kKeys = {"scope", "name", "rate_per_second",
                                                     "merchant_account_ids"};
  constexpr std::array<std::string_view, 1> kIntegers = {"rate_per_second"};
  constexpr std::array<std::string_view, 1> kLists = {"merchant_account_ids"};
  ApiResult<Fields> fields = Fields::Of(body, kKeys, kIntegers, kLists);
  if (!fields.ok()) return Err{fields.error()};
  const Fields& f = fields.value();
  if (auto missing = Require(f, std::span(kKeys).first(2))) return Err{*missing};
  cli::FirstError errors;
  NewApiKey key;
  key.scope = errors.Take(cli::ParseScopeText("scope", f.Get("scope")), access::Scope::auditor);
  key.name = errors.Take(cli::ParseKeyName("name", f.Get("name")));
  key.rate_per_second = static_cast<uint32_t>(errors.Take(cli::ParseOptionalUnsignedText(
      "rate_per_second", f.Get("rate_per_second"), cli::kRatePerSecondMax)));
  if (const std::vector<std::string>* merchants = f.List("merchant_account_ids")) {
    key.merchant_accounts =
        errors.Take(cli::ParseMerchantAccounts("merchant_account_ids", *merchants));
  }
  if (errors.failed()) return Err{f.Invalid(errors.error())};
  if (std::string why = access::MerchantBindingError(key.scope, key.merchant_accounts);
      !why.empty()) {
    return Err{InvalidBody(why, "merchant_account_ids")};
  }
  return key;
}

ApiResult<uint64_t> DecodeKeyId(std::string_view text) {
  if (const std::optional<uint64_t> id = access::ParseKeyId(text)) return *id;
  return Err{
      InvalidParameter("an API key id is the 16 lowercase hex digits GET /v1/api-keys "
                       "lists",
                       "id")};
}

}  // namespace tpw::api
