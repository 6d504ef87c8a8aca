-- wrk script: POST /v1/transfers with a unique transfer id per request (tpwallet serve).
--
--   TPWALLET_KEY=tpw_... wrk -t2 -c64 -d10s --latency -s benchmarks/wrk/transfers.lua \
--     http://127.0.0.1:8080
--
-- Environment:
--   TPWALLET_KEY       API key sent as "Authorization: Bearer ..." (required unless --no-auth)
--   TPWALLET_ACCOUNTS  transfers move money among accounts 1..N (default 10000; create them
--                      first, see README.md)
--   TPWALLET_RUN       a run prefix (hex, up to 8 digits) kept in every transfer id, so two runs
--                      against one server do not collide (default: from the clock)
--
-- wrk counts only socket errors and non-2xx/3xx statuses ("Non-2xx or 3xx responses"); this
-- script also prints the statuses it saw at the end, per thread.

local key = os.getenv("TPWALLET_KEY") or ""
local accounts = tonumber(os.getenv("TPWALLET_ACCOUNTS") or "10000")
local run = os.getenv("TPWALLET_RUN") or string.format("%x", os.time() % 0xffffffff)

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_index", thread_count)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  statuses = {}
  math.randomseed(os.time() + thread_index * 7919)
  headers = { ["Content-Type"] = "application/json" }
  if key ~= "" then headers["Authorization"] = "Bearer " .. key end
end

function request()
  counter = counter + 1
  -- 0x + run (8 hex) + thread (8 hex) + counter (16 hex): unique per run, thread and request.
  local id = string.format("0x%08s%08x%016x", run, thread_index, counter):gsub(" ", "0")
  local debit = math.random(accounts)
  local credit = math.random(accounts - 1)
  if credit >= debit then credit = credit + 1 end
  local body = string.format(
    '{"id":"%s","debit_account_id":"%d","credit_account_id":"%d","amount_minor":"%d",' ..
    '"ledger":1,"code":1}', id, debit, credit, math.random(100, 999))
  return wrk.format("POST", "/v1/transfers", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local seen = thread:get("statuses")
    for status, count in pairs(seen) do
      io.write(string.format("thread %d: %d x HTTP %d\n", thread:get("thread_index"), count, status))
    end
  end
  io.write(string.format("p50 %.3f ms  p99 %.3f ms  max %.3f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
