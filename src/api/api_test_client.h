// A small synchronous HTTP/1.1 client for tests: one keep-alive connection to 127.0.0.1:port,
// real sockets, Beast's parser. Test-only (also used by tests/integration/serve_test.cc).
#pragma once

#include <map>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/http.h"

namespace tpw::api::testing {

class TestClient {
 public:
  explicit TestClient(uint16_t port);
  ~TestClient();

  // Sends one request and reads its response. Throws boost::system::system_error on a socket
  // error (the test fails loudly).
  HttpResponse Send(http::verb method, std::string_view target, std::string_view body = {},
                    std::string_view content_type = "application/json");
  HttpResponse Get(std::string_view target) { return Send(http::verb::get, target); }
  HttpResponse Post(std::string_view target, std::string_view body) {
    return Send(http::verb::post, target, body);
  }

  // Sent with every request from now on (Authorization, Idempotency-Key); "" removes it.
  void SetHeader(const std::string& name, const std::string& value) {
    if (value.empty()) {
      headers_.erase(name);
    } else {
      headers_[name] = value;
    }
  }
  // Authorization: Bearer `key`.
  void UseKey(const std::string& key) { SetHeader("Authorization", "Bearer " + key); }

  // Raw bytes out, one response in (pipelining, hostile input).
  void Write(std::string_view bytes);
  HttpResponse Read();
  // True when the server closed the connection (the next read sees EOF or a reset) — waits
  // for the server to act, however long that takes.
  bool ReadsEof();
  void ShutdownWrite();

 private:
  boost::asio::io_context context_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  std::map<std::string, std::string> headers_;
};

// The body as JSON (a test failure if it is not).
boost::json::value JsonOf(const HttpResponse& response);
// error.code of an error response, "" if none.
std::string ErrorCode(const HttpResponse& response);

}  // namespace tpw::api::testing
