// The engine's outbox and webhook endpoints (docs/webhooks.md): events published by facts, the
// endpoints that receive them and what each still has to deliver. Sequencer state like the
// ledger's: changed only on the sequencer thread, journaled as facts (outbox_facts.h), saved in
// snapshots and rebuilt exactly by replay. The deliverer itself runs in the API server
// (api/webhook_deliverer.h): it reports attempt outcomes here, in batches, so the retry
// schedule and the delivery log survive a restart.
#include <algorithm>

#include "common/assert.h"
#include "engine/engine_impl.h"
#include "engine/outbox_facts.h"

namespace tpw::engine {

std::string_view WebhookErrorName(WebhookError error) {
  switch (error) {
    case WebhookError::ok:
      return "ok";
    case WebhookError::unknown_endpoint:
      return "webhook_endpoint_not_found";
    case WebhookError::invalid:
      return "invalid";
    case WebhookError::too_many_endpoints:
      return "too_many_webhook_endpoints";
    case WebhookError::unknown_event:
      return "event_not_found";
    case WebhookError::endpoint_disabled:
      return "webhook_endpoint_disabled";
    case WebhookError::event_not_matching:
      return "event_not_matching";
  }
  return "unknown";
}

namespace {

// Deliveries entries per page.
constexpr uint32_t kDeliveriesPageMax = 1000;

// The new secret signs from now on; the one it replaces signs beside it for `overlap_ms` (so a
// receiver can switch to the new one without refusing deliveries meanwhile), or not at all.
// Rolling again within the overlap drops the oldest: at most two secrets sign.
void RollSecret(WebhookEndpoint& e, const std::array<uint8_t, kWebhookSecretBytes>& secret,
                uint64_t now_ms, uint64_t overlap_ms) {
  e.previous_secret = overlap_ms != 0 ? e.secret : std::array<uint8_t, kWebhookSecretBytes>{};
  e.previous_secret_expires_ms = overlap_ms != 0 ? now_ms + overlap_ms : 0;
  e.secret = secret;
}

WebhookReply Refused(WebhookError error, std::string detail) {
  WebhookReply out;
  out.error = error;
  out.detail = std::move(detail);
  return out;
}

std::vector<uint8_t> BytesOf(std::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

}  // namespace

// ---- Publishing and retention ---------------------------------------------------------------

void Engine::Impl::PublishEvent(uint64_t time_ms, std::string_view type, uint8_t format,
                                std::vector<uint8_t> payload) {
  TPW_ASSERT(ValidEventType(type));
  TPW_ASSERT(payload.size() <= kEventPayloadBytesMax);
  const uint64_t id = outbox_.Append(time_ms, type, format, std::move(payload));
  webhooks_.OnPublished(*outbox_.Find(id));
  PruneOutbox(time_ms);
}

void Engine::Impl::PruneOutbox(uint64_t now_ms) {
  const OutboxLimits& limits = options_.outbox;
  const std::optional<uint64_t> held = webhooks_.OldestUnfinished();
  while (const OutboxEvent* front = outbox_.Front()) {
    const bool old = now_ms >= front->time_ms && now_ms - front->time_ms >= limits.retention_ms;
    if (!old || (held && *held <= front->id)) break;
    outbox_.PopFront(false);
  }
  while (outbox_.OverCap(limits)) {
    const uint64_t id = outbox_.Front()->id;
    outbox_.PopFront(true);
    outbox_.CountUndeliveredDrop(webhooks_.OnDropped(id));
  }
}

void Engine::Impl::PublishDurableEvents(const Group& group) {
  if (group.events_through == 0 || group.events_through <= outbox_.durable_id()) return;
  outbox_.MarkDurable(group.events_through);
  std::lock_guard lock(event_listeners_mutex_);
  for (const auto& [token, listener] : event_listeners_) listener(group.events_through);
}

uint64_t Engine::Impl::SubscribeEvents(std::function<void(uint64_t)> listener) {
  std::lock_guard lock(event_listeners_mutex_);
  const uint64_t token = next_listener_token_++;
  event_listeners_.emplace(token, std::move(listener));
  return token;
}

void Engine::Impl::UnsubscribeEvents(uint64_t token) {
  std::lock_guard lock(event_listeners_mutex_);
  event_listeners_.erase(token);
}

// ---- Commands ---------------------------------------------------------------------------------

EndpointView Engine::Impl::ViewOf(const WebhookEndpointState& state) const {
  EndpointView view;
  view.endpoint = state.endpoint;
  view.unfinished = state.deliveries.unfinished.size();
  view.retrying = state.deliveries.retries.size();
  view.counters = state.deliveries.counters;
  return view;
}

WebhookReply Engine::Impl::CreateEndpoint(const WebhookCommand& c, Group& group) {
  if (webhooks_.endpoints().size() >= kWebhookEndpointsMax) {
    return Refused(WebhookError::too_many_endpoints,
                   "there are " + std::to_string(kWebhookEndpointsMax) +
                       " webhook endpoints already (the most there may be); delete one first");
  }
  EndpointFact fact{EndpointChange::created, NowMs(), c.endpoint};
  WebhookEndpoint& e = fact.endpoint;
  e.id = webhooks_.next_endpoint_id();
  e.created_ms = fact.time_ms;
  e.updated_ms = fact.time_ms;
  e.created_after_event = outbox_.last_id();
  if (!ValidEndpoint(e)) return Refused(WebhookError::invalid, "the endpoint's fields are outside their limits");
  group.Add(FactType::webhook_endpoint, EncodeEndpointFact(fact));
  TPW_ASSERT(webhooks_.Create(e));
  WebhookReply out;
  out.endpoints.push_back(ViewOf(*webhooks_.Find(e.id)));
  return out;
}

WebhookReply Engine::Impl::UpdateEndpoint(const WebhookCommand& c, Group& group) {
  const WebhookEndpointState* state = webhooks_.Find(c.endpoint_id);
  if (state == nullptr) return Refused(WebhookError::unknown_endpoint, "");
  EndpointFact fact{EndpointChange::updated, NowMs(), state->endpoint};
  WebhookEndpoint& e = fact.endpoint;
  if ((c.update & endpoint_fields::kUrl) != 0) e.url = c.endpoint.url;
  if ((c.update & endpoint_fields::kFilter) != 0) e.filter = c.endpoint.filter;
  if ((c.update & endpoint_fields::kEnabled) != 0) e.enabled = c.endpoint.enabled;
  if ((c.update & endpoint_fields::kDescription) != 0) e.description = c.endpoint.description;
  if ((c.update & endpoint_fields::kSecret) != 0) {
    if (c.previous_secret_for_ms > kWebhookSecretOverlapMsMax) {
      return Refused(WebhookError::invalid, "the previous secret signs for at most 7 days");
    }
    RollSecret(e, c.endpoint.secret, fact.time_ms, c.previous_secret_for_ms);
  }
  e.updated_ms = fact.time_ms;
  if (!ValidEndpoint(e)) return Refused(WebhookError::invalid, "the endpoint's fields are outside their limits");
  group.Add(FactType::webhook_endpoint, EncodeEndpointFact(fact));
  TPW_ASSERT(webhooks_.Update(e, outbox_));
  WebhookReply out;
  out.endpoints.push_back(ViewOf(*webhooks_.Find(e.id)));
  return out;
}

WebhookReply Engine::Impl::DeleteEndpoint(const WebhookCommand& c, Group& group) {
  const WebhookEndpointState* state = webhooks_.Find(c.endpoint_id);
  if (state == nullptr) return Refused(WebhookError::unknown_endpoint, "");
  WebhookReply out;
  out.endpoints.push_back(ViewOf(*state));
  group.Add(FactType::webhook_endpoint,
            EncodeEndpointFact({EndpointChange::deleted, NowMs(), state->endpoint}));
  TPW_ASSERT(webhooks_.Remove(c.endpoint_id));
  return out;
}

WebhookReply Engine::Impl::PublishTestEvents(const WebhookCommand& c, Group& group) {
  if (c.count == 0 || c.count > kTestEventsPerRequestMax) {
    return Refused(WebhookError::invalid, "count must be 1.." + std::to_string(kTestEventsPerRequestMax));
  }
  if (!ValidTestEventType(c.type)) {
    return Refused(WebhookError::invalid, "a test event's type starts with \"test.\"");
  }
  if (c.body.size() > kTestEventBodyBytesMax) {
    return Refused(WebhookError::invalid, "a test event's data is at most " +
                                              std::to_string(kTestEventBodyBytesMax) + " bytes");
  }
  const TestEventsFact fact{NowMs(), outbox_.next_id(), c.count, c.type, c.body};
  group.Add(FactType::outbox_test_events, EncodeTestEventsFact(fact));
  for (uint32_t i = 0; i < fact.count; ++i) {
    PublishEvent(fact.time_ms, fact.type, kEventFormatJson, BytesOf(fact.body));
  }
  WebhookReply out;
  out.first_event_id = fact.first_event_id;
  out.last_event_id = fact.first_event_id + fact.count - 1;
  return out;
}

WebhookReply Engine::Impl::RecordOutcomes(const WebhookCommand& c, Group& group) {
  if (c.records.empty() || c.records.size() > kDeliveryRecordsPerFactMax) {
    return Refused(WebhookError::invalid, "1.." + std::to_string(kDeliveryRecordsPerFactMax) +
                                              " outcomes per record_outcomes");
  }
  for (size_t i = 0; i < c.records.size(); ++i) {
    if (!ValidDeliveryRecord(c.records[i])) {
      return Refused(WebhookError::invalid, "outcome " + std::to_string(i) + " is malformed");
    }
  }
  DeliveriesFact fact{NowMs(), c.records};
  group.Add(FactType::webhook_deliveries, EncodeDeliveriesFact(fact));
  for (const DeliveryRecord& record : fact.records) webhooks_.Record(record);
  PruneOutbox(fact.time_ms);
  return WebhookReply{};
}

WebhookReply Engine::Impl::Resend(const WebhookCommand& c, Group& group) {
  const WebhookEndpointState* state = webhooks_.Find(c.endpoint_id);
  if (state == nullptr) return Refused(WebhookError::unknown_endpoint, "");
  if (!state->endpoint.enabled) {
    return Refused(WebhookError::endpoint_disabled, "the endpoint is disabled; enable it first");
  }
  const OutboxEventPtr event = outbox_.Find(c.event_id);
  if (event == nullptr) {
    return Refused(WebhookError::unknown_event,
                   outbox_.size() == 0
                       ? std::string("no event is retained")
                       : "the events retained are " + std::to_string(outbox_.Front()->id) +
                             " to " + std::to_string(outbox_.last_id()));
  }
  if (!EventTypeMatches(state->endpoint.filter, event->type)) {
    return Refused(WebhookError::event_not_matching,
                   "the endpoint's enabled_events do not include " + event->type);
  }
  const ResendFact fact{NowMs(), c.endpoint_id, c.event_id};
  group.Add(FactType::webhook_resend, EncodeResendFact(fact));
  webhooks_.Resend(fact.endpoint_id, fact.event_id, fact.time_ms);
  WebhookReply out;
  out.endpoints.push_back(ViewOf(*state));
  return out;
}

WebhookReply Engine::Impl::DeliveryLog(const WebhookCommand& c) const {
  const WebhookEndpointState* state = webhooks_.Find(c.endpoint_id);
  if (state == nullptr) return Refused(WebhookError::unknown_endpoint, "");
  const uint32_t limit = std::clamp<uint32_t>(c.limit == 0 ? 100 : c.limit, 1, kDeliveriesPageMax);
  WebhookReply out;
  const std::deque<DeliveryLogEntry>& log = state->deliveries.log;
  for (auto it = log.rbegin(); it != log.rend(); ++it) {
    if (c.before_seq != 0 && it->seq >= c.before_seq) continue;
    if (c.event_id != 0 && it->record.event_id != c.event_id) continue;
    if (out.deliveries.size() == limit) {
      out.has_more = true;
      break;
    }
    out.deliveries.push_back(*it);
  }
  return out;
}

WebhookReply Engine::Impl::DeliveryState() const {
  WebhookReply out;
  out.as_of_event_id = outbox_.last_id();
  for (const auto& [id, state] : webhooks_.endpoints()) {
    EndpointWork work;
    work.endpoint = state.endpoint;
    work.unfinished.reserve(state.deliveries.unfinished.size());
    state.deliveries.unfinished.ForEach([&](uint64_t event) {
      work.unfinished.push_back(event);
      return true;
    });
    work.retries.assign(state.deliveries.retries.begin(), state.deliveries.retries.end());
    out.work.push_back(std::move(work));
  }
  return out;
}

void Engine::Impl::ExecuteWebhooks(Request& request, Reply& reply, Group& group) {
  const WebhookCommand& c = *request.webhooks;
  WebhookReply out;
  switch (c.kind) {
    case WebhookCommandKind::create_endpoint:
      out = CreateEndpoint(c, group);
      break;
    case WebhookCommandKind::update_endpoint:
      out = UpdateEndpoint(c, group);
      break;
    case WebhookCommandKind::delete_endpoint:
      out = DeleteEndpoint(c, group);
      break;
    case WebhookCommandKind::list_endpoints:
      for (const auto& [id, state] : webhooks_.endpoints()) out.endpoints.push_back(ViewOf(state));
      break;
    case WebhookCommandKind::get_endpoint:
      if (const WebhookEndpointState* state = webhooks_.Find(c.endpoint_id)) {
        out.endpoints.push_back(ViewOf(*state));
      } else {
        out.error = WebhookError::unknown_endpoint;
      }
      break;
    case WebhookCommandKind::deliveries:
      out = DeliveryLog(c);
      break;
    case WebhookCommandKind::resend:
      out = Resend(c, group);
      break;
    case WebhookCommandKind::publish_test_events:
      out = PublishTestEvents(c, group);
      break;
    case WebhookCommandKind::record_outcomes:
      out = RecordOutcomes(c, group);
      break;
    case WebhookCommandKind::delivery_state:
      out = DeliveryState();
      break;
  }
  reply.webhooks = std::move(out);
}

// ---- Replay -----------------------------------------------------------------------------------

EngineStatus Engine::Impl::ApplyOutboxFact(const journal::RecordView& record) {
  const auto diverged = [&](const std::string& why) {
    return EngineFail(EngineError::replay_diverged,
                      "journal record " + std::to_string(record.sequence.value) + ": " + why);
  };
  switch (static_cast<FactType>(record.type)) {
    case FactType::webhook_endpoint: {
      std::optional<EndpointFact> fact = DecodeEndpointFact(record.bytes);
      if (!fact) return diverged("a webhook endpoint fact that does not decode");
      const bool applied = fact->change == EndpointChange::created   ? webhooks_.Create(fact->endpoint)
                           : fact->change == EndpointChange::updated ? webhooks_.Update(fact->endpoint, outbox_)
                                                                     : webhooks_.Remove(fact->endpoint.id);
      if (!applied) {
        return diverged("a webhook endpoint change that does not fit the endpoints (id " +
                        std::to_string(fact->endpoint.id) + ")");
      }
      return EngineStatus::Ok();
    }
    case FactType::outbox_test_events: {
      std::optional<TestEventsFact> fact = DecodeTestEventsFact(record.bytes);
      if (!fact) return diverged("a test events fact that does not decode");
      if (fact->first_event_id != outbox_.next_id()) {
        return diverged("test events recorded as ids from " + std::to_string(fact->first_event_id) +
                        " replay as ids from " + std::to_string(outbox_.next_id()));
      }
      for (uint32_t i = 0; i < fact->count; ++i) {
        PublishEvent(fact->time_ms, fact->type, kEventFormatJson, BytesOf(fact->body));
      }
      return EngineStatus::Ok();
    }
    case FactType::webhook_deliveries: {
      std::optional<DeliveriesFact> fact = DecodeDeliveriesFact(record.bytes);
      if (!fact) return diverged("a webhook deliveries fact that does not decode");
      for (const DeliveryRecord& r : fact->records) webhooks_.Record(r);
      PruneOutbox(fact->time_ms);
      return EngineStatus::Ok();
    }
    case FactType::webhook_resend: {
      std::optional<ResendFact> fact = DecodeResendFact(record.bytes);
      if (!fact) return diverged("a webhook resend fact that does not decode");
      webhooks_.Resend(fact->endpoint_id, fact->event_id, fact->time_ms);
      return EngineStatus::Ok();
    }
    default:
      return diverged("not an outbox fact");
  }
}

// ---- Snapshot ---------------------------------------------------------------------------------

// Snapshot section: the outbox (Outbox::Save), then the endpoints (WebhookState::Save).
void Engine::Impl::SaveOutboxState(ledger::StateSink& sink) const {
  outbox_.Save(sink);
  webhooks_.Save(sink);
}

bool Engine::Impl::LoadOutboxState(ledger::StateSource& source) {
  return outbox_.Load(source) && webhooks_.Load(source);
}

// ---- Engine (public) ------------------------------------------------------------------------

Reply Engine::ExecuteWebhooks(WebhookCommand command) {
  Request request;
  request.kind = RequestKind::webhooks;
  request.webhooks = std::make_shared<WebhookCommand>(std::move(command));
  return Execute(std::move(request));
}

std::vector<OutboxEventPtr> Engine::ReadEvents(uint64_t after_id, size_t limit) const {
  return impl_->outbox().Read(after_id, limit);
}

OutboxEventPtr Engine::ReadEvent(uint64_t id) const { return impl_->outbox().ReadOne(id); }

std::pair<uint64_t, uint64_t> Engine::EventsWindow() const { return impl_->outbox().Window(); }

uint64_t Engine::SubscribeEvents(std::function<void(uint64_t)> listener) {
  return impl_->SubscribeEvents(std::move(listener));
}

void Engine::UnsubscribeEvents(uint64_t token) { impl_->UnsubscribeEvents(token); }

}  // namespace tpw::engine
