#include "cli/bench_http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <thread>

#include "api/http.h"
#include "cli/bench.h"
#include "common/assert.h"

namespace tpw::cli::benchhttp {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;


// ---- The pre-rendered request ---------------------------------------------------------------

constexpr size_t kIdHexDigits = 32;      // transfer id: 0x + 32 hex digits
constexpr size_t kAccountHexDigits = 8;  // account id: 0x + 8 hex digits
constexpr size_t kAmountDigits = 3;      // amount_minor 100..999
constexpr uint32_t kAmountMinorMin = 100;
constexpr uint32_t kAmountMinorSpan = 900;
constexpr size_t kHeaderBytesMax = 64 * 1024;
constexpr size_t kErrorSampleBytes = 300;

// Where one transfer's fixed-width fields are in the request text.
struct Slot {
  size_t id = 0;
  size_t debit = 0;
  size_t credit = 0;
  size_t amount = 0;
};

struct RequestTemplate {
  std::string text;  // request line, headers and body
  std::vector<Slot> slots;
};

void AppendTransfer(std::string& body, Slot& slot) {
  body += R"({"id":"0x)";
  slot.id = body.size();
  body.append(kIdHexDigits, '0');
  body += R"(","debit_account_id":"0x)";
  slot.debit = body.size();
  body.append(kAccountHexDigits, '0');
  body += R"(","credit_account_id":"0x)";
  slot.credit = body.size();
  body.append(kAccountHexDigits, '0');
  body += R"(","amount_minor":")";
  slot.amount = body.size();
  body.append(kAmountDigits, '0');
  body += R"(","ledger":1,"code":1})";
}

RequestTemplate MakeTemplate(const LoadOptions& options) {
  RequestTemplate out;
  out.slots.resize(options.transfers_per_request);
  std::string body;
  const bool batch = options.transfers_per_request > 1;
  if (batch) {
    body.reserve(140 * out.slots.size() + 32);
    body += R"({"transfers":[)";
  }
  for (size_t i = 0; i < out.slots.size(); ++i) {
    if (i != 0) body.push_back(',');
    AppendTransfer(body, out.slots[i]);
  }
  if (batch) body += "]}";
  std::string& t = out.text;
  t = std::string("POST ") + (batch ? "/v1/transfers/batch" : "/v1/transfers") + " HTTP/1.1\r\n";
  t += "Host: " + options.endpoint.host + ":" + std::to_string(options.endpoint.port) + "\r\n";
  if (!options.endpoint.key.empty()) t += "Authorization: Bearer " + options.endpoint.key + "\r\n";
  t += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
       "\r\n\r\n";
  const size_t header_bytes = t.size();
  for (Slot& s : out.slots) {
    s.id += header_bytes;
    s.debit += header_bytes;
    s.credit += header_bytes;
    s.amount += header_bytes;
  }
  t += body;
  return out;
}

void PutHex(char* out, uint64_t value, size_t digits) {
  constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = digits; i > 0; --i) {
    out[i - 1] = kHex[value & 15];
    value >>= 4;
  }
}

void PutDecimal(char* out, uint64_t value, size_t digits) {
  for (size_t i = digits; i > 0; --i) {
    out[i - 1] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// The decimal number at the start of `text` (spaces skipped first; at most 18 digits), or
// nullopt.
std::optional<uint64_t> Digits(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  const size_t first = i;
  uint64_t value = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && i - first < 18; ++i) {
    value = value * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (i == first) return std::nullopt;
  return value;
}

// The unsigned number after `"name":` in `body`, or nullopt.
std::optional<uint64_t> NumberField(std::string_view body, std::string_view name) {
  const std::string key = "\"" + std::string(name) + "\":";
  const size_t at = body.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  return Digits(body.substr(at + key.size()));
}

// ---- Per thread -----------------------------------------------------------------------------

class LoadConnection;

// One client thread: its connections share one epoll instance (level-triggered), so a request
// costs one send, one recv and a share of an epoll_wait. (Asio's reactor would add a
// speculative recv that fails with EAGAIN on every request, and a completion handler each for
// the write and the read.)
struct ThreadState {
  explicit ThreadState(size_t kinds)
      : epoll_fd(::epoll_create1(EPOLL_CLOEXEC)), latency_ns(kinds) {}
  ~ThreadState() {
    if (epoll_fd >= 0) ::close(epoll_fd);
  }
  ThreadState(const ThreadState&) = delete;
  ThreadState& operator=(const ThreadState&) = delete;

  void Run();  // starts this thread's connections; returns once every one of them closed

  net::io_context context{1};  // owns the sockets (connect, close); never run
  const int epoll_fd;
  std::vector<LoadConnection*> connections;
  size_t open = 0;  // connections registered with epoll_fd
  LoadProgress progress;
  std::atomic<bool> stop{false};
  std::atomic<bool> finished{false};
  std::vector<std::vector<uint64_t>> latency_ns;  // by kind
  uint64_t answered_ok = 0;
  std::map<std::string, uint64_t> errors;
  std::map<std::string, std::string> error_samples;

  void Error(const std::string& kind, std::string_view sample) {
    ++errors[kind];
    if (!error_samples.contains(kind)) {
      error_samples[kind] = std::string(sample.substr(0, kErrorSampleBytes));
    }
    progress.failed.store(progress.failed.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
  }
};

// One keep-alive connection, closed loop: sends what its source says next once the previous
// answer arrived. Touched only by its thread.
class LoadConnection {
 public:
  LoadConnection(ThreadState& thread, std::unique_ptr<RequestSource> source)
      : thread_(thread), source_(std::move(source)), socket_(thread.context) {
    buffer_.resize(4096);
  }

  bool Connect(const tcp::endpoint& endpoint, std::string& error) {
    beast::error_code ec;
    socket_.connect(endpoint, ec);
    if (!ec) socket_.set_option(tcp::no_delay(true), ec);
    if (!ec) socket_.non_blocking(true, ec);
    if (ec) error = ec.message();
    return !ec;
  }

  // On the connection's thread.
  void Start() {
    if (!Watch(EPOLL_CTL_ADD, EPOLLIN)) return thread_.Error("connection: epoll: " + Errno(), "");
    ++thread_.open;
    SendNext();
  }

  // epoll said the socket is readable (or writable while a request is still being sent).
  void OnEvents(uint32_t events) {
    if ((events & EPOLLOUT) != 0 && writing_) Write();
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0 && !closed_) Read();
  }

 private:
  static std::string Errno() { return std::strerror(errno); }

  bool Watch(int op, uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.ptr = this;
    return ::epoll_ctl(thread_.epoll_fd, op, socket_.native_handle(), &event) == 0;
  }

  void SendNext() {
    request_ = source_->Next(kind_);
    if (request_.empty()) return Close();
    TPW_ASSERT(kind_ < thread_.latency_ns.size());
    sent_ns_ = NowNs();
    used_ = 0;
    header_bytes_ = 0;
    written_ = 0;
    Write();
  }

  // Sends what is left of the request; a request the socket does not take whole (a big batch)
  // is finished when epoll says the socket is writable again.
  void Write() {
    while (written_ < request_.size()) {
      const ssize_t n = ::send(socket_.native_handle(), request_.data() + written_,
                               request_.size() - written_, MSG_NOSIGNAL);
      if (n > 0) {
        written_ += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!writing_ && !Watch(EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT)) {
          return Fail("connection: epoll: " + Errno());
        }
        writing_ = true;
        return;
      }
      return Fail("connection: " + Errno());
    }
    if (writing_ && !Watch(EPOLL_CTL_MOD, EPOLLIN)) return Fail("connection: epoll: " + Errno());
    writing_ = false;
  }

  void Read() {
    if (used_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    const ssize_t n = ::recv(socket_.native_handle(), buffer_.data() + used_,
                             buffer_.size() - used_, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n < 0) return Fail("connection: " + Errno());
    if (n == 0) return Fail("connection: End of file");
    OnRead(static_cast<size_t>(n));
  }

  void OnRead(size_t n) {
    used_ += n;
    const std::string_view have(buffer_.data(), used_);
    if (header_bytes_ == 0) {
      const size_t end = have.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        if (used_ > kHeaderBytesMax) return Fail("response: headers too large");
        return;  // the rest when epoll says so
      }
      header_bytes_ = end + 4;
      if (!ParseHeader(have.substr(0, header_bytes_))) return Fail("response: not HTTP/1.1");
    }
    const size_t total = header_bytes_ + content_length_;
    if (used_ < total) {
      if (total > kResponseBytesMax) return Fail("response: too large");
      if (buffer_.size() < total) buffer_.resize(total);
      return;
    }
    if (used_ != total) return Fail("response: bytes after the response (pipelining?)");
    if (writing_) return Fail("response: answered before the whole request was sent");
    thread_.latency_ns[kind_].push_back(NowNs() - sent_ns_);
    const std::string_view body = have.substr(header_bytes_, content_length_);
    const std::string error = source_->Answer(status_, body);
    if (error.empty()) {
      ++thread_.answered_ok;
    } else {
      thread_.Error(error, body);
    }
    thread_.progress.completed.store(thread_.progress.completed.load(std::memory_order_relaxed) + 1,
                                     std::memory_order_relaxed);
    if (server_closes_) return Fail("connection: closed by the server (Connection: close)");
    if (thread_.stop.load(std::memory_order_relaxed)) return Close();
    SendNext();
  }

  bool ParseHeader(std::string_view header) {
    if (header.size() < 12 || header.substr(0, 9) != "HTTP/1.1 ") return false;
    status_ = 0;
    for (size_t i = 9; i < 12; ++i) {
      if (header[i] < '0' || header[i] > '9') return false;
      status_ = status_ * 10 + static_cast<unsigned>(header[i] - '0');
    }
    content_length_ = 0;
    server_closes_ = false;
    size_t line = header.find("\r\n") + 2;
    while (line < header.size()) {
      const size_t next = header.find("\r\n", line);
      const std::string_view field = header.substr(line, next - line);
      if (api::StartsWithNoCase(field, "content-length:")) {
        const std::optional<uint64_t> length = Digits(field.substr(15));
        if (!length) return false;
        content_length_ = *length;
      } else if (api::StartsWithNoCase(field, "connection: close")) {
        server_closes_ = true;
      }
      line = next + 2;
    }
    return true;
  }

  void Fail(const std::string& kind) {
    if (closed_) return;
    thread_.Error(kind, "");
    Close();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    (void)::epoll_ctl(thread_.epoll_fd, EPOLL_CTL_DEL, socket_.native_handle(), nullptr);
    --thread_.open;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  ThreadState& thread_;
  std::unique_ptr<RequestSource> source_;
  tcp::socket socket_;
  std::string_view request_;  // from source_->Next, valid until its next call
  size_t written_ = 0;
  bool writing_ = false;  // waiting for EPOLLOUT to send the rest of request_
  std::vector<char> buffer_;
  size_t used_ = 0;
  size_t header_bytes_ = 0;
  uint64_t content_length_ = 0;
  unsigned status_ = 0;
  bool server_closes_ = false;
  bool closed_ = false;
  size_t kind_ = 0;
  uint64_t sent_ns_ = 0;
};

void ThreadState::Run() {
  for (LoadConnection* c : connections) c->Start();
  std::array<epoll_event, 64> events{};
  while (open > 0) {
    const int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 100);
    if (n < 0 && errno != EINTR) {
      Error(std::string("epoll_wait: ") + std::strerror(errno), "");
      return;
    }
    for (int i = 0; i < n; ++i) {
      static_cast<LoadConnection*>(events[static_cast<size_t>(i)].data.ptr)
          ->OnEvents(events[static_cast<size_t>(i)].events);
    }
  }
}

// ---- The transfers load ---------------------------------------------------------------------

// What the transfers load acknowledged on one client thread.
struct TransferTally {
  explicit TransferTally(uint64_t accounts) : credited(accounts, 0), debited(accounts, 0) {}
  uint64_t requests_ok = 0;
  uint64_t transfers_ok = 0;
  uint64_t transfers_refused = 0;
  std::vector<uint64_t> credited;
  std::vector<uint64_t> debited;
};

struct Leg {
  uint32_t debit = 0;  // account ids
  uint32_t credit = 0;
  uint32_t amount_minor = 0;
};

// POST /v1/transfers (or /batch) from one pre-rendered request whose ids, accounts and amounts
// are patched in place for each request.
class TransferSource final : public RequestSource {
 public:
  TransferSource(const RequestTemplate& request, const LoadOptions& options, uint32_t index,
                 uint64_t quota, TransferTally& tally)
      : slots_(request.slots), text_(request.text), accounts_(options.accounts), quota_(quota),
        id_high_(options.seed * 0x9e3779b97f4a7c15ULL | 1),
        id_low_(static_cast<uint64_t>(index) << 40),
        random_(options.seed ^ (0x632be59bd9b4e019ULL * (index + 1))), legs_(slots_.size()),
        tally_(tally) {}

  std::string_view Next(size_t& kind) override {
    if (sent_ == quota_) return {};
    ++sent_;
    kind = 0;
    Fill();
    return text_;
  }

  std::string Answer(unsigned status, std::string_view body) override {
    const bool batch = slots_.size() > 1;
    if (status != (batch ? 200u : 201u)) {
      const std::string code = ErrorCodeOf(body);
      return std::to_string(status) + (code.empty() ? "" : " " + code);
    }
    ++tally_.requests_ok;
    if (!batch) {
      Acknowledge(legs_[0]);
      return "";
    }
    const std::optional<uint64_t> created = NumberField(body, "created");
    if (created && *created == legs_.size()) {
      for (const Leg& leg : legs_) Acknowledge(leg);
      return "";
    }
    return PartialBatch(body);
  }

 private:
  uint64_t NextRandom() {  // xorshift64*: cheap and good enough to spread accounts
    random_ ^= random_ >> 12;
    random_ ^= random_ << 25;
    random_ ^= random_ >> 27;
    return random_ * 0x2545f4914f6cdd1dULL;
  }

  // Patches the next ids, accounts and amounts into the request text.
  void Fill() {
    char* text = text_.data();
    for (size_t i = 0; i < slots_.size(); ++i) {
      const Slot& s = slots_[i];
      PutHex(text + s.id, id_high_, 16);
      PutHex(text + s.id + 16, id_low_++, 16);
      const uint64_t debit = NextRandom() % accounts_;
      uint64_t credit = NextRandom() % (accounts_ - 1);
      if (credit >= debit) ++credit;  // distinct accounts
      const uint64_t amount = kAmountMinorMin + NextRandom() % kAmountMinorSpan;
      PutHex(text + s.debit, debit + 1, kAccountHexDigits);
      PutHex(text + s.credit, credit + 1, kAccountHexDigits);
      PutDecimal(text + s.amount, amount, kAmountDigits);
      legs_[i] = Leg{static_cast<uint32_t>(debit + 1), static_cast<uint32_t>(credit + 1),
                     static_cast<uint32_t>(amount)};
    }
  }

  // A batch with refused events: only the events the ledger created are acknowledged.
  std::string PartialBatch(std::string_view body) {
    boost::json::error_code ec;
    const boost::json::value json = boost::json::parse(body, ec);
    const boost::json::value* found =
        !ec && json.is_object() ? json.get_object().if_contains("results") : nullptr;
    const boost::json::array* results = found != nullptr ? found->if_array() : nullptr;
    if (results == nullptr || results->size() != legs_.size()) return "200 with unreadable results";
    for (size_t i = 0; i < legs_.size(); ++i) {
      const boost::json::value& r = (*results)[i];
      if (r.is_object() && r.as_object().contains("result") &&
          r.as_object().at("result") == "created") {
        Acknowledge(legs_[i]);
      } else {
        ++tally_.transfers_refused;
      }
    }
    return "";
  }

  void Acknowledge(const Leg& leg) {
    ++tally_.transfers_ok;
    tally_.credited[leg.credit - 1] += leg.amount_minor;
    tally_.debited[leg.debit - 1] += leg.amount_minor;
  }

  const std::vector<Slot>& slots_;
  std::string text_;
  const uint64_t accounts_;
  const uint64_t quota_;  // requests this connection sends; UINT64_MAX: until stopped
  uint64_t sent_ = 0;
  const uint64_t id_high_;
  uint64_t id_low_;
  uint64_t random_;
  std::vector<Leg> legs_;
  TransferTally& tally_;
};

bool ResolveEndpoint(const Endpoint& endpoint, tcp::endpoint& out, std::string& error) {
  net::io_context context;
  tcp::resolver resolver(context);
  beast::error_code ec;
  const auto results = resolver.resolve(endpoint.host, std::to_string(endpoint.port), ec);
  if (ec || results.empty()) {
    error = "cannot resolve " + endpoint.host + ": " + ec.message();
    return false;
  }
  out = *results.begin();
  return true;
}

// Sleeps in short steps until every thread finished; stops them at the deadline (a --seconds
// run) and calls `tick` once a second.
void WaitAndTick(double seconds, std::vector<std::unique_ptr<ThreadState>>& threads,
                 uint64_t start_ns, const Tick& tick) {
  const uint64_t deadline_ns =
      seconds == 0 ? UINT64_MAX : start_ns + static_cast<uint64_t>(seconds * 1e9);
  uint64_t next_tick_ns = start_ns + 1'000'000'000;
  bool stopped = false;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const bool all_finished = std::all_of(threads.begin(), threads.end(),
                                          [](const auto& t) { return t->finished.load(); });
    if (all_finished) return;
    const uint64_t now = NowNs();
    if (!stopped && now >= deadline_ns) {
      for (auto& t : threads) t->stop.store(true);
      stopped = true;
    }
    if (now >= next_tick_ns && tick) {
      LoadProgress total;
      for (auto& t : threads) {
        total.completed += t->progress.completed.load(std::memory_order_relaxed);
        total.failed += t->progress.failed.load(std::memory_order_relaxed);
      }
      tick(total, now - start_ns);
      next_tick_ns += 1'000'000'000;
    }
  }
}

void Merge(std::vector<std::unique_ptr<ThreadState>>& threads, ClosedLoopResult& result) {
  for (auto& t : threads) {
    result.answered_ok += t->answered_ok;
    if (result.latency_ns.size() < t->latency_ns.size()) result.latency_ns.resize(t->latency_ns.size());
    for (size_t k = 0; k < t->latency_ns.size(); ++k) {
      result.latency_ns[k].insert(result.latency_ns[k].end(), t->latency_ns[k].begin(),
                                  t->latency_ns[k].end());
    }
    for (const auto& [kind, count] : t->errors) result.errors[kind] += count;
    for (const auto& [kind, sample] : t->error_samples) result.error_samples.emplace(kind, sample);
  }
  for (std::vector<uint64_t>& kind : result.latency_ns) std::sort(kind.begin(), kind.end());
}

}  // namespace

std::string ErrorCodeOf(std::string_view body) {
  constexpr std::string_view kCode = R"("code":")";
  const size_t at = body.find(kCode);
  if (at == std::string_view::npos) return "";
  const size_t start = at + kCode.size();
  const size_t end = body.find('"', start);
  if (end == std::string_view::npos || end - start > 64) return "";
  return std::string(body.substr(start, end - start));
}

bool RunClosedLoop(const ClosedLoopOptions& options, const SourceFactory& make_source,
                   const Tick& tick, ClosedLoopResult& result, std::string& error) {
  TPW_ASSERT(options.connections >= 1 && options.connections <= kConnectionsMax);
  TPW_ASSERT(options.threads >= 1 && options.threads <= kClientThreadsMax);
  TPW_ASSERT(!options.kinds.empty());
  tcp::endpoint endpoint;
  if (!ResolveEndpoint(options.endpoint, endpoint, error)) return false;
  std::vector<std::unique_ptr<ThreadState>> threads;
  for (uint32_t t = 0; t < options.threads; ++t) {
    threads.push_back(std::make_unique<ThreadState>(options.kinds.size()));
    for (auto& kind : threads.back()->latency_ns) kind.reserve(size_t{1} << 18);
  }
  std::vector<std::unique_ptr<LoadConnection>> connections;
  for (uint32_t c = 0; c < options.connections; ++c) {
    const uint32_t thread = c % options.threads;
    if (threads[thread]->epoll_fd < 0) {
      error = std::string("cannot make an epoll instance: ") + std::strerror(errno);
      return false;
    }
    connections.push_back(std::make_unique<LoadConnection>(*threads[thread], make_source(c, thread)));
    threads[thread]->connections.push_back(connections.back().get());
    std::string connect_error;
    if (!connections.back()->Connect(endpoint, connect_error)) {
      error = "cannot connect to " + options.endpoint.host + ":" +
              std::to_string(options.endpoint.port) + ": " + connect_error;
      return false;
    }
  }
  const uint64_t start = NowNs();
  std::vector<std::thread> runners;
  for (auto& t : threads) {
    runners.emplace_back([state = t.get()] {
      state->Run();
      state->finished.store(true);
    });
  }
  WaitAndTick(options.seconds, threads, start, tick);
  for (std::thread& r : runners) r.join();
  result.elapsed_ns = NowNs() - start;
  connections.clear();
  Merge(threads, result);
  return true;
}

bool RunLoad(const LoadOptions& options, const Tick& tick, LoadResult& result,
             std::string& error) {
  TPW_ASSERT(options.accounts >= 2 && options.accounts <= kAccountsMax);
  const RequestTemplate request = MakeTemplate(options);
  std::vector<std::unique_ptr<TransferTally>> tallies;
  for (uint32_t t = 0; t < options.threads; ++t) {
    tallies.push_back(std::make_unique<TransferTally>(options.accounts));
  }
  ClosedLoopOptions loop;
  loop.endpoint = options.endpoint;
  loop.connections = options.connections;
  loop.threads = options.threads;
  loop.kinds = {options.transfers_per_request > 1 ? "batch" : "transfer"};
  loop.seconds = options.requests != 0 ? 0 : options.seconds;
  const auto make_source = [&](uint32_t c, uint32_t thread) {
    uint64_t quota = UINT64_MAX;
    if (options.requests != 0) {
      quota = options.requests / options.connections + (c < options.requests % options.connections);
    }
    return std::make_unique<TransferSource>(request, options, c, quota, *tallies[thread]);
  };
  ClosedLoopResult loop_result;
  if (!RunClosedLoop(loop, make_source, tick, loop_result, error)) return false;
  result.elapsed_ns = loop_result.elapsed_ns;
  result.latency_ns = std::move(loop_result.latency_ns[0]);
  result.errors = std::move(loop_result.errors);
  result.error_samples = std::move(loop_result.error_samples);
  result.credited.assign(options.accounts, 0);
  result.debited.assign(options.accounts, 0);
  for (const auto& t : tallies) {
    result.requests_ok += t->requests_ok;
    result.transfers_ok += t->transfers_ok;
    result.transfers_refused += t->transfers_refused;
    for (size_t i = 0; i < t->credited.size(); ++i) {
      result.credited[i] += t->credited[i];
      result.debited[i] += t->debited[i];
    }
  }
  return true;
}

// ---- SyncClient -----------------------------------------------------------------------------

class SyncClient::Impl {
 public:
  explicit Impl(Endpoint endpoint) : endpoint_(std::move(endpoint)), socket_(context_) {}

  bool Connect(std::string& error) {
    tcp::endpoint target;
    if (!ResolveEndpoint(endpoint_, target, error)) return false;
    beast::error_code ec;
    socket_.connect(target, ec);
    if (ec) error = "cannot connect to " + endpoint_.host + ":" +
                    std::to_string(endpoint_.port) + ": " + ec.message();
    return !ec;
  }

  std::string Header(std::string_view method, const std::string& target) const {
    std::string out = std::string(method) + " " + target + " HTTP/1.1\r\nHost: " +
                      endpoint_.host + ":" + std::to_string(endpoint_.port) + "\r\n";
    if (!endpoint_.key.empty()) out += "Authorization: Bearer " + endpoint_.key + "\r\n";
    return out;
  }

  SimpleResponse ReadOne() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(kResponseBytesMax);
    beast::error_code ec;
    http::read(socket_, buffer_, parser, ec);
    if (ec) return SimpleResponse{0, ec.message()};
    return SimpleResponse{parser.get().result_int(), std::move(parser.get().body())};
  }

  bool WriteAll(const std::string& bytes, std::string& error) {
    beast::error_code ec;
    net::write(socket_, net::buffer(bytes), ec);
    if (ec) error = ec.message();
    return !ec;
  }

  Endpoint endpoint_;
  net::io_context context_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

SyncClient::SyncClient(Endpoint endpoint) : impl_(std::make_unique<Impl>(std::move(endpoint))) {}
SyncClient::~SyncClient() = default;

bool SyncClient::Connect(std::string& error) { return impl_->Connect(error); }

SimpleResponse SyncClient::Post(const std::string& target, const std::string& body) {
  return Send("POST", target, body);
}

SimpleResponse SyncClient::Send(std::string_view method, const std::string& target,
                                const std::string& body, std::string_view content_type) {
  std::string request = impl_->Header(method, target);
  if (!body.empty()) request += "Content-Type: " + std::string(content_type) + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  std::string error;
  if (!impl_->WriteAll(request, error)) return SimpleResponse{0, error};
  return impl_->ReadOne();
}

std::vector<SimpleResponse> SyncClient::GetPipelined(const std::vector<std::string>& targets) {
  std::string requests;
  for (const std::string& target : targets) requests += impl_->Header("GET", target) + "\r\n";
  std::vector<SimpleResponse> out;
  std::string error;
  if (!impl_->WriteAll(requests, error)) {
    out.assign(targets.size(), SimpleResponse{0, error});
    return out;
  }
  out.reserve(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) out.push_back(impl_->ReadOne());
  return out;
}

void PrintProgress(const LoadProgress& progress, uint64_t elapsed_ns) {
  static uint64_t last_completed = 0;
  const uint64_t completed = progress.completed.load();
  std::fprintf(stderr, "  progress: %3.0f s  %lu requests  (%lu in the last second)  errors %lu\n",
               static_cast<double>(elapsed_ns) / 1e9, completed, completed - last_completed,
               progress.failed.load());
  last_completed = completed;
}

}  // namespace tpw::cli::benchhttp
