// The API's request decoders (src/api/body.h, src/api/offline_body.h, src/api/risk_body.h,
// src/api/webhook_body.h) and the event-stream client's decoders (src/api/sse.h): byte 0 picks
// the decoder,
// the rest is the body, path id or query string. Any input must give a value or a 4xx error with a
// code and a message, never a crash; a decoded batch holds 1..8189 events.
#include <algorithm>
#include <string>

#include "api/body.h"
#include "api/offline_body.h"
#include "api/risk_body.h"
#include "api/router.h"
#include "api/sse.h"
#include "api/webhook_body.h"
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

// Feeds `text` to a chunk decoder and an SSE parser whole and in two pieces split at `at`: the
// same events, comments and state either way (the decoders keep their state across pieces).
void FuzzStreamDecoders(std::string_view text, size_t at) {
  ChunkedDecoder whole_chunks;
  ChunkedDecoder split_chunks;
  std::string whole;
  std::string split;
  const bool whole_ok = whole_chunks.Feed(text, whole);
  at = std::min(at, text.size());
  const bool split_ok = split_chunks.Feed(text.substr(0, at), split) && split_chunks.Feed(text.substr(at), split);
  FUZZ_CHECK(whole_ok == split_ok && whole_chunks.done() == split_chunks.done());
  if (whole_ok) FUZZ_CHECK(whole == split);
  SseParser whole_parser;
  SseParser split_parser;
  std::vector<SseEvent> whole_events;
  std::vector<SseEvent> split_events;
  std::vector<std::string> whole_comments;
  std::vector<std::string> split_comments;
  whole_parser.Feed(text, whole_events, whole_comments);
  split_parser.Feed(text.substr(0, at), split_events, split_comments);
  split_parser.Feed(text.substr(at), split_events, split_comments);
  FUZZ_CHECK(whole_events.size() == split_events.size() && whole_comments == split_comments);
  for (size_t i = 0; i < whole_events.size(); ++i) {
    FUZZ_CHECK(whole_events[i].id == split_events[i].id && whole_events[i].data == split_events[i].data &&
               whole_events[i].event == split_events[i].event);
  }
}

// The webhook and event decoders (webhook_body.h) and the stream decoders, cases 20..25.
void FuzzWebhookDecoders(uint8_t which, std::string_view text) {
  switch (which) {
    case 20: {
      const auto endpoint = DecodeEndpointCreateBody(text);
      CheckError(endpoint);
      if (endpoint.ok()) FUZZ_CHECK(ParseWebhookUrl(endpoint.value().url).ok() && !endpoint.value().filter.empty());
      break;
    }
    case 21: {
      const auto update = DecodeEndpointUpdateBody(text);
      CheckError(update);
      if (update.ok()) FUZZ_CHECK(update.value().fields != 0);
      break;
    }
    case 22: {
      CheckError(DecodeResendBody(text));
      const auto test = DecodeTestEventsBody(text);
      CheckError(test);
      if (test.ok()) FUZZ_CHECK(test.value().count >= 1 && engine::ValidTestEventType(test.value().type));
      break;
    }
    case 23: {
      const auto events = DecodeEventsQuery(text);
      CheckError(events);
      if (events.ok()) FUZZ_CHECK(events.value().limit >= 1 && events.value().limit <= 1000);
      CheckError(DecodeDeliveriesQuery(text));
      break;
    }
    case 24: {
      const auto url = ParseWebhookUrl(text);
      CheckError(url);
      if (url.ok()) FUZZ_CHECK(url.value().port != 0 && url.value().target.starts_with('/'));
      CheckError(DecodeEndpointPathId(text));
      CheckError(DecodeEventPathId(text));
      if (const auto id = ParseEventId(text)) FUZZ_CHECK(ParseEventId(EventIdText(*id)) == id);
      (void)VerifySignatureHeader(text, "whsec_x", "{}", 1000, 300);
      break;
    }
    default:
      // The first byte is where to split the rest.
      if (!text.empty()) FuzzStreamDecoders(text.substr(1), static_cast<uint8_t>(text[0]));
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view text = tpw::fuzz::AsText(std::span(data + 1, size - 1));
  switch (data[0] % 26) {
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
    case 4: {
      CheckError(DecodePathId(text));
      const auto ids = DecodeLookupIds(text);
      CheckError(ids);
      if (ids.ok()) {
        std::vector<tpw::u128> sorted = ids.value();
        std::sort(sorted.begin(), sorted.end());
        FUZZ_CHECK(!sorted.empty() && sorted.size() <= kLookupIdsPerRequestMax &&
                   std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
      }
      break;
    }
    case 5: {
      const RouteMatch m = MatchRoute(http::verb::get, text);
      FUZZ_CHECK(!(m.method_not_allowed && m.route != Route::unmatched));
      break;
    }
    default:
      if (data[0] % 26 >= 20) {
        FuzzWebhookDecoders(static_cast<uint8_t>(data[0] % 26), text);
      } else if (data[0] % 26 >= 16) {
        FuzzRiskDecoders(static_cast<uint8_t>(data[0] % 26), text);
      } else {
        FuzzOfflineDecoders(static_cast<uint8_t>(data[0] % 26), text);
      }
      break;
  }
  return 0;
}
