// tpwallet webhooks create|list|show|update|delete|deliveries|resend|roll-secret|test and tpwallet events
// list|stream: the webhook endpoints and the event log of a running `tpwallet serve` (the
// deliverer and the streams live in the server, so these commands talk to it: --server URL or
// $TPWALLET_SERVER, with an admin API key; events also with an auditor key). docs/cli.md,
// "Webhooks and events", is the contract; docs/webhooks.md explains delivery.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/event_stream_client.h"
#include "cli/api_caller.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/offline_values.h"
#include "cli/render.h"
#include "cli/session.h"

namespace tpw::cli {
namespace {

namespace bj = boost::json;

constexpr std::string_view kWebhookCommandNames = "webhooks and events";
// events stream: silence (no event, no heartbeat) after which the connection is taken as dead.
constexpr auto kStreamSilenceMax = std::chrono::seconds(60);
// events stream: wait before reconnecting after the stream ended.
constexpr auto kStreamReconnectDelay = std::chrono::seconds(1);

struct EndpointOptions {
  CommonOptions common;
  std::string id;
  std::string url;
  std::string events;  // comma-separated
  std::string description;
  bool enable = false;
  bool disable = false;
};

struct PageOptions {
  CommonOptions common;
  std::string id;  // deliveries: the endpoint
  std::string after;
  std::string limit;
  std::string event;  // deliveries: only this event; resend: the event
  std::string type;   // events: comma-separated filter entries
};

struct RollOptions {
  CommonOptions common;
  std::string id;
  std::string previous_expires_in;  // a duration, or "0"; "": the server's default (24h)
};

struct TestOptions {
  CommonOptions common;
  std::string count;
  std::string type;
  std::string data;
};

struct StreamOptions {
  CommonOptions common;
  std::string after;
  std::string type;
  std::string max_events;
  bool no_reconnect = false;
};

// "a,b" → ["a", "b"] (entries checked by the server).
bj::array CommaList(std::string_view text) {
  bj::array out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    out.push_back(bj::string(text.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string Str(const bj::value& v, std::string_view key) {
  const bj::value* field = v.is_object() ? v.get_object().if_contains(key) : nullptr;
  if (field == nullptr || field->is_null()) return "";
  if (field->is_string()) return std::string(field->get_string());
  return bj::serialize(*field);
}

std::string EndpointLine(const bj::value& e) {
  const bj::value& d = e.at("deliveries");
  std::string events;
  for (const bj::value& entry : e.at("enabled_events").as_array()) {
    events += (events.empty() ? "" : ",") + std::string(entry.as_string());
  }
  return Str(e, "id") + "  " + Str(e, "status") + "  " + Str(e, "url") + "  events " + events +
         "  pending " + Str(d, "pending") + " retrying " + Str(d, "retrying") + " delivered " +
         Str(d, "delivered") + " failed " + Str(d, "failed_attempts") + " given up " +
         Str(d, "given_up") + (Str(e, "description").empty() ? "" : "  \"" + Str(e, "description") + "\"");
}

std::string EventLine(const bj::value& event) {
  const std::string created = Str(event, "created");
  const uint64_t seconds = created.empty() ? 0 : std::stoull(created);
  return Str(event, "id") + "  " + Str(event, "type") + "  " +
         FormatTimeUtc(Timestamp{seconds * 1'000'000'000}) + "  " + bj::serialize(event.at("data"));
}

// Runs `call` on a caller for --server and prints the answer with `print` (text) or as JSON.
int WithServer(const CommonOptions& o,
               const std::function<CommandResult<bj::value>(ApiCaller&)>& call,
               const std::function<void(const bj::value&)>& print) {
  CommandResult<std::unique_ptr<ApiCaller>> caller = ApiCaller::Open(o, kWebhookCommandNames);
  if (!caller.ok()) return Report(o, caller.error());
  CommandResult<bj::value> answer = call(*caller.value());
  if (!answer.ok()) return Report(o, answer.error());
  if (o.json) {
    PrintJson(answer.value());
  } else {
    print(answer.value());
  }
  std::fflush(stdout);
  return kExitOk;
}

std::string EndpointPath(const std::string& id) { return "/v1/webhook_endpoints/" + id; }

// ---- webhooks -------------------------------------------------------------------------------

int RunCreateEndpoint(const EndpointOptions& o) {
  bj::object body{{"url", o.url}};
  if (!o.events.empty()) body["enabled_events"] = CommaList(o.events);
  if (!o.description.empty()) body["description"] = o.description;
  if (o.disable) body["enabled"] = false;
  return WithServer(
      o.common, [&](ApiCaller& c) { return c.Post("/v1/webhook_endpoints", bj::serialize(body)); },
      [](const bj::value& e) {
        std::printf("webhook endpoint created\n%s\n", EndpointLine(e).c_str());
        std::printf("signing secret (shown only this once; give it to the receiver to verify "
                    "TPW-Signature):\n%s\n",
                    Str(e, "secret").c_str());
      });
}

int RunUpdateEndpoint(const EndpointOptions& o) {
  if (o.enable && o.disable) return Report(o.common, UsageError("give --enable or --disable, not both"));
  bj::object body;
  if (!o.url.empty()) body["url"] = o.url;
  if (!o.events.empty()) body["enabled_events"] = CommaList(o.events);
  if (!o.description.empty()) body["description"] = o.description;
  if (o.enable || o.disable) body["enabled"] = o.enable;
  if (body.empty()) {
    return Report(o.common, UsageError("nothing to update: give --url, --events, --description, "
                                       "--enable or --disable"));
  }
  return WithServer(
      o.common, [&](ApiCaller& c) { return c.Post(EndpointPath(o.id), bj::serialize(body)); },
      [](const bj::value& e) { std::printf("%s\n", EndpointLine(e).c_str()); });
}

int RunDeliveries(const PageOptions& o) {
  std::string query;
  const auto put = [&](std::string_view name, const std::string& value) {
    if (!value.empty()) query += (query.empty() ? "?" : "&") + std::string(name) + "=" + value;
  };
  put("limit", o.limit);
  put("after", o.after);
  put("event_id", o.event);
  return WithServer(
      o.common, [&](ApiCaller& c) { return c.Get(EndpointPath(o.id) + "/deliveries" + query); },
      [&](const bj::value& page) {
        std::vector<std::vector<std::string>> rows;
        for (const bj::value& d : page.at("deliveries").as_array()) {
          rows.push_back({Str(d, "id"), Str(d, "event_id"), Str(d, "outcome"), Str(d, "attempt"),
                          Str(d, "http_status"), Str(d, "duration_ms") + " ms", Str(d, "time"),
                          Str(d, "next_retry"), Str(d, "error")});
        }
        std::printf("%s", RenderTable({"#", "event", "outcome", "attempt", "status", "took", "time",
                                       "next retry", "error"},
                                      rows)
                              .c_str());
        if (!Str(page, "next_cursor").empty()) {
          std::printf("older: tpwallet webhooks deliveries %s --after %s\n", o.id.c_str(),
                      Str(page, "next_cursor").c_str());
        }
      });
}

int RunResend(const PageOptions& o) {
  const bj::object body{{"event_id", o.event}};
  return WithServer(
      o.common, [&](ApiCaller& c) { return c.Post(EndpointPath(o.id) + "/resend", bj::serialize(body)); },
      [](const bj::value& r) {
        std::printf("%s scheduled for %s\n", Str(r, "event_id").c_str(), Str(r, "endpoint_id").c_str());
      });
}

int RunRollSecret(const RollOptions& o) {
  bj::object body;
  if (o.previous_expires_in == "0") {
    body["previous_secret_expires_in"] = 0;
  } else if (!o.previous_expires_in.empty()) {
    InputResult<uint64_t> ms = ParseDurationText("--previous-expires-in", o.previous_expires_in);
    if (!ms.ok()) return Report(o.common, UsageError(ms.error().message));
    if (ms.value() % 1000 != 0) {
      return Report(o.common, UsageError("--previous-expires-in is whole seconds (e.g. 3600s, 24h)"));
    }
    body["previous_secret_expires_in"] = ms.value() / 1000;
  }
  return WithServer(
      o.common,
      [&](ApiCaller& c) { return c.Post(EndpointPath(o.id) + "/roll_secret", bj::serialize(body)); },
      [](const bj::value& e) {
        std::printf("signing secret rolled\n%s\n", EndpointLine(e).c_str());
        const std::string until = Str(e, "previous_secret_expires");
        if (until.empty()) {
          std::printf("the previous secret no longer signs\n");
        } else {
          std::printf("the previous secret signs too until %s\n",
                      FormatTimeUtc(Timestamp{std::stoull(until) * 1'000'000'000}).c_str());
        }
        std::printf("new signing secret (shown only this once; give it to the receiver):\n%s\n",
                    Str(e, "secret").c_str());
      });
}

int RunTestEvents(const TestOptions& o) {
  bj::object body;
  if (!o.count.empty()) {
    InputResult<uint64_t> count = ParseUnsignedText("--count", o.count, 10'000);
    if (!count.ok() || count.value() == 0) return Report(o.common, UsageError("--count is 1..10000"));
    body["count"] = count.value();
  }
  if (!o.type.empty()) body["type"] = o.type;
  if (!o.data.empty()) {
    bj::error_code ec;
    bj::value data = bj::parse(o.data, ec);
    if (ec || !data.is_object()) {
      return Report(o.common, UsageError("--data is a JSON object, e.g. --data '{\"order\":\"42\"}'"));
    }
    body["data"] = std::move(data);
  }
  return WithServer(
      o.common, [&](ApiCaller& c) { return c.Post("/v1/events/test", bj::serialize(body)); },
      [](const bj::value& r) {
        std::printf("published %s test event(s): %s .. %s\n", Str(r, "count").c_str(),
                    Str(r, "first_event_id").c_str(), Str(r, "last_event_id").c_str());
      });
}

// ---- events ---------------------------------------------------------------------------------

int RunListEvents(const PageOptions& o) {
  std::string query;
  const auto put = [&](std::string_view name, const std::string& value) {
    if (!value.empty()) query += (query.empty() ? "?" : "&") + std::string(name) + "=" + value;
  };
  put("after", o.after);
  put("limit", o.limit);
  put("type", o.type);
  return WithServer(
      o.common, [&](ApiCaller& c) { return c.Get("/v1/events" + query); },
      [](const bj::value& page) {
        for (const bj::value& e : page.at("events").as_array()) std::printf("%s\n", EventLine(e).c_str());
        if (!Str(page, "next_cursor").empty()) {
          std::printf("more: tpwallet events list --after %s\n", Str(page, "next_cursor").c_str());
        }
      });
}

// Prints what one connection streams; returns false when --max-events were printed.
bool PrintStreamed(api::EventStreamClient& client, bool json, std::string& last_id, uint64_t& left) {
  for (const api::SseEvent& e : std::exchange(client.events(), {})) {
    last_id = e.id;
    bj::error_code ec;
    const bj::value event = bj::parse(e.data, ec);
    if (json || ec) {
      std::printf("%s\n", e.data.c_str());
    } else {
      std::printf("%s\n", EventLine(event).c_str());
    }
    std::fflush(stdout);
    if (left != 0 && --left == 0) return false;
  }
  for (const std::string& comment : std::exchange(client.comments(), {})) {
    if (comment != "heartbeat") std::fprintf(stderr, "tpwallet events stream: server: %s\n", comment.c_str());
  }
  return true;
}

int RunStream(const StreamOptions& o) {
  if (o.common.server.url.empty()) return Report(o.common, ApiCaller::Open(o.common, kWebhookCommandNames).error());
  InputResult<ServerUrl> url = ParseServerUrl(o.common.server.url, "--server");
  if (!url.ok()) return Report(o.common, UsageError(url.error().message));
  uint64_t left = 0;
  if (!o.max_events.empty()) {
    InputResult<uint64_t> n = ParseUnsignedText("--max-events", o.max_events, UINT64_MAX);
    if (!n.ok() || n.value() == 0) return Report(o.common, UsageError("--max-events is at least 1"));
    left = n.value();
  }
  std::string last_id = o.after;
  while (true) {
    api::EventStreamRequest request;
    request.host = url.value().host;
    request.port = url.value().port;
    request.target = "/v1/events" + (o.type.empty() ? "" : "?type=" + o.type);
    if (!o.common.server.api_key.empty()) request.headers.emplace_back("Authorization", "Bearer " + o.common.server.api_key);
    if (!last_id.empty()) request.headers.emplace_back("Last-Event-ID", last_id);
    auto client = api::EventStreamClient::Connect(request);
    if (!client.ok()) {
      return Report(o.common, TransportFailureOf({false, client.error()}, false, ""));
    }
    auto silent_since = std::chrono::steady_clock::now();
    while (client.value()->Poll(std::chrono::milliseconds(500))) {
      if (!client.value()->events().empty() || !client.value()->comments().empty()) {
        silent_since = std::chrono::steady_clock::now();
      }
      if (!PrintStreamed(*client.value(), o.common.json, last_id, left)) return kExitOk;
      if (std::chrono::steady_clock::now() - silent_since > kStreamSilenceMax) break;
    }
    if (client.value()->status() != 200) {
      HttpAnswer answer{client.value()->status(), client.value()->body(), ""};
      return Report(o.common, ServerAnswerError(answer, url.value()));
    }
    if (!PrintStreamed(*client.value(), o.common.json, last_id, left)) return kExitOk;
    if (o.no_reconnect) return kExitOk;
    std::fprintf(stderr, "tpwallet events stream: the stream ended; reconnecting after %s\n",
                 last_id.empty() ? "the start" : last_id.c_str());
    std::this_thread::sleep_for(kStreamReconnectDelay);
  }
}

// ---- Registration ---------------------------------------------------------------------------

CLI::App* Subcommand(CLI::App& parent, const char* name, const char* help, CommonOptions& common,
                     ServerUse use = ServerUse::reads) {
  CLI::App* cmd = parent.add_subcommand(name, help);
  AddCommonOptions(*cmd, common, use);
  return cmd;
}

void RegisterWebhooks(CLI::App& app, int& exit_code) {
  CLI::App* webhooks = app.add_subcommand(
      "webhooks",
      "Webhook endpoints of a running server: where events are POSTed, signed (docs/webhooks.md). "
      "Needs --server and an admin API key.");
  webhooks->require_subcommand(1);

  auto create = std::make_shared<EndpointOptions>();
  CLI::App* cmd = Subcommand(*webhooks, "create",
                             "Add an endpoint; prints its signing secret once.\n"
                             "Example: tpwallet webhooks create --url http://127.0.0.1:8000/hooks "
                             "--events 'payment.*' --server http://127.0.0.1:8080",
                             create->common, ServerUse::writes);
  cmd->add_option("--url", create->url, "http://host[:port][/path] the events are POSTed to")->required();
  cmd->add_option("--events", create->events, "Event types to send, comma-separated: a type, \"*\" or \"prefix.*\" (default *)");
  cmd->add_option("--description", create->description, "A label for people (≤ 512 bytes)");
  cmd->add_flag("--disabled", create->disable, "Create it disabled");
  cmd->callback([create, &exit_code] { exit_code = RunCreateEndpoint(*create); });

  auto list = std::make_shared<CommonOptions>();
  cmd = Subcommand(*webhooks, "list", "List the endpoints with their delivery counts.\nExample: tpwallet webhooks list", *list);
  cmd->callback([list, &exit_code] {
    exit_code = WithServer(*list, [](ApiCaller& c) { return c.Get("/v1/webhook_endpoints"); },
                           [](const bj::value& page) {
                             for (const bj::value& e : page.at("webhook_endpoints").as_array()) {
                               std::printf("%s\n", EndpointLine(e).c_str());
                             }
                           });
  });

  auto show = std::make_shared<EndpointOptions>();
  cmd = Subcommand(*webhooks, "show", "One endpoint (never its secret).\nExample: tpwallet webhooks show we_1", show->common);
  cmd->add_option("id", show->id, "The endpoint: we_1")->required();
  cmd->callback([show, &exit_code] {
    exit_code = WithServer(show->common, [&](ApiCaller& c) { return c.Get(EndpointPath(show->id)); },
                           [](const bj::value& e) { std::printf("%s\n", EndpointLine(e).c_str()); });
  });

  auto update = std::make_shared<EndpointOptions>();
  cmd = Subcommand(*webhooks, "update",
                   "Change an endpoint's url, events, description, or enable/disable it (a disabled "
                   "endpoint misses the events of that time).\nExample: tpwallet webhooks update we_1 --disable",
                   update->common, ServerUse::writes);
  cmd->add_option("id", update->id, "The endpoint: we_1")->required();
  cmd->add_option("--url", update->url, "New url");
  cmd->add_option("--events", update->events, "New event types, comma-separated");
  cmd->add_option("--description", update->description, "New description");
  cmd->add_flag("--enable", update->enable, "Enable it");
  cmd->add_flag("--disable", update->disable, "Disable it");
  cmd->callback([update, &exit_code] { exit_code = RunUpdateEndpoint(*update); });

  auto remove = std::make_shared<EndpointOptions>();
  cmd = Subcommand(*webhooks, "delete", "Delete an endpoint and what it still had to receive.\nExample: tpwallet webhooks delete we_1",
                   remove->common);
  cmd->add_option("id", remove->id, "The endpoint: we_1")->required();
  cmd->callback([remove, &exit_code] {
    exit_code = WithServer(remove->common, [&](ApiCaller& c) { return c.Delete(EndpointPath(remove->id)); },
                           [](const bj::value& r) { std::printf("deleted %s\n", Str(r, "id").c_str()); });
  });

  auto deliveries = std::make_shared<PageOptions>();
  cmd = Subcommand(*webhooks, "deliveries",
                   "Recent delivery attempts of an endpoint, newest first.\n"
                   "Example: tpwallet webhooks deliveries we_1 --limit 20 --event evt_42",
                   deliveries->common);
  cmd->add_option("id", deliveries->id, "The endpoint: we_1")->required();
  cmd->add_option("--limit", deliveries->limit, "Attempts per page, 1..1000 (default 100)");
  cmd->add_option("--after", deliveries->after, "The cursor the previous page printed");
  cmd->add_option("--event", deliveries->event, "Only this event's attempts: evt_42");
  cmd->callback([deliveries, &exit_code] { exit_code = RunDeliveries(*deliveries); });

  auto resend = std::make_shared<PageOptions>();
  cmd = Subcommand(*webhooks, "resend", "Send an event to an endpoint again now.\nExample: tpwallet webhooks resend we_1 --event evt_42",
                   resend->common, ServerUse::writes);
  cmd->add_option("id", resend->id, "The endpoint: we_1")->required();
  cmd->add_option("--event", resend->event, "The event: evt_42")->required();
  cmd->callback([resend, &exit_code] { exit_code = RunResend(*resend); });

  auto roll = std::make_shared<RollOptions>();
  cmd = Subcommand(*webhooks, "roll-secret",
                   "Replace an endpoint's signing secret; the old one keeps signing beside the new\n"
                   "one for a while (default 24h) so the receiver can switch without refusing deliveries.\n"
                   "Examples: tpwallet webhooks roll-secret we_1\n"
                   "          tpwallet webhooks roll-secret we_1 --previous-expires-in 0   # a leaked secret",
                   roll->common, ServerUse::writes);
  cmd->add_option("id", roll->id, "The endpoint: we_1")->required();
  cmd->add_option("--previous-expires-in", roll->previous_expires_in,
                  "How long the old secret still signs: 0 (stop now), or up to 7d, e.g. 1h, 24h (default 24h)");
  cmd->callback([roll, &exit_code] { exit_code = RunRollSecret(*roll); });

  auto test = std::make_shared<TestOptions>();
  cmd = Subcommand(*webhooks, "test",
                   "Publish test events (to see endpoints and streams receive them).\n"
                   "Example: tpwallet webhooks test --count 10 --type test.order_paid --data '{\"order\":\"42\"}'",
                   test->common, ServerUse::writes);
  cmd->add_option("--count", test->count, "Events, 1..10000 (default 1)");
  cmd->add_option("--type", test->type, "Their type: test. + lower-case words (default test.event)");
  cmd->add_option("--data", test->data, "Their data: a JSON object (default {})");
  cmd->callback([test, &exit_code] { exit_code = RunTestEvents(*test); });
}

void RegisterEvents(CLI::App& app, int& exit_code) {
  CLI::App* events = app.add_subcommand(
      "events", "The event log of a running server (what webhooks deliver). Needs --server and an admin or auditor key.");
  events->require_subcommand(1);

  auto list = std::make_shared<PageOptions>();
  CLI::App* cmd = Subcommand(*events, "list", "Events oldest first, from --after.\nExample: tpwallet events list --after evt_100 --limit 50 --type 'payment.*'",
                             list->common);
  cmd->add_option("--after", list->after, "Start after this event: evt_100 (default: the oldest retained)");
  cmd->add_option("--limit", list->limit, "Events per page, 1..1000 (default 100)");
  cmd->add_option("--type", list->type, "Only these types, comma-separated (a type, * or prefix.*)");
  cmd->callback([list, &exit_code] { exit_code = RunListEvents(*list); });

  auto stream = std::make_shared<StreamOptions>();
  cmd = Subcommand(*events, "stream",
                   "Print events as they happen (Server-Sent Events); reconnects and resumes after the last "
                   "event printed when the stream ends.\nExample: tpwallet events stream --after evt_0 --type 'payment.*'",
                   stream->common);
  cmd->add_option("--after", stream->after, "Start after this event (evt_0: from the oldest retained; default: new events only)");
  cmd->add_option("--type", stream->type, "Only these types, comma-separated");
  cmd->add_option("--max-events", stream->max_events, "Exit 0 after printing this many events");
  cmd->add_flag("--no-reconnect", stream->no_reconnect, "Exit when the stream ends instead of resuming");
  cmd->callback([stream, &exit_code] { exit_code = RunStream(*stream); });
}

}  // namespace

void RegisterWebhookCommands(CLI::App& app, int& exit_code) {
  RegisterWebhooks(app, exit_code);
  RegisterEvents(app, exit_code);
}

}  // namespace tpw::cli
