#include "cli/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>

#include "common/assert.h"

namespace tpw::cli {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::string_view kHttpScheme = "http://";
constexpr std::string_view kHttpsScheme = "https://";
constexpr uint16_t kHttpPortDefault = 80;
// Attempts per request: the first, and one retry on a connection failure (a dropped keep-alive
// connection, a server restarting). A POST is retried with the same Idempotency-Key, so the
// server runs it at most once.
constexpr int kAttemptsMax = 2;

InputResult<uint16_t> ParsePort(std::string_view text, std::string_view option) {
  InputResult<uint64_t> port = ParseUnsignedText(std::string(option) + " port", text, 65535);
  if (!port.ok() || port.value() == 0 || text.find_first_not_of("0123456789") != text.npos) {
    return InputFail(std::string(option) + " port \"" + std::string(text) +
                     "\" is not a number from 1 to 65535");
  }
  return static_cast<uint16_t>(port.value());
}

}  // namespace

InputResult<ServerUrl> ParseServerUrl(std::string_view text, std::string_view option) {
  const std::string name(option);
  if (text.rfind(kHttpsScheme, 0) == 0) {
    return InputFail(name + " " + std::string(text) +
                     ": https is not supported (tpwallet serve speaks plain HTTP); use http:// on "
                     "loopback or a trusted network, or run a TLS-terminating proxy on the "
                     "client's machine and give its http:// address");
  }
  if (text.rfind(kHttpScheme, 0) != 0) {
    return InputFail(name + " \"" + std::string(text) +
                     "\" is not a server URL; write http://HOST:PORT, e.g. http://127.0.0.1:8080");
  }
  std::string_view rest = text.substr(kHttpScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find_first_of("/?#@ ") != rest.npos) {
    return InputFail(name + " \"" + std::string(text) +
                     "\" must be http://HOST:PORT with no path, user or query");
  }
  ServerUrl url;
  url.text = std::string(kHttpScheme) + std::string(rest);
  url.port = kHttpPortDefault;
  std::string_view host = rest;
  const size_t bracket = rest.rfind(']');
  const size_t colon = rest.rfind(':');
  if (colon != rest.npos && (bracket == rest.npos || colon > bracket)) {
    InputResult<uint16_t> port = ParsePort(rest.substr(colon + 1), option);
    if (!port.ok()) return Err{port.error()};
    url.port = port.value();
    host = rest.substr(0, colon);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return InputFail(name + " \"" + std::string(text) + "\" names no host");
  url.host = std::string(host);
  return url;
}

// One TCP connection; every step runs on a private io_context with the stream's deadline.
class HttpClient::Connection {
 public:
  explicit Connection(std::chrono::milliseconds timeout) : stream_(context_), timeout_(timeout) {}

  std::optional<std::string> Connect(const ServerUrl& url) {
    tcp::resolver resolver(context_);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec) return "cannot resolve " + url.host + ": " + ec.message();
    stream_.expires_after(timeout_);
    stream_.async_connect(endpoints, [&ec](beast::error_code e, const tcp::endpoint&) { ec = e; });
    Run();
    if (ec) return Describe(ec);
    return std::nullopt;
  }

  std::optional<std::string> Write(const http::request<http::string_body>& request) {
    beast::error_code ec;
    stream_.expires_after(timeout_);
    http::async_write(stream_, request, [&ec](beast::error_code e, size_t) { ec = e; });
    Run();
    if (ec) return Describe(ec);
    return std::nullopt;
  }

  Result<HttpAnswer, std::string> Read() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(kServerAnswerBytesMax);
    beast::error_code ec;
    stream_.expires_after(timeout_);
    http::async_read(stream_, buffer_, parser, [&ec](beast::error_code e, size_t) { ec = e; });
    Run();
    if (ec) return Err{Describe(ec)};
    HttpAnswer answer;
    answer.status = parser.get().result_int();
    answer.retry_after = std::string(parser.get()[http::field::retry_after]);
    answer.body = std::move(parser.get().body());
    keep_alive_ = parser.get().keep_alive();
    return answer;
  }

  bool keep_alive() const { return keep_alive_; }

 private:
  void Run() {
    context_.restart();
    context_.run();
  }

  std::string Describe(const beast::error_code& ec) const {
    if (ec == beast::error::timeout) {
      return "no answer within " + std::to_string(timeout_.count()) + " ms";
    }
    return ec.message();
  }

  net::io_context context_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::chrono::milliseconds timeout_;
  bool keep_alive_ = true;
};

HttpClient::HttpClient(ServerUrl url, std::string api_key, std::chrono::milliseconds timeout)
    : url_(std::move(url)), api_key_(std::move(api_key)), timeout_(timeout) {
  TPW_ASSERT(timeout_.count() > 0);
}

HttpClient::~HttpClient() = default;

Result<HttpAnswer, TransportError> HttpClient::Get(const std::string& target) {
  return Exchange(Method::get, target, "", "");
}

Result<HttpAnswer, TransportError> HttpClient::Put(const std::string& target,
                                                   const std::string& body) {
  return Exchange(Method::put, target, body, "");
}

Result<HttpAnswer, TransportError> HttpClient::Delete(const std::string& target) {
  return Exchange(Method::delete_, target, "", "");
}

Result<HttpAnswer, TransportError> HttpClient::Post(const std::string& target,
                                                    const std::string& body,
                                                    const std::string& idempotency_key) {
  TPW_ASSERT(!idempotency_key.empty());
  return Exchange(Method::post, target, body, idempotency_key);
}

Result<HttpAnswer, TransportError> HttpClient::Exchange(Method method, const std::string& target,
                                                        const std::string& body,
                                                        const std::string& idempotency_key) {
  const http::verb verb = method == Method::post      ? http::verb::post
                          : method == Method::put     ? http::verb::put
                          : method == Method::delete_ ? http::verb::delete_
                                                      : http::verb::get;
  http::request<http::string_body> request{verb, target, 11};
  request.set(http::field::host, url_.host + ":" + std::to_string(url_.port));
  request.set(http::field::user_agent, "tpwallet-cli");
  request.set(http::field::accept, "application/json");
  if (!api_key_.empty()) request.set(http::field::authorization, "Bearer " + api_key_);
  if (method != Method::get) {
    request.set(http::field::content_type, "application/json");
    if (!idempotency_key.empty()) request.set("Idempotency-Key", idempotency_key);
    request.body() = body;
  }
  request.prepare_payload();
  TransportError last;
  for (int attempt = 0; attempt < kAttemptsMax; ++attempt) {
    if (connection_ == nullptr) {
      auto fresh = std::make_unique<Connection>(timeout_);
      if (std::optional<std::string> error = fresh->Connect(url_)) {
        // Nothing was sent on this attempt; an earlier attempt may have been.
        last =
            TransportError{last.maybe_received, "cannot connect to " + url_.text + ": " + *error};
        continue;
      }
      connection_ = std::move(fresh);
    }
    std::optional<std::string> error = connection_->Write(request);
    Result<HttpAnswer, std::string> answer =
        error.has_value() ? Result<HttpAnswer, std::string>(Err{*error}) : connection_->Read();
    if (answer.ok()) {
      if (!connection_->keep_alive()) connection_.reset();
      return std::move(answer).value();
    }
    connection_.reset();
    last = TransportError{true, "the connection to " + url_.text + " failed: " + answer.error()};
  }
  return Err{last};
}

}  // namespace tpw::cli
