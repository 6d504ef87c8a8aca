// The CLI's HTTP client for `--server URL`: one keep-alive connection to a running `tpwallet
// serve`, synchronous, with a deadline on every step (connect, write, read) so a server that
// stops answering cannot hang a command. Plain HTTP/1.1 only: an https:// URL is refused with
// what to do instead (the server speaks no TLS; put it behind a TLS proxy and reach that
// proxy's plain side, or use it on loopback).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cli/values.h"
#include "common/result.h"

namespace tpw::cli {

// Most bytes one answer may have: a full page of 8189 transfers is about 6 MiB.
inline constexpr size_t kServerAnswerBytesMax = 64 * 1024 * 1024;

struct ServerUrl {
  std::string host;  // name or address (IPv6 without its brackets)
  uint16_t port = 0;
  std::string text;  // as given, without a trailing "/", for messages
};

// "http://HOST[:PORT][/]" (port 80 when left out). `option` names the source in errors
// ("--server").
InputResult<ServerUrl> ParseServerUrl(std::string_view text, std::string_view option);

struct HttpAnswer {
  unsigned status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, if any
};

// Why no answer arrived. `maybe_received`: the request may have reached the server (it was
// written, fully or in part), so its effect is unknown.
struct TransportError {
  bool maybe_received = false;
  std::string message;
};

class HttpClient {
 public:
  // `api_key`: sent as "Authorization: Bearer …" unless empty.
  HttpClient(ServerUrl url, std::string api_key, std::chrono::milliseconds timeout);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET `target` ("/v1/accounts/1").
  Result<HttpAnswer, TransportError> Get(const std::string& target);
  // POST a JSON body with an Idempotency-Key.
  Result<HttpAnswer, TransportError> Post(const std::string& target, const std::string& body,
                                          const std::string& idempotency_key);
  // PUT a JSON body (a PUT replaces a record: repeating it is harmless, so it needs no key).
  Result<HttpAnswer, TransportError> Put(const std::string& target, const std::string& body);
  // DELETE `target` (idempotent: retried like a GET).
  Result<HttpAnswer, TransportError> Delete(const std::string& target);

  const ServerUrl& url() const { return url_; }

 private:
  class Connection;
  enum class Method : uint8_t { get, post, put, delete_ };
  Result<HttpAnswer, TransportError> Exchange(Method method, const std::string& target,
                                              const std::string& body,
                                              const std::string& idempotency_key);

  ServerUrl url_;
  std::string api_key_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Connection> connection_;  // null until the first request, and after a failure
};

}  // namespace tpw::cli
