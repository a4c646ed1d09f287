-- wrk script for the authorization_code scenario: whole sign-ins of a web app, each flow two
-- requests: GET the authorization endpoint with a browser's session cookie (the next of
-- BENCH_COOKIES: signed-in users who already allowed the app, so no page is shown), which
-- answers with a redirect to the app carrying a code; then POST the code to the token endpoint
-- with the PKCE verifier and the app's Basic login (BENCH_BASIC), which answers ID, access and
-- refresh tokens.
--
-- wrk keeps one Lua state per thread, not per connection, and response() does not say which
-- connection answered: so codes go into the thread's queue, and whichever of its connections
-- sends next redeems the oldest one (a code is single-use, and each is handed out once). The
-- `state` of each request names one of BENCH_PKCE's verifier:challenge pairs (computed by
-- bench/run), so the token request sends the verifier of its code's challenge.
--
-- Settings: BENCH_AUTHORIZE (path and query of the authorization request, without state and
-- code challenge), BENCH_TOKEN_PATH, BENCH_REDIRECT_URI (form-encoded), BENCH_COOKIES (Cookie
-- headers separated by "|"), BENCH_BASIC, BENCH_PKCE ("verifier:challenge" pairs separated by
-- spaces).
-- done() prints bench/run's BENCH line with flows (token responses with an access token) per
-- second as rps; a redirect without a code, or a token answer without tokens, counts as a bad
-- status.

local authorize = os.getenv("BENCH_AUTHORIZE")
local token_path = os.getenv("BENCH_TOKEN_PATH")
local redirect_uri = os.getenv("BENCH_REDIRECT_URI")
local cookies = {}
for cookie in os.getenv("BENCH_COOKIES"):gmatch("[^|]+") do
  cookies[#cookies + 1] = cookie
end
local basic = "Basic " .. os.getenv("BENCH_BASIC")

local verifiers, challenges = {}, {}
for verifier, challenge in os.getenv("BENCH_PKCE"):gmatch("([^: ]+):([^: ]+)") do
  verifiers[#verifiers + 1] = verifier
  challenges[#challenges + 1] = challenge
end

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

local codes, first, last, sent = {}, 1, 0, 0 -- a queue: codes[first..last]
flows, bad = 0, 0 -- globals: done() reads them with thread:get
function request()
  if first <= last then -- redeem the oldest code waiting
    local code = codes[first]
    codes[first] = nil
    first = first + 1
    return wrk.format("POST", token_path, {
      ["Authorization"] = basic,
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }, "grant_type=authorization_code&code=" .. code.value .. "&redirect_uri=" .. redirect_uri
      .. "&code_verifier=" .. verifiers[code.pair])
  end
  sent = sent + 1
  local pair = 1 + (sent + id) % #challenges
  return wrk.format("GET", authorize .. "&state=" .. pair .. "&code_challenge=" .. challenges[pair],
    { ["Cookie"] = cookies[1 + (sent + id) % #cookies] })
end

function response(status, headers, body)
  if status == 302 or status == 303 then
    local location = headers["location"] or headers["Location"] or ""
    local code = location:match("[?&]code=([^&]+)")
    local pair = tonumber(location:match("[?&]state=(%d+)"))
    if code and pair then
      last = last + 1
      codes[last] = { value = code, pair = pair }
    else
      bad = bad + 1
    end
  elseif status == 200 then
    if body:find('"access_token"', 1, true) and body:find('"id_token"', 1, true) then
      flows = flows + 1
    else
      bad = bad + 1
    end
  end -- other statuses: wrk counts those >= 400 itself
end

function done(summary, latency, requests)
  local total_flows, total_bad = 0, 0
  for _, thread in ipairs(threads) do
    total_flows = total_flows + thread:get("flows")
    total_bad = total_bad + thread:get("bad")
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH rps=%.1f requests=%d p50_ms=%.2f p99_ms=%.2f bad_status=%d connect=%d read=%d write=%d timeout=%d\n",
    total_flows / seconds, total_flows, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.status + total_bad, e.connect, e.read, e.write, e.timeout))
end
