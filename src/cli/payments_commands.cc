// tpwallet payments create|confirm|capture|cancel|refund|show|list, customers set|show, coupons
// create|show, fx rates set|show, fx quote, fx account set, points program set|show: the payment
// endpoints of docs/api.md ("Payments") from the command line, on a data directory or on a
// running server (--server; payments_backend.h). Options become the API's JSON fields one to
// one (docs/cli.md, "Payments"), so values are checked by the API's own decoder either way;
// --json prints the API's JSON as it is, the text form a summary of it.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/payments_backend.h"
#include "cli/render.h"
#include "cli/session.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

// ---- Requests ---------------------------------------------------------------------------------

// A path segment or query value, %-escaped: what the user typed can never add a path or query.
std::string Escaped(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      out += c;
    } else {
      out += '%';
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 15];
    }
  }
  return out;
}

void PutText(bj::object& body, std::string_view key, const std::string& value) {
  if (!value.empty()) body[key] = value;
}

void PutFlag(bj::object& body, std::string_view key, bool value) {
  if (value) body[key] = true;
}

// "--amount 12.34" or "--amount-minor 1234" → `key` / `key`_minor.
struct AmountOption {
  std::string decimal;
  std::string minor;
  void Put(bj::object& body, std::string_view key) const {
    PutText(body, key, decimal);
    PutText(body, std::string(key) + "_minor", minor);
  }
};

void AddAmountOptions(CLI::App& c, AmountOption& amount, const std::string& what) {
  auto* decimal =
      c.add_option("--amount", amount.decimal, what + ", a decimal in the asset (12.34)");
  auto* minor = c.add_option("--amount-minor", amount.minor, what + ", in minor units (1234)");
  decimal->excludes(minor);
}

// KEY=VALUE → {"KEY": "VALUE"}.
InputResult<bj::object> KeyValues(const std::vector<std::string>& items, std::string_view option) {
  bj::object out;
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InputFail(std::string(option) + " \"" + item + "\" is not KEY=VALUE");
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

// ACCOUNT=AMOUNT or ACCOUNT=Nbp → a split object.
InputResult<bj::object> Share(const std::string& item, std::string_view option) {
  const size_t eq = item.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
    return InputFail(std::string(option) + " \"" + item +
                     "\" is not ACCOUNT=AMOUNT or ACCOUNT=Nbp (e.g. 201=1.50, 201=250bp)");
  }
  bj::object share{{"account_id", item.substr(0, eq)}};
  const std::string value = item.substr(eq + 1);
  if (value.size() > 2 && value.ends_with("bp")) {
    share["basis_points"] = value.substr(0, value.size() - 2);
  } else {
    share["amount"] = value;
  }
  return share;
}

// What confirm takes (also create with --confirm).
struct ConfirmOptions {
  std::string source, quote, cvm, device, terminal, merchant_category, country, ip, device_age;
  void Put(bj::object& body) const {
    PutText(body, "source_account_id", source);
    PutText(body, "quote", quote);
    PutText(body, "cvm_performed", cvm);
    bj::object risk;
    PutText(risk, "device", device);
    PutText(risk, "terminal", terminal);
    PutText(risk, "merchant_category", merchant_category);
    PutText(risk, "country", country);
    PutText(risk, "ip", ip);
    PutText(risk, "device_age_seconds", device_age);
    if (!risk.empty()) body["risk"] = std::move(risk);
  }
};

void AddConfirmOptions(CLI::App& c, ConfirmOptions& o) {
  c.add_option("--source", o.source, "Pay from this funding account of the customer, and only it");
  c.add_option("--quote", o.quote, "An FX quote (fxq_N) for a cross-asset payment");
  c.add_option("--cvm", o.cvm, "The verification done: none, pin or strong");
  c.add_option("--device", o.device, "Risk context: the customer's device id");
  c.add_option("--terminal", o.terminal, "Risk context: the terminal id");
  c.add_option("--merchant-category", o.merchant_category, "Risk context: ISO 18245 MCC (5411)");
  c.add_option("--country", o.country, "Risk context: two letters (FR)");
  c.add_option("--ip", o.ip, "Risk context: the customer's IP address");
  c.add_option("--device-age", o.device_age, "Risk context: seconds since the device was enrolled");
}

// ---- Answers ----------------------------------------------------------------------------------

// Reads an answer's fields for the text form; any missing or mistyped field marks it unreadable
// (a server's answer is read strictly: it is never printed as data when it is not what we expect).
class Fields {
 public:
  explicit Fields(const bj::value& v, bool& ok)
      : o_(v.is_object() ? &v.get_object() : nullptr), ok_(ok) {
    if (o_ == nullptr) ok_ = false;
  }
  // A string, a number, or "-" for null.
  std::string operator[](std::string_view key) const {
    const bj::value* v = Find(key);
    if (v == nullptr) return "?";
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_null()) return "-";
    if (v->is_int64()) return std::to_string(v->get_int64());
    if (v->is_uint64()) return std::to_string(v->get_uint64());
    if (v->is_bool()) return v->get_bool() ? "yes" : "no";
    ok_ = false;
    return "?";
  }
  const bj::value& At(std::string_view key) const {
    static const bj::value kNull;
    const bj::value* v = Find(key);
    return v != nullptr ? *v : kNull;
  }
  const bj::array& Array(std::string_view key) const {
    static const bj::array kEmpty;
    const bj::value* v = Find(key);
    if (v == nullptr || !v->is_array()) {
      ok_ = false;
      return kEmpty;
    }
    return v->get_array();
  }

 private:
  const bj::value* Find(std::string_view key) const {
    const bj::value* v = o_ != nullptr ? o_->if_contains(key) : nullptr;
    if (v == nullptr) ok_ = false;
    return v;
  }
  const bj::object* o_;
  bool& ok_;
};

std::string Money(const Fields& f, std::string_view key, std::string_view asset) {
  return f[key] + " " + std::string(asset);
}

void PaymentLines(const bj::value& v, bool& ok, std::string& out) {
  const Fields p(v, ok);
  const std::string asset = p["asset"];
  out += p["id"] + "  " + p["status"] + "  " + Money(p, "amount", asset) + "  customer " +
         p["customer"] + " -> merchant account " + p["merchant_account_id"] + " (capture " +
         p["capture_method"] + ")\n";
  out += "  capturable " + p["amount_capturable"] + ", captured " + p["amount_captured"] +
         ", refunded " + p["amount_refunded"] + "\n";
  if (p["cancellation_reason"] != "-") out += "  canceled: " + p["cancellation_reason"] + "\n";
  if (p.At("next_action").is_object()) {
    const Fields a(p.At("next_action"), ok);
    out += "  next: verify the customer (" + a["required_cvm"] +
           "), then confirm again with --cvm " + a["required_cvm"] + "\n";
  }
  if (p.At("funding").is_object()) {
    const Fields f(p.At("funding"), ok);
    out += "  funding: account " + f["source_account_id"] + " (" + f["source_kind"] + "; " +
           f["reason"] + "), charged " + Money(f, "amount_charged_source", f["source_asset"]);
    if (f["coupon"] != "-") out += ", coupon " + f["coupon"] + " -" + f["coupon_discount"];
    if (f["points_account_id"] != "-") out += ", points " + f["points_used"];
    out += "\n";
  }
  if (p.At("risk").is_object()) {
    const Fields r(p.At("risk"), ok);
    out += "  risk: " + r["decision"] + ", score " + r["score"] + ", rules " + r["rules_version"] +
           (r["decided_by"] != "-" ? ", decided by " + r["decided_by"] : std::string()) + "\n";
  }
  for (const bj::value& refund : p.Array("refunds")) {
    const Fields r(refund, ok);
    out +=
        "  refund " + r["id"] + " " + Money(r, "amount", asset) + " at " + r["created_time"] + "\n";
  }
  if (p.At("last_payment_error").is_object()) {
    const Fields e(p.At("last_payment_error"), ok);
    out += "  last error: " + e["code"] + " (" + e["message"] + ")\n";
  }
}

void RefundLines(const bj::value& v, bool& ok, std::string& out) {
  const Fields r(v, ok);
  out += r["id"] + "  " + r["payment"] + "  " + Money(r, "amount", r["asset"]) +
         (r["reverse_splits"] == "yes" ? "  splits reversed" : "") +
         (r["refund_fee"] == "yes" ? "  fee refunded" : "") + "  " + r["created_time"] + "\n";
}

void CustomerLines(const bj::value& v, bool& ok, std::string& out) {
  const Fields c(v, ok);
  out += "customer " + c["id"] + ", updated " + c["updated_time"] + "\n";
  for (const bj::value& source : c.Array("sources")) {
    const Fields s(source, ok);
    std::string tags;
    for (const bj::value& tag : s.Array("tags"))
      tags += (tags.empty() ? "" : ",") + std::string(tag.is_string() ? tag.get_string() : "?");
    out += "  account " + s["account_id"] + "  " + s["asset"] + "  " + s["kind"] + "  priority " +
           s["priority"] + (tags.empty() ? "" : "  tags " + tags) + "\n";
  }
}

void CouponLines(const bj::value& v, bool& ok, std::string& out) {
  const Fields c(v, ok);
  out += "coupon " + c["code"] + "  " + c["kind"] + "  " +
         (c["kind"] == "fixed" ? Money(c, "amount_off", c["asset"]) + " off"
                               : c["percent_off_bps"] + " bp off") +
         "  min spend " + c["min_spend"] + "  expires " + c["expires_at_time"] +
         (c["single_use"] == "yes" ? "  single use" : "") + "  merchant " +
         c["merchant_account_id"] + "  redemptions " + c["redemptions"] + "\n";
}

void ProgramLines(const bj::value& v, bool& ok, std::string& out) {
  const Fields p(v, ok);
  if (p["configured"] != "yes") {
    out += "no points program is set (tpwallet points program set ...)\n";
    return;
  }
  out += "points program: " + p["points_per_minor_unit"] + " " + p["points_asset"] +
         " per minor unit of " + p["money_asset"] + "; sink account " + p["sink_account_id"] +
         ", funding account " + p["funding_account_id"] + "; updated " + p["updated_time"] + "\n";
}

void RateLines(const bj::value& v, bool& ok, std::string& out) {
  const Fields r(v, ok);
  out += r["from_asset"] + " -> " + r["to_asset"] + "  " + r["rate"] + "  (" + r["source"] +
         ", as of " + r["as_of_time"] + ")\n";
}

void QuoteLines(const bj::value& v, bool& ok, std::string& out) {
  const Fields q(v, ok);
  out += q["id"] + "  " + q["from_asset"] + " -> " + q["to_asset"] + "  " + q["rate"] +
         "  max slippage " + q["max_slippage_bps"] + " bp  expires " + q["expires_at_time"] + "\n";
}

void FxAccountLines(const bj::value& v, bool& ok, std::string& out) {
  const Fields a(v, ok);
  out += "FX liquidity in " + a["asset"] + ": account " + a["account_id"] + "\n";
}

using Lines = void (*)(const bj::value&, bool&, std::string&);

// A list answer: each item with `lines`, and a hint when more follow.
void ListLines(const bj::value& v, bool& ok, std::string& out, Lines lines) {
  const Fields list(v, ok);
  const bj::array& data = list.Array("data");
  for (const bj::value& item : data) lines(item, ok, out);
  if (data.empty()) out += "(none)\n";
  if (list["has_more"] == "yes" && !data.empty() && data.back().is_object()) {
    out += "more: --starting-after " + Fields(data.back(), ok)["id"] + "\n";
  }
}

// Sends the request and prints the answer: its JSON with --json, else `lines` of it.
int Run(const CommonOptions& o, ApiMethod method, const std::string& target, const bj::object& body,
        Lines lines, bool list = false) {
  const std::string text = method == ApiMethod::get ? std::string() : bj::serialize(body);
  CommandResult<ApiAnswer> answer = CallPaymentsApi(o, method, target, text);
  if (!answer.ok()) return Report(o, answer.error());
  if (answer.value().status >= 400) return Report(o, AnswerFailure(o, answer.value()));
  bj::error_code ec;
  const bj::value json = bj::parse(answer.value().body, ec);
  bool ok = !ec;
  std::string out;
  if (ok && !o.json) {
    if (list) {
      ListLines(json, ok, out, lines);
    } else {
      lines(json, ok, out);
    }
  }
  if (!ok) {
    return Report(o, CommandError{kExitServer, "server", "unexpected_answer",
                                  "the answer is not the payments JSON this tpwallet reads; is it "
                                  "a tpwallet server of the same version?"});
  }
  if (o.json) {
    std::printf("%s\n", answer.value().body.c_str());
  } else {
    std::fputs(out.c_str(), stdout);
  }
  return kExitOk;
}

// Reports a bad option value (before anything is sent).
int BadInput(const CommonOptions& o, const InputError& error) {
  return Report(o, InputErrorOf(error));
}

// ---- payments -----------------------------------------------------------------------------------

struct CreateOptions {
  CommonOptions common;
  AmountOption amount;
  std::string asset, merchant, customer, capture_method, description, platform_fee, scenario,
      coupon, hold_timeout;
  std::vector<std::string> metadata, splits;
  bool use_points = false;
  bool confirm = false;
  ConfirmOptions confirm_options;
};

int RunCreate(const CreateOptions& o) {
  bj::object body;
  o.amount.Put(body, "amount");
  PutText(body, "asset", o.asset);
  PutText(body, "merchant_account_id", o.merchant);
  PutText(body, "customer", o.customer);
  PutText(body, "capture_method", o.capture_method);
  PutText(body, "description", o.description);
  if (!o.metadata.empty()) {
    InputResult<bj::object> metadata = KeyValues(o.metadata, "--metadata");
    if (!metadata.ok()) return BadInput(o.common, metadata.error());
    body["metadata"] = std::move(metadata).value();
  }
  if (!o.splits.empty()) {
    bj::array splits;
    for (const std::string& item : o.splits) {
      InputResult<bj::object> share = Share(item, "--split");
      if (!share.ok()) return BadInput(o.common, share.error());
      splits.push_back(std::move(share).value());
    }
    body["splits"] = std::move(splits);
  }
  if (!o.platform_fee.empty()) {
    InputResult<bj::object> fee = Share(o.platform_fee, "--platform-fee");
    if (!fee.ok()) return BadInput(o.common, fee.error());
    body["platform_fee"] = std::move(fee).value();
  }
  PutText(body, "scenario", o.scenario);
  PutText(body, "coupon", o.coupon);
  PutFlag(body, "use_points", o.use_points);
  PutText(body, "hold_timeout_seconds", o.hold_timeout);
  PutFlag(body, "confirm", o.confirm);
  o.confirm_options.Put(body);
  return Run(o.common, ApiMethod::post, "/v1/payments", body, PaymentLines);
}

struct ConfirmCommand {
  CommonOptions common;
  std::string payment;
  ConfirmOptions confirm;
  std::string coupon;
  bool remove_coupon = false;
  bool use_points = false;
};

int RunConfirm(const ConfirmCommand& o) {
  bj::object body;
  o.confirm.Put(body);
  PutText(body, "coupon", o.coupon);
  if (o.remove_coupon) body["coupon"] = "";
  PutFlag(body, "use_points", o.use_points);
  return Run(o.common, ApiMethod::post, "/v1/payments/" + Escaped(o.payment) + "/confirm", body,
             PaymentLines);
}

struct ActionOptions {
  CommonOptions common;
  std::string payment;
  AmountOption amount;
  std::string reason;
  bool reverse_splits = false;
  bool refund_fee = false;
  bool refunds = false;  // show: the refunds list
};

void RegisterPaymentActions(CLI::App& payments, int& exit_code) {
  auto confirm = std::make_shared<ConfirmCommand>();
  CLI::App* c = payments.add_subcommand(
      "confirm",
      "Confirm a payment: choose the funding source, ask risk, place the hold (automatic\n"
      "capture captures too). A step-up answer says which --cvm to confirm again with.\n"
      "Example: tpwallet payments confirm pay_12 --device 7 --country FR");
  c->add_option("PAYMENT", confirm->payment, "The payment id (pay_N)")->required();
  AddConfirmOptions(*c, confirm->confirm);
  c->add_option("--coupon", confirm->coupon, "Apply this coupon instead of create's");
  c->add_flag("--remove-coupon", confirm->remove_coupon, "Confirm without create's coupon");
  c->add_flag("--use-points", confirm->use_points, "Pay part with loyalty points first");
  AddCommonOptions(*c, confirm->common, ServerUse::writes);
  c->callback([confirm, &exit_code] { exit_code = RunConfirm(*confirm); });

  auto capture = std::make_shared<ActionOptions>();
  c = payments.add_subcommand(
      "capture",
      "Capture a held payment, all of it or --amount (once; the rest is released).\n"
      "Example: tpwallet payments capture pay_12 --amount 10.00");
  c->add_option("PAYMENT", capture->payment, "The payment id (pay_N)")->required();
  AddAmountOptions(*c, capture->amount, "Capture this much (default: all that is capturable)");
  AddCommonOptions(*c, capture->common, ServerUse::writes);
  c->callback([capture, &exit_code] {
    bj::object body;
    capture->amount.Put(body, "amount_to_capture");
    exit_code = Run(capture->common, ApiMethod::post,
                    "/v1/payments/" + Escaped(capture->payment) + "/capture", body, PaymentLines);
  });

  auto cancel = std::make_shared<ActionOptions>();
  c = payments.add_subcommand("cancel",
                              "Cancel a payment that is not captured; its holds are voided.\n"
                              "Example: tpwallet payments cancel pay_12 --reason duplicate");
  c->add_option("PAYMENT", cancel->payment, "The payment id (pay_N)")->required();
  c->add_option("--reason", cancel->reason,
                "requested_by_customer (default), duplicate, fraudulent or abandoned");
  AddCommonOptions(*c, cancel->common, ServerUse::writes);
  c->callback([cancel, &exit_code] {
    bj::object body;
    PutText(body, "cancellation_reason", cancel->reason);
    exit_code = Run(cancel->common, ApiMethod::post,
                    "/v1/payments/" + Escaped(cancel->payment) + "/cancel", body, PaymentLines);
  });

  auto refund = std::make_shared<ActionOptions>();
  c = payments.add_subcommand(
      "refund",
      "Refund a succeeded payment, all that is left or --amount (repeatable).\n"
      "Example: tpwallet payments refund pay_12 --amount 3.00 --reverse-splits");
  c->add_option("PAYMENT", refund->payment, "The payment id (pay_N)")->required();
  AddAmountOptions(*c, refund->amount, "Refund this much (default: all that is left)");
  c->add_flag("--reverse-splits", refund->reverse_splits,
              "Pull the split recipients' shares back in proportion");
  c->add_flag("--refund-fee", refund->refund_fee, "Pull the platform fee back in proportion");
  AddCommonOptions(*c, refund->common, ServerUse::writes);
  c->callback([refund, &exit_code] {
    bj::object body;
    refund->amount.Put(body, "amount");
    PutFlag(body, "reverse_splits", refund->reverse_splits);
    PutFlag(body, "refund_fee", refund->refund_fee);
    exit_code = Run(refund->common, ApiMethod::post,
                    "/v1/payments/" + Escaped(refund->payment) + "/refunds", body, RefundLines);
  });

  auto show = std::make_shared<ActionOptions>();
  c = payments.add_subcommand(
      "show", "Show a payment (or its refunds).\nExample: tpwallet payments show pay_12 --json");
  c->add_option("PAYMENT", show->payment, "The payment id (pay_N)")->required();
  c->add_flag("--refunds", show->refunds, "List the payment's refunds instead");
  AddCommonOptions(*c, show->common, ServerUse::reads);
  c->callback([show, &exit_code] {
    const std::string target = "/v1/payments/" + Escaped(show->payment);
    exit_code = show->refunds
                    ? Run(show->common, ApiMethod::get, target + "/refunds", {}, RefundLines, true)
                    : Run(show->common, ApiMethod::get, target, {}, PaymentLines);
  });
}

struct ListOptions {
  CommonOptions common;
  std::string customer, merchant, status, limit, starting_after;
};

int RunList(const ListOptions& o) {
  std::string query;
  const auto put = [&query](std::string_view key, const std::string& value) {
    if (!value.empty())
      query += (query.empty() ? "?" : "&") + std::string(key) + "=" + Escaped(value);
  };
  put("customer", o.customer);
  put("merchant_account_id", o.merchant);
  put("status", o.status);
  put("limit", o.limit);
  put("starting_after", o.starting_after);
  return Run(o.common, ApiMethod::get, "/v1/payments" + query, {}, PaymentLines, true);
}

void RegisterPayments(CLI::App& app, int& exit_code) {
  CLI::App* payments = app.add_subcommand(
      "payments",
      "Online payments (docs/api.md, \"Payments\"): create, confirm, capture, cancel, refund,\n"
      "show, list - on --data-dir, or on a running server with --server.\n"
      "Example: tpwallet payments create --amount 12.34 --asset USD --merchant 200 --customer 7 "
      "--confirm");
  payments->require_subcommand(1);
  auto create = std::make_shared<CreateOptions>();
  CLI::App* c = payments->add_subcommand(
      "create",
      "Create a payment (requires_confirmation); with --confirm, confirm it at once.\n"
      "Examples:\n"
      "  tpwallet payments create --amount 12.34 --asset USD --merchant 200 --customer 7\n"
      "  tpwallet payments create --amount 50 --asset USD --merchant 200 --customer 7 \\\n"
      "      --capture-method manual --split 201=250bp --platform-fee 203=1.00 --confirm");
  AddAmountOptions(*c, create->amount, "The amount");
  c->add_option("--asset", create->asset, "Asset code (USD) or ledger number")->required();
  c->add_option("--merchant", create->merchant, "The merchant's account id")->required();
  c->add_option("--customer", create->customer, "The customer id (tpwallet customers set)")
      ->required();
  c->add_option("--capture-method", create->capture_method, "automatic (default) or manual");
  c->add_option("--description", create->description, "Free text");
  c->add_option("--metadata", create->metadata, "KEY=VALUE (repeatable)");
  c->add_option("--split", create->splits,
                "ACCOUNT=AMOUNT or ACCOUNT=Nbp, paid at capture (repeatable)");
  c->add_option("--platform-fee", create->platform_fee, "ACCOUNT=AMOUNT or ACCOUNT=Nbp");
  c->add_option("--scenario", create->scenario,
                "A tag such as transit: sources tagged with it are preferred");
  c->add_option("--coupon", create->coupon, "A coupon code to apply");
  c->add_flag("--use-points", create->use_points, "Pay part with loyalty points first");
  c->add_option("--hold-timeout", create->hold_timeout,
                "Seconds an uncaptured hold lives (default 7 days)");
  c->add_flag("--confirm", create->confirm, "Confirm at once (the confirm options below apply)");
  AddConfirmOptions(*c, create->confirm_options);
  AddCommonOptions(*c, create->common, ServerUse::writes);
  c->callback([create, &exit_code] { exit_code = RunCreate(*create); });

  RegisterPaymentActions(*payments, exit_code);

  auto list = std::make_shared<ListOptions>();
  c = payments->add_subcommand(
      "list",
      "List payments, oldest first, a page at a time.\n"
      "Example: tpwallet payments list --customer 7 --status requires_capture --limit 20");
  c->add_option("--customer", list->customer, "Only this customer's");
  c->add_option("--merchant", list->merchant, "Only payments to this merchant account");
  c->add_option("--status", list->status,
                "requires_confirmation, requires_action, requires_capture, succeeded or canceled");
  c->add_option("--limit", list->limit, "Payments a page, 1..100 (default 10)");
  c->add_option("--starting-after", list->starting_after, "The last id of the previous page");
  AddCommonOptions(*c, list->common, ServerUse::reads);
  c->callback([list, &exit_code] { exit_code = RunList(*list); });
}

// ---- customers, coupons -----------------------------------------------------------------------

// ACCOUNT:ASSET[:KIND[:PRIORITY[:TAG+TAG]]] → a funding source object.
InputResult<bj::object> Source(const std::string& spec) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t colon; (colon = spec.find(':', start)) != std::string::npos; start = colon + 1) {
    parts.push_back(spec.substr(start, colon - start));
  }
  parts.push_back(spec.substr(start));
  if (parts.size() < 2 || parts.size() > 5) {
    return InputFail("--source \"" + spec + "\" is not ACCOUNT:ASSET[:KIND[:PRIORITY[:TAG+TAG]]]");
  }
  bj::object source{{"account_id", parts[0]}, {"asset", parts[1]}};
  if (parts.size() > 2 && !parts[2].empty()) source["kind"] = parts[2];
  if (parts.size() > 3 && !parts[3].empty()) source["priority"] = parts[3];
  if (parts.size() > 4) {
    bj::array tags;
    size_t from = 0;
    for (size_t plus; (plus = parts[4].find('+', from)) != std::string::npos; from = plus + 1) {
      tags.push_back(bj::string(parts[4].substr(from, plus - from)));
    }
    tags.push_back(bj::string(parts[4].substr(from)));
    source["tags"] = std::move(tags);
  }
  return source;
}

struct CustomerOptions {
  CommonOptions common;
  std::string id;
  std::vector<std::string> sources;
};

void RegisterCustomers(CLI::App& app, int& exit_code) {
  CLI::App* customers = app.add_subcommand(
      "customers",
      "A customer's funding sources and preferences (admin).\n"
      "Example: tpwallet customers set 7 --source 100:USD --source 102:USD:transit:0:transit");
  customers->require_subcommand(1);
  auto set = std::make_shared<CustomerOptions>();
  CLI::App* c = customers->add_subcommand(
      "set",
      "Create or replace customer ID with its funding sources, most preferred first by\n"
      "priority (lower first); tags prefer a source in those scenarios (a transit purse is\n"
      "spent only in them). KIND: balance (default), transit, points.\n"
      "Example: tpwallet customers set 7 --source 100:USD:balance:1 --source "
      "102:USD:transit:0:transit \\\n"
      "    --source 101:EUR:balance:2 --source 103:PTS:points");
  c->add_option("ID", set->id, "The customer id")->required();
  c->add_option("--source", set->sources, "ACCOUNT:ASSET[:KIND[:PRIORITY[:TAG+TAG]]] (repeatable)")
      ->required();
  AddCommonOptions(*c, set->common, ServerUse::reads);
  c->callback([set, &exit_code] {
    bj::array sources;
    for (const std::string& spec : set->sources) {
      InputResult<bj::object> source = Source(spec);
      if (!source.ok()) return void(exit_code = BadInput(set->common, source.error()));
      sources.push_back(std::move(source).value());
    }
    exit_code = Run(set->common, ApiMethod::put, "/v1/customers/" + Escaped(set->id),
                    bj::object{{"sources", std::move(sources)}}, CustomerLines);
  });
  auto show = std::make_shared<CustomerOptions>();
  c = customers->add_subcommand("show", "Show a customer.\nExample: tpwallet customers show 7");
  c->add_option("ID", show->id, "The customer id")->required();
  AddCommonOptions(*c, show->common, ServerUse::reads);
  c->callback([show, &exit_code] {
    exit_code =
        Run(show->common, ApiMethod::get, "/v1/customers/" + Escaped(show->id), {}, CustomerLines);
  });
}

struct CouponOptions {
  CommonOptions common;
  std::string code, asset, percent_off_bps, expires_at, merchant;
  AmountOption amount_off, min_spend;
  bool single_use = false;
};

void RegisterCoupons(CLI::App& app, int& exit_code) {
  CLI::App* coupons =
      app.add_subcommand("coupons",
                         "Merchant-funded coupons, fixed or percentage.\n"
                         "Example: tpwallet coupons create WELCOME5 --amount-off 5.00 --asset USD");
  coupons->require_subcommand(1);
  auto create = std::make_shared<CouponOptions>();
  CLI::App* c = coupons->add_subcommand(
      "create",
      "Create coupon CODE: --amount-off (with --asset) or --percent-off-bps.\n"
      "Examples:\n"
      "  tpwallet coupons create WELCOME5 --amount-off 5.00 --asset USD --min-spend 20.00 "
      "--single-use\n"
      "  tpwallet coupons create TENOFF --percent-off-bps 1000 --expires-at 2030-01-01T00:00:00Z");
  c->add_option("CODE", create->code, "1..32 of A-Z a-z 0-9 _ . -")->required();
  auto* off = c->add_option("--amount-off", create->amount_off.decimal,
                            "Fixed discount, decimal in --asset");
  auto* off_minor = c->add_option("--amount-off-minor", create->amount_off.minor,
                                  "Fixed discount in minor units");
  off->excludes(off_minor);
  c->add_option("--percent-off-bps", create->percent_off_bps,
                "Percentage discount in basis points (1..10000)");
  c->add_option("--asset", create->asset,
                "Asset of a fixed coupon (for a percent one: limits it to it)");
  c->add_option("--min-spend", create->min_spend.decimal, "Smallest payment amount it applies to");
  c->add_option("--expires-at", create->expires_at, "RFC 3339 UTC time it stops being usable");
  c->add_flag("--single-use", create->single_use, "Usable by one payment only");
  c->add_option("--merchant", create->merchant, "Only at this merchant account");
  AddCommonOptions(*c, create->common, ServerUse::writes);
  c->callback([create, &exit_code] {
    bj::object body{{"code", create->code}};
    create->amount_off.Put(body, "amount_off");
    PutText(body, "percent_off_bps", create->percent_off_bps);
    PutText(body, "asset", create->asset);
    create->min_spend.Put(body, "min_spend");
    PutText(body, "expires_at", create->expires_at);
    PutFlag(body, "single_use", create->single_use);
    PutText(body, "merchant_account_id", create->merchant);
    exit_code = Run(create->common, ApiMethod::post, "/v1/coupons", body, CouponLines);
  });
  auto show = std::make_shared<CouponOptions>();
  c = coupons->add_subcommand(
      "show",
      "Show a coupon and its redemptions (codes are per merchant: --merchant names whose).\n"
      "Example: tpwallet coupons show WELCOME5 --merchant 200");
  c->add_option("CODE", show->code, "The coupon code")->required();
  c->add_option("--merchant", show->merchant,
                "The merchant account whose payments would get it (its own code, else the "
                "platform's); needed when several merchants have the code");
  AddCommonOptions(*c, show->common, ServerUse::reads);
  c->callback([show, &exit_code] {
    std::string path = "/v1/coupons/" + Escaped(show->code);
    if (!show->merchant.empty()) path += "?merchant_account_id=" + Escaped(show->merchant);
    exit_code = Run(show->common, ApiMethod::get, path, {}, CouponLines);
  });
}

// ---- fx, points
// ----------------------------------------------------------------------------------

struct FxOptions {
  CommonOptions common;
  std::vector<std::string> rates;
  std::string source, as_of, from, to, ttl_seconds, max_slippage_bps, asset, account;
};

// FROM:TO:RATE → a rate row with the command's source and time.
InputResult<bj::object> RateRow(const std::string& spec, const FxOptions& o) {
  const size_t first = spec.find(':');
  const size_t second = first == std::string::npos ? first : spec.find(':', first + 1);
  if (second == std::string::npos || spec.find(':', second + 1) != std::string::npos) {
    return InputFail("--rate \"" + spec + "\" is not FROM:TO:RATE (e.g. EUR:USD:1.0843)");
  }
  return bj::object{{"from_asset", spec.substr(0, first)},
                    {"to_asset", spec.substr(first + 1, second - first - 1)},
                    {"rate", spec.substr(second + 1)},
                    {"source", o.source},
                    {"as_of", o.as_of}};
}

void RegisterFxRates(CLI::App& fx, int& exit_code) {
  CLI::App* rates =
      fx.add_subcommand("rates",
                        "The FX rates table (each direction its own row).\n"
                        "Example: tpwallet fx rates set --rate EUR:USD:1.0843 --source ecb");
  rates->require_subcommand(1);
  auto set = std::make_shared<FxOptions>();
  CLI::App* c = rates->add_subcommand(
      "set",
      "Put rows of the rates table (admin); each replaces its pair. RATE is units of TO per\n"
      "unit of FROM, an exact decimal (at most 18 fraction digits).\n"
      "Example: tpwallet fx rates set --rate USD:EUR:0.9214 --rate EUR:USD:1.0843 --source ecb \\\n"
      "    --as-of 2024-05-29T16:00:00Z");
  c->add_option("--rate", set->rates, "FROM:TO:RATE (repeatable, up to 256)")->required();
  c->add_option("--source", set->source, "Who published the rates (ecb, desk, ...)")->required();
  c->add_option("--as-of", set->as_of, "When they were published: RFC 3339 UTC (default: now)");
  AddCommonOptions(*c, set->common, ServerUse::reads);
  c->callback([set, &exit_code] {
    FxOptions o = *set;
    if (o.as_of.empty())
      o.as_of = FormatTimeUtc(
          Timestamp{static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count())});
    bj::array rows;
    for (const std::string& spec : o.rates) {
      InputResult<bj::object> row = RateRow(spec, o);
      if (!row.ok()) return void(exit_code = BadInput(o.common, row.error()));
      rows.push_back(std::move(row).value());
    }
    exit_code = Run(o.common, ApiMethod::put, "/v1/fx/rates",
                    bj::object{{"rates", std::move(rows)}}, RateLines, true);
  });
  auto show = std::make_shared<FxOptions>();
  c = rates->add_subcommand("show",
                            "Show the rates table.\nExample: tpwallet fx rates show --json");
  AddCommonOptions(*c, show->common, ServerUse::reads);
  c->callback([show, &exit_code] {
    exit_code = Run(show->common, ApiMethod::get, "/v1/fx/rates", {}, RateLines, true);
  });
}

void RegisterFx(CLI::App& app, int& exit_code) {
  CLI::App* fx =
      app.add_subcommand("fx",
                         "FX for cross-asset payments: rates, quotes, liquidity accounts.\n"
                         "Example: tpwallet fx quote USD EUR --ttl-seconds 60");
  fx->require_subcommand(1);
  RegisterFxRates(*fx, exit_code);
  auto quote = std::make_shared<FxOptions>();
  CLI::App* c = fx->add_subcommand(
      "quote",
      "Quote the current FROM -> TO rate, promised until it expires; give its id to\n"
      "`payments confirm --quote`.\n"
      "Example: tpwallet fx quote USD EUR --ttl-seconds 300 --max-slippage-bps 50");
  c->add_option("FROM", quote->from, "The payment's asset")->required();
  c->add_option("TO", quote->to, "The funding source's asset")->required();
  c->add_option("--ttl-seconds", quote->ttl_seconds,
                "How long the quote holds, 1..86400 (default 300)");
  c->add_option("--max-slippage-bps", quote->max_slippage_bps,
                "How far the table may move before the quote is refused (default 0)");
  AddCommonOptions(*c, quote->common, ServerUse::writes);
  c->callback([quote, &exit_code] {
    bj::object body{{"from_asset", quote->from}, {"to_asset", quote->to}};
    PutText(body, "ttl_seconds", quote->ttl_seconds);
    PutText(body, "max_slippage_bps", quote->max_slippage_bps);
    exit_code = Run(quote->common, ApiMethod::post, "/v1/fx/quotes", body, QuoteLines);
  });
  CLI::App* account = fx->add_subcommand("account", "FX liquidity accounts.");
  account->require_subcommand(1);
  auto set = std::make_shared<FxOptions>();
  c = account->add_subcommand("set",
                              "Make ACCOUNT the FX desk's liquidity account in ASSET (admin).\n"
                              "Example: tpwallet fx account set EUR 301");
  c->add_option("ASSET", set->asset, "Asset code or ledger number")->required();
  c->add_option("ACCOUNT", set->account, "The account id")->required();
  AddCommonOptions(*c, set->common, ServerUse::reads);
  c->callback([set, &exit_code] {
    exit_code = Run(set->common, ApiMethod::put, "/v1/fx/accounts/" + Escaped(set->asset),
                    bj::object{{"account_id", set->account}}, FxAccountLines);
  });
}

struct PointsOptions {
  CommonOptions common;
  std::string points_asset, money_asset, per_minor_unit, sink, funding;
};

void RegisterPoints(CLI::App& app, int& exit_code) {
  CLI::App* points = app.add_subcommand("points",
                                        "The loyalty points program.\n"
                                        "Example: tpwallet points program show");
  points->require_subcommand(1);
  CLI::App* program = points->add_subcommand("program", "Set or show the points program.");
  program->require_subcommand(1);
  auto set = std::make_shared<PointsOptions>();
  CLI::App* c = program->add_subcommand(
      "set",
      "Set the program (admin): N points of --points-asset are worth one minor unit of\n"
      "--money-asset; redeemed points go to --sink, their value is paid from --funding.\n"
      "Example: tpwallet points program set --points-asset PTS --money-asset USD \\\n"
      "    --points-per-minor-unit 10 --sink 400 --funding 401");
  c->add_option("--points-asset", set->points_asset, "The points asset (PTS)")->required();
  c->add_option("--money-asset", set->money_asset, "The asset points pay for (USD)")->required();
  c->add_option("--points-per-minor-unit", set->per_minor_unit, "1..1000000")->required();
  c->add_option("--sink", set->sink, "Account redeemed points go to")->required();
  c->add_option("--funding", set->funding, "Account that pays merchants for points")->required();
  AddCommonOptions(*c, set->common, ServerUse::reads);
  c->callback([set, &exit_code] {
    const bj::object body{{"points_asset", set->points_asset},
                          {"money_asset", set->money_asset},
                          {"points_per_minor_unit", set->per_minor_unit},
                          {"sink_account_id", set->sink},
                          {"funding_account_id", set->funding}};
    exit_code = Run(set->common, ApiMethod::put, "/v1/points/program", body, ProgramLines);
  });
  auto show = std::make_shared<PointsOptions>();
  c = program->add_subcommand("show",
                              "Show the program.\nExample: tpwallet points program show --json");
  AddCommonOptions(*c, show->common, ServerUse::reads);
  c->callback([show, &exit_code] {
    exit_code = Run(show->common, ApiMethod::get, "/v1/points/program", {}, ProgramLines);
  });
}

}  // namespace

void RegisterPaymentsCommands(CLI::App& app, int& exit_code) {
  RegisterPayments(app, exit_code);
  RegisterCustomers(app, exit_code);
  RegisterCoupons(app, exit_code);
  RegisterFx(app, exit_code);
  RegisterPoints(app, exit_code);
}

}  // namespace tpw::cli
