-- wrk script for the password_sign_in scenario: a browser's sign-in form, POST /login/password
-- with email, password and the anti-forgery token (the same random value in the form and in the
-- tessera_csrf cookie: the double-submit check compares the two). Requests cycle through
-- BENCH_ACCOUNTS seeded accounts (bench0@example.com …) that all have the password
-- BENCH_PASSWORD, and each comes from its own client address (X-Forwarded-For, which the server
-- trusts from one proxy in the benchmark), as sign-ins behind a load balancer do: the per-IP
-- limit on credential checks (50 per 10 minutes) is abuse control, not a capacity limit. A
-- right password answers 303; anything else counts as an error status.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "request.lua") -- done(): the BENCH summary line; BENCH_BODY is unset here

local accounts = tonumber(os.getenv("BENCH_ACCOUNTS"))
local csrf = os.getenv("BENCH_CSRF")
local password = os.getenv("BENCH_PASSWORD"):gsub("[^%w]", function(c)
  return string.format("%%%02X", string.byte(c))
end)

local thread_id = 0
function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end

local sent = 0
function request()
  sent = sent + 1
  local n = (sent * 7 + id) % accounts
  local body = "csrf=" .. csrf .. "&email=bench" .. n .. "%40example.com&password=" .. password
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "tessera_csrf=" .. csrf,
    -- 10.<thread>.<hi>.<lo>: a new address for each of a thread's first 65,536 requests.
    ["X-Forwarded-For"] = string.format("10.%d.%d.%d", id % 256, math.floor(sent / 256) % 256, sent % 256),
  }
  return wrk.format("POST", nil, headers, body)
end
