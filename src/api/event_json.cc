#include "api/event_json.h"

#include <array>
#include <shared_mutex>

#include "api/webhook_body.h"
#include "crypto/base64.h"

namespace tpw::api {
namespace {

struct Registry {
  std::shared_mutex mutex;
  std::array<EventRenderer, 256> renderers;
};

Registry& Renderers() {
  static Registry registry;
  return registry;
}

}  // namespace

void RegisterEventRenderer(uint8_t format, EventRenderer render_json_object) {
  Registry& registry = Renderers();
  std::unique_lock lock(registry.mutex);
  registry.renderers[format] = std::move(render_json_object);
}

std::string EventDataJson(const engine::OutboxEvent& event) {
  const std::span<const uint8_t> payload(event.payload);
  if (event.format == engine::kEventFormatJson) {
    return payload.empty() ? std::string("{}") : std::string(payload.begin(), payload.end());
  }
  {
    Registry& registry = Renderers();
    std::shared_lock lock(registry.mutex);
    if (const EventRenderer& render = registry.renderers[event.format]) return render(payload);
  }
  return "{\"format\":" + std::to_string(event.format) + ",\"payload\":\"" +
         crypto::Base64UrlEncode(payload) + "\"}";
}

std::string EventJson(const engine::OutboxEvent& event) {
  // The type is [a-z0-9_.] (engine::ValidEventType): no escaping needed.
  std::string out = "{\"id\":\"";
  out += EventIdText(event.id);
  out += "\",\"type\":\"";
  out += event.type;
  out += "\",\"created\":";
  out += std::to_string(event.time_ms / 1000);
  out += ",\"data\":";
  out += EventDataJson(event);
  out += '}';
  return out;
}

}  // namespace tpw::api
