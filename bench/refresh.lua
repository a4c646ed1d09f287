-- wrk script for the refresh_rotation scenario: POST grant_type=refresh_token to the token
-- endpoint with the app's Basic login (BENCH_BASIC); each answer carries the next refresh token
-- of its chain and retires the one sent (sending a retired one again would revoke the chain).
--
-- BENCH_TOKENS names a file of refresh tokens, one per line, each the head of its own chain
-- (made by separate code flows). wrk keeps one Lua state per thread, not per connection, and
-- response() does not say which connection answered: so each thread keeps a pool of the chains
-- it owns (every BENCH_THREADS-th line of the file), a request takes a token out of the pool,
-- and its answer puts the chain's next token back. A token is therefore sent once, and a chain
-- is never in two requests at a time; a thread starts with more chains than it has connections.
-- done() prints bench/run's BENCH line (rotations per second as rps); a 2xx or 3xx answer
-- without a new refresh token counts as a bad status (wrk counts those >= 400 itself).

local basic = "Basic " .. os.getenv("BENCH_BASIC")
local thread_count = tonumber(os.getenv("BENCH_THREADS"))

local threads = {}
function setup(thread)
  local own, n = {}, 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if n % thread_count == #threads then own[#own + 1] = line end
    n = n + 1
  end
  thread:set("chains", table.concat(own, " "))
  threads[#threads + 1] = thread
end

local pool = {}
function init()
  for token in chains:gmatch("%S+") do pool[#pool + 1] = token end
end

rotations, bad = 0, 0 -- globals: done() reads them with thread:get
function request()
  -- An empty pool sends a token that does not exist: the 400 it gets counts as an error.
  local token = table.remove(pool) or "pool-empty"
  return wrk.format("POST", nil, {
    ["Authorization"] = basic,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, headers, body)
  local next_token = status == 200 and body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if next_token then
    pool[#pool + 1] = next_token
    rotations = rotations + 1
  elseif status < 400 then
    bad = bad + 1 -- wrk counts statuses >= 400 itself
  end
end

function done(summary, latency, requests)
  local total, total_bad = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("rotations")
    total_bad = total_bad + thread:get("bad")
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH rps=%.1f requests=%d p50_ms=%.2f p99_ms=%.2f bad_status=%d connect=%d read=%d write=%d timeout=%d\n",
    total / seconds, total, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status + total_bad, e.connect, e.read, e.write, e.timeout))
end
