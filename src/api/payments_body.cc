#include "api/payments_body.h"

#include <algorithm>
#include <array>
#include <span>

#include "cli/values.h"
#include "common/assert.h"
#include "payments/limits.h"
#include "risk/event.h"

namespace tpw::api {
namespace {

namespace pay = payments;
using Kind = JsonTape::Kind;
using Keys = std::span<const std::string_view>;

// Characters of tags, coupon codes and rate sources (payments/limits.h).
bool IsTagText(std::string_view text, size_t length_max) {
  if (text.empty() || text.size() > length_max) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

std::string JoinKeys(Keys keys) {
  std::string out;
  for (const std::string_view key : keys) {
    if (!out.empty()) out += ", ";
    out += key;
  }
  return out;
}

// Reads the members of one JSON object; keeps the first error and the parameter it is about
// (`prefix` + key: "splits[1].amount").
class Fields {
 public:
  Fields(JsonRef object, std::string prefix, const AssetTable& assets)
      : object_(object), prefix_(std::move(prefix)), assets_(assets) {}

  bool failed() const { return error_.has_value(); }
  const ApiError& error() const { return *error_; }

  std::string Param(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }

  void Fail(std::string_view key, std::string message) {
    if (error_) return;
    const std::string param = Param(key);
    error_ = InvalidBody("\"" + param + "\" " + message, param);
  }
  // Keeps a nested object's first error.
  void Adopt(const Fields& inner) {
    if (!error_ && inner.error_) error_ = inner.error_;
  }

  void Known(Keys known) {
    object_.ForEachMember([&](std::string_view key, JsonRef) {
      if (std::find(known.begin(), known.end(), key) != known.end()) return true;
      Fail(key, "is not a field here (the fields: " + JoinKeys(known) + ")");
      return false;
    });
  }

  bool Has(std::string_view key) const { return Find(key).has_value(); }

  void Require(std::string_view key, std::string_view example) {
    if (!Has(key)) Fail(key, "is required, e.g. " + std::string(example));
  }

  std::optional<std::string> Text(std::string_view key) {
    const std::optional<std::string_view> text = TextView(key);
    if (!text) return std::nullopt;
    return std::string(*text);
  }

  // Text without a copy: a view into the body's tape.
  std::optional<std::string_view> TextView(std::string_view key) {
    const std::optional<JsonRef> value = Find(key);
    if (!value) return std::nullopt;
    if (!value->is(Kind::string)) {
      Fail(key, "must be a string");
      return std::nullopt;
    }
    return value->string();
  }

  // parse(name) with the bare key as the field's name, and again with the full parameter name
  // only if that fails: the name only shows in the error message, and building it ("risk.device",
  // "merchant_account_id") allocates.
  template <typename Parse>
  auto NamedParse(std::string_view key, Parse parse) const {
    auto result = parse(key);
    if (!result.ok() && !prefix_.empty()) result = parse(Param(key));
    return result;
  }

  // A string of at most `bytes_max` bytes (valid UTF-8: the parser checked).
  std::optional<std::string> BoundedText(std::string_view key, size_t bytes_max) {
    std::optional<std::string> text = Text(key);
    if (text && text->size() > bytes_max) {
      Fail(key, "is at most " + std::to_string(bytes_max) + " bytes");
      return std::nullopt;
    }
    return text;
  }

  // A tag-like string: [A-Za-z0-9_.-], 1..length_max characters.
  std::optional<std::string> Tag(std::string_view key, size_t length_max) {
    std::optional<std::string> text = Text(key);
    if (text && !IsTagText(*text, length_max)) {
      Fail(key, "must be 1 to " + std::to_string(length_max) + " characters of A-Z a-z 0-9 _ . -");
      return std::nullopt;
    }
    return text;
  }

  std::optional<u128> Id(std::string_view key) {
    const std::optional<std::string_view> text = TextView(key);
    if (!text) return std::nullopt;
    cli::InputResult<u128> id =
        NamedParse(key, [&](std::string_view name) { return cli::ParseIdText(name, *text); });
    if (!id.ok()) {
      Fail(key, "is not an id: " + id.error().message + " (ids are strings, docs/ids.md)");
      return std::nullopt;
    }
    return id.value();
  }

  // A non-zero id.
  std::optional<u128> NonZeroId(std::string_view key) {
    std::optional<u128> id = Id(key);
    if (id && *id == 0) {
      Fail(key, "must not be 0");
      return std::nullopt;
    }
    return id;
  }

  // A JSON integer or a string of digits (the id text form), min..max.
  std::optional<uint64_t> Unsigned(std::string_view key, uint64_t min, uint64_t max) {
    const std::optional<JsonRef> value = Find(key);
    if (!value) return std::nullopt;
    std::optional<uint64_t> n;
    if (value->is(Kind::uint64)) n = value->uint64();
    if (value->is(Kind::int64) && value->int64() >= 0) n = static_cast<uint64_t>(value->int64());
    if (value->is(Kind::string)) {
      cli::InputResult<uint64_t> parsed = NamedParse(key, [&](std::string_view name) {
        return cli::ParseUnsignedText(name, value->string(), UINT64_MAX);
      });
      if (parsed.ok()) n = parsed.value();
    }
    if (!n || *n < min || *n > max) {
      Fail(key, "must be a whole number from " + std::to_string(min) + " to " +
                    std::to_string(max) + " (no sign, fraction or exponent)");
      return std::nullopt;
    }
    return n;
  }

  std::optional<bool> Bool(std::string_view key) {
    const std::optional<JsonRef> value = Find(key);
    if (!value) return std::nullopt;
    if (!value->is(Kind::boolean)) {
      Fail(key, "must be true or false");
      return std::nullopt;
    }
    return value->boolean();
  }

  // An asset: its code ("USD") or its ledger number.
  std::optional<uint32_t> Asset(std::string_view key) {
    const std::optional<JsonRef> value = Find(key);
    if (!value) return std::nullopt;
    std::string number;  // a ledger number as text (ParseLedgerText reads both forms)
    std::string_view text;
    if (value->is(Kind::string)) {
      text = value->string();
    } else if (value->is(Kind::uint64) || (value->is(Kind::int64) && value->int64() >= 0)) {
      number = value->is(Kind::uint64) ? std::to_string(value->uint64())
                                       : std::to_string(value->int64());
      text = number;
    } else {
      Fail(key, "must be an asset code such as \"USD\" or a ledger number");
      return std::nullopt;
    }
    cli::InputResult<uint32_t> ledger = cli::ParseLedgerText(text, assets_);
    if (!ledger.ok()) {
      Fail(key, "is not an asset: " + ledger.error().message);
      return std::nullopt;
    }
    return ledger.value();
  }

  // `key` (a decimal in the asset) or `key`_minor (minor units), as text; not both.
  std::optional<cli::AmountText> AmountText(std::string_view key) {
    // key + "_minor" in a buffer: "amount_to_capture_minor" would not fit a short string.
    constexpr std::string_view kMinor = "_minor";
    std::array<char, 48> buffer{};
    TPW_ASSERT(key.size() + kMinor.size() <= buffer.size());
    std::copy(kMinor.begin(), kMinor.end(), std::copy(key.begin(), key.end(), buffer.begin()));
    const std::string_view minor_key(buffer.data(), key.size() + kMinor.size());
    const std::optional<std::string_view> decimal = TextView(key);
    const std::optional<std::string_view> minor = TextView(minor_key);
    if (decimal && minor) {
      Fail(key, "and \"" + Param(minor_key) + "\" are two forms of one amount: give one");
      return std::nullopt;
    }
    if (decimal) return cli::AmountText{std::string(*decimal), false};
    if (minor) return cli::AmountText{std::string(*minor), true};
    return std::nullopt;
  }

  // AmountText read in `asset`.
  std::optional<Amount> AmountIn(std::string_view key, uint32_t asset) {
    const std::optional<cli::AmountText> text = AmountText(key);
    if (!text) return std::nullopt;
    return ReadAmount(key, *text, asset);
  }

  std::optional<Amount> ReadAmount(std::string_view key, const cli::AmountText& text,
                                   uint32_t asset) {
    const std::string name = text.minor_units ? Param(std::string(key) + "_minor") : Param(key);
    cli::InputResult<Amount> amount =
        cli::ParseAmountText(name, text.text, asset, text.minor_units, assets_);
    if (!amount.ok()) {
      if (!error_) error_ = InvalidBody(amount.error().message, name);
      return std::nullopt;
    }
    return amount.value();
  }

  // A point in time: RFC 3339 UTC or nanoseconds since 1970, kept to the millisecond.
  std::optional<uint64_t> TimeMs(std::string_view key) {
    const std::optional<std::string_view> text = TextView(key);
    if (!text) return std::nullopt;
    cli::InputResult<Timestamp> time =
        NamedParse(key, [&](std::string_view name) { return cli::ParseTimeText(name, *text); });
    if (!time.ok()) {
      Fail(key, "is not a time: " + time.error().message);
      return std::nullopt;
    }
    return time.value().ns / 1'000'000;
  }

  std::optional<JsonRef> Object(std::string_view key) {
    const std::optional<JsonRef> value = Find(key);
    if (!value) return std::nullopt;
    if (!value->is(Kind::object)) {
      Fail(key, "must be an object {...}");
      return std::nullopt;
    }
    return value;
  }

  // An array of at most `items_max` items.
  std::optional<JsonRef> Array(std::string_view key, size_t items_max) {
    const std::optional<JsonRef> value = Find(key);
    if (!value) return std::nullopt;
    if (!value->is(Kind::array)) {
      Fail(key, "must be an array [...]");
      return std::nullopt;
    }
    if (value->size() > items_max) {
      Fail(key, "holds at most " + std::to_string(items_max) + " items");
      return std::nullopt;
    }
    return value;
  }

  const AssetTable& assets() const { return assets_; }

 private:
  std::optional<JsonRef> Find(std::string_view key) const { return object_.Find(key); }

  JsonRef object_;
  std::string prefix_;
  const AssetTable& assets_;
  std::optional<ApiError> error_;
};

// Each item of `array` as an object, read by `read(fields, index)`.
template <typename Read>
void ForEachObject(Fields& outer, std::string_view key, JsonRef array, Read read) {
  array.ForEachItem([&](size_t i, JsonRef value) {
    if (outer.failed()) return false;
    const std::string param = outer.Param(key) + "[" + std::to_string(i) + "]";
    if (!value.is(Kind::object)) {
      outer.Fail(std::string(key) + "[" + std::to_string(i) + "]", "must be an object {...}");
      return false;
    }
    Fields item(value, param, outer.assets());
    read(item, i);
    outer.Adopt(item);
    return true;
  });
}

// Parses the body into `tape`: one object; an empty body is {} where `empty_ok`. The object is
// JsonRef(tape, 0).
std::optional<ApiError> BodyObject(std::string_view body, bool empty_ok, std::string_view example,
                                   JsonTape& tape) {
  if (std::optional<ApiError> error = ParseJsonTape(body.empty() && empty_ok ? "{}" : body, tape)) {
    return error;
  }
  if (!JsonRef(tape, 0).is(Kind::object)) {
    return InvalidBody("the body must be one JSON object, e.g. " + std::string(example));
  }
  return std::nullopt;
}

template <typename T>
ApiResult<T> Done(const Fields& fields, T&& value) {
  if (fields.failed()) return Err{fields.error()};
  return std::move(value);
}

// ---- Path and query values ----------------------------------------------------------------

ApiResult<pay::PaymentId> PathPaymentId(std::string_view text) {
  const std::optional<pay::PaymentId> id = pay::ParsePaymentId(text);
  if (!id) {
    return Err{InvalidParameter("a payment id is pay_ and a number (pay_12), not \"" +
                                    std::string(text.substr(0, 64)) + "\"",
                                "id")};
  }
  return *id;
}

ApiResult<pay::CustomerId> PathCustomerId(std::string_view text) {
  cli::InputResult<u128> id = cli::ParseIdText("id", text);
  if (!id.ok()) return Err{InvalidParameter(id.error().message, "id")};
  if (id.value() == 0) return Err{InvalidParameter("a customer id must not be 0", "id")};
  return pay::CustomerId(id.value());
}

ApiResult<std::string> PathCouponCode(std::string_view text) {
  std::optional<std::string> code = PercentDecode(text, false);
  if (!code || !IsTagText(*code, pay::kCouponCodeLengthMax)) {
    return Err{InvalidParameter("a coupon code is 1 to " +
                                    std::to_string(pay::kCouponCodeLengthMax) +
                                    " characters of A-Z a-z 0-9 _ . -",
                                "code")};
  }
  return *code;
}

ApiResult<uint32_t> PathAsset(std::string_view text, const AssetTable& assets) {
  cli::InputResult<uint32_t> ledger = cli::ParseLedgerText(text, assets);
  if (!ledger.ok()) return Err{InvalidParameter(ledger.error().message, "asset")};
  return ledger.value();
}

// ---- Payments -------------------------------------------------------------------------------

constexpr std::array<std::string_view, 6> kRiskKeys = {"device",  "terminal", "merchant_category",
                                                       "country", "ip",       "device_age_seconds"};

void ReadRisk(Fields& outer, pay::RiskContext& risk) {
  const std::optional<JsonRef> object = outer.Object("risk");
  if (!object) return;
  Fields f(*object, outer.Param("risk"), outer.assets());
  f.Known(kRiskKeys);
  risk.device = f.Id("device").value_or(0);
  risk.terminal = f.Id("terminal").value_or(0);
  risk.merchant_category =
      static_cast<uint16_t>(f.Unsigned("merchant_category", 0, 9999).value_or(0));
  if (const std::optional<std::string_view> country = f.TextView("country")) {
    const std::optional<uint16_t> parsed = risk::ParseCountry(*country);
    if (!parsed) f.Fail("country", "must be two upper-case letters such as \"FR\"");
    risk.country = parsed.value_or(0);
  }
  if (const std::optional<std::string_view> ip = f.TextView("ip")) {
    const std::optional<u128> parsed = risk::ParseIp(*ip);
    if (!parsed) f.Fail("ip", "must be an IPv4 or IPv6 address such as \"203.0.113.7\"");
    risk.ip = parsed.value_or(0);
  }
  risk.device_age_seconds = f.Unsigned("device_age_seconds", 0, UINT64_MAX).value_or(0);
  outer.Adopt(f);
}

void ReadCvm(Fields& f, risk::Cvm& cvm) {
  const std::optional<std::string_view> text = f.TextView("cvm_performed");
  if (!text) return;
  const std::optional<risk::Cvm> parsed = risk::ParseCvm(*text);
  if (!parsed) return f.Fail("cvm_performed", "must be \"none\", \"pin\" or \"strong\"");
  cvm = *parsed;
}

// The confirm options create (with confirm) and confirm share.
void ReadConfirmOptions(Fields& f, pay::ConfirmOptions& o) {
  if (const std::optional<u128> source = f.NonZeroId("source_account_id")) {
    o.source_account = AccountId(*source);
  }
  if (const std::optional<std::string_view> quote = f.TextView("quote")) {
    const std::optional<pay::QuoteId> id = pay::ParseQuoteId(*quote);
    if (!id) f.Fail("quote", "is a quote id: fxq_ and a number (fxq_3)");
    o.quote = id.value_or(pay::QuoteId{});
  }
  ReadCvm(f, o.cvm_performed);
  ReadRisk(f, o.risk);
}

// A split or the platform fee: {"account_id", and one of "amount"/"amount_minor"/"basis_points"}.
constexpr std::array<std::string_view, 4> kSplitKeys = {"account_id", "amount", "amount_minor",
                                                        "basis_points"};

pay::Split ReadSplit(Fields& f, uint32_t asset) {
  f.Known(kSplitKeys);
  f.Require("account_id", "\"300\"");
  pay::Split split;
  split.account = AccountId(f.NonZeroId("account_id").value_or(0));
  const bool has_amount = f.Has("amount") || f.Has("amount_minor");
  const bool has_bps = f.Has("basis_points");
  if (has_amount == has_bps && !f.failed()) {
    f.Fail("amount", "or \"" + f.Param("basis_points") +
                         "\": give exactly one (an amount, or 1..10000 basis points)");
    return split;
  }
  if (has_amount) split.amount = f.AmountIn("amount", asset).value_or(Amount::Zero());
  if (has_amount && split.amount.is_zero() && !f.failed()) f.Fail("amount", "must be more than 0");
  split.basis_points =
      static_cast<uint32_t>(f.Unsigned("basis_points", 1, pay::kBasisPointsWhole).value_or(0));
  return split;
}

void ReadMetadata(Fields& outer, pay::Metadata& metadata) {
  const std::optional<JsonRef> object = outer.Object("metadata");
  if (!object) return;
  if (object->size() > pay::kMetadataKeysMax) {
    return outer.Fail("metadata",
                      "holds at most " + std::to_string(pay::kMetadataKeysMax) + " keys");
  }
  metadata.reserve(object->size());
  bool read_all = true;
  object->ForEachMember([&](std::string_view key, JsonRef value) {
    const std::string param =
        "metadata." + std::string(key.substr(0, pay::kMetadataKeyLengthMax + 1));
    if (key.empty() || key.size() > pay::kMetadataKeyLengthMax) {
      outer.Fail("metadata",
                 "keys are 1 to " + std::to_string(pay::kMetadataKeyLengthMax) + " bytes");
    } else if (!value.is(Kind::string)) {
      outer.Fail(param, "must be a string");
    } else if (value.string().size() > pay::kMetadataValueLengthMax) {
      outer.Fail(param, "is at most " + std::to_string(pay::kMetadataValueLengthMax) + " bytes");
    } else {
      metadata.emplace_back(key, value.string());
      return true;
    }
    return read_all = false;
  });
  if (read_all) std::sort(metadata.begin(), metadata.end());
}

constexpr std::array<std::string_view, 19> kCreateKeys = {
    "amount",     "amount_minor",         "asset",       "merchant_account_id",
    "customer",   "capture_method",       "description", "metadata",
    "splits",     "platform_fee",         "scenario",    "coupon",
    "use_points", "hold_timeout_seconds", "confirm",     "source_account_id",
    "quote",      "cvm_performed",        "risk"};
// Confirm options: taken by create only together with "confirm": true.
constexpr std::array<std::string_view, 4> kConfirmOnlyKeys = {"source_account_id", "quote",
                                                              "cvm_performed", "risk"};

void ReadSplits(Fields& f, pay::Command& c) {
  if (const std::optional<JsonRef> splits = f.Array("splits", pay::kSplitsMax)) {
    ForEachObject(f, "splits", *splits,
                  [&](Fields& item, size_t) { c.splits.push_back(ReadSplit(item, c.asset)); });
  }
  if (const std::optional<JsonRef> fee = f.Object("platform_fee")) {
    Fields item(*fee, f.Param("platform_fee"), f.assets());
    c.platform_fee = ReadSplit(item, c.asset);
    f.Adopt(item);
  }
}

void ReadCreateOptions(Fields& f, pay::Command& c) {
  if (const std::optional<std::string_view> method = f.TextView("capture_method")) {
    const std::optional<pay::CaptureMethod> parsed = pay::ParseCaptureMethod(*method);
    if (!parsed) f.Fail("capture_method", "must be \"automatic\" or \"manual\"");
    c.capture_method = parsed.value_or(pay::CaptureMethod::automatic);
  }
  c.description = f.BoundedText("description", pay::kDescriptionLengthMax).value_or("");
  ReadMetadata(f, c.metadata);
  ReadSplits(f, c);
  c.scenario = f.Tag("scenario", pay::kTagLengthMax).value_or("");
  c.coupon_code = f.Tag("coupon", pay::kCouponCodeLengthMax).value_or("");
  c.use_points = f.Bool("use_points").value_or(false);
  c.hold_timeout_seconds = static_cast<uint32_t>(
      f.Unsigned("hold_timeout_seconds", 1, pay::kHoldTimeoutSecondsMax).value_or(0));
}

ApiResult<PaymentsCall> DecodeCreate(std::string_view body, const AssetTable& assets) {
  JsonTape& tape = DecoderTape();
  if (std::optional<ApiError> error = BodyObject(
          body, false,
          R"({"amount": "12.34", "asset": "USD", "merchant_account_id": "100", "customer": "7"})",
          tape))
    return Err{*error};
  Fields f(JsonRef(tape, 0), "", assets);
  f.Known(kCreateKeys);
  f.Require("asset", "\"USD\"");
  f.Require("merchant_account_id", "\"100\"");
  f.Require("customer", "\"7\"");
  PaymentsCall call;
  pay::Command& c = call.command;
  c.kind = pay::CommandKind::create_payment;
  c.asset = f.Asset("asset").value_or(0);
  if (!f.failed() && !f.Has("amount") && !f.Has("amount_minor")) {
    f.Fail("amount", "(or \"amount_minor\") is required, e.g. \"12.34\"");
  }
  if (!f.failed()) c.amount = f.AmountIn("amount", c.asset).value_or(Amount::Zero());
  if (!f.failed() && c.amount.is_zero()) f.Fail("amount", "must be more than 0");
  c.merchant_account = AccountId(f.NonZeroId("merchant_account_id").value_or(0));
  c.customer = pay::CustomerId(f.NonZeroId("customer").value_or(0));
  if (!f.failed()) ReadCreateOptions(f, c);
  c.confirm = f.Bool("confirm").value_or(false);
  if (!c.confirm) {
    for (const std::string_view key : kConfirmOnlyKeys) {
      if (f.Has(key))
        f.Fail(key, "is a confirm option: send it with \"confirm\": true, or to /confirm");
    }
  }
  if (!f.failed()) ReadConfirmOptions(f, c.confirm_options);
  return Done(f, std::move(call));
}

std::optional<ApiError> ReadPaymentAmount(PaymentsCall& call, uint32_t asset,
                                          const AssetTable& assets);

// An action on payment `id` (confirm, capture, cancel, refund): its optional body, with the
// `known` fields, read by `read(fields, call)`. Minor-unit amounts are read at once; a decimal
// one waits for the payment's asset (amount_in_payment_asset).
template <typename Read>
ApiResult<PaymentsCall> DecodeAction(pay::CommandKind kind, pay::PaymentId id,
                                     std::string_view body, Keys known, std::string_view example,
                                     const AssetTable& assets, Read read) {
  JsonTape& tape = DecoderTape();
  if (std::optional<ApiError> error = BodyObject(body, true, example, tape)) return Err{*error};
  Fields f(JsonRef(tape, 0), "", assets);
  f.Known(known);
  PaymentsCall call;
  call.command.kind = kind;
  call.command.payment = id;
  read(f, call);
  if (f.failed()) return Err{f.error()};
  if (call.amount_in_payment_asset && call.amount_in_payment_asset->minor_units) {
    if (std::optional<ApiError> error = ReadPaymentAmount(call, 0, assets)) return Err{*error};
  }
  return call;
}

constexpr std::array<std::string_view, 6> kConfirmKeys = {
    "source_account_id", "quote", "coupon", "use_points", "cvm_performed", "risk"};

void ReadConfirm(Fields& f, PaymentsCall& call) {
  pay::ConfirmOptions& o = call.command.confirm_options;
  ReadConfirmOptions(f, o);
  if (const std::optional<std::string> coupon = f.Text("coupon")) {
    // "" removes the coupon given at create.
    if (!coupon->empty() && !IsTagText(*coupon, pay::kCouponCodeLengthMax)) {
      f.Fail("coupon", "must be \"\" (no coupon) or 1 to " +
                           std::to_string(pay::kCouponCodeLengthMax) +
                           " characters of A-Z a-z 0-9 _ . -");
    }
    o.coupon_code = *coupon;
  }
  o.use_points = f.Bool("use_points");
}

constexpr std::array<std::string_view, 2> kCaptureKeys = {"amount_to_capture",
                                                          "amount_to_capture_minor"};
constexpr std::array<std::string_view, 1> kCancelKeys = {"cancellation_reason"};

void ReadCancel(Fields& f, PaymentsCall& call) {
  const std::optional<std::string_view> reason = f.TextView("cancellation_reason");
  if (!reason) return;
  const std::optional<pay::CancelReason> parsed = pay::ParseCancelReason(*reason);
  // expired and declined_by_risk are the server's own reasons.
  if (!parsed || *parsed == pay::CancelReason::expired ||
      *parsed == pay::CancelReason::declined_by_risk) {
    return f.Fail("cancellation_reason",
                  "must be requested_by_customer, duplicate, fraudulent or abandoned");
  }
  call.command.cancel_reason = *parsed;
}

constexpr std::array<std::string_view, 4> kRefundKeys = {"amount", "amount_minor", "reverse_splits",
                                                         "refund_fee"};

void ReadRefund(Fields& f, PaymentsCall& call) {
  call.amount_in_payment_asset = f.AmountText("amount");
  call.command.reverse_splits = f.Bool("reverse_splits").value_or(false);
  call.command.refund_fee = f.Bool("refund_fee").value_or(false);
}

constexpr std::array<std::string_view, 5> kListParams = {"customer", "merchant_account_id",
                                                         "status", "starting_after", "limit"};

std::optional<ApiError> SetListParam(pay::ListFilter& filter, const std::string& key,
                                     const std::string& value) {
  if (key == "customer" || key == "merchant_account_id") {
    cli::InputResult<u128> id = cli::ParseIdText(key, value);
    if (!id.ok()) return InvalidParameter(id.error().message, key);
    if (key == "customer") filter.customer = pay::CustomerId(id.value());
    if (key == "merchant_account_id") filter.merchant_account = AccountId(id.value());
    return std::nullopt;
  }
  if (key == "status") {
    filter.state = pay::ParsePaymentState(value);
    if (!filter.state) {
      return InvalidParameter(
          "status is one of requires_confirmation, requires_action, "
          "requires_capture, succeeded, canceled",
          key);
    }
    return std::nullopt;
  }
  if (key == "starting_after") {
    const std::optional<pay::PaymentId> id = pay::ParsePaymentId(value);
    if (!id)
      return InvalidParameter(
          "starting_after is a payment id (pay_12): the last of the previous page", key);
    filter.starting_after = *id;
    return std::nullopt;
  }
  cli::InputResult<uint64_t> limit = cli::ParseUnsignedText(key, value, pay::kListLimitMax);
  if (!limit.ok() || limit.value() == 0) {
    return InvalidParameter("limit is 1 to " + std::to_string(pay::kListLimitMax), key);
  }
  filter.limit = static_cast<uint32_t>(limit.value());
  return std::nullopt;
}

ApiResult<PaymentsCall> DecodeList(std::string_view query) {
  ApiResult<std::vector<std::pair<std::string, std::string>>> params =
      ParseQueryParams(query, kListParams);
  if (!params.ok()) return Err{params.error()};
  PaymentsCall call;
  call.command.kind = pay::CommandKind::list_payments;
  for (const auto& [key, value] : params.value()) {
    if (std::optional<ApiError> error = SetListParam(call.command.list, key, value))
      return Err{*error};
  }
  return call;
}

// ---- Customers, coupons, points, FX ---------------------------------------------------------

constexpr std::array<std::string_view, 5> kSourceKeys = {"account_id", "asset", "kind", "tags",
                                                         "priority"};

pay::FundingSource ReadSource(Fields& f) {
  f.Known(kSourceKeys);
  f.Require("account_id", "\"10\"");
  f.Require("asset", "\"USD\"");
  pay::FundingSource s;
  s.account = AccountId(f.NonZeroId("account_id").value_or(0));
  s.asset = f.Asset("asset").value_or(0);
  if (const std::optional<std::string_view> kind = f.TextView("kind")) {
    const std::optional<pay::SourceKind> parsed = pay::ParseSourceKind(*kind);
    if (!parsed) f.Fail("kind", "must be \"balance\", \"points\" or \"transit\"");
    s.kind = parsed.value_or(pay::SourceKind::balance);
  }
  if (const std::optional<JsonRef> tags = f.Array("tags", pay::kSourceTagsMax)) {
    tags->ForEachItem([&](size_t i, JsonRef tag) {
      if (!tag.is(Kind::string) || !IsTagText(tag.string(), pay::kTagLengthMax)) {
        f.Fail("tags[" + std::to_string(i) + "]", "must be 1 to " +
                                                      std::to_string(pay::kTagLengthMax) +
                                                      " characters of A-Z a-z 0-9 _ . -");
        return false;
      }
      s.tags.emplace_back(tag.string());
      return true;
    });
  }
  s.priority = static_cast<uint32_t>(f.Unsigned("priority", 0, UINT32_MAX).value_or(0));
  return s;
}

ApiResult<PaymentsCall> DecodeUpsertCustomer(std::string_view id, std::string_view body,
                                             const AssetTable& assets) {
  ApiResult<pay::CustomerId> customer = PathCustomerId(id);
  if (!customer.ok()) return Err{customer.error()};
  JsonTape& tape = DecoderTape();
  if (std::optional<ApiError> error =
          BodyObject(body, false, R"({"sources": [{"account_id": "10", "asset": "USD"}]})", tape))
    return Err{*error};
  Fields f(JsonRef(tape, 0), "", assets);
  constexpr std::array<std::string_view, 1> kKeys = {"sources"};
  f.Known(kKeys);
  f.Require("sources", "[{\"account_id\": \"10\", \"asset\": \"USD\"}]");
  PaymentsCall call;
  pay::Command& c = call.command;
  c.kind = pay::CommandKind::upsert_customer;
  c.customer = customer.value();
  c.customer_record.id = customer.value();
  if (const std::optional<JsonRef> sources = f.Array("sources", pay::kFundingSourcesMax)) {
    ForEachObject(f, "sources", *sources, [&](Fields& item, size_t) {
      c.customer_record.sources.push_back(ReadSource(item));
    });
  }
  return Done(f, std::move(call));
}

constexpr std::array<std::string_view, 10> kCouponKeys = {
    "code",      "amount_off",      "amount_off_minor", "percent_off_bps", "asset",
    "min_spend", "min_spend_minor", "expires_at",       "single_use",      "merchant_account_id"};

ApiResult<PaymentsCall> DecodeCreateCoupon(std::string_view body, const AssetTable& assets) {
  JsonTape& tape = DecoderTape();
  if (std::optional<ApiError> error = BodyObject(
          body, false, R"({"code": "WELCOME5", "amount_off": "5.00", "asset": "USD"})", tape))
    return Err{*error};
  Fields f(JsonRef(tape, 0), "", assets);
  f.Known(kCouponKeys);
  f.Require("code", "\"WELCOME5\"");
  PaymentsCall call;
  call.command.kind = pay::CommandKind::create_coupon;
  pay::Coupon& coupon = call.command.coupon;
  coupon.code = f.Tag("code", pay::kCouponCodeLengthMax).value_or("");
  call.command.coupon_code = coupon.code;
  coupon.asset = f.Asset("asset").value_or(0);
  const bool fixed = f.Has("amount_off") || f.Has("amount_off_minor");
  if (!f.failed() && fixed == f.Has("percent_off_bps")) {
    f.Fail("amount_off", "or \"percent_off_bps\": give exactly one (fixed or percentage coupon)");
  }
  if (!f.failed() && fixed && coupon.asset == 0) f.Fail("asset", "is required for a fixed coupon");
  coupon.kind = fixed ? pay::CouponKind::fixed : pay::CouponKind::percent;
  if (!f.failed() && fixed)
    coupon.amount_off = f.AmountIn("amount_off", coupon.asset).value_or(Amount::Zero());
  if (!f.failed() && fixed && coupon.amount_off.is_zero())
    f.Fail("amount_off", "must be more than 0");
  coupon.percent_off_bps =
      static_cast<uint32_t>(f.Unsigned("percent_off_bps", 1, pay::kBasisPointsWhole).value_or(0));
  const std::optional<cli::AmountText> min_spend = f.AmountText("min_spend");
  if (!f.failed() && min_spend && coupon.asset == 0) {
    f.Fail("asset", "is required with a minimum spend (the amount is in that asset)");
  }
  if (!f.failed() && min_spend) {
    coupon.min_spend = f.ReadAmount("min_spend", *min_spend, coupon.asset).value_or(Amount::Zero());
  }
  coupon.expires_at_ms = f.TimeMs("expires_at").value_or(0);
  coupon.single_use = f.Bool("single_use").value_or(false);
  coupon.merchant_account = AccountId(f.NonZeroId("merchant_account_id").value_or(0));
  return Done(f, std::move(call));
}

constexpr std::array<std::string_view, 5> kProgramKeys = {"points_asset", "money_asset",
                                                          "points_per_minor_unit",
                                                          "sink_account_id", "funding_account_id"};

ApiResult<PaymentsCall> DecodeSetPointsProgram(std::string_view body, const AssetTable& assets) {
  JsonTape& tape = DecoderTape();
  if (std::optional<ApiError> error = BodyObject(
          body, false,
          R"({"points_asset": "PTS", "money_asset": "USD", "points_per_minor_unit": 10, "sink_account_id": "900", "funding_account_id": "901"})",
          tape))
    return Err{*error};
  Fields f(JsonRef(tape, 0), "", assets);
  f.Known(kProgramKeys);
  for (const std::string_view key : kProgramKeys) f.Require(key, "(see docs/api.md)");
  PaymentsCall call;
  call.command.kind = pay::CommandKind::set_points_program;
  pay::PointsProgram& p = call.command.program;
  p.points_asset = f.Asset("points_asset").value_or(0);
  p.money_asset = f.Asset("money_asset").value_or(0);
  p.points_per_minor_unit =
      f.Unsigned("points_per_minor_unit", 1, pay::kPointsPerMinorUnitMax).value_or(0);
  p.sink_account = AccountId(f.NonZeroId("sink_account_id").value_or(0));
  p.funding_account = AccountId(f.NonZeroId("funding_account_id").value_or(0));
  return Done(f, std::move(call));
}

constexpr std::array<std::string_view, 5> kRateKeys = {"from_asset", "to_asset", "rate", "source",
                                                       "as_of"};

pay::FxRateInput ReadRate(Fields& f) {
  f.Known(kRateKeys);
  for (const std::string_view key : kRateKeys) f.Require(key, "(see docs/api.md)");
  pay::FxRateInput rate;
  rate.from_asset = f.Asset("from_asset").value_or(0);
  rate.to_asset = f.Asset("to_asset").value_or(0);
  if (!f.failed() && rate.from_asset == rate.to_asset) {
    f.Fail("to_asset", "must differ from from_asset");
  }
  rate.rate = f.Text("rate").value_or("");
  if (!f.failed() && !pay::ParseRate(rate.rate)) {
    f.Fail("rate",
           "must be a positive decimal string with at most 20 integer and 18 fraction "
           "digits, e.g. \"1.0843\" (units of to_asset per unit of from_asset)");
  }
  rate.source = f.Tag("source", pay::kRateSourceLengthMax).value_or("");
  rate.as_of_ms = f.TimeMs("as_of").value_or(0);
  return rate;
}

ApiResult<PaymentsCall> DecodePutFxRates(std::string_view body, const AssetTable& assets) {
  JsonTape& tape = DecoderTape();
  if (std::optional<ApiError> error = BodyObject(
          body, false,
          R"({"rates": [{"from_asset": "EUR", "to_asset": "USD", "rate": "1.0843", "source": "ecb", "as_of": "2024-05-29T16:00:00Z"}]})",
          tape))
    return Err{*error};
  Fields f(JsonRef(tape, 0), "", assets);
  constexpr std::array<std::string_view, 1> kKeys = {"rates"};
  f.Known(kKeys);
  f.Require("rates", "[{\"from_asset\": \"EUR\", ...}]");
  PaymentsCall call;
  call.command.kind = pay::CommandKind::put_fx_rates;
  if (const std::optional<JsonRef> rates = f.Array("rates", pay::kFxRatesPerPutMax)) {
    if (rates->size() == 0) f.Fail("rates", "holds no rate");
    ForEachObject(f, "rates", *rates,
                  [&](Fields& item, size_t) { call.command.rates.push_back(ReadRate(item)); });
  }
  return Done(f, std::move(call));
}

// A quote lives five minutes unless the request says otherwise.
constexpr uint64_t kQuoteTtlSecondsDefault = 300;
constexpr std::array<std::string_view, 4> kQuoteKeys = {"from_asset", "to_asset", "ttl_seconds",
                                                        "max_slippage_bps"};

ApiResult<PaymentsCall> DecodeCreateFxQuote(std::string_view body, const AssetTable& assets) {
  JsonTape& tape = DecoderTape();
  if (std::optional<ApiError> error = BodyObject(
          body, false, R"({"from_asset": "USD", "to_asset": "EUR", "ttl_seconds": 300})", tape))
    return Err{*error};
  Fields f(JsonRef(tape, 0), "", assets);
  f.Known(kQuoteKeys);
  f.Require("from_asset", "\"USD\"");
  f.Require("to_asset", "\"EUR\"");
  PaymentsCall call;
  call.command.kind = pay::CommandKind::create_fx_quote;
  pay::QuoteRequest& q = call.command.quote_request;
  q.from_asset = f.Asset("from_asset").value_or(0);
  q.to_asset = f.Asset("to_asset").value_or(0);
  if (!f.failed() && q.from_asset == q.to_asset) f.Fail("to_asset", "must differ from from_asset");
  q.ttl_ms =
      f.Unsigned("ttl_seconds", 1, pay::kQuoteTtlMsMax / 1000).value_or(kQuoteTtlSecondsDefault) *
      1000;
  q.max_slippage_bps =
      static_cast<uint32_t>(f.Unsigned("max_slippage_bps", 0, pay::kBasisPointsWhole).value_or(0));
  return Done(f, std::move(call));
}

ApiResult<PaymentsCall> DecodeSetFxAccount(std::string_view asset_text, std::string_view body,
                                           const AssetTable& assets) {
  ApiResult<uint32_t> asset = PathAsset(asset_text, assets);
  if (!asset.ok()) return Err{asset.error()};
  JsonTape& tape = DecoderTape();
  if (std::optional<ApiError> error = BodyObject(body, false, R"({"account_id": "800"})", tape))
    return Err{*error};
  Fields f(JsonRef(tape, 0), "", assets);
  constexpr std::array<std::string_view, 1> kKeys = {"account_id"};
  f.Known(kKeys);
  f.Require("account_id", "\"800\"");
  PaymentsCall call;
  call.command.kind = pay::CommandKind::set_fx_account;
  call.command.fx_account.asset = asset.value();
  call.command.fx_account.account = AccountId(f.NonZeroId("account_id").value_or(0));
  return Done(f, std::move(call));
}

// GET /v1/coupons/{code}?merchant_account_id=ID: the coupon that merchant's payments get for
// the code (its own, else the platform's); without it, the platform's or the only one.
std::optional<ApiError> CouponMerchantParam(std::string_view query, pay::Command& command) {
  constexpr std::array<std::string_view, 1> kParams = {"merchant_account_id"};
  ApiResult<std::vector<std::pair<std::string, std::string>>> params = ParseQueryParams(query, kParams);
  if (!params.ok()) return params.error();
  for (const auto& [key, value] : params.value()) {
    cli::InputResult<u128> id = cli::ParseIdText(key, value);
    if (!id.ok()) return InvalidParameter(id.error().message, key);
    command.merchant_account = AccountId(id.value());
  }
  return std::nullopt;
}

// A GET without query parameters.
std::optional<ApiError> NoQuery(std::string_view query) {
  ApiResult<std::vector<std::pair<std::string, std::string>>> params = ParseQueryParams(query, {});
  if (!params.ok()) return params.error();
  return std::nullopt;
}

PaymentsCall Simple(pay::CommandKind kind) {
  PaymentsCall call;
  call.command.kind = kind;
  return call;
}

// The routes on /v1/payments/{id}...
ApiResult<PaymentsCall> DecodePaymentAction(Route route, std::string_view id, std::string_view body,
                                            const AssetTable& assets) {
  ApiResult<pay::PaymentId> payment = PathPaymentId(id);
  if (!payment.ok()) return Err{payment.error()};
  const pay::PaymentId id_value = payment.value();
  switch (route) {
    case Route::payment_confirm:
      return DecodeAction(pay::CommandKind::confirm_payment, id_value, body, kConfirmKeys,
                          R"({"cvm_performed": "pin"})", assets, ReadConfirm);
    case Route::payment_capture:
      return DecodeAction(pay::CommandKind::capture_payment, id_value, body, kCaptureKeys,
                          R"({"amount_to_capture": "5.00"})", assets,
                          [](Fields& f, PaymentsCall& call) {
                            call.amount_in_payment_asset = f.AmountText("amount_to_capture");
                          });
    case Route::payment_cancel:
      return DecodeAction(pay::CommandKind::cancel_payment, id_value, body, kCancelKeys,
                          R"({"cancellation_reason": "requested_by_customer"})", assets,
                          ReadCancel);
    case Route::payment_refund:
      return DecodeAction(pay::CommandKind::refund_payment, id_value, body, kRefundKeys,
                          R"({"amount": "5.00"})", assets, ReadRefund);
    default: {
      PaymentsCall call = Simple(pay::CommandKind::get_payment);  // get, refunds
      call.command.payment = payment.value();
      return call;
    }
  }
}

}  // namespace

bool IsPaymentsRoute(Route route) {
  return std::find(kPaymentsRoutes.begin(), kPaymentsRoutes.end(), route) != kPaymentsRoutes.end();
}

ApiResult<PaymentsCall> DecodePaymentsRequest(Route route, std::string_view id,
                                              std::string_view query, std::string_view body,
                                              const AssetTable& assets) {
  TPW_ASSERT(IsPaymentsRoute(route));
  if (route != Route::payments_list && route != Route::coupon_get) {
    if (std::optional<ApiError> error = NoQuery(query)) return Err{*error};
  }
  switch (route) {
    case Route::payments_create:
      return DecodeCreate(body, assets);
    case Route::payments_list:
      return DecodeList(query);
    case Route::payment_get:
    case Route::payment_confirm:
    case Route::payment_capture:
    case Route::payment_cancel:
    case Route::payment_refund:
    case Route::payment_refunds:
      return DecodePaymentAction(route, id, body, assets);
    case Route::customer_put:
      return DecodeUpsertCustomer(id, body, assets);
    case Route::customer_get: {
      ApiResult<pay::CustomerId> customer = PathCustomerId(id);
      if (!customer.ok()) return Err{customer.error()};
      PaymentsCall call = Simple(pay::CommandKind::get_customer);
      call.command.customer = customer.value();
      return call;
    }
    case Route::coupons_create:
      return DecodeCreateCoupon(body, assets);
    case Route::coupon_get: {
      ApiResult<std::string> code = PathCouponCode(id);
      if (!code.ok()) return Err{code.error()};
      PaymentsCall call = Simple(pay::CommandKind::get_coupon);
      call.command.coupon_code = code.value();
      if (std::optional<ApiError> error = CouponMerchantParam(query, call.command)) return Err{*error};
      return call;
    }
    case Route::points_program_put:
      return DecodeSetPointsProgram(body, assets);
    case Route::points_program_get:
      return Simple(pay::CommandKind::get_points_program);
    case Route::fx_rates_put:
      return DecodePutFxRates(body, assets);
    case Route::fx_rates_get:
      return Simple(pay::CommandKind::list_fx_rates);
    case Route::fx_quotes_create:
      return DecodeCreateFxQuote(body, assets);
    case Route::fx_quote_get: {
      const std::optional<pay::QuoteId> quote = pay::ParseQuoteId(id);
      if (!quote) return Err{InvalidParameter("a quote id is fxq_ and a number (fxq_3)", "id")};
      PaymentsCall call = Simple(pay::CommandKind::get_fx_quote);
      call.command.quote = *quote;
      return call;
    }
    case Route::fx_account_put:
      return DecodeSetFxAccount(id, body, assets);
    default:
      break;
  }
  TPW_ASSERT(false && "not a payments route");
  return Err{InvalidParameter("not a payments route", "")};
}

namespace {

std::optional<ApiError> ReadPaymentAmount(PaymentsCall& call, uint32_t asset,
                                          const AssetTable& assets) {
  const bool capture = call.command.kind == pay::CommandKind::capture_payment;
  const cli::AmountText& text = *call.amount_in_payment_asset;
  const std::string param =
      std::string(capture ? "amount_to_capture" : "amount") + (text.minor_units ? "_minor" : "");
  cli::InputResult<Amount> amount =
      cli::ParseAmountText(param, text.text, asset, text.minor_units, assets);
  if (!amount.ok()) return InvalidBody(amount.error().message, param);
  if (amount.value().is_zero()) return InvalidBody("\"" + param + "\" must be more than 0", param);
  if (capture) {
    call.command.amount_to_capture = amount.value();
  } else {
    call.command.refund_amount = amount.value();
  }
  call.amount_in_payment_asset.reset();
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> ResolvePaymentAmount(PaymentsCall& call, uint32_t asset,
                                             const AssetTable& assets) {
  TPW_ASSERT(call.amount_in_payment_asset.has_value());
  return ReadPaymentAmount(call, asset, assets);
}

}  // namespace tpw::api
