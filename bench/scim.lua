-- wrk script for the SCIM scenarios (bench/run, BENCH_SUITES=scim): requests to one org's SCIM
-- endpoint (the URL given to wrk is its base, /scim/v2/<org>) with its bearer token, against
-- the directory bench/scim-seed.sql seeded: users user000001@bench.example … userNNNNNN, the
-- group "Everyone" with the first half of them, and "Team 01" … with a hundred each.
--
-- BENCH_SCIM_MODE picks the request; each varies what it asks for so that no answer is the
-- same twice in a row:
--   eq            GET /Users?filter=userName eq "user…"           a random user
--   page          GET /Users?startIndex=1&count=100               the first page
--   filtered      GET /Users?filter=emails.value sw "user0123"&count=100
--                                                                 a random block of 100
--   contains      GET /Users?filter=emails.value co "r0123"&count=100   the same blocks
--   broad         GET /Users?filter=title pr&count=100            every user matches
--   walk          GET /Users?startIndex=…&count=100               walkers that each read every
--                                                                 page in order, as an IdP does
--   jump          GET /Users?startIndex=<random>&count=100        a random position in the
--                                                                 second half
--   patch_user    PATCH /Users/{id}, replace title                 a random user
--   patch_member  PATCH /Groups/{Everyone}, add or remove a member (users outside it, in turn)
--   group         GET /Groups/{Everyone}?excludedAttributes=members
--   team          GET /Groups/{Team NN} with its 100 members       a random team
-- Other settings: BENCH_TOKEN, BENCH_USERS (how many users were seeded), BENCH_IDS (a file of
-- their SCIM ids, line i for user i), BENCH_GROUP (Everyone's id), BENCH_TEAMS (a file of the
-- teams' ids), BENCH_WALKERS (walkers per wrk thread).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "request.lua") -- done(): the BENCH summary line; BENCH_BODY is unset here

local mode = os.getenv("BENCH_SCIM_MODE")
local users = tonumber(os.getenv("BENCH_USERS"))
local auth = "Bearer " .. os.getenv("BENCH_TOKEN")
local base = wrk.path:gsub("/$", "")
local patch_op = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

local function lines(path)
  local out = {}
  if path and path ~= "" then
    for line in io.lines(path) do out[#out + 1] = line end
  end
  return out
end

local function encode(text)
  return (text:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local ids, teams = {}, {}
if mode == "patch_user" or mode == "patch_member" then ids = lines(os.getenv("BENCH_IDS")) end
if mode == "team" then teams = lines(os.getenv("BENCH_TEAMS")) end

local thread_id = 0
function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end

local sent = 0
local walkers, pages, member
function init()
  math.randomseed(os.time() * 1000 + id)
  pages = math.ceil(users / 100)
  walkers = {}
  local count = tonumber(os.getenv("BENCH_WALKERS") or "1")
  for w = 1, count do -- spread over the directory, each thread shifted
    walkers[w] = math.floor(pages * ((w - 1) * 2 + id) / (count * 2)) % pages
  end
end

local function get(path)
  return wrk.format("GET", base .. path, { ["Authorization"] = auth })
end

local function patch(path, operations)
  local body = '{"schemas":["' .. patch_op .. '"],"Operations":' .. operations .. '}'
  return wrk.format("PATCH", base .. path,
    { ["Authorization"] = auth, ["Content-Type"] = "application/scim+json" }, body)
end

local function user(n) return string.format("user%06d@bench.example", n) end

function request()
  sent = sent + 1
  if mode == "eq" then
    return get("/Users?filter=" .. encode('userName eq "' .. user(math.random(users)) .. '"'))
  elseif mode == "page" then
    return get("/Users?startIndex=1&count=100")
  elseif mode == "filtered" or mode == "contains" then
    local block = string.format("%04d", math.random(0, math.floor(users / 100) - 1))
    local filter = mode == "filtered" and ('emails.value sw "user' .. block .. '"')
      or ('emails.value co "r' .. block .. '"')
    return get("/Users?filter=" .. encode(filter) .. "&count=100")
  elseif mode == "broad" then
    return get("/Users?filter=" .. encode('title pr') .. "&count=100")
  elseif mode == "walk" then
    local w = 1 + sent % #walkers
    local page = walkers[w]
    walkers[w] = (page + 1) % pages
    return get("/Users?startIndex=" .. (1 + 100 * page) .. "&count=100")
  elseif mode == "jump" then
    -- Any position in the second half: rarely one where a page of this query ended before.
    return get("/Users?startIndex=" .. math.random(math.floor(users / 2), users - 100) .. "&count=100")
  elseif mode == "patch_user" then
    local title = (sent % 2 == 0) and "Engineer" or "Staff Engineer"
    return patch("/Users/" .. ids[math.random(#ids)],
      '[{"op":"replace","path":"title","value":"' .. title .. '"}]')
  elseif mode == "patch_member" then
    -- A random user outside the group is added, and removed by the thread's next request.
    local op = "remove"
    if sent % 2 == 1 then
      op, member = "add", ids[math.random(#ids)]
    end
    return patch("/Groups/" .. os.getenv("BENCH_GROUP"),
      '[{"op":"' .. op .. '","path":"members","value":[{"value":"' .. member .. '"}]}]')
  elseif mode == "group" then
    return get("/Groups/" .. os.getenv("BENCH_GROUP") .. "?excludedAttributes=members")
  elseif mode == "team" then
    return get("/Groups/" .. teams[math.random(#teams)])
  end
  error("unknown BENCH_SCIM_MODE " .. tostring(mode))
end
