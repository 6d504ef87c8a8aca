// The load generator of `tpwallet bench http`: a lean closed-loop HTTP/1.1 client for POST
// /v1/transfers and /v1/transfers/batch, plus a small synchronous client for the set-up and the
// read-back of balances.
//
// The load client shares the machine (2 cores) with the server, so it is built to cost little:
// each connection keeps one pre-rendered request (headers and body, fixed-width fields) and
// patches the transfer ids, accounts and amounts in place for the next request; responses are
// parsed by hand (status line, Content-Length; the body only for errors and for a batch with a
// refused event). Each connection sends its next request when the previous answer arrived.
// Threads: each client thread runs its own io_context with its share of the connections, so
// nothing on the request path takes a lock; counters are per thread and merged at the end.
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
bool RunLoad(const LoadOptions& options, const Tick& tick, LoadResult& result,
             std::string& error);

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
  // GETs `targets` pipelined (all written, then all read) on this connection.
  std::vector<SimpleResponse> GetPipelined(const std::vector<std::string>& targets);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tpw::cli::benchhttp
