#include "api/event_stream_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <charconv>

namespace tpw::api {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// Headers larger than this are not an answer of ours.
constexpr size_t kHeadBytesMax = 64 * 1024;
constexpr uint64_t kBodyBytesMax = 1 << 20;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<std::unique_ptr<EventStreamClient>, std::string> EventStreamClient::Connect(
    const EventStreamRequest& request) {
  std::unique_ptr<EventStreamClient> client(new EventStreamClient());
  boost::system::error_code ec;
  tcp::resolver resolver(client->context_);
  const tcp::resolver::results_type endpoints = resolver.resolve(request.host, std::to_string(request.port), ec);
  if (ec) return Err{"cannot resolve " + request.host + ": " + ec.message()};
  if (endpoints.empty()) return Err{"cannot resolve " + request.host + ": no address"};
  // The first address; opened by hand so SO_RCVBUF is set before the handshake.
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  client->socket_.open(endpoint.protocol(), ec);
  if (!ec && request.receive_buffer_bytes != 0) {
    client->socket_.set_option(net::socket_base::receive_buffer_size(request.receive_buffer_bytes), ec);
  }
  if (ec) return Err{"cannot open a socket: " + ec.message()};
  boost::system::error_code connect_ec = net::error::would_block;
  client->socket_.async_connect(endpoint, [&](const boost::system::error_code& e) { connect_ec = e; });
  client->context_.run_for(request.connect_timeout);
  if (connect_ec == net::error::would_block) {
    return Err{"cannot connect to " + request.host + ":" + std::to_string(request.port) + ": timed out"};
  }
  if (connect_ec) {
    return Err{"cannot connect to " + request.host + ":" + std::to_string(request.port) + ": " + connect_ec.message()};
  }
  std::string text = "GET " + request.target + " HTTP/1.1\r\nHost: " + request.host + "\r\n" +
                     "Accept: text/event-stream\r\nUser-Agent: tpwallet-events\r\n";
  for (const auto& [name, value] : request.headers) text += name + ": " + value + "\r\n";
  text += "\r\n";
  net::write(client->socket_, net::buffer(text), ec);
  if (ec) return Err{"sending the request failed: " + ec.message()};
  return client;
}

bool EventStreamClient::Poll(std::chrono::milliseconds timeout) {
  if (ended_) return false;
  pollfd p{socket_.native_handle(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return true;
  char buffer[16384];
  const ssize_t n = ::recv(socket_.native_handle(), buffer, sizeof buffer, 0);
  if (n <= 0) {
    ended_ = true;
    return false;
  }
  Take(std::string_view(buffer, static_cast<size_t>(n)));
  return !ended_;
}

void EventStreamClient::Take(std::string_view bytes) {
  if (status_ == 0) {
    raw_.append(bytes);
    const size_t end = raw_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (raw_.size() > kHeadBytesMax) malformed_ = ended_ = true;
      return;
    }
    head_ = raw_.substr(0, end);
    unsigned status = 0;
    if (head_.size() < 12 || !head_.starts_with("HTTP/1.1 ") ||
        std::from_chars(head_.data() + 9, head_.data() + 12, status).ec != std::errc()) {
      malformed_ = ended_ = true;
      return;
    }
    status_ = status;
    const std::string lower = Lower(head_);
    streaming_ = lower.find("transfer-encoding: chunked") != std::string::npos;
    if (const size_t at = lower.find("content-length: "); at != std::string::npos) {
      std::from_chars(lower.data() + at + 16, lower.data() + lower.size(), content_length_);
      content_length_ = std::min(content_length_, kBodyBytesMax);
    }
    bytes = std::string_view(raw_).substr(end + 4);
  }
  if (!streaming_) {
    body_.append(bytes);
    if (body_.size() >= content_length_) ended_ = true;
    return;
  }
  std::string text;
  if (!chunks_.Feed(bytes, text)) malformed_ = ended_ = true;
  parser_.Feed(text, events_, comments_);
  if (chunks_.done()) ended_ = true;
}

}  // namespace tpw::api
