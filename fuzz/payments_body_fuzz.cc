// The payment endpoints' decoders (src/api/payments_body.h) and renderers (payments_json.h):
// byte 0 picks the route (kPaymentsRoutes) and the split of the rest into path id, query
// and body. Any input must give a command or a 4xx error with a code, a message and (for a body)
// the field at fault, never a crash; the one-pass body parse must agree with the value-tree
// parse (acceptance, error, values). Byte 0 >= 128 feeds the rest to PaymentEventJson instead: an
// event that decodes must render as one JSON object; bytes that do not must render as "".
#include <boost/json/parse.hpp>
#include <string>

#include "api/payments_body.h"
#include "api/payments_json.h"
#include "api/router.h"
#include "fuzz_check.h"

namespace {

using namespace tpw;
using namespace tpw::api;

const AssetTable& Assets() {
  static const AssetTable assets = AssetTable::Default();
  return assets;
}

// The decoders read bodies in one pass (JsonTape); it must accept, refuse and read exactly what
// the value-tree parse does.
void CheckTapeAgreesWithValueTree(std::string_view body) {
  JsonTape tape;
  const std::optional<ApiError> tape_error = ParseJsonTape(body, tape);
  const ApiResult<boost::json::value> tree = ParseJsonBody(body);
  FUZZ_CHECK(!tape_error == tree.ok());
  if (tape_error) {
    FUZZ_CHECK(tape_error->code == tree.error().code && tape_error->param == tree.error().param &&
               tape_error->message == tree.error().message);
    return;
  }
  FUZZ_CHECK(SameJson(JsonRef(tape, 0), tree.value()));
}

void FuzzDecoder(uint8_t which, std::string_view text) {
  const Route route = kPaymentsRoutes[which % kPaymentsRoutes.size()];
  // The first line is the path id, the second the query, the rest the body.
  const size_t id_end = text.find('\n');
  const std::string_view id = text.substr(0, id_end);
  std::string_view rest =
      id_end == std::string_view::npos ? std::string_view{} : text.substr(id_end + 1);
  const size_t query_end = rest.find('\n');
  const std::string_view query = rest.substr(0, query_end);
  const std::string_view body =
      query_end == std::string_view::npos ? std::string_view{} : rest.substr(query_end + 1);
  CheckTapeAgreesWithValueTree(body);
  ApiResult<PaymentsCall> call = DecodePaymentsRequest(route, id, query, body, Assets());
  if (!call.ok()) {
    FUZZ_CHECK(!call.error().code.empty() && !call.error().message.empty());
    FUZZ_CHECK(static_cast<unsigned>(call.error().status) / 100 == 4);
    return;
  }
  if (call.value().amount_in_payment_asset) {
    const std::optional<ApiError> error = ResolvePaymentAmount(call.value(), 1, Assets());
    FUZZ_CHECK(!error || static_cast<unsigned>(error->status) == 400);
    if (!error) FUZZ_CHECK(!call.value().amount_in_payment_asset);
  }
  // A refusal of the decoded command renders as JSON with the code it maps to.
  payments::Reply refused;
  refused.error = payments::PaymentError::invalid_request;
  const HttpResponse response =
      PaymentsResponse(route, call.value().command.kind, refused, Assets());
  FUZZ_CHECK(response.result_int() == 400);
  boost::json::error_code ec;
  (void)boost::json::parse(response.body(), ec);
  FUZZ_CHECK(!ec);
}

void FuzzEventJson(std::span<const uint8_t> bytes) {
  const std::string json = PaymentEventJson(bytes);
  const bool decodes = payments::DecodeEvent(bytes).ok();
  if (!decodes) {
    FUZZ_CHECK(json.empty());
    return;
  }
  boost::json::error_code ec;
  const boost::json::value value = boost::json::parse(json, ec);
  // refund.created whose refund id is not among the payment's refunds renders as "".
  FUZZ_CHECK(json.empty() || (!ec && value.is_object()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::span<const uint8_t> rest(data + 1, size - 1);
  if (data[0] >= 128) {
    FuzzEventJson(rest);
  } else {
    FuzzDecoder(data[0], tpw::fuzz::AsText(rest));
  }
  return 0;
}
