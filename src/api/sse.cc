#include "api/sse.h"

#include <algorithm>

namespace tpw::api {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr size_t kSizeLineBytesMax = 1024;

}  // namespace

bool ChunkedDecoder::Feed(std::string_view bytes, std::string& out) {
  size_t i = 0;
  while (i < bytes.size() && state_ != State::failed && state_ != State::done) {
    switch (state_) {
      case State::size:
      case State::trailer: {
        const char c = bytes[i++];
        if (c != '\n') {
          if (line_.size() == kSizeLineBytesMax) state_ = State::failed;
          line_ += c;
          break;
        }
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        if (state_ == State::trailer) {
          if (line_.empty()) state_ = State::done;
          line_.clear();
          break;
        }
        const std::string_view size = std::string_view(line_).substr(0, line_.find(';'));
        uint64_t n = 0;
        bool ok = !size.empty();
        for (const char d : size) {
          const int v = HexDigit(d);
          if (v < 0 || n > (kChunkBytesMax >> 4)) ok = false;
          if (!ok) break;
          n = n * 16 + static_cast<uint64_t>(v);
        }
        line_.clear();
        if (!ok || n > kChunkBytesMax) {
          state_ = State::failed;
          break;
        }
        remaining_ = n;
        state_ = n == 0 ? State::trailer : State::data;
        break;
      }
      case State::data: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, bytes.size() - i));
        out.append(bytes.substr(i, take));
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) {
          state_ = State::data_end;
          crlf_seen_ = 0;
        }
        break;
      }
      case State::data_end: {
        const char want = crlf_seen_ == 0 ? '\r' : '\n';
        if (bytes[i++] != want) {
          state_ = State::failed;
          break;
        }
        if (++crlf_seen_ == 2) state_ = State::size;
        break;
      }
      case State::done:
      case State::failed:
        break;
    }
  }
  return state_ != State::failed;
}

void SseParser::Feed(std::string_view text, std::vector<SseEvent>& events,
                     std::vector<std::string>& comments) {
  for (const char c : text) {
    // Lines end with \r\n, \n or \r (the SSE format allows all three).
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;
    }
    if (c == '\n' || c == '\r') {
      after_cr_ = c == '\r';
      Line(line_, events, comments);
      line_.clear();
      line_cut_ = false;
      continue;
    }
    if (line_.size() < kLineBytesMax) {
      line_ += c;
    } else {
      line_cut_ = true;
    }
  }
}

void SseParser::Line(std::string_view line, std::vector<SseEvent>& events,
                     std::vector<std::string>& comments) {
  if (line.empty()) {  // the blank line: dispatch
    if (has_data_ || has_fields_) {
      if (has_data_) events.push_back(pending_);
      pending_.data.clear();
      pending_.event = "message";
      has_data_ = false;
      has_fields_ = false;
    }
    return;
  }
  if (line[0] == ':') {
    line.remove_prefix(1);
    if (!line.empty() && line[0] == ' ') line.remove_prefix(1);
    comments.emplace_back(line);
    return;
  }
  const size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
  if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  has_fields_ = true;
  if (field == "data") {
    if (has_data_) pending_.data += '\n';
    pending_.data.append(value);
    has_data_ = true;
  } else if (field == "id") {
    pending_.id = std::string(value);
  } else if (field == "event") {
    pending_.event = std::string(value);
  }  // retry: and unknown fields are ignored
}

}  // namespace tpw::api
