// The risk endpoints (docs/api.md, "Risk"): dry runs, the active rules (hot reload: bad rules
// never replace good ones), and the run-time lists. All of it is sequencer state: every change
// is a journaled fact, answered only once durable.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/risk_body.h"
#include "api/service.h"
#include "cli/values.h"
#include "common/assert.h"

namespace tpw::api {
namespace {

namespace bj = boost::json;
using engine::RiskError;

HttpResponse RiskRefusal(const engine::RiskReply& reply) {
  const std::string code(engine::RiskErrorName(reply.error));
  switch (reply.error) {
    case RiskError::unknown_list:
      return ErrorResponse({http::status::not_found, error_type::kInvalidRequest, code,
                            reply.detail + "; GET /v1/risk/lists shows them", "name"});
    case RiskError::invalid_value:
      return ErrorResponse({http::status::bad_request, error_type::kInvalidRequest, code,
                            reply.detail, "value"});
    case RiskError::list_full:
      return ErrorResponse({http::status::conflict, error_type::kInvalidRequest, code,
                            reply.detail, "value"});
    default:
      return ErrorResponse({http::status::internal_server_error, error_type::kInternal, code,
                            "unexpected risk refusal: " + reply.detail, ""});
  }
}

// 422 with every error's line and column; the active set stays as it was.
HttpResponse InvalidRules(const engine::RiskReply& reply) {
  bj::array errors;
  for (const risk::RuleError& e : reply.rule_errors) {
    errors.push_back(bj::object{{"line", e.line}, {"column", e.column}, {"message", e.message}});
  }
  const size_t n = reply.rule_errors.size();
  std::string message = std::to_string(n) + (n == 1 ? " error" : " errors") +
                        " in the rules (the first: line " +
                        std::to_string(n != 0 ? reply.rule_errors[0].line : 0) + ", column " +
                        std::to_string(n != 0 ? reply.rule_errors[0].column : 0) +
                        "); the active rules (version " + reply.status.version +
                        ") are unchanged; fix them (`tpwallet risk check FILE`) and send again";
  bj::object error{{"type", error_type::kInvalidRequest},
                   {"code", "invalid_rules"},
                   {"message", message},
                   {"param", "rules"},
                   {"errors", std::move(errors)}};
  return JsonBody(http::status::unprocessable_entity, bj::object{{"error", std::move(error)}});
}

bj::object StatusJson(const engine::RiskStatus& s) {
  return bj::object{{"version", s.version},       {"rules_set", s.rules_set},
                    {"rules", s.rules},           {"features", s.features},
                    {"lists", s.lists},           {"velocity_keys", s.velocity_keys},
                    {"velocity_bytes", s.velocity_bytes}, {"decisions", s.decisions}};
}

bj::object OutcomeJson(const engine::RiskOutcome& o) {
  bj::array matched;
  for (const std::string& name : o.matched_rules) matched.push_back(bj::string(name));
  return bj::object{{"decision", risk::DecisionName(o.decision)},
                    {"required_cvm", risk::CvmName(o.required_cvm)},
                    {"score", o.score},
                    {"decided_by", o.decided_by},
                    {"matched_rules", std::move(matched)},
                    {"rules_version", o.version},
                    {"time", cli::FormatTimeUtc(Timestamp{o.time_ns})}};
}

bj::object ListJson(const engine::RiskListContents& list) {
  bj::array items;
  for (const std::string& item : list.items) items.push_back(bj::string(item));
  return bj::object{{"name", list.name}, {"kind", list.kind}, {"role", list.role},
                    {"items", std::move(items)}};
}

}  // namespace

void Service::CallRisk(engine::RiskCommand command, const Responder& responder,
                       std::function<void(engine::RiskReply&)> on_reply) {
  engine::Request request;
  request.kind = engine::RequestKind::risk;
  request.risk = std::make_shared<engine::RiskCommand>(std::move(command));
  Call(std::move(request), responder, [on_reply = std::move(on_reply)](engine::Reply& reply) {
    TPW_ASSERT(reply.risk.has_value());
    on_reply(*reply.risk);
  });
}

void Service::RiskRoute(const RequestContext& context, const Responder& responder) {
  engine::RiskCommand command;
  switch (context.match.route) {
    case Route::risk_evaluate: {
      ApiResult<risk::Event> event = DecodeRiskEventBody(context.request.body());
      if (!event.ok()) return responder.Send(ErrorResponse(event.error()));
      command.kind = engine::RiskCommandKind::evaluate;
      command.event = event.value();
      return CallRisk(std::move(command), responder, [responder](engine::RiskReply& reply) {
        TPW_ASSERT(reply.outcome.has_value());
        responder.Send(JsonBody(http::status::ok, OutcomeJson(*reply.outcome)));
      });
    }
    case Route::risk_rules_get:
      command.kind = engine::RiskCommandKind::show_rules;
      return CallRisk(std::move(command), responder, [responder](engine::RiskReply& reply) {
        bj::object out = StatusJson(reply.status);
        out["text"] = reply.status.rules_set ? bj::value(reply.rules_text) : bj::value(nullptr);
        responder.Send(JsonBody(http::status::ok, out));
      });
    case Route::risk_rules_put:
      return PutRiskRules(context, responder);
    case Route::risk_status:
      command.kind = engine::RiskCommandKind::status;
      return CallRisk(std::move(command), responder, [responder](engine::RiskReply& reply) {
        responder.Send(JsonBody(http::status::ok, StatusJson(reply.status)));
      });
    case Route::risk_lists:
    case Route::risk_list_get: {
      command.kind = engine::RiskCommandKind::list_show;
      const bool one = context.match.route == Route::risk_list_get;
      if (one) {
        ApiResult<std::string> name = DecodeRiskListName(context.match.id);
        if (!name.ok()) return responder.Send(ErrorResponse(name.error()));
        command.list = name.value();
      }
      return CallRisk(std::move(command), responder, [responder, one](engine::RiskReply& reply) {
        if (reply.error != RiskError::ok) return responder.Send(RiskRefusal(reply));
        if (one) return responder.Send(JsonBody(http::status::ok, ListJson(reply.lists.front())));
        bj::array lists;
        for (const engine::RiskListContents& list : reply.lists) lists.push_back(ListJson(list));
        responder.Send(JsonBody(http::status::ok, bj::object{{"version", reply.status.version},
                                                             {"lists", std::move(lists)}}));
      });
    }
    case Route::risk_list_add:
    case Route::risk_list_remove:
      return ChangeRiskList(context, responder);
    default:
      TPW_ASSERT(false && "not a risk route");
  }
}

void Service::PutRiskRules(const RequestContext& context, const Responder& responder) {
  ApiResult<std::string> text =
      DecodeRiskRulesBody(context.request[http::field::content_type], context.request.body());
  if (!text.ok()) return responder.Send(ErrorResponse(text.error()));
  engine::RiskCommand command;
  command.kind = engine::RiskCommandKind::set_rules;
  command.rules_text = std::move(text.value());
  CallRisk(std::move(command), responder, [responder](engine::RiskReply& reply) {
    if (reply.error == RiskError::invalid_rules) return responder.Send(InvalidRules(reply));
    responder.Send(JsonBody(http::status::ok, StatusJson(reply.status)));
  });
}

void Service::ChangeRiskList(const RequestContext& context, const Responder& responder) {
  engine::RiskCommand command;
  if (context.match.route == Route::risk_list_add) {
    ApiResult<std::string> name = DecodeRiskListName(context.match.id);
    if (!name.ok()) return responder.Send(ErrorResponse(name.error()));
    ApiResult<std::string> value = DecodeRiskListItemBody(context.request.body());
    if (!value.ok()) return responder.Send(ErrorResponse(value.error()));
    command.kind = engine::RiskCommandKind::list_add;
    command.list = std::move(name.value());
    command.value = std::move(value.value());
  } else {
    ApiResult<std::pair<std::string, std::string>> item = DecodeRiskListItemPath(context.match.id);
    if (!item.ok()) return responder.Send(ErrorResponse(item.error()));
    command.kind = engine::RiskCommandKind::list_remove;
    command.list = std::move(item.value().first);
    command.value = std::move(item.value().second);
  }
  const bool add = command.kind == engine::RiskCommandKind::list_add;
  std::string list = command.list;
  std::string value = command.value;
  CallRisk(std::move(command), responder, [responder, add, list, value](engine::RiskReply& reply) {
    if (reply.error != RiskError::ok) return responder.Send(RiskRefusal(reply));
    responder.Send(JsonBody(http::status::ok, bj::object{{"list", list},
                                                         {"value", value},
                                                         {add ? "added" : "removed", true},
                                                         {"version", reply.status.version}}));
  });
}

}  // namespace tpw::api
