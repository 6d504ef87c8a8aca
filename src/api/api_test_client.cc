#include "api/api_test_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

namespace tpw::api::testing {

namespace net = boost::asio;
using tcp = net::ip::tcp;

TestClient::TestClient(uint16_t port) : socket_(context_) {
  socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  socket_.set_option(tcp::no_delay(true));
}

TestClient::~TestClient() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

HttpResponse TestClient::Send(http::verb method, std::string_view target, std::string_view body,
                              std::string_view content_type) {
  HttpRequest request{method, std::string(target), 11};
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers_) request.set(name, value);
  if (!body.empty() || method == http::verb::post) {
    if (!content_type.empty()) request.set(http::field::content_type, content_type);
    request.body() = std::string(body);
    request.prepare_payload();
  }
  http::write(socket_, request);
  return Read();
}

void TestClient::Write(std::string_view bytes) {
  net::write(socket_, net::buffer(bytes.data(), bytes.size()));
}

HttpResponse TestClient::Read() {
  http::response_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  http::read(socket_, buffer_, parser);
  return parser.release();
}

bool TestClient::ReadsEof() {
  char byte = 0;
  boost::system::error_code ec;
  // Anything already buffered (a response) is skipped: only the end of the stream counts.
  while (true) {
    socket_.read_some(net::buffer(&byte, 1), ec);
    if (ec) return ec == net::error::eof || ec == net::error::connection_reset;
  }
}

void TestClient::ShutdownWrite() { socket_.shutdown(tcp::socket::shutdown_send); }

boost::json::value JsonOf(const HttpResponse& response) {
  return boost::json::parse(response.body());
}

std::string ErrorCode(const HttpResponse& response) {
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(response.body(), ec);
  if (ec || !value.is_object()) return "";
  const auto* error = value.get_object().if_contains("error");
  if (error == nullptr || !error->is_object()) return "";
  const auto* code = error->get_object().if_contains("code");
  return code != nullptr && code->is_string() ? std::string(code->get_string()) : "";
}

}  // namespace tpw::api::testing
