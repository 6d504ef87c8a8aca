// The transfer decoders (POST /v1/transfers and /v1/transfers/batch) against recorded outcomes:
// a deterministic corpus (valid single and batch bodies; every field missing, null, of each
// wrong type, empty, fractional, with an exponent, negative, too large; unknown and repeated
// keys; invalid UTF-8; deep nesting; every truncation and some byte substitutions of a few
// bodies; trailing garbage; batches of 0, 1, 8189 and 8190 transfers) is decoded, and each
// case's line (route, name, body and outcome: the error's status, type, code, param and message,
// or every field of every draft) is kept in testdata/transfers_body_outcomes.txt as its route,
// name and a 64-bit digest of the line. The lines were recorded with the value-tree decoder
// (commit "transfers body: record the decoder's outcomes"; the digests were taken from that
// file), so a change of acceptance or of any error text fails here and names the case.
//
// To see the lines themselves: TPW_TRANSFERS_BODY_DUMP=<file> writes one per case (diff two
// runs). To re-record after an intended change: TPW_TRANSFERS_BODY_RECORD=1.
#include <gtest/gtest.h>

#include <cstdlib>
#include <array>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "api/body.h"
#include "common/limits.h"

namespace tpw::api {
namespace {

const AssetTable kAssets = AssetTable::Default();

// ---- An outcome as one line -------------------------------------------------------------------

// Longest body or outcome written out in full; longer ones are written as their size and hash.
constexpr size_t kTextShownBytesMax = 600;

uint64_t Fnv1a(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// `text` on one line of printable ASCII (tabs, newlines, backslashes and other bytes as \xNN).
std::string Printable(std::string_view text) {
  if (text.size() > kTextShownBytesMax) {
    std::ostringstream out;
    out << "#bytes=" << text.size() << ",fnv=" << std::hex << Fnv1a(text);
    return out.str();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

std::string Dec(u128 value) { return U128ToDecimal(value); }

std::string DraftText(const cli::TransferDraft& d) {
  const ledger::Transfer& t = d.transfer;
  std::ostringstream out;
  out << "{line=" << d.line << ",id=" << Dec(t.id.value) << ",debit=" << Dec(t.debit_account_id.value)
      << ",credit=" << Dec(t.credit_account_id.value) << ",amount=" << Dec(t.amount.minor())
      << ",pending=" << Dec(t.pending_id.value) << ",ud128=" << Dec(t.user_data_128)
      << ",ud64=" << t.user_data_64 << ",ud32=" << t.user_data_32 << ",timeout=" << t.timeout
      << ",ledger=" << t.ledger << ",code=" << t.code << ",flags=" << t.flags
      << ",timestamp=" << t.timestamp.ns << ",amount_text=";
  if (d.amount) {
    out << (d.amount->minor_units ? "minor:" : "decimal:") << d.amount->text;
  } else {
    out << '-';
  }
  out << '}';
  return out.str();
}

std::string ErrorText(const ApiError& e) {
  std::ostringstream out;
  out << "error " << static_cast<unsigned>(e.status) << ' ' << e.type << ' ' << e.code
      << " param=" << e.param << " message=" << e.message;
  return out.str();
}

std::string Outcome(const ApiResult<cli::TransferDraft>& result) {
  if (!result.ok()) return ErrorText(result.error());
  return "ok " + DraftText(result.value());
}

std::string AccountText(const ledger::Account& a) {
  std::ostringstream out;
  out << "{id=" << Dec(a.id.value) << ",overdraft=" << Dec(a.overdraft_limit.minor())
      << ",ud128=" << Dec(a.user_data_128) << ",ud64=" << a.user_data_64
      << ",ud32=" << a.user_data_32 << ",ledger=" << a.ledger << ",code=" << a.code
      << ",flags=" << a.flags << ",timestamp=" << a.timestamp.ns << '}';
  return out.str();
}

std::string Outcome(const ApiResult<std::vector<ledger::Account>>& result) {
  if (!result.ok()) return ErrorText(result.error());
  std::string out = "ok n=" + std::to_string(result.value().size());
  for (const ledger::Account& a : result.value()) out += ' ' + AccountText(a);
  return out;
}

std::string Outcome(const ApiResult<std::vector<cli::TransferDraft>>& result) {
  if (!result.ok()) return ErrorText(result.error());
  std::string out = "ok n=" + std::to_string(result.value().size());
  for (const cli::TransferDraft& d : result.value()) out += ' ' + DraftText(d);
  return out;
}

// ---- The corpus -------------------------------------------------------------------------------

// POST /v1/accounts shares the batch shape and the field reader, so it rides along.
enum class Route { single, batch, accounts };

struct Case {
  std::string name;
  Route route;
  std::string body;
};

// A transfer as its members' JSON text, in order ("key" → value text); rendered as an object.
using Members = std::vector<std::pair<std::string, std::string>>;

std::string ObjectText(const Members& members) {
  std::string out = "{";
  for (const auto& [key, value] : members) {
    if (out.size() > 1) out += ',';
    out += '"' + key + "\":" + value;
  }
  return out + '}';
}

std::string BatchText(const std::vector<std::string>& transfers, std::string_view key = "transfers") {
  std::string out = "{\"" + std::string(key) + "\":[";
  for (size_t i = 0; i < transfers.size(); ++i) out += (i ? "," : "") + transfers[i];
  return out + "]}";
}

struct Seed {
  std::string name;
  Members members;
};

std::vector<Seed> Seeds() {
  return {
      {"full",
       {{"id", R"("1")"},
        {"debit_account_id", R"("2")"},
        {"credit_account_id", R"("3")"},
        {"amount", R"("12.34")"},
        {"ledger", R"("USD")"},
        {"code", "7"},
        {"flags", R"(["linked","pending"])"},
        {"timeout", "60"},
        {"user_data_128", R"("0xff")"},
        {"user_data_64", R"("5")"},
        {"user_data_32", "9"},
        {"timestamp", "0"}}},
      {"minor",
       {{"id", R"("0x10")"},
        {"debit_account_id", R"("2")"},
        {"credit_account_id", R"("3")"},
        {"amount_minor", R"("1234")"},
        {"ledger", "1"},
        {"code", R"("7")"}}},
      {"post", {{"id", R"("5")"}, {"pending_id", R"("4")"}, {"flags", R"(["post_pending_transfer"])"}}},
      {"void",
       {{"id", R"("6")"},
        {"pending_id", R"("4")"},
        {"amount", R"("1.5")"},
        {"flags", R"(["void_pending_transfer"])"}}},
  };
}

constexpr std::array<std::string_view, 15> kFields = {
    "id",           "debit_account_id", "credit_account_id", "amount",        "amount_minor",
    "pending_id",   "timeout",          "ledger",            "code",          "flags",
    "user_data_128", "user_data_64",    "user_data_32",      "timestamp",     "unknown_key"};

// What each field is set to in turn: every JSON type, and strings and numbers at and past the
// edges of what the fields take.
std::vector<std::string> Values() {
  return {
      "null", "true", "false", "0", "1", "-1", "1.5", "1e3", "1E2", "-0", "0.0",
      "65535", "65536", "4294967295", "4294967296", "18446744073709551615",
      "18446744073709551616", "340282366920938463463374607431768211456", "9223372036854775807",
      "-9223372036854775808", R"("")", R"(" ")", R"("0")", R"("1")", R"("-1")", R"("+1")",
      R"("1.5")", R"("1.")", R"(".5")", R"("12.345")", R"("1e3")", R"("0x")", R"("0x1F")",
      R"("0X1f")", R"("0xg")", R"("00012")", R"("abc")", R"("USD")", R"("EUR")", R"("JPY")",
      R"("XXX")", R"("usd")", R"("65536")", R"("4294967296")", R"("18446744073709551616")",
      R"("340282366920938463463374607431768211455")",
      R"("340282366920938463463374607431768211456")",
      R"("0xffffffffffffffffffffffffffffffff")", R"("0x1ffffffffffffffffffffffffffffffff")",
      '"' + std::string(200, '9') + '"', "[]", "{}", R"(["linked"])", R"(["linked","linked"])",
      R"(["nope"])", R"([1])", R"(["linked",null])", R"(["pending","post_pending_transfer"])",
      R"(["balancing_debit","balancing_credit","closing_debit","closing_credit"])",
      R"(["void_pending_transfer"])", R"([["linked"]])", R"({"a":1})", R"("\u0031")",
      "\"\xc3\xa9\"", R"("1\u0000")",
  };
}

// Each of `fields` missing, set to each of Values(), and repeated, in a single body and (unless
// the routes are the same) as the second item of a batch, after `valid_other`.
template <size_t N>
void AddFieldMutations(const Seed& seed, const std::array<std::string_view, N>& fields,
                       Route single, Route batch, const std::string& valid_other,
                       std::vector<Case>& cases) {
  const std::vector<std::string> values = Values();
  for (const std::string_view field : fields) {
    Members without;
    for (const auto& member : seed.members) {
      if (member.first != field) without.push_back(member);
    }
    const std::string base = seed.name + "." + std::string(field);
    if (without.size() != seed.members.size()) {
      cases.push_back({base + ".missing", single, ObjectText(without)});
      if (batch != single) {
        cases.push_back({base + ".missing", batch, BatchText({valid_other, ObjectText(without)})});
      }
    }
    for (size_t v = 0; v < values.size(); ++v) {
      Members set = without;
      set.emplace_back(std::string(field), values[v]);
      const std::string name = base + ".value" + std::to_string(v);
      cases.push_back({name, single, ObjectText(set)});
      if (batch != single) {
        cases.push_back({name, batch, BatchText({valid_other, ObjectText(set)})});
      }
    }
    if (without.size() != seed.members.size()) {
      Members repeated = seed.members;
      repeated.emplace_back(std::string(field), R"("1")");
      cases.push_back({base + ".repeated", single, ObjectText(repeated)});
      if (batch != single) cases.push_back({base + ".repeated", batch, BatchText({ObjectText(repeated)})});
    }
  }
}

void AddCuts(const std::string& name, Route route, const std::string& body,
             std::vector<Case>& cases) {
  for (size_t n = 0; n < body.size(); ++n) {
    cases.push_back({name + ".truncated" + std::to_string(n), route, body.substr(0, n)});
  }
}

void AddSubstitutions(const std::string& name, Route route, const std::string& body,
                      std::vector<Case>& cases) {
  constexpr std::string_view kSubstitutes = "\"},\xff";
  for (size_t s = 0; s < kSubstitutes.size(); ++s) {
    for (size_t i = 0; i < body.size(); ++i) {
      std::string replaced = body;
      replaced[i] = kSubstitutes[s];
      cases.push_back({name + ".replaced" + std::to_string(s) + "@" + std::to_string(i), route,
                       std::move(replaced)});
    }
  }
}

std::vector<std::string> HostileBodies() {
  const std::string head = R"({"id":"1","debit_account_id":"2","credit_account_id":"3",)";
  std::vector<std::string> out = {
      "", " ", "null", "[]", "\"x\"", "1", "true", "{}", "[{}]",
      head + R"("amount":"1","ledger":1,"code":1} )",
      head + R"("amount":"1","ledger":1,"code":1}{})",
      head + R"("amount":"1","ledger":1,"code":1} x)",
      head + R"("amount":"1","ledger":1,"code":1,})",
      head + R"("amount":"1","ledger":1 /* c */,"code":1})",
      head + R"("amount":"1","amount_minor":"100","ledger":1})",
      head + R"("amount":"1","ledger":1,"id":"2"})",
      head + R"("amount":"1","ledger":1,"transfers":[]})",
      head + "\"amount\":\"1\",\"ledger\":\"\xff\xfe\"}",
      head + "\"amount\":\"1\",\"ledger\":\"\xc3\"}",
      head + "\"amount\":\"1\",\"ledger\":\"\xed\xa0\x80\"}",
      head + "\"amount\":\"1\",\"\xc3\xa9\":1}",
      head + R"("amount":"1","ledger":"\ud800"})",
      head + R"("amount":"1","le\u0064ger":1})",
      head + R"("amount":"1","x":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":{"l":{"m":{"n":1}}}}}}}}}}}}}})",
      head + R"("amount":"1","x":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"j":{"k":{"l":{"m":{"n":{"o":{"p":1}}}}}}}}}}}}}}}})",
      head + R"("amount":"1",)" + "\"" + std::string(300, 'k') + "\":1}",
      head + R"("amount":")" + std::string(5000, '1') + "\"}",
      std::string(40, '[') + std::string(40, ']'),
      std::string(20, '{'),
      std::string(17, '[') + std::string(17, ']'),
      std::string(16, '[') + std::string(16, ']'),
  };
  std::string many_keys = head + R"("amount":"1")";
  for (int i = 0; i < 40; ++i) many_keys += ",\"k" + std::to_string(i) + "\":1";
  out.push_back(many_keys + "}");
  out.push_back(many_keys + ",\"k3\":2}");
  return out;
}

std::vector<std::string> BatchShapes() {
  const std::string t = R"({"id":"1","debit_account_id":"2","credit_account_id":"3","amount":"1","ledger":1,"code":1})";
  return {
      R"({"transfers":[]})",
      R"({"transfers":{}})",
      R"({"transfers":null})",
      R"({"transfers":"x"})",
      R"({"transfers":[1]})",
      R"({"transfers":[[]]})",
      R"({"transfers":[null]})",
      R"({"accounts":[)" + t + "]}",
      R"({"transfers":[)" + t + R"(],"x":1})",
      R"({"x":1,"transfers":[)" + t + "]}",
      R"({"transfers":[)" + t + R"(],"transfers":[]})",
      R"({"Transfers":[)" + t + "]}",
      "[" + t + "]",
      t,
      R"({"transfers":[)" + t + "," + t + "," + t + R"(,{"id":"4","code":1.5}]})",
      R"({"transfers":[)" + t + R"(,{"id":"4","id":"5"}]})",
      R"({"transfers":[)" + t + R"(,{"id":"4","unknown":1,"id":"5"}]})",
      R"({"transfers":[)" + t + R"(,{"flags":["linked","x"],"flags":[]}]})",
      R"({"transfers":[{"id":"1","flags":{"a":1,"a":2}}]})",
      R"({"transfers":[{"id":"1","flags":[{"a":1,"a":2}]}]})",
  };
}

// Batches of n transfers, each different (ids, amounts, flags) so a decoder that mixes up items
// shows.
std::string NumberedBatch(size_t n) {
  std::vector<std::string> transfers;
  transfers.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string k = std::to_string(i + 1);
    transfers.push_back(R"({"id":")" + k + R"(","debit_account_id":"2","credit_account_id":"3",)" +
                        (i % 2 ? R"("amount":")" + k + R"(.01","ledger":"USD")"
                               : R"("amount_minor":")" + k + R"(","ledger":)" + std::to_string(i % 5 + 1)) +
                        R"(,"code":)" + std::to_string(i % 65536) +
                        (i % 3 ? R"(,"flags":["linked"])" : "") + "}");
  }
  return BatchText(transfers);
}

constexpr std::array<std::string_view, 11> kAccountFields = {
    "id",           "ledger",       "code",         "flags",     "overdraft_limit",
    "overdraft_limit_minor", "user_data_128", "user_data_64", "user_data_32", "timestamp",
    "unknown_key"};

// Accounts: two seeds, and each field of the full one mutated, as the second account of a batch.
void AddAccounts(std::vector<Case>& cases) {
  const Seed full{"account_full",
                  {{"id", R"("1")"},
                   {"ledger", R"("USD")"},
                   {"code", "1"},
                   {"flags", R"(["debits_must_not_exceed_credits","history"])"},
                   {"overdraft_limit", R"("5.00")"},
                   {"user_data_128", R"("0x7")"},
                   {"user_data_64", "8"},
                   {"user_data_32", R"("9")"},
                   {"timestamp", R"("0")"}}};
  const Seed minor{"account_minor",
                   {{"id", R"("2")"}, {"ledger", "2"}, {"code", R"("3")"},
                    {"overdraft_limit_minor", R"("100")"}}};
  cases.push_back({"account_minor.seed", Route::accounts, BatchText({ObjectText(minor.members)}, "accounts")});
  cases.push_back({"account_full.seed", Route::accounts, BatchText({ObjectText(full.members)}, "accounts")});
  std::vector<Case> mutated;
  AddFieldMutations(full, kAccountFields, Route::accounts, Route::accounts, "", mutated);
  for (Case& c : mutated) {
    c.body = BatchText({ObjectText(minor.members), c.body}, "accounts");
    cases.push_back(std::move(c));
  }
  for (const std::string& shape : BatchShapes()) cases.push_back({"account_shape", Route::accounts, shape});
}

std::vector<Case> Corpus() {
  std::vector<Case> cases;
  const std::vector<Seed> seeds = Seeds();
  for (const Seed& seed : seeds) {
    const std::string body = ObjectText(seed.members);
    cases.push_back({seed.name + ".seed", Route::single, body});
    cases.push_back({seed.name + ".seed", Route::batch, BatchText({body})});
  }
  // Every field of a full transfer and of a post: in a single body and in a batch.
  const std::string other = ObjectText(seeds[1].members);
  AddFieldMutations(seeds[0], kFields, Route::single, Route::batch, other, cases);
  AddFieldMutations(seeds[2], kFields, Route::single, Route::batch, other, cases);
  AddAccounts(cases);
  const std::string full = ObjectText(Seeds()[0].members);
  AddCuts("full", Route::single, full, cases);
  AddSubstitutions("full", Route::single, full, cases);
  AddCuts("pair", Route::batch,
                          BatchText({ObjectText(Seeds()[2].members), ObjectText(Seeds()[1].members)}),
                          cases);
  const std::vector<std::string> hostile = HostileBodies();
  for (size_t i = 0; i < hostile.size(); ++i) {
    cases.push_back({"hostile" + std::to_string(i), Route::single, hostile[i]});
    cases.push_back({"hostile" + std::to_string(i), Route::batch, hostile[i]});
    cases.push_back({"hostile_in_batch" + std::to_string(i), Route::batch, BatchText({hostile[i]})});
  }
  const std::vector<std::string> shapes = BatchShapes();
  for (size_t i = 0; i < shapes.size(); ++i) {
    cases.push_back({"shape" + std::to_string(i), Route::batch, shapes[i]});
    cases.push_back({"shape" + std::to_string(i), Route::single, shapes[i]});
  }
  for (const size_t n : {size_t{0}, size_t{1}, size_t{8}, kBatchEventsMax, kBatchEventsMax + 1}) {
    cases.push_back({"batch_of_" + std::to_string(n), Route::batch, NumberedBatch(n)});
  }
  return cases;
}

std::string RouteName(Route route) {
  switch (route) {
    case Route::single: return "single";
    case Route::batch: return "batch";
    case Route::accounts: return "accounts";
  }
  return "?";
}

std::string DecodeOutcome(const Case& c) {
  switch (c.route) {
    case Route::single: return Outcome(DecodeTransferBody(c.body, kAssets));
    case Route::batch: return Outcome(DecodeTransfersBatchBody(c.body, kAssets));
    case Route::accounts: return Outcome(DecodeAccountsBody(c.body, kAssets));
  }
  return "?";
}

std::string CaseLine(const Case& c) {
  const std::string outcome = DecodeOutcome(c);
  return RouteName(c.route) + '\t' + c.name + '\t' + Printable(c.body) + '\t' + Printable(outcome);
}

std::string OutcomesPath() { return TPW_TRANSFERS_BODY_OUTCOMES; }

// What the outcomes file keeps of a case: its route and name (to name a failure) and the digest
// of its whole line.
std::string RecordedForm(const Case& c, const std::string& line) {
  std::ostringstream text;
  text << RouteName(c.route) << '\t' << c.name << '\t' << std::hex << Fnv1a(line);
  return text.str();
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path);
  for (const std::string& line : lines) out << line << '\n';
}

TEST(TransfersBodyCorpusTest, EveryOutcomeMatchesTheRecordedDecoder) {
  const std::vector<Case> cases = Corpus();
  std::vector<std::string> lines, digests;
  lines.reserve(cases.size());
  digests.reserve(cases.size());
  for (const Case& c : cases) {
    lines.push_back(CaseLine(c));
    digests.push_back(RecordedForm(c, lines.back()));
  }
  if (const char* dump = std::getenv("TPW_TRANSFERS_BODY_DUMP"); dump != nullptr) {
    WriteLines(dump, lines);
  }
  if (std::getenv("TPW_TRANSFERS_BODY_RECORD") != nullptr) {
    WriteLines(OutcomesPath(), digests);
    GTEST_SKIP() << "recorded " << digests.size() << " cases to " << OutcomesPath();
  }
  const std::vector<std::string> recorded = ReadLines(OutcomesPath());
  ASSERT_EQ(recorded.size(), digests.size()) << "cannot read " << OutcomesPath();
  size_t differences = 0;
  for (size_t i = 0; i < digests.size() && differences < 20; ++i) {
    if (digests[i] == recorded[i]) continue;
    ++differences;
    ADD_FAILURE() << "case " << i << " differs from the recorded decoder's outcome\n  recorded: "
                  << recorded[i] << "\n  now:      " << lines[i]
                  << "\n  (TPW_TRANSFERS_BODY_DUMP=file writes every case's line)";
  }
  EXPECT_GT(cases.size(), 3000u);
}

// Not a test: the decode of 20,000 single-transfer bodies, for callgrind (docs/benchmarks.md):
//   valgrind --tool=callgrind --toggle-collect='*DecodeTransferBody*'
//     build/src/api/transfers_body_test --gtest_also_run_disabled_tests
//     --gtest_filter='*DISABLED_DecodeSingleTransfers*'
TEST(TransfersBodyCorpusTest, DISABLED_DecodeSingleTransfers) {
  const std::string body = ObjectText(Seeds()[0].members);
  size_t accepted = 0;
  for (size_t i = 0; i < 20000; ++i) {
    if (DecodeTransferBody(body, kAssets).ok()) ++accepted;
  }
  EXPECT_EQ(accepted, 20000u);
}

}  // namespace
}  // namespace tpw::api
