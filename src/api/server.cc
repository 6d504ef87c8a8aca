#include "api/server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/serializer.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "api/access_log.h"
#include "api/event_json.h"
#include "api/event_stream.h"
#include "api/payments_json.h"
#include "api/webhook_deliverer.h"
#include "common/assert.h"

namespace tpw::api {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

uint64_t NowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

// Bytes read at once while waiting for a request to begin.
constexpr size_t kReadChunkBytes = 16 * 1024;
// Bytes read at most at once while a request is incomplete (what Beast's http::read uses).
constexpr size_t kParseReadBytesMax = 64 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool IsHttpParseError(const beast::error_code& ec) {
  return &ec.category() == &beast::http::make_error_code(http::error::bad_method).category();
}

ApiError ReadError(http::status status, std::string code, std::string message) {
  return ApiError{status, error_type::kInvalidRequest, std::move(code), std::move(message), ""};
}

}  // namespace

// What every connection shares; owned by Server::Impl, outlives every connection.
struct Shared {
  Shared(engine::Engine& engine, const AssetTable& assets, ServerOptions opts, uint32_t threads)
      : options(std::move(opts)),
        metrics(threads),
        service(engine, assets, metrics),
        event_hub(engine, options.event_streams) {
    if (options.webhooks.enabled) {
      deliverer = std::make_unique<WebhookDeliverer>(engine, options.webhooks);
    }
    service.SetEvents(&event_hub, deliverer.get());
  }

  ServerOptions options;
  Metrics metrics;
  Service service;
  EventHub event_hub;
  std::unique_ptr<WebhookDeliverer> deliverer;  // null when options.webhooks.enabled is false
  AccessLog access_log;
  std::mutex connections_mutex;  // connect and disconnect only, never per request
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;
  std::atomic<bool> stopping{false};
  // Set (under connections_mutex) when stopping: called once no connection is left.
  std::function<void()> on_last_connection_closed;
};

// One client connection, owned by one I/O thread: every member is touched only there.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Shared& shared, uint32_t thread)
      : socket_(std::move(socket)), deadline_(socket_.get_executor()),
        heartbeat_(socket_.get_executor()), shared_(shared), thread_(thread),
        deadline_step_(std::chrono::milliseconds(
            std::min({shared.options.read_timeout_ms, shared.options.idle_timeout_ms,
                      shared.options.write_timeout_ms}))) {
    beast::error_code ec;
    const tcp::endpoint peer = socket_.remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string() + ":" + std::to_string(peer.port());
    socket_.set_option(tcp::no_delay(true), ec);
    // Responses are first written with one non-blocking send (WriteAtOnce); Asio's own
    // operations work the same on a non-blocking socket.
    socket_.non_blocking(true, ec);
  }

  ~Connection() {
    shared_.metrics.ConnectionClosed();
    std::function<void()> on_last;
    {
      std::lock_guard lock(shared_.connections_mutex);
      shared_.connections.erase(this);
      if (shared_.connections.empty()) on_last = shared_.on_last_connection_closed;
    }
    if (on_last) on_last();
  }

  net::any_io_executor executor() { return socket_.get_executor(); }
  net::io_context::executor_type context_executor() {
    return *socket_.get_executor().target<net::io_context::executor_type>();
  }

  void Start() {
    shared_.metrics.ConnectionOpened();
    {
      std::lock_guard lock(shared_.connections_mutex);
      shared_.connections.emplace(this, weak_from_this());
    }
    if (shared_.stopping.load()) return Close();
    WaitForRequest();
  }

  // Graceful shutdown: no new requests; the one being read or handled is still answered; a
  // stream ends with its source's goodbye.
  void Drain() {
    draining_ = true;
    if (phase_ == Phase::idle) Close();
    if (phase_ == Phase::streaming) PumpStream();
  }

  // Forced close at the end of the shutdown grace period.
  void ForceClose() { Close(); }

  void Respond(HttpResponse response);
  void StartStream(HttpResponse header, std::shared_ptr<StreamSource> source,
                   StreamSettings settings);

 private:
  enum class Phase { idle, reading, handling, writing, streaming, closed };

  void WaitForRequest();
  void OnFirstBytes(const beast::error_code& ec, size_t n);
  void ReadRequest();
  void ParseBuffered();
  bool AnswerExpectContinue();
  void ReadMore();
  void OnMoreBytes(const beast::error_code& ec, size_t n);
  void OnRequest();
  void ReadFailed(const beast::error_code& ec);
  void Dispatch();
  bool WriteAtOnce();
  void OnWrite(const beast::error_code& ec);
  void ArmDeadline(uint32_t ms);
  void ClearDeadline();
  void WaitForDeadline(Clock::time_point at);
  void OnDeadlineTimer();
  void ReplyGiven();
  void Close();
  void LogAndCount(const HttpResponse& response);
  // ---- streaming (Responder::Stream)
  void PumpStream();
  void WriteChunk(const std::string& part, bool last);
  void OnStreamWritten(const beast::error_code& ec);
  void ArmHeartbeat();
  void WatchForClose();

  tcp::socket socket_;
  // One lazily re-armed timer for the phase's deadline (ArmDeadline): a phase change only
  // moves deadline_at_; the timer wakes at most every deadline_step_ and re-arms itself.
  net::steady_timer deadline_;
  Clock::time_point deadline_at_ = Clock::time_point::max();  // max(): no deadline now
  bool deadline_waiting_ = false;  // an async_wait is pending on deadline_
  // Keeps the I/O thread's loop running while the engine owes this connection a reply (from
  // Dispatch to Respond/StartStream): a late reply always finds its io_context running.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> reply_owed_;
  beast::flat_buffer buffer_;
  std::string response_head_;  // status line and headers of the response written at once
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest request_;
  RouteMatch match_;
  HttpResponse response_;
  // Streaming: the source, the header being written, the chunk being written.
  std::shared_ptr<StreamSource> stream_;
  StreamSettings stream_settings_;
  net::steady_timer heartbeat_;
  std::optional<http::response<http::empty_body>> stream_header_;
  std::optional<http::response_serializer<http::empty_body>> header_serializer_;
  std::string chunk_;
  std::array<char, 512> discard_{};
  bool stream_writing_ = false;
  bool stream_last_ = false;
  Phase phase_ = Phase::idle;
  bool keep_alive_ = false;
  bool draining_ = false;
  bool timed_out_ = false;
  bool continue_checked_ = false;  // this request's header was looked at for Expect
  uint64_t started_ns_ = 0;
  Shared& shared_;
  const uint32_t thread_;
  // The shortest of the read, idle and write timeouts: the deadline timer never waits longer,
  // so a new phase's deadline (always at least this far ahead) never needs a re-arm.
  const Clock::duration deadline_step_;
  std::string remote_;
};

// ---- Reading --------------------------------------------------------------------------------

void Connection::WaitForRequest() {
  phase_ = Phase::idle;
  if (draining_) return Close();
  if (buffer_.size() > 0) {
    // A pipelined request is already here. Parsed from a handler of its own, not on this call
    // stack: a request is parsed where its bytes are found (ParseBuffered), and a burst of
    // pipelined requests answered at once (404s, 401s) would otherwise nest one call chain per
    // request in the buffer.
    return net::post(executor(), [self = shared_from_this()] {
      if (self->phase_ == Phase::idle) self->ReadRequest();  // else closed meanwhile
    });
  }
  ArmDeadline(shared_.options.idle_timeout_ms);
  socket_.async_read_some(buffer_.prepare(kReadChunkBytes),
                          [self = shared_from_this()](const beast::error_code& ec, size_t n) {
                            self->OnFirstBytes(ec, n);
                          });
}

void Connection::OnFirstBytes(const beast::error_code& ec, size_t n) {
  buffer_.commit(n);
  if (ec || n == 0) return Close();  // idle timeout, client gone, or shutdown
  ReadRequest();
}

// Parses the request from the bytes already buffered, on this call stack, and reads from the
// socket only when the parser needs more: a request that arrived whole (nearly all of them)
// costs no composed read operation and no posted completion. The steps, limits and errors are
// Beast's http::async_read_header then http::async_read (the header without eagerness, then
// the body eagerly; the same read sizes; end of stream the same), so a request is refused
// exactly as before.
void Connection::ReadRequest() {
  phase_ = Phase::reading;
  parser_.emplace();
  parser_->header_limit(shared_.options.header_bytes_max);
  parser_->body_limit(shared_.options.body_bytes_max);
  parser_->eager(false);
  continue_checked_ = false;
  ArmDeadline(shared_.options.read_timeout_ms);
  ParseBuffered();
}

void Connection::ParseBuffered() {
  for (;;) {
    beast::error_code ec = http::error::need_more;
    if (buffer_.size() != 0) buffer_.consume(parser_->put(buffer_.data(), ec));
    if (ec == http::error::need_more) return ReadMore();
    if (ec) return ReadFailed(ec);
    if (!continue_checked_ && parser_->is_header_done()) {
      continue_checked_ = true;
      parser_->eager(true);
      if (AnswerExpectContinue()) return;
    }
    if (parser_->is_done()) return OnRequest();
  }
}

// curl asks before sending a body over 1 KiB; answer at once rather than make it wait. True
// when the answer is being written (parsing goes on once it is).
bool Connection::AnswerExpectContinue() {
  const auto expect = parser_->get()[http::field::expect];
  if (!beast::iequals(expect, "100-continue")) return false;
  net::async_write(socket_, net::buffer(kContinue.data(), kContinue.size()),
                   [self = shared_from_this()](const beast::error_code& write_ec, size_t) {
                     if (write_ec) return self->Close();
                     self->ParseBuffered();
                   });
  return true;
}

void Connection::ReadMore() {
  const size_t size = beast::read_size(buffer_, kParseReadBytesMax);
  if (size == 0) return ReadFailed(http::error::buffer_overflow);
  socket_.async_read_some(buffer_.prepare(size),
                          [self = shared_from_this()](const beast::error_code& ec, size_t n) {
                            self->OnMoreBytes(ec, n);
                          });
}

void Connection::OnMoreBytes(const beast::error_code& ec, size_t n) {
  buffer_.commit(n);
  if (ec == net::error::eof) {
    if (!parser_->got_some()) return ReadFailed(http::error::end_of_stream);
    beast::error_code eof_ec;
    parser_->put_eof(eof_ec);  // a message that ends with the stream, or partial_message
    if (eof_ec) return ReadFailed(eof_ec);
    return OnRequest();
  }
  if (ec) return ReadFailed(ec);
  ParseBuffered();
}

void Connection::OnRequest() {
  TPW_ASSERT(parser_->is_done());
  ClearDeadline();
  request_ = parser_->release();
  parser_.reset();
  keep_alive_ = request_.keep_alive();
  started_ns_ = NowNs();
  Dispatch();
}

// A request that could not be read: answered with the reason when the client can still hear
// it, and the connection is closed after (its byte stream is no longer in step).
void Connection::ReadFailed(const beast::error_code& ec) {
  std::optional<ApiError> error;
  if (timed_out_) {
    error = ReadError(http::status::request_timeout, "request_timeout",
                      "the request did not arrive within " +
                          std::to_string(shared_.options.read_timeout_ms) + " ms");
  } else if (ec == http::error::header_limit) {
    error = ReadError(http::status::request_header_fields_too_large, "headers_too_large",
                      "the request line and headers exceed " +
                          std::to_string(shared_.options.header_bytes_max) + " bytes");
  } else if (ec == http::error::body_limit) {
    error = ReadError(http::status::payload_too_large, "body_too_large",
                      "the body exceeds " + std::to_string(shared_.options.body_bytes_max) +
                          " bytes; split the batch");
  } else if (ec == http::error::partial_message) {
    error = ReadError(http::status::bad_request, "malformed_request",
                      "the request ended before its end (truncated)");
  } else if (ec != http::error::end_of_stream && IsHttpParseError(ec)) {
    error = ReadError(http::status::bad_request, "malformed_request",
                      "the request is not valid HTTP/1.1 (" + ec.message() + ")");
  }
  if (!error.has_value() || phase_ == Phase::closed) return Close();
  ClearDeadline();
  request_ = {};
  match_ = {};
  keep_alive_ = false;
  started_ns_ = NowNs();
  phase_ = Phase::handling;
  Respond(ErrorResponse(*error));
}

// ---- Handling -------------------------------------------------------------------------------

void Connection::Dispatch() {
  phase_ = Phase::handling;
  match_ = MatchRoute(request_.method(), request_.target());
  if (match_.method_not_allowed) {
    HttpResponse response = ErrorResponse(
        {http::status::method_not_allowed, error_type::kInvalidRequest, "method_not_allowed",
         "this path answers " + std::string(http::to_string(match_.allow)) + " only", ""});
    response.set(http::field::allow, http::to_string(match_.allow));
    return Respond(std::move(response));
  }
  if (match_.route == Route::unmatched) {
    return Respond(ErrorResponse({http::status::not_found, error_type::kInvalidRequest,
                                  "route_not_found", "no such endpoint; see docs/api.md", ""}));
  }
  reply_owed_.emplace(context_executor());
  const Responder responder(shared_from_this(), context_executor());
  const RequestContext context{request_, match_};
  if (!shared_.options.hooks.before_dispatch) return shared_.service.Handle(context, responder);
  // Captures only `this` (the request and its match are members until the answer): small
  // enough for std::function to hold without an allocation.
  shared_.options.hooks.before_dispatch(context, responder, [this](const Responder& r) {
    shared_.service.Handle(RequestContext{request_, match_}, r);
  });
}

void Connection::Respond(HttpResponse response) {
  ReplyGiven();
  if (phase_ == Phase::closed) return;  // force-closed at the end of a shutdown
  TPW_ASSERT(phase_ == Phase::handling);
  if (shared_.options.hooks.before_send) {
    shared_.options.hooks.before_send(RequestContext{request_, match_}, response);
  }
  response_ = std::move(response);
  keep_alive_ = keep_alive_ && !draining_;
  response_.version(11);
  response_.keep_alive(keep_alive_);
  LogAndCount(response_);
  phase_ = Phase::writing;
  ArmDeadline(shared_.options.write_timeout_ms);
  if (WriteAtOnce()) return;
  http::async_write(socket_, response_,
                    [self = shared_from_this()](const beast::error_code& ec, size_t) {
                      self->OnWrite(ec);
                    });
}

// Nearly every response fits the socket's send buffer: one non-blocking sendmsg (head and body)
// then writes it whole, without Beast's serializer and a completion handler. What it could not
// send goes out with async_write. False: not written here (a response without Content-Length,
// or chunked); Beast writes it. Same bytes as Beast's serializer: status line, the fields in
// order, a blank line, the body.
bool Connection::WriteAtOnce() {
  if (!response_.has_content_length() || response_.chunked()) return false;
  using namespace std::string_view_literals;  // the separators' lengths known at compile time
  std::string& head = response_head_;
  head.clear();
  std::array<char, 16> status{};
  const auto status_end =
      std::to_chars(status.data(), status.data() + status.size(), response_.result_int()).ptr;
  head.append("HTTP/1.1 "sv).append(status.data(), status_end).append(" "sv);
  head.append(response_.reason()).append("\r\n"sv);
  for (const auto& field : response_) {
    head.append(field.name_string()).append(": "sv).append(field.value()).append("\r\n"sv);
  }
  head.append("\r\n"sv);
  const std::string& body = response_.body();
  const std::array<net::const_buffer, 2> parts{net::buffer(head), net::buffer(body)};
  beast::error_code ec;
  const size_t sent = socket_.write_some(parts, ec);
  const bool blocked = ec == net::error::would_block || ec == net::error::try_again;
  if (blocked || (!ec && sent < head.size() + body.size())) {
    // The rest when the socket takes it (a slow reader; the write deadline still applies).
    head.append(body);
    head.erase(0, sent);
    net::async_write(socket_, net::buffer(head),
                     [self = shared_from_this()](const beast::error_code& write_ec, size_t) {
                       self->OnWrite(write_ec);
                     });
    return true;
  }
  OnWrite(ec);
  return true;
}

void Connection::LogAndCount(const HttpResponse& response) {
  const uint64_t duration_ns = NowNs() - started_ns_;
  const unsigned status = response.result_int();
  shared_.metrics.RecordRequest(thread_, match_.route, status, duration_ns);
  if (!shared_.access_log.enabled()) return;
  shared_.access_log.Write(AccessRecord{remote_, request_.method_string(), request_.target(),
                                        match_.route, status, request_.body().size(),
                                        response.body().size(), duration_ns / 1000});
}

void Connection::OnWrite(const beast::error_code& ec) {
  ClearDeadline();
  response_ = {};
  request_ = {};
  if (ec || !keep_alive_) return Close();
  WaitForRequest();
}

// ---- Deadlines and closing ------------------------------------------------------------------

// One timer per connection for the phase it is in (idle, reading, writing). When the phase's
// deadline passes, the socket's operations are cancelled and the phase's handler sees
// timed_out_. Changing phase only moves deadline_at_ (no timer re-arm per request): the timer
// is never set further than deadline_step_ ahead, which is no later than any new deadline.
void Connection::ArmDeadline(uint32_t ms) {
  timed_out_ = false;
  const Clock::time_point now = Clock::now();
  deadline_at_ = now + std::chrono::milliseconds(ms);
  if (!deadline_waiting_) WaitForDeadline(std::min(deadline_at_, now + deadline_step_));
}

void Connection::ClearDeadline() { deadline_at_ = Clock::time_point::max(); }

void Connection::WaitForDeadline(Clock::time_point at) {
  deadline_waiting_ = true;
  deadline_.expires_at(at);
  deadline_.async_wait([weak = weak_from_this()](const beast::error_code& ec) {
    auto self = weak.lock();
    if (!self) return;
    self->deadline_waiting_ = false;
    if (ec || self->phase_ == Phase::closed) return;  // cancelled by Close
    self->OnDeadlineTimer();
  });
}

void Connection::OnDeadlineTimer() {
  if (deadline_at_ == Clock::time_point::max()) return;  // no deadline: the next phase re-arms
  const Clock::time_point now = Clock::now();
  if (now < deadline_at_) return WaitForDeadline(std::min(deadline_at_, now + deadline_step_));
  timed_out_ = true;
  beast::error_code ignored;
  socket_.cancel(ignored);
}

// The request got its answer (or stream): the I/O thread no longer waits for the engine.
void Connection::ReplyGiven() { reply_owed_.reset(); }

void Connection::Close() {
  if (phase_ == Phase::closed) return;
  phase_ = Phase::closed;
  deadline_.cancel();
  heartbeat_.cancel();
  if (stream_) std::exchange(stream_, nullptr)->Detach();
  beast::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

// ---- Streaming ------------------------------------------------------------------------------

void Connection::StartStream(HttpResponse header, std::shared_ptr<StreamSource> source,
                             StreamSettings settings) {
  ReplyGiven();
  if (phase_ == Phase::closed) return;  // force-closed at the end of a shutdown
  TPW_ASSERT(phase_ == Phase::handling);
  keep_alive_ = false;
  LogAndCount(header);
  phase_ = Phase::streaming;
  stream_ = std::move(source);
  stream_settings_ = settings;
  beast::error_code ignored;
  socket_.set_option(net::socket_base::send_buffer_size(static_cast<int>(settings.send_buffer_bytes)), ignored);
  stream_header_.emplace(header.result(), 11);
  for (const auto& field : header) stream_header_->set(field.name_string(), field.value());
  stream_header_->chunked(true);
  header_serializer_.emplace(*stream_header_);
  stream_->Attach([weak = weak_from_this(), executor = executor()] {
    net::post(executor, [weak] {
      if (auto self = weak.lock()) self->PumpStream();
    });
  });
  stream_writing_ = true;
  stream_last_ = false;
  ArmDeadline(shared_.options.write_timeout_ms);
  http::async_write_header(socket_, *header_serializer_,
                           [self = shared_from_this()](const beast::error_code& ec, size_t) {
                             self->OnStreamWritten(ec);
                           });
  WatchForClose();
}

// Pulls the next part when nothing is being written (and, when draining, ends with goodbye).
void Connection::PumpStream() {
  if (phase_ != Phase::streaming || stream_writing_) return;
  std::string part;
  StreamSource::Next next = StreamSource::Next::last;
  if (draining_) {
    part = stream_->Goodbye();
  } else {
    next = stream_->Pull(part);
  }
  if (next == StreamSource::Next::wait || (next == StreamSource::Next::part && part.empty())) {
    return ArmHeartbeat();
  }
  WriteChunk(part, next == StreamSource::Next::last);
}

// One HTTP/1.1 chunk (size in hex, CRLF, data, CRLF); the last one adds the zero chunk.
void Connection::WriteChunk(const std::string& part, bool last) {
  static constexpr char kHex[] = "0123456789abcdef";
  chunk_.clear();
  if (!part.empty()) {
    std::string size;
    for (size_t n = part.size(); n != 0; n >>= 4) size.insert(size.begin(), kHex[n & 15]);
    chunk_.append(size).append("\r\n").append(part).append("\r\n");
  }
  if (last) chunk_.append("0\r\n\r\n");
  stream_writing_ = true;
  stream_last_ = last;
  heartbeat_.cancel();
  ArmDeadline(shared_.options.write_timeout_ms);
  net::async_write(socket_, net::buffer(chunk_),
                   [self = shared_from_this()](const beast::error_code& ec, size_t) {
                     self->OnStreamWritten(ec);
                   });
}

void Connection::OnStreamWritten(const beast::error_code& ec) {
  stream_writing_ = false;
  ClearDeadline();
  if (ec || stream_last_ || phase_ != Phase::streaming) return Close();
  PumpStream();
}

void Connection::ArmHeartbeat() {
  heartbeat_.expires_after(std::chrono::milliseconds(stream_settings_.heartbeat_ms));
  heartbeat_.async_wait([weak = weak_from_this()](const beast::error_code& ec) {
    if (ec) return;
    auto self = weak.lock();
    if (!self || self->phase_ != Phase::streaming || self->stream_writing_) return;
    self->WriteChunk(self->stream_->Heartbeat(), false);
  });
}

// A stream's client sends nothing more; a read that ends means it went away (or the deadline
// cancelled the socket): the stream ends at once instead of at its next write.
void Connection::WatchForClose() {
  socket_.async_read_some(net::buffer(discard_),
                          [self = shared_from_this()](const beast::error_code& ec, size_t) {
                            if (ec) return self->Close();
                            if (self->phase_ == Phase::streaming) self->WatchForClose();
                          });
}

// ---- Responder::Send --------------------------------------------------------------------------

Responder Responder::WithSendHook(SendHook hook) const {
  Responder hooked = *this;
  hooked.send_hook_ = std::make_shared<const SendHook>(std::move(hook));
  return hooked;
}

void Responder::Send(HttpResponse response) const {
  if (send_hook_ != nullptr) {
    Responder plain = *this;
    plain.send_hook_ = nullptr;
    (*send_hook_)(std::move(response), plain);
    return;
  }
  net::dispatch(executor_, [connection = connection_, r = std::move(response)]() mutable {
    connection->Respond(std::move(r));
  });
}

void Responder::Stream(HttpResponse header, std::shared_ptr<StreamSource> source,
                       StreamSettings settings) const {
  net::dispatch(executor_, [connection = connection_, h = std::move(header),
                            source = std::move(source), settings]() mutable {
    connection->StartStream(std::move(h), std::move(source), settings);
  });
}

// ---- Server ---------------------------------------------------------------------------------

// Payment events (outbox format 2) render as the payment API's own JSON, in webhooks, the
// events list and the stream alike. Registering again (another server in the process) is
// harmless: the function is the same.
static void RegisterPaymentEventRenderer() {
  RegisterEventRenderer(engine::kEventFormatPayments, [](std::span<const uint8_t> payload) {
    std::string json = PaymentEventJson(payload);
    return json.empty() ? std::string(R"({"undecodable_payment_event":true})") : json;
  });
}

class Server::Impl {
 public:
  Impl(engine::Engine& engine, const AssetTable& assets, ServerOptions options, uint32_t threads)
      : engine_(engine), shared_(engine, assets, std::move(options), threads) {
    RegisterPaymentEventRenderer();
    for (uint32_t i = 0; i < threads; ++i) {
      contexts_.push_back(std::make_unique<net::io_context>(1));
      guards_.emplace_back(contexts_.back()->get_executor());
    }
    acceptor_.emplace(*contexts_[0]);
    grace_timer_.emplace(*contexts_[0]);
  }

  Result<bool, std::string> Listen() {
    if (!shared_.access_log.Open(shared_.options.access_log)) {
      return Err{"cannot open access log " + shared_.options.access_log + ": " +
                 std::strerror(errno)};
    }
    beast::error_code ec;
    const auto address = net::ip::make_address(shared_.options.address, ec);
    if (ec) return Err{"--listen address " + shared_.options.address + " is not an IP address"};
    const tcp::endpoint endpoint(address, shared_.options.port);
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Err{"cannot listen on " + shared_.options.address + ":" +
                 std::to_string(shared_.options.port) + ": " + ec.message()};
    }
    return true;
  }

  uint16_t port() const { return acceptor_->local_endpoint().port(); }
  uint32_t threads() const { return static_cast<uint32_t>(contexts_.size()); }

  void Run() {
    Accept();
    for (size_t i = 0; i < contexts_.size(); ++i) {
      threads_.emplace_back([context = contexts_[i].get()] { context->run(); });
    }
    if (shared_.deliverer) shared_.deliverer->Start();
    events_token_ = engine_.SubscribeEvents([this](uint64_t durable_id) {
      shared_.event_hub.OnEventsDurable(durable_id);
      if (shared_.deliverer) shared_.deliverer->OnEventsDurable(durable_id);
    });
  }

  // After the I/O threads: no event reaches the hub or the deliverer any more, and the
  // deliverer journals what it did (the engine is still up).
  void Wait() {
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
    if (events_token_ != 0) engine_.UnsubscribeEvents(std::exchange(events_token_, 0));
    if (shared_.deliverer) shared_.deliverer->Stop();
  }

  void Stop() {
    if (shared_.deliverer) shared_.deliverer->BeginStop();
    net::post(*contexts_[0], [this] { StopOnAcceptorThread(); });
  }

  void StopOnSignals() {
    signals_.emplace(*contexts_[0], SIGINT, SIGTERM);
    signals_->async_wait([this](const beast::error_code& ec, int) {
      if (!ec) StopOnAcceptorThread();
    });
  }

  void OnSignal(int signal, std::function<void()> handler) {
    auto set = std::make_shared<net::signal_set>(*contexts_[0], signal);
    handler_signals_.push_back(set);
    WaitForSignal(std::move(set), std::make_shared<std::function<void()>>(std::move(handler)));
  }

 private:
  void Accept() {
    net::io_context& target = *contexts_[next_context_];
    const uint32_t thread = next_context_;
    next_context_ = (next_context_ + 1) % threads();
    acceptor_->async_accept(target, [this, thread](const beast::error_code& ec,
                                                   tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_->is_open()) return;
      if (!ec) {
        auto connection = std::make_shared<Connection>(std::move(socket), shared_, thread);
        net::post(connection->executor(), [connection] { connection->Start(); });
      }
      Accept();  // also after an error such as too many open files: keep serving
    });
  }

  // On context 0 (the acceptor's): stop accepting, drain every connection, release the
  // threads' work guards so each loop ends once its connections and engine replies are done.
  void StopOnAcceptorThread() {
    if (shared_.stopping.load()) return;
    {
      std::lock_guard lock(shared_.connections_mutex);
      shared_.on_last_connection_closed = [this] {
        net::post(*contexts_[0], [this] { grace_timer_->cancel(); });
      };
    }
    shared_.stopping.store(true);
    shared_.service.SetShuttingDown();
    beast::error_code ignored;
    acceptor_->close(ignored);
    if (signals_) signals_->cancel(ignored);
    for (const auto& set : handler_signals_) set->cancel(ignored);
    const auto connections = Snapshot();
    for (const auto& weak : connections) {
      if (auto c = weak.lock()) net::post(c->executor(), [c] { c->Drain(); });
    }
    if (!connections.empty()) {
      grace_timer_->expires_after(std::chrono::milliseconds(shared_.options.shutdown_grace_ms));
      grace_timer_->async_wait([this](const beast::error_code& ec) {
        if (ec) return;  // every connection closed in time
        for (const auto& weak : Snapshot()) {
          if (auto c = weak.lock()) net::post(c->executor(), [c] { c->ForceClose(); });
        }
      });
    }
    for (auto& guard : guards_) guard.reset();
  }

  std::vector<std::weak_ptr<Connection>> Snapshot() {
    std::lock_guard lock(shared_.connections_mutex);
    std::vector<std::weak_ptr<Connection>> out;
    out.reserve(shared_.connections.size());
    for (const auto& [pointer, weak] : shared_.connections) out.push_back(weak);
    return out;
  }

  engine::Engine& engine_;
  uint64_t events_token_ = 0;  // the engine's event listener (SubscribeEvents) while running
  Shared shared_;
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<net::steady_timer> grace_timer_;
  std::optional<net::signal_set> signals_;
  std::vector<std::shared_ptr<net::signal_set>> handler_signals_;  // OnSignal's, cancelled at stop

  // Re-arms after every delivery until the set is cancelled (the server stops).
  static void WaitForSignal(std::shared_ptr<net::signal_set> set,
                            std::shared_ptr<std::function<void()>> handler) {
    net::signal_set& waiting = *set;
    waiting.async_wait([set = std::move(set), handler](const beast::error_code& ec, int) mutable {
      if (ec) return;
      (*handler)();
      WaitForSignal(std::move(set), std::move(handler));
    });
  }
  std::vector<std::thread> threads_;
  uint32_t next_context_ = 0;
};

Result<std::unique_ptr<Server>, std::string> Server::Start(engine::Engine& engine,
                                                           const AssetTable& assets,
                                                           ServerOptions options) {
  uint32_t threads = options.threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  auto impl = std::make_unique<Impl>(engine, assets, std::move(options), threads);
  Result<bool, std::string> listening = impl->Listen();
  if (!listening.ok()) return Err{listening.error()};
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Stop();
  Wait();
}

uint16_t Server::port() const { return impl_->port(); }
uint32_t Server::threads() const { return impl_->threads(); }
void Server::Run() { impl_->Run(); }
void Server::Wait() { impl_->Wait(); }
void Server::Stop() { impl_->Stop(); }
void Server::StopOnSignals() { impl_->StopOnSignals(); }
void Server::OnSignal(int signal, std::function<void()> handler) {
  impl_->OnSignal(signal, std::move(handler));
}

}  // namespace tpw::api
