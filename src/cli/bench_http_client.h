// The load generator of `tpwallet bench http` and `tpwallet bench payments`: a lean closed-loop
// HTTP/1.1 client (RunClosedLoop) that sends what a RequestSource says next on each of N
// keep-alive connections; the transfers load (RunLoad: POST /v1/transfers and
// /v1/transfers/batch) is one source, the payment flows of bench payments another. Plus a small
// synchronous client for set-up and read-back.
//
// The load client shares the machine (2 cores) with the server, so it is built to cost little:
// each connection keeps one pre-rendered request (headers and body, fixed-width fields) and
// patches the transfer ids, accounts and amounts in place for the next request; responses are
// parsed by hand (status line, Content-Length; the body only for errors and for a batch with a
// refused event). Each connection sends its next request when the previous answer arrived.
// Threads: each client thread runs its own epoll loop (level-triggered) over its share of the
// connections, so nothing on the request path takes a lock and a request costs one send and one
// recv; counters are per thread and merged at the end.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tpw::cli::benchhttp {

// The bench's limits (STYLE: a limit on everything).
inline constexpr uint32_t kConnectionsMax = 4096;
inline constexpr uint32_t kClientThreadsMax = 64;
inline constexpr uint64_t kAccountsMax = 0xffff'ffff;  // account ids are rendered as 8 hex digits
inline constexpr size_t kResponseBytesMax = 64 * 1024 * 1024;

struct Endpoint {
  std::string host;
  uint16_t port = 0;
  std::string key;  // API key (tpw_…); "" sends no Authorization header
};

struct LoadOptions {
  Endpoint endpoint;
  uint32_t connections = 64;
  uint32_t threads = 1;                // client threads
  uint32_t transfers_per_request = 1;  // 1: POST /v1/transfers; more: /v1/transfers/batch
  uint64_t requests = 0;               // total; 0: run for `seconds`
  double seconds = 10;
  uint64_t accounts = 10'000;          // transfers move money among accounts 1..accounts
  uint64_t seed = 1;                   // transfer ids and the choice of accounts and amounts
};

// What the load did, merged over the client threads.
struct LoadResult {
  uint64_t elapsed_ns = 0;
  uint64_t requests_ok = 0;       // answered 201 (single) or 200 (batch)
  uint64_t transfers_ok = 0;      // acknowledged as created
  uint64_t transfers_refused = 0; // events of a 200 batch the ledger refused
  std::vector<uint64_t> latency_ns;  // every answered request, sorted
  // Non-2xx answers and transport failures: "503 overloaded", "429 rate_limited",
  // "connection: Connection reset by peer" → count, and one sample body per kind.
  std::map<std::string, uint64_t> errors;
  std::map<std::string, std::string> error_samples;
  // Acknowledged money per account (index = account id - 1), in minor units.
  std::vector<uint64_t> credited;
  std::vector<uint64_t> debited;
};

// Progress, readable from another thread while the load runs.
struct LoadProgress {
  std::atomic<uint64_t> completed{0};
  std::atomic<uint64_t> failed{0};
};

// Connects every connection (synchronously), then runs the load until `requests` are answered
// or `seconds` passed; calls `tick(progress)` about once a second from the calling thread.
// Returns an error message when the connections cannot be made.
using Tick = std::function<void(const LoadProgress& progress, uint64_t elapsed_ns)>;
// The usual tick: one "progress:" line a second on stderr (requests answered, in the last
// second, errors).
void PrintProgress(const LoadProgress& progress, uint64_t elapsed_ns);
bool RunLoad(const LoadOptions& options, const Tick& tick, LoadResult& result,
             std::string& error);

// ---- A closed loop of any requests ------------------------------------------------------------

// What one connection sends and what it makes of each answer. Used only on the connection's
// thread; one per connection.
class RequestSource {
 public:
  virtual ~RequestSource() = default;
  // The next request, whole (request line, headers, body; valid until the next call), and its
  // kind (an index into ClosedLoopOptions::kinds: latency is kept per kind). Empty: this
  // connection has nothing more to send.
  virtual std::string_view Next(size_t& kind) = 0;
  // The answer to the last request: "" when it is what the source expected, else the error to
  // count ("402 insufficient_funds"; the body is kept as its sample).
  virtual std::string Answer(unsigned status, std::string_view body) = 0;
};

struct ClosedLoopOptions {
  Endpoint endpoint;
  uint32_t connections = 64;
  uint32_t threads = 1;            // client threads; connections are dealt round-robin
  std::vector<std::string> kinds;  // names of the request kinds, for the caller's report
  double seconds = 10;             // stop then; 0: run until every source is done
};

struct ClosedLoopResult {
  uint64_t elapsed_ns = 0;
  uint64_t answered_ok = 0;                       // answers the sources accepted
  std::vector<std::vector<uint64_t>> latency_ns;  // by kind, every answered request, sorted
  std::map<std::string, uint64_t> errors;         // as LoadResult's
  std::map<std::string, std::string> error_samples;
};

// Makes the source of connection `index` (0..connections-1), which runs on client thread
// `thread` (0..threads-1). Called on the calling thread before the load starts.
using SourceFactory =
    std::function<std::unique_ptr<RequestSource>(uint32_t index, uint32_t thread)>;

bool RunClosedLoop(const ClosedLoopOptions& options, const SourceFactory& make_source,
                   const Tick& tick, ClosedLoopResult& result, std::string& error);

// "..."code":"overloaded"..." → "overloaded"; "" when there is none.
std::string ErrorCodeOf(std::string_view body);

// One synchronous keep-alive connection, for the set-up and the read-back.
struct SimpleResponse {
  unsigned status = 0;
  std::string body;
};

class SyncClient {
 public:
  explicit SyncClient(Endpoint endpoint);
  ~SyncClient();
  SyncClient(const SyncClient&) = delete;
  SyncClient& operator=(const SyncClient&) = delete;

  // False with `error` set when the server cannot be reached.
  bool Connect(std::string& error);
  // POST with a JSON body, or GET (empty body). A socket error is status 0 with the message as
  // the body.
  SimpleResponse Post(const std::string& target, const std::string& body);
  // Any method, with a body of `content_type` (none when the body is empty).
  SimpleResponse Send(std::string_view method, const std::string& target, const std::string& body,
                      std::string_view content_type = "application/json");
  // GETs `targets` pipelined (all written, then all read) on this connection.
  std::vector<SimpleResponse> GetPipelined(const std::vector<std::string>& targets);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tpw::cli::benchhttp
