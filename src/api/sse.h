// The client side of GET /v1/events as Server-Sent Events, for `tpwallet events stream` and
// the tests: an HTTP/1.1 chunked-body decoder and an SSE parser (the text/event-stream format:
// `id:`, `event:`, `data:` fields, `:` comment lines, events ended by a blank line). Pure, fed in
// pieces as bytes arrive; fuzzed by fuzz/api_body_fuzz.cc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tpw::api {

// Decodes a chunked body (RFC 9112 section 7.1; chunk extensions are skipped, trailers ignored).
class ChunkedDecoder {
 public:
  // Appends the decoded bytes of `bytes` to `out`; false (and failed() from then on) when the
  // framing is broken or a chunk is larger than `chunk_bytes_max`.
  bool Feed(std::string_view bytes, std::string& out);
  bool done() const { return state_ == State::done; }  // the zero chunk arrived
  bool failed() const { return state_ == State::failed; }

  static constexpr uint64_t kChunkBytesMax = uint64_t{64} << 20;

 private:
  enum class State : uint8_t { size, data, data_end, trailer, done, failed };
  State state_ = State::size;
  std::string line_;       // the size line (or a trailer line) read so far
  uint64_t remaining_ = 0;  // bytes of the current chunk still to come
  size_t crlf_seen_ = 0;   // after a chunk's data: how much of its CRLF arrived
};

struct SseEvent {
  std::string id;
  std::string event = "message";
  std::string data;  // data: lines joined with '\n'
};

class SseParser {
 public:
  // Parses what arrived; complete events go to `events`, comment lines (without the ':' and
  // one following space) to `comments`. Lines longer than kLineBytesMax are cut (the rest of
  // the line is dropped) so a hostile stream cannot grow memory without bound.
  void Feed(std::string_view text, std::vector<SseEvent>& events, std::vector<std::string>& comments);

  static constexpr size_t kLineBytesMax = 1 << 20;

 private:
  void Line(std::string_view line, std::vector<SseEvent>& events, std::vector<std::string>& comments);
  std::string line_;
  bool line_cut_ = false;
  bool after_cr_ = false;
  SseEvent pending_;
  bool has_data_ = false;
  bool has_fields_ = false;
};

}  // namespace tpw::api
