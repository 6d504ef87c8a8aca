#include "api/webhook_receiver.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "api/webhook_body.h"

namespace tpw::api {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

uint64_t SteadyNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

uint64_t UnixSeconds() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// A receiver accepts signatures up to this far from its clock (docs/webhooks.md).
constexpr uint64_t kToleranceSeconds = 300;
constexpr uint32_t kBodyBytesMax = 1 << 20;

}  // namespace

class WebhookReceiver::Impl {
 public:
  explicit Impl(ReceiverOptions options)
      : options_(std::move(options)), guard_(context_.get_executor()), acceptor_(context_) {}

  std::optional<std::string> Listen() {
    beast::error_code ec;
    const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return "the webhook receiver cannot listen on 127.0.0.1:" + std::to_string(options_.port) + ": " + ec.message();
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (uint32_t i = 0; i < std::max(1u, options_.threads); ++i) {
      threads_.emplace_back([this] { context_.run(); });
    }
    return std::nullopt;
  }

  void Stop() {
    std::lock_guard lock(stop_mutex_);
    if (stopped_) return;
    stopped_ = true;
    net::post(context_, [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    guard_.reset();
    context_.stop();
    for (std::thread& t : threads_) t.join();
  }

  uint16_t port() const { return port_; }

  void SetSecret(std::string secret) {
    std::lock_guard lock(mutex_);
    secret_ = std::move(secret);
  }

  void SetDecide(std::function<ReceiverAnswer(const ReceivedWebhook&)> decide) {
    std::lock_guard lock(mutex_);
    options_.decide = std::move(decide);
  }

  std::vector<ReceivedWebhook> Received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  uint64_t count() const {
    std::lock_guard lock(mutex_);
    return received_.size();
  }
  uint64_t delivered_distinct() const {
    std::lock_guard lock(mutex_);
    return delivered_.size();
  }

 private:
  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(Impl& owner, tcp::socket socket) : owner_(owner), socket_(std::move(socket)), timer_(socket_.get_executor()) {
      beast::error_code ignored;
      socket_.set_option(tcp::no_delay(true), ignored);
    }
    void Read() {
      parser_.emplace();
      parser_->body_limit(kBodyBytesMax);
      http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](const beast::error_code& ec, size_t) {
        if (ec) return self->Close();
        self->OnRequest();
      });
    }

   private:
    void OnRequest() {
      http::request<http::string_body> request = parser_->release();
      size_t index = 0;
      const ReceiverAnswer answer = owner_.Record(request, index);
      keep_alive_ = request.keep_alive();
      if (answer.kind == ReceiverAnswer::Kind::close && answer.delay_ms == 0) return Close();
      timer_.expires_after(std::chrono::milliseconds(answer.delay_ms));
      timer_.async_wait([self = shared_from_this(), answer, index](const beast::error_code& ec) {
        if (ec) return self->Close();
        if (answer.kind != ReceiverAnswer::Kind::status) return self->Close();
        self->Answer(answer.status, index);
      });
    }

    void Answer(unsigned status, size_t index) {
      owner_.Answered(index, status);
      response_ = {};
      response_.result(status);
      response_.version(11);
      response_.set(http::field::content_type, "application/json");
      response_.body() = "{\"received\":true}";
      response_.keep_alive(keep_alive_);
      response_.prepare_payload();
      http::async_write(socket_, response_, [self = shared_from_this()](const beast::error_code& ec, size_t) {
        if (ec || !self->keep_alive_) return self->Close();
        self->Read();
      });
    }

    void Close() {
      beast::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
      socket_.close(ignored);
    }

    Impl& owner_;
    tcp::socket socket_;
    net::steady_timer timer_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> response_;
    bool keep_alive_ = true;
  };

  void Accept() {
    acceptor_.async_accept(context_, [this](const beast::error_code& ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) std::make_shared<Session>(*this, std::move(socket))->Read();
      Accept();
    });
  }

  ReceiverAnswer Record(const http::request<http::string_body>& request, size_t& index) {
    ReceivedWebhook r;
    r.arrived_ns = SteadyNs();
    r.event_id = ParseEventId(request["TPW-Event-Id"]).value_or(0);
    r.signature = std::string(request["TPW-Signature"]);
    std::lock_guard lock(mutex_);
    if (!secret_.empty()) {
      r.signature_ok = VerifySignatureHeader(r.signature, secret_, request.body(), UnixSeconds(),
                                             kToleranceSeconds) == SignatureCheck::ok;
    }
    r.seen = ++seen_[r.event_id];
    if (options_.keep_bodies) r.body = request.body();
    const ReceiverAnswer answer = options_.decide ? options_.decide(r) : ReceiverAnswer{};
    index = received_.size();
    received_.push_back(std::move(r));
    return answer;
  }

  void Answered(size_t index, unsigned status) {
    std::lock_guard lock(mutex_);
    received_[index].answered = status;
    if (status >= 200 && status < 300) delivered_.emplace(received_[index].event_id, true);
  }

  ReceiverOptions options_;
  net::io_context context_;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::vector<std::thread> threads_;
  mutable std::mutex mutex_;
  std::string secret_;
  std::vector<ReceivedWebhook> received_;
  std::unordered_map<uint64_t, uint32_t> seen_;
  std::unordered_map<uint64_t, bool> delivered_;
  std::mutex stop_mutex_;
  bool stopped_ = false;
};

Result<std::unique_ptr<WebhookReceiver>, std::string> WebhookReceiver::Start(ReceiverOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (std::optional<std::string> error = impl->Listen()) return Err{*error};
  return std::unique_ptr<WebhookReceiver>(new WebhookReceiver(std::move(impl)));
}

WebhookReceiver::WebhookReceiver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebhookReceiver::~WebhookReceiver() { impl_->Stop(); }
uint16_t WebhookReceiver::port() const { return impl_->port(); }
std::string WebhookReceiver::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
}
void WebhookReceiver::SetSecret(std::string secret_text) { impl_->SetSecret(std::move(secret_text)); }
void WebhookReceiver::SetDecide(std::function<ReceiverAnswer(const ReceivedWebhook&)> decide) {
  impl_->SetDecide(std::move(decide));
}
std::vector<ReceivedWebhook> WebhookReceiver::Received() const { return impl_->Received(); }
uint64_t WebhookReceiver::count() const { return impl_->count(); }
uint64_t WebhookReceiver::delivered_distinct() const { return impl_->delivered_distinct(); }
bool WebhookReceiver::WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}
void WebhookReceiver::Stop() { impl_->Stop(); }

}  // namespace tpw::api
