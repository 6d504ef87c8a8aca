#include "api/access_log.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>

namespace tpw::api {

AccessLog::~AccessLog() {
  if (file_ != nullptr) std::fflush(file_);
  if (owned_) std::fclose(file_);
}

bool AccessLog::Open(const std::string& where) {
  if (where.empty()) return true;
  if (where == "-") {
    file_ = stdout;
  } else {
    file_ = std::fopen(where.c_str(), "a");
    if (file_ == nullptr) return false;
    owned_ = true;
  }
  std::setvbuf(file_, nullptr, _IOLBF, 1 << 16);
  return true;
}

void AccessLog::Write(const AccessRecord& r) {
  if (file_ == nullptr) return;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  boost::json::object line;
  line["time_ns"] = std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
  line["remote"] = r.remote;
  line["method"] = r.method;
  // The target as sent may hold anything; serialize escapes it, and invalid UTF-8 is replaced.
  std::string target(r.target.substr(0, 512));
  for (char& c : target) {
    if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  }
  line["target"] = target;
  line["route"] = RouteLabel(r.route);
  line["status"] = r.status;
  line["bytes_in"] = r.bytes_in;
  line["bytes_out"] = r.bytes_out;
  line["duration_us"] = r.duration_us;
  std::string text = boost::json::serialize(line);
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), file_);
}

}  // namespace tpw::api
