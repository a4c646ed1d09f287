-- wrk script for every benchmark scenario: a GET of the URL given to wrk, or, when BENCH_BODY
-- is set, a form POST with HTTP Basic client authentication (BENCH_BASIC = base64 of id:secret).
-- The request is static (no request() function), so wrk builds it once and Lua costs nothing
-- per request. done() prints one machine-readable line that bench/run parses.

local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH rps=%.1f requests=%d p50_ms=%.2f p99_ms=%.2f bad_status=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests / seconds, summary.requests,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect, e.read, e.write, e.timeout))
end
