#include "api/webhook_deliverer.h"

#include <pthread.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "api/event_json.h"
#include "api/webhook_body.h"
#include "common/assert.h"

namespace tpw::api {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using OutgoingRequest = http::request<http::string_body>;

// Outcomes per record_outcomes command (the engine takes up to 8192).
constexpr size_t kRecordBatchMax = 4096;
// Outcomes waiting to be journaled beyond which no new attempt starts (the engine is behind).
constexpr size_t kUnrecordedMax = 65536;
// Events read from the outbox at once while looking for new work.
constexpr size_t kScanPage = 4096;
// A re-send of an event whose attempt is in flight waits this long.
constexpr uint64_t kBusyRetryMs = 100;
// Retry of a refused engine submission (its queue was full).
constexpr uint64_t kEngineRetryMs = 10;
// A kept-alive connection idle at least this long may have been closed by the receiver's idle
// timeout: a failure before any answer byte on it is tried once more on a fresh connection.
// On a connection in active use the same failure is the receiver's doing and counts.
constexpr auto kStaleAfterIdle = std::chrono::milliseconds(1000);

std::string Clip(std::string text) {
  if (text.size() > engine::kDeliveryErrorBytesMax) text.resize(engine::kDeliveryErrorBytesMax);
  return text;
}

// What one attempt came to: an HTTP status, or an error (status 0).
struct AttemptResult {
  unsigned status = 0;
  std::string error;
  bool aborted = false;  // closed by the deliverer itself (stopping): not an outcome
};

// One keep-alive connection to an endpoint, one request at a time. Lives on the deliverer's
// thread; its pending operations hold it alive.
class Link : public std::enable_shared_from_this<Link> {
 public:
  using Done = std::function<void(AttemptResult)>;

  explicit Link(net::io_context& context) : resolver_(context), stream_(context) {}

  bool busy() const { return busy_; }

  void Close() {
    closing_ = true;
    resolver_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    connected_ = false;
  }

  void Send(const WebhookUrl& url, std::shared_ptr<const OutgoingRequest> request,
            const WebhookOptions& options, Done done) {
    TPW_ASSERT(!busy_);
    busy_ = true;
    closing_ = false;
    host_ = url.host;
    port_ = url.port;
    request_ = std::move(request);
    done_ = std::move(done);
    timeout_ms_ = options.attempt_timeout_ms;
    body_max_ = options.response_bytes_max;
    reused_ = connected_ && std::chrono::steady_clock::now() - idle_since_ >= kStaleAfterIdle;
    retried_ = false;
    stream_.expires_after(std::chrono::milliseconds(timeout_ms_));
    if (connected_) return Write();
    Connect();
  }

 private:
  void Connect() {
    buffer_.clear();
    resolver_.async_resolve(host_, std::to_string(port_),
                            [self = shared_from_this()](const beast::error_code& ec,
                                                        const tcp::resolver::results_type& results) {
                              if (ec) return self->Fail("resolving the host failed", ec);
                              self->stream_.async_connect(
                                  results, [self](const beast::error_code& connect_ec,
                                                  const tcp::endpoint&) {
                                    if (connect_ec) return self->Fail("connecting failed", connect_ec);
                                    self->connected_ = true;
                                    beast::error_code ignored;
                                    self->stream_.socket().set_option(tcp::no_delay(true), ignored);
                                    self->Write();
                                  });
                            });
  }

  void Write() {
    http::async_write(stream_, *request_,
                      [self = shared_from_this()](const beast::error_code& ec, size_t) {
                        if (ec) return self->Stale(ec) ? self->Reconnect() : self->Fail("sending failed", ec);
                        self->Read();
                      });
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(body_max_);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](const beast::error_code& ec, size_t) {
                       self->OnRead(ec);
                     });
  }

  void OnRead(const beast::error_code& ec) {
    if (ec == http::error::body_limit && parser_->is_header_done()) {
      const unsigned status = parser_->get().result_int();
      Close();  // the rest of the body is not read: the connection is out of step
      return Finish({status, "", false});
    }
    if (ec) {
      const bool nothing = !parser_->got_some();
      if (nothing && Stale(ec)) return Reconnect();
      return Fail(nothing ? "the connection closed before an answer" : "reading the answer failed", ec);
    }
    const unsigned status = parser_->get().result_int();
    if (!parser_->get().keep_alive()) Close();
    Finish({status, "", false});
  }

  // A kept-alive connection the receiver closed while it was idle fails at once on reuse; that
  // is no attempt: one fresh connection is tried (within the same deadline).
  bool Stale(const beast::error_code& ec) const {
    return reused_ && !retried_ && !closing_ && ec != beast::error::timeout;
  }

  void Reconnect() {
    retried_ = true;
    beast::error_code ignored;
    stream_.socket().close(ignored);
    connected_ = false;
    Connect();
  }

  void Fail(std::string_view what, const beast::error_code& ec) {
    const bool aborted = closing_ || ec == net::error::operation_aborted;
    std::string error =
        ec == beast::error::timeout
            ? "timed out after " + std::to_string(timeout_ms_) + " ms (" + std::string(what) + ")"
            : std::string(what) + ": " + ec.message();
    Close();
    Finish({0, Clip(std::move(error)), aborted && ec != beast::error::timeout});
  }

  void Finish(AttemptResult result) {
    busy_ = false;
    idle_since_ = std::chrono::steady_clock::now();
    stream_.expires_never();
    request_.reset();
    Done done = std::move(done_);
    done_ = nullptr;
    done(std::move(result));
  }

  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::shared_ptr<const OutgoingRequest> request_;
  Done done_;
  std::string host_;
  uint16_t port_ = 0;
  uint32_t timeout_ms_ = 0;
  uint32_t body_max_ = 0;
  std::chrono::steady_clock::time_point idle_since_;
  bool busy_ = false;
  bool connected_ = false;
  bool reused_ = false;
  bool retried_ = false;
  bool closing_ = false;
};

// An event's attempts so far at one endpoint, and when its give-up age started.
struct EventWork {
  uint32_t attempts = 0;
  uint64_t since_ms = 0;  // 0: the event's own time
};

// One endpoint's state on the deliverer's thread. An unfinished event is in exactly one of
// `fresh` (never attempted in this run, nothing scheduled), `retries` (due at a time) or
// `in_flight`; `work` has an entry for those of the last two.
struct Target {
  engine::WebhookEndpoint endpoint;
  std::optional<WebhookUrl> url;
  std::string secret_text;
  std::string previous_secret_text;  // signs too until endpoint.previous_secret_expires_ms
  uint64_t scanned_to = 0;  // outbox ids up to here were looked at for `fresh`
  std::deque<uint64_t> fresh;  // ascending
  std::set<std::pair<uint64_t, uint64_t>> retries;  // (due ms, event id)
  std::unordered_map<uint64_t, uint64_t> retry_due;  // event id → due ms (its key in `retries`)
  std::unordered_map<uint64_t, EventWork> work;
  std::unordered_set<uint64_t> in_flight;
  std::vector<std::shared_ptr<Link>> links;
  uint32_t failure_rounds = 0;  // failures in a row, counted once per pause
  uint64_t paused_until_ms = 0;
  uint64_t pause_set_ms = 0;

  void Schedule(uint64_t event, uint64_t due_ms) {
    Unschedule(event);
    retries.emplace(due_ms, event);
    retry_due[event] = due_ms;
  }
  void Unschedule(uint64_t event) {
    auto it = retry_due.find(event);
    if (it == retry_due.end()) return;
    retries.erase({it->second, event});
    retry_due.erase(it);
  }
  void RemoveFresh(uint64_t event) {
    auto it = std::lower_bound(fresh.begin(), fresh.end(), event);
    if (it != fresh.end() && *it == event) fresh.erase(it);
  }
  void CloseIdleLinks() {
    std::erase_if(links, [](const std::shared_ptr<Link>& link) {
      if (link->busy()) return false;
      link->Close();
      return true;
    });
  }
};

}  // namespace

uint64_t WallMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

class WebhookDeliverer::Impl {
 public:
  Impl(engine::Engine& engine, WebhookOptions options)
      : engine_(engine),
        options_(options),
        guard_(context_.get_executor()),
        timer_(context_),
        random_(std::random_device{}()) {
    TPW_ASSERT(options_.connections_per_endpoint >= 1 && options_.backoff_base_ms >= 1);
  }

  ~Impl() { Stop(); }

  void Start() {
    TPW_ASSERT(!thread_.joinable());
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "tpw-webhooks");
      context_.run();
    });
    net::post(context_, [this] { RequestState(); });
  }

  void BeginStop() {
    net::post(context_, [this] {
      stopping_ = true;
      timer_.cancel();
      for (auto& [id, target] : targets_) target.CloseIdleLinks();
    });
  }

  void Stop() {
    std::lock_guard stop_lock(stop_mutex_);
    if (stopped_ || !thread_.joinable()) {
      stopped_ = true;
      return;
    }
    BeginStop();
    // Attempts in flight may finish (and their outcomes count) within the grace period.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.stop_grace_ms);
    while (in_flight_.load() != 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    net::post(context_, [this] {
      for (auto& [id, target] : targets_) {
        for (const auto& link : target.links) link->Close();
      }
      Flush();
      guard_.reset();
      context_.stop();
    });
    thread_.join();
    SubmitRemainingBlocking();
    std::unique_lock lock(records_mutex_);
    records_done_.wait(lock, [&] { return records_in_engine_ == 0; });
    stopped_ = true;
  }

  void EndpointsChanged() {
    net::post(context_, [this] { RequestState(); });
  }

  void Resend(uint64_t endpoint_id, uint64_t event_id) {
    net::post(context_, [this, endpoint_id, event_id] {
      auto it = targets_.find(endpoint_id);
      if (it == targets_.end() || !it->second.endpoint.enabled) return;
      Target& t = it->second;
      const uint64_t now = WallMs();
      t.RemoveFresh(event_id);
      t.work[event_id] = EventWork{0, now};
      t.Schedule(event_id, t.in_flight.contains(event_id) ? now + kBusyRetryMs : now);
      Pump(t);
      ArmTimer();
    });
  }

  void OnEventsDurable(uint64_t) {
    if (scan_posted_.exchange(true)) return;
    net::post(context_, [this] {
      scan_posted_.store(false);
      // While the endpoints are being reloaded (an endpoint changed), new events wait for the
      // new state: scanned now they would go out under the old url, secret or filter, even when
      // they were published after the change was acknowledged. Reconcile scans them.
      if (state_pending_) return;
      for (auto& [id, target] : targets_) {
        Scan(target);
        Pump(target);
      }
      ArmTimer();
    });
  }

  DelivererStats Stats() const {
    DelivererStats s;
    s.delivered = delivered_.load();
    s.failed_attempts = failed_.load();
    s.given_up = given_up_.load();
    s.in_flight = in_flight_.load();
    s.queued = queued_.load();
    s.unrecorded = unrecorded_.load();
    s.record_failures = record_failures_.load();
    return s;
  }

 private:
  // ---- Loading the work from the engine

  // Journals the outcomes so far, then asks for every endpoint's work: the engine answers in
  // queue order, so the work it sends includes them.
  void RequestState() {
    if (stopping_) return;
    if (state_pending_) {
      reload_wanted_ = true;
      return;
    }
    Flush();
    if (!outcomes_.empty()) return RetryLater([this] { RequestState(); });
    engine::Request request;
    request.kind = engine::RequestKind::webhooks;
    request.webhooks = std::make_shared<engine::WebhookCommand>();
    request.webhooks->kind = engine::WebhookCommandKind::delivery_state;
    request.done = [this](engine::Reply&& reply) {
      net::post(context_, [this, reply = std::move(reply)]() mutable {
        state_pending_ = false;
        if (reply.error || !reply.webhooks) return RetryLater([this] { RequestState(); });
        Reconcile(std::move(*reply.webhooks));
      });
    };
    state_pending_ = true;
    late_outcomes_.clear();
    if (!engine_.TrySubmit(request)) {
      state_pending_ = false;
      RetryLater([this] { RequestState(); });
    }
  }

  void RetryLater(std::function<void()> work) {
    auto timer = std::make_shared<net::steady_timer>(context_, std::chrono::milliseconds(kEngineRetryMs));
    timer->async_wait([timer, work = std::move(work)](const beast::error_code& ec) {
      if (!ec) work();
    });
  }

  void Reconcile(engine::WebhookReply state) {
    std::unordered_set<uint64_t> seen;
    for (engine::EndpointWork& w : state.work) {
      seen.insert(w.endpoint.id);
      Rebuild(targets_[w.endpoint.id], w, state.as_of_event_id);
    }
    std::erase_if(targets_, [&](auto& entry) {
      if (seen.contains(entry.first)) return false;
      for (const auto& link : entry.second.links) link->Close();
      return true;
    });
    // Outcomes that arrived after the state was read are not in it.
    for (const engine::DeliveryRecord& r : late_outcomes_) Reapply(r);
    late_outcomes_.clear();
    loaded_ = true;
    if (reload_wanted_) {
      reload_wanted_ = false;
      RequestState();
      if (state_pending_) return ArmTimer();  // a newer state is coming: scan with that one
    }
    for (auto& [id, target] : targets_) {
      Scan(target);
      Pump(target);
    }
    ArmTimer();
  }

  void Rebuild(Target& t, const engine::EndpointWork& w, uint64_t as_of) {
    if (t.endpoint.url != w.endpoint.url || !t.url) {
      // Busy links finish their attempt at the old address and are not used again (their
      // pending operations hold them until then).
      t.CloseIdleLinks();
      t.links.clear();
      ApiResult<WebhookUrl> url = ParseWebhookUrl(w.endpoint.url);
      t.url = url.ok() ? std::optional<WebhookUrl>(url.value()) : std::nullopt;
    }
    t.endpoint = w.endpoint;
    t.secret_text = SecretText(w.endpoint.secret);
    t.previous_secret_text = SecretText(w.endpoint.previous_secret);
    std::unordered_map<uint64_t, EventWork> work;
    for (const uint64_t id : t.in_flight) {
      if (auto it = t.work.find(id); it != t.work.end()) work.emplace(id, it->second);
    }
    t.fresh.clear();
    t.retries.clear();
    t.retry_due.clear();
    for (const auto& [id, retry] : w.retries) {
      work[id] = EventWork{retry.attempts, retry.since_ms};
      if (!t.in_flight.contains(id)) t.Schedule(id, retry.next_retry_ms);
    }
    for (const uint64_t id : w.unfinished) {
      if (!work.contains(id) && !t.in_flight.contains(id)) t.fresh.push_back(id);
    }
    t.work = std::move(work);
    t.scanned_to = as_of;
    if (!t.endpoint.enabled) {
      t.fresh.clear();
      t.retries.clear();
      t.retry_due.clear();
    }
  }

  void Reapply(const engine::DeliveryRecord& r) {
    auto it = targets_.find(r.endpoint_id);
    if (it == targets_.end()) return;
    Target& t = it->second;
    t.RemoveFresh(r.event_id);
    if (r.outcome == engine::DeliveryOutcome::failed && t.endpoint.enabled) {
      t.work[r.event_id].attempts = r.attempt;
      if (!t.in_flight.contains(r.event_id)) t.Schedule(r.event_id, r.next_retry_ms);
    } else if (!t.in_flight.contains(r.event_id)) {
      t.Unschedule(r.event_id);
      t.work.erase(r.event_id);
    }
  }

  // ---- Finding and starting work

  void Scan(Target& t) {
    if (!loaded_ || !t.endpoint.enabled) return;
    while (true) {
      const std::vector<engine::OutboxEventPtr> events = engine_.ReadEvents(t.scanned_to, kScanPage);
      for (const engine::OutboxEventPtr& e : events) {
        t.scanned_to = e->id;
        if (e->id <= t.endpoint.created_after_event || t.work.contains(e->id) ||
            t.in_flight.contains(e->id)) {
          continue;
        }
        if (engine::EventTypeMatches(t.endpoint.filter, e->type)) t.fresh.push_back(e->id);
      }
      if (events.size() < kScanPage) break;
    }
  }

  // Starts attempts while the endpoint has free connections and due work.
  // An endpoint whose url does not parse (a journal of another build) waits, attempting nothing.
  void Pump(Target& t) {
    if (stopping_ || !loaded_ || !t.endpoint.enabled || !t.url) return;
    if (outcomes_.size() >= kUnrecordedMax) return;
    const uint64_t now = WallMs();
    while (t.in_flight.size() < options_.connections_per_endpoint) {
      const bool retry_due = !t.retries.empty() && t.retries.begin()->first <= now;
      if (!retry_due && (t.fresh.empty() || now < t.paused_until_ms)) break;
      const uint64_t id = retry_due ? t.retries.begin()->second : t.fresh.front();
      if (retry_due && t.in_flight.contains(id)) {
        t.Schedule(id, now + kBusyRetryMs);
        continue;
      }
      const engine::OutboxEventPtr event = engine_.ReadEvent(id);
      if (event == nullptr && id > engine_.EventsWindow().second) break;  // not durable yet
      if (retry_due) {
        t.Unschedule(id);
      } else {
        t.fresh.pop_front();
      }
      if (event == nullptr) {  // dropped from the outbox over its cap (the engine counted it)
        t.work.erase(id);
        continue;
      }
      if (!retry_due && t.work.contains(id)) continue;  // scheduled by a re-send meanwhile
      StartAttempt(t, event, now);
    }
  }

  std::shared_ptr<const OutgoingRequest> MakeRequest(const Target& t, const engine::OutboxEvent& event,
                                                     uint64_t now_ms) {
    auto request = std::make_shared<OutgoingRequest>(http::verb::post, t.url->target, 11);
    request->set(http::field::host, t.url->host_header);
    request->set(http::field::user_agent, "tpwallet-webhooks/1");
    request->set(http::field::content_type, "application/json");
    request->keep_alive(true);
    request->body() = EventJson(event);
    request->set("TPW-Signature",
                 EndpointSignatureHeader(t.secret_text, t.previous_secret_text,
                                         t.endpoint.previous_secret_expires_ms, now_ms,
                                         request->body()));
    request->set("TPW-Event-Id", EventIdText(event.id));
    request->prepare_payload();
    return request;
  }

  void StartAttempt(Target& t, const engine::OutboxEventPtr& event, uint64_t now) {
    EventWork& work = t.work[event->id];
    const uint32_t attempt = work.attempts + 1;
    std::shared_ptr<Link> link;
    for (const auto& candidate : t.links) {
      if (!candidate->busy()) {
        link = candidate;
        break;
      }
    }
    if (link == nullptr) {
      link = std::make_shared<Link>(context_);
      t.links.push_back(link);
    }
    t.in_flight.insert(event->id);
    in_flight_.fetch_add(1);
    link->Send(*t.url, MakeRequest(t, *event, now), options_,
               [this, endpoint = t.endpoint.id, event, attempt, now](AttemptResult r) {
                 in_flight_.fetch_sub(1);
                 OnAttempt(endpoint, event, attempt, now, std::move(r));
               });
  }

  // ---- Outcomes

  void OnAttempt(uint64_t endpoint_id, const engine::OutboxEventPtr& event, uint32_t attempt,
                 uint64_t started_ms, AttemptResult r) {
    auto it = targets_.find(endpoint_id);
    Target* t = it == targets_.end() ? nullptr : &it->second;
    if (t != nullptr) t->in_flight.erase(event->id);
    if (r.aborted || stopping_) {
      // Closed by us while stopping: no outcome; the event is attempted again after a restart.
      if (!r.aborted && r.status >= 200 && r.status < 300) {
        AddOutcome(Record(endpoint_id, event->id, attempt, started_ms, r));
      }
      return;
    }
    if (t != nullptr && !t->endpoint.enabled) t = nullptr;  // disabled meanwhile: schedule nothing
    engine::DeliveryRecord record = Record(endpoint_id, event->id, attempt, started_ms, r);
    if (r.status >= 200 && r.status < 300) {
      delivered_.fetch_add(1);
      if (t != nullptr) {
        t->work.erase(event->id);
        t->failure_rounds = 0;
        t->paused_until_ms = 0;
      }
    } else {
      Failed(t, *event, record, started_ms);
    }
    AddOutcome(std::move(record));
    if (t != nullptr) Pump(*t);
    ArmTimer();
  }

  engine::DeliveryRecord Record(uint64_t endpoint_id, uint64_t event_id, uint32_t attempt,
                                uint64_t started_ms, const AttemptResult& r) {
    engine::DeliveryRecord record;
    record.endpoint_id = endpoint_id;
    record.event_id = event_id;
    record.time_ms = WallMs();
    record.attempt = attempt;
    record.http_status = static_cast<uint16_t>(std::min(r.status, 999u));
    record.duration_ms = static_cast<uint32_t>(std::min<uint64_t>(record.time_ms - std::min(record.time_ms, started_ms), UINT32_MAX));
    record.outcome = engine::DeliveryOutcome::delivered;
    if (r.status < 200 || r.status >= 300) {
      record.error = r.error.empty() ? Clip("HTTP " + std::to_string(r.status)) : r.error;
    }
    return record;
  }

  // A failed attempt: given up once the event is old enough, else scheduled again; the
  // endpoint pauses new events.
  void Failed(Target* t, const engine::OutboxEvent& event, engine::DeliveryRecord& record,
              uint64_t started_ms) {
    const uint64_t now = record.time_ms;
    EventWork* work = t != nullptr ? &t->work[event.id] : nullptr;
    const uint64_t since = work != nullptr && work->since_ms != 0 ? work->since_ms : event.time_ms;
    if (now >= since && now - since >= options_.give_up_after_ms) {
      record.outcome = engine::DeliveryOutcome::given_up;
      given_up_.fetch_add(1);
      if (t != nullptr) t->work.erase(event.id);
    } else {
      record.outcome = engine::DeliveryOutcome::failed;
      record.next_retry_ms = now + Backoff(record.attempt, true);
      failed_.fetch_add(1);
      if (t != nullptr) {
        work->attempts = record.attempt;
        t->Schedule(event.id, record.next_retry_ms);
      }
    }
    if (t != nullptr && started_ms >= t->pause_set_ms) {
      ++t->failure_rounds;
      t->pause_set_ms = now;
      t->paused_until_ms = now + Backoff(t->failure_rounds, false);
    }
  }

  // min(base × 2^(n-1), max), plus up to a quarter more when `jitter`.
  uint64_t Backoff(uint32_t n, bool jitter) {
    const uint32_t shift = std::min<uint32_t>(n - 1, 40);
    const uint64_t delay = std::min<uint64_t>(uint64_t{options_.backoff_base_ms} << shift, options_.backoff_max_ms);
    if (!jitter) return delay;
    return delay + std::uniform_int_distribution<uint64_t>(0, delay / 4)(random_);
  }

  void AddOutcome(engine::DeliveryRecord record) {
    if (state_pending_) late_outcomes_.push_back(record);
    if (outcomes_.empty()) {
      next_flush_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.record_interval_ms);
    }
    outcomes_.push_back(std::move(record));
    unrecorded_.fetch_add(1);
    if (outcomes_.size() >= kRecordBatchMax) Flush();
  }

  // Submits the waiting outcomes (kRecordBatchMax per fact); what the full engine queue refuses
  // stays for the next time.
  void Flush() {
    while (!outcomes_.empty()) {
      size_t n = 0;
      engine::Request request = NextRecordRequest(n);
      if (!engine_.TrySubmit(request)) {
        std::lock_guard lock(records_mutex_);
        --records_in_engine_;
        next_flush_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(kEngineRetryMs);
        return;
      }
      outcomes_.erase(outcomes_.begin(), outcomes_.begin() + static_cast<ptrdiff_t>(n));
    }
  }

  // A record_outcomes request for the first (up to kRecordBatchMax, `n`) waiting outcomes,
  // counted as in the engine. Its reply runs on an engine thread and only counts: the
  // deliverer may be stopping.
  engine::Request NextRecordRequest(size_t& n) {
    n = std::min(outcomes_.size(), kRecordBatchMax);
    std::vector<engine::DeliveryRecord> records(outcomes_.begin(),
                                                outcomes_.begin() + static_cast<ptrdiff_t>(n));
    {
      std::lock_guard lock(records_mutex_);
      ++records_in_engine_;
    }
    engine::Request request;
    request.kind = engine::RequestKind::webhooks;
    request.webhooks = std::make_shared<engine::WebhookCommand>();
    request.webhooks->kind = engine::WebhookCommandKind::record_outcomes;
    request.webhooks->records = std::move(records);
    request.done = [this, n = n](engine::Reply&& reply) {
      const bool ok = !reply.error && reply.webhooks && reply.webhooks->error == engine::WebhookError::ok;
      if (!ok) record_failures_.fetch_add(1);
      unrecorded_.fetch_sub(n);
      std::lock_guard lock(records_mutex_);
      --records_in_engine_;
      records_done_.notify_all();
    };
    return request;
  }

  // After the thread ended: what Flush could not submit goes now, waiting for queue space.
  void SubmitRemainingBlocking() {
    while (!outcomes_.empty()) {
      size_t n = 0;
      engine_.Submit(NextRecordRequest(n));
      outcomes_.erase(outcomes_.begin(), outcomes_.begin() + static_cast<ptrdiff_t>(n));
    }
  }

  // ---- The timer: the next retry, the end of a pause, the next flush

  void ArmTimer() {
    if (stopping_) return;
    using Steady = std::chrono::steady_clock;
    const uint64_t now = WallMs();
    std::optional<uint64_t> wake_ms;
    const auto consider = [&](uint64_t at) { wake_ms = wake_ms ? std::min(*wake_ms, at) : at; };
    uint64_t queued = 0;
    for (const auto& [id, t] : targets_) {
      queued += t.fresh.size() + t.retries.size();
      if (!t.endpoint.enabled || t.in_flight.size() >= options_.connections_per_endpoint) continue;
      if (!t.retries.empty()) consider(t.retries.begin()->first);
      if (!t.fresh.empty() && t.paused_until_ms > now) consider(t.paused_until_ms);
    }
    queued_.store(queued);
    Steady::time_point at = Steady::time_point::max();
    if (wake_ms) at = Steady::now() + std::chrono::milliseconds(*wake_ms > now ? *wake_ms - now : 0);
    if (!outcomes_.empty()) at = std::min(at, next_flush_);
    if (at == Steady::time_point::max() || (timer_armed_ && at >= armed_at_)) return;
    timer_armed_ = true;
    armed_at_ = at;
    timer_.expires_at(at);
    timer_.async_wait([this](const beast::error_code& ec) {
      if (ec) return;  // re-armed (cancelled) or stopping
      timer_armed_ = false;
      if (!outcomes_.empty() && std::chrono::steady_clock::now() >= next_flush_) Flush();
      for (auto& [id, target] : targets_) Pump(target);
      ArmTimer();
    });
  }

  engine::Engine& engine_;
  const WebhookOptions options_;
  net::io_context context_;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  net::steady_timer timer_;
  bool timer_armed_ = false;
  std::chrono::steady_clock::time_point armed_at_;
  std::thread thread_;
  std::mt19937_64 random_;

  // Deliverer thread only.
  std::map<uint64_t, Target> targets_;
  std::vector<engine::DeliveryRecord> outcomes_;       // not yet submitted
  std::vector<engine::DeliveryRecord> late_outcomes_;  // produced while a state request is out
  std::chrono::steady_clock::time_point next_flush_;  // when `outcomes_` is submitted
  bool loaded_ = false;
  bool stopping_ = false;
  bool state_pending_ = false;
  bool reload_wanted_ = false;
  std::atomic<bool> scan_posted_{false};

  // Outcome batches submitted and not yet answered (Stop waits for none).
  std::mutex records_mutex_;
  std::condition_variable records_done_;
  uint64_t records_in_engine_ = 0;

  std::mutex stop_mutex_;
  bool stopped_ = false;

  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> given_up_{0};
  std::atomic<uint64_t> in_flight_{0};
  std::atomic<uint64_t> queued_{0};
  std::atomic<uint64_t> unrecorded_{0};
  std::atomic<uint64_t> record_failures_{0};
};

WebhookDeliverer::WebhookDeliverer(engine::Engine& engine, WebhookOptions options)
    : impl_(std::make_unique<Impl>(engine, options)) {}
WebhookDeliverer::~WebhookDeliverer() { impl_->Stop(); }
void WebhookDeliverer::Start() { impl_->Start(); }
void WebhookDeliverer::BeginStop() { impl_->BeginStop(); }
void WebhookDeliverer::Stop() { impl_->Stop(); }
void WebhookDeliverer::EndpointsChanged() { impl_->EndpointsChanged(); }
void WebhookDeliverer::Resend(uint64_t endpoint_id, uint64_t event_id) {
  impl_->Resend(endpoint_id, event_id);
}
void WebhookDeliverer::OnEventsDurable(uint64_t durable_id) { impl_->OnEventsDurable(durable_id); }
DelivererStats WebhookDeliverer::Stats() const { return impl_->Stats(); }

}  // namespace tpw::api
