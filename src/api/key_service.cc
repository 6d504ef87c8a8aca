// The API-key endpoints (docs/api.md, "API keys"): what `tpwallet apikey` does, while the server
// holds the data directory. The key text is made here and shown once, in the create response;
// the engine keeps only the hash of its secret.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/service.h"
#include "cli/key_values.h"
#include "common/assert.h"
#include "crypto/secure.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;
using engine::AccessError;

// Attempts at a fresh random id when the engine says it is taken (a 1-in-2^64 event per key;
// more than one in a row means the generator is broken).
constexpr int kCreateAttemptsMax = 3;

HttpResponse AccessRefusal(AccessError error, const std::string& detail = "") {
  const std::string code(engine::AccessErrorName(error));
  switch (error) {
    case AccessError::unknown_merchant_account:
      return ErrorResponse({http::status::bad_request, error_type::kInvalidRequest, code,
                            "merchant account " + detail +
                                " is not a ledger account; create the merchant's account first "
                                "(POST /v1/accounts) or correct the id",
                            "merchant_account_ids"});
    case AccessError::unknown_key:
      return ErrorResponse({http::status::not_found, error_type::kInvalidRequest, code,
                            "no API key has this id; GET /v1/api-keys lists them", "id"});
    case AccessError::already_revoked:
      return ErrorResponse({http::status::conflict, error_type::kInvalidRequest, code,
                            "this API key is already revoked", "id"});
    default:
      return ErrorResponse({http::status::internal_server_error, error_type::kInternal, code,
                            "the engine refused the key as invalid (a bug; please report it)", ""});
  }
}

}  // namespace

void Service::CallAccess(engine::AccessCommand command, const Responder& responder,
                         std::function<void(engine::AccessReply&)> on_reply) {
  engine::Request request;
  request.kind = engine::RequestKind::access;
  request.access = std::make_shared<engine::AccessCommand>(std::move(command));
  Call(std::move(request), responder, [on_reply = std::move(on_reply)](engine::Reply& reply) {
    TPW_ASSERT(reply.access.has_value());
    on_reply(*reply.access);
  });
}

void Service::CreateApiKey(const RequestContext& context, const Responder& responder) {
  ApiResult<NewApiKey> wanted = DecodeApiKeyBody(context.request.body());
  if (!wanted.ok()) return responder.Send(ErrorResponse(wanted.error()));
  StoreApiKey(wanted.value(), 0, responder);
}

void Service::StoreApiKey(const NewApiKey& wanted, int attempt, const Responder& responder) {
  if (attempt == kCreateAttemptsMax) {
    return responder.Send(ErrorResponse(
        {http::status::internal_server_error, error_type::kInternal, "key_exists",
         "every random key id tried was taken: the random generator looks broken; nothing was "
         "stored",
         ""}));
  }
  auto text = std::make_shared<access::KeyText>(access::GenerateKeyText());
  engine::AccessCommand command;
  command.kind = engine::AccessCommandKind::create_api_key;
  command.key.id = text->id;
  command.key.scope = wanted.scope;
  command.key.name = wanted.name;
  command.key.secret_hash = access::SecretHash(text->secret);
  command.key.rate_per_second = wanted.rate_per_second;
  command.key.merchant_accounts = wanted.merchant_accounts;
  CallAccess(std::move(command), responder,
             [this, responder, wanted, attempt, text](engine::AccessReply& reply) {
               std::string key_text = access::FormatKeyText(*text);
               crypto::SecureWipe(std::span<uint8_t>(text->secret));
               if (reply.error == AccessError::key_exists) {
                 return StoreApiKey(wanted, attempt + 1, responder);
               }
               if (reply.error != AccessError::ok)
                 return responder.Send(AccessRefusal(reply.error, reply.detail));
               TPW_ASSERT(reply.keys.size() == 1);
               bj::object out = cli::KeyToJson(reply.keys.front());
               out["key"] = key_text;  // shown this once; only its hash is stored
               crypto::SecureWipe(std::span<char>(key_text.data(), key_text.size()));
               responder.Send(JsonBody(http::status::created, out));
             });
}

void Service::ListApiKeys(const Responder& responder) {
  engine::AccessCommand command;
  command.kind = engine::AccessCommandKind::list_api_keys;
  CallAccess(std::move(command), responder, [responder](engine::AccessReply& reply) {
    bj::array keys;
    for (const access::ApiKey& key : reply.keys) keys.push_back(cli::KeyToJson(key));
    bj::object out;
    out["api_keys"] = std::move(keys);
    responder.Send(JsonBody(http::status::ok, out));
  });
}

void Service::RevokeApiKey(const RequestContext& context, const Responder& responder) {
  ApiResult<uint64_t> id = DecodeKeyId(context.match.id);
  if (!id.ok()) return responder.Send(ErrorResponse(id.error()));
  if (auto empty = DecodeEmptyBody(context.request.body()); !empty.ok()) {
    return responder.Send(ErrorResponse(empty.error()));
  }
  engine::AccessCommand command;
  command.kind = engine::AccessCommandKind::revoke_api_key;
  command.key_id = id.value();
  CallAccess(std::move(command), responder, [responder](engine::AccessReply& reply) {
    if (reply.error != AccessError::ok) return responder.Send(AccessRefusal(reply.error));
    TPW_ASSERT(reply.keys.size() == 1);
    responder.Send(JsonBody(http::status::ok, cli::KeyToJson(reply.keys.front())));
  });
}

}  // namespace tpw::api
