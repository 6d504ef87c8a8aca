// A blocking client of GET /v1/events as Server-Sent Events (`tpwallet events stream`, the
// tests, the webhook bench): sends the request, then reads the answer as it comes — the status
// and headers, then the chunked body as SSE events and comments (sse.h). An answer that is not
// a stream (an error) is read whole into body().
//
// Thread-safety: one thread at a time.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/sse.h"
#include "common/result.h"

namespace tpw::api {

struct EventStreamRequest {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string target = "/v1/events";  // with its query string
  std::vector<std::pair<std::string, std::string>> headers;  // Authorization, Last-Event-ID, …
  int receive_buffer_bytes = 0;  // SO_RCVBUF before connecting; 0 = the system's
  std::chrono::milliseconds connect_timeout{10'000};
};

class EventStreamClient {
 public:
  static Result<std::unique_ptr<EventStreamClient>, std::string> Connect(const EventStreamRequest& request);

  // Waits up to `timeout` for bytes and takes what arrived (one read). False once the answer
  // ended (the stream's last chunk, the server closed, or the body of a non-stream answer is
  // complete).
  bool Poll(std::chrono::milliseconds timeout);

  unsigned status() const { return status_; }  // 0 until the headers arrived
  const std::string& head() const { return head_; }
  const std::string& body() const { return body_; }  // a non-stream answer
  bool streaming() const { return streaming_; }
  bool ended() const { return ended_; }
  bool malformed() const { return malformed_; }  // the chunk framing was broken
  // Accumulated; the caller may take them (std::exchange) as it handles them.
  std::vector<SseEvent>& events() { return events_; }
  std::vector<std::string>& comments() { return comments_; }

 private:
  EventStreamClient() : socket_(context_) {}
  void Take(std::string_view bytes);

  boost::asio::io_context context_;
  boost::asio::ip::tcp::socket socket_;
  std::string raw_;  // until the end of the headers
  std::string head_;
  std::string body_;
  uint64_t content_length_ = 0;
  unsigned status_ = 0;
  bool streaming_ = false;
  bool ended_ = false;
  bool malformed_ = false;
  ChunkedDecoder chunks_;
  SseParser parser_;
  std::vector<SseEvent> events_;
  std::vector<std::string> comments_;
};

}  // namespace tpw::api
