// The API's request decoders (src/api/body.h, src/api/offline_body.h, src/api/risk_body.h):
// byte 0 picks the decoder,
// the rest is the body, path id or query string. Any input must give a value or a 4xx error with a
// code and a message, never a crash; a decoded batch holds 1..8189 events.
#include <string>

#include "api/body.h"
#include "api/offline_body.h"
#include "api/risk_body.h"
#include "api/router.h"
#include "fuzz_check.h"

namespace {

using namespace tpw;
using namespace tpw::api;

const AssetTable& Assets() {
  static const AssetTable assets = AssetTable::Default();
  return assets;
}

template <typename T>
void CheckError(const ApiResult<T>& result) {
  if (result.ok()) return;
  FUZZ_CHECK(!result.error().code.empty() && !result.error().message.empty());
  FUZZ_CHECK(static_cast<unsigned>(result.error().status) / 100 == 4);
}

// The offline-payment and API-key decoders (offline_body.h), cases 6..15.
void FuzzOfflineDecoders(uint8_t which, std::string_view text) {
  switch (which) {
    case 6:
      CheckError(DecodeEnrollBody(text, Assets()));
      break;
    case 7: {
      const auto sync = DecodeSyncBody(text, 7);
      CheckError(sync);
      if (sync.ok()) FUZZ_CHECK(sync.value().command.device_id == 7);
      break;
    }
    case 8:
      CheckError(DecodeTerminalBody(text));
      break;
    case 9:
      CheckError(DecodeResolveBody(text, 1));
      break;
    case 10:
    case 11: {
      const auto batch = DecodeBatchUpload(text, which == 10);
      CheckError(batch);
      if (batch.ok()) FUZZ_CHECK(batch.value().size() <= kBatchMessageBytesMax);
      break;
    }
    case 12: {
      const auto query = DecodeExceptionsQuery(text);
      CheckError(query);
      if (query.ok())
        FUZZ_CHECK(query.value().limit >= 1 && query.value().limit <= kExceptionsPageMax);
      break;
    }
    case 13:
      CheckError(DecodeDenyListQuery(text));
      break;
    case 14:
      CheckError(DecodeApiKeyBody(text));
      break;
    default:
      CheckError(DecodeKeyId(text));
      CheckError(DecodeExceptionId(text));
      CheckError(DecodeEmptyBody(text));
      break;
  }
}

// The risk decoders (risk_body.h), cases 16..19.
void FuzzRiskDecoders(uint8_t which, std::string_view text) {
  switch (which) {
    case 16:
      CheckError(DecodeRiskEventBody(text));
      break;
    case 17: {
      const auto toml = DecodeRiskRulesBody("application/toml", text);
      CheckError(toml);
      if (toml.ok()) FUZZ_CHECK(toml.value() == text);
      CheckError(DecodeRiskRulesBody("application/json", text));
      break;
    }
    case 18:
      CheckError(DecodeRiskListItemBody(text));
      break;
    default: {
      CheckError(DecodeRiskListName(text));
      const auto item = DecodeRiskListItemPath(text);
      CheckError(item);
      if (item.ok()) FUZZ_CHECK(!item.value().second.empty());
      const RouteMatch m = MatchRoute(http::verb::delete_, text);
      FUZZ_CHECK(!(m.method_not_allowed && m.route != Route::unmatched));
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view text = tpw::fuzz::AsText(std::span(data + 1, size - 1));
  switch (data[0] % 20) {
    case 0: {
      const auto accounts = DecodeAccountsBody(text, Assets());
      CheckError(accounts);
      if (accounts.ok()) FUZZ_CHECK(!accounts.value().empty() && accounts.value().size() <= 8189);
      break;
    }
    case 1:
      CheckError(DecodeTransferBody(text, Assets()));
      break;
    case 2: {
      const auto drafts = DecodeTransfersBatchBody(text, Assets());
      CheckError(drafts);
      if (drafts.ok()) FUZZ_CHECK(!drafts.value().empty() && drafts.value().size() <= 8189);
      break;
    }
    case 3:
      CheckError(DecodeAccountQuery("1", text, true));
      break;
    case 4:
      CheckError(DecodePathId(text));
      break;
    case 5: {
      const RouteMatch m = MatchRoute(http::verb::get, text);
      FUZZ_CHECK(!(m.method_not_allowed && m.route != Route::unmatched));
      break;
    }
    default:
      if (data[0] % 20 >= 16) {
        FuzzRiskDecoders(static_cast<uint8_t>(data[0] % 20), text);
      } else {
        FuzzOfflineDecoders(static_cast<uint8_t>(data[0] % 20), text);
      }
      break;
  }
  return 0;
}
