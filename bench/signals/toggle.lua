-- PATCH /Users/{id} with Okta's path-less form, deactivating or reactivating (bench/signals/run.sh): each thread
-- walks its own share of IDS (one id per line), deactivating on odd passes over it and reactivating on even ones,
-- so that every request is a change (a feed event, and one SET of a stream). Unlike bench/http/deactivate.lua
-- the walk goes on across runs: each thread starts where the run before stopped (STATE, a file this script
-- keeps), so that short alternating runs never repeat a no-op write (a user already in the state asked for).
-- `i` (the thread's requests so far) is a global: done() reads it from each thread.
local ids = {}
i = 0
local id = 0
local threads = {}

local function patch(active)
  return '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":' .. active .. '}}]}'
end

local function saved()
  local at = {}
  local f = io.open(os.getenv("STATE"), "r")
  if f then
    for line in f:lines() do at[#at + 1] = tonumber(line) end
    f:close()
  end
  return at
end

function setup(thread)
  id = id + 1
  thread:set("tid", id)
  thread:set("start", saved()[id] or 0)
  threads[#threads + 1] = thread
end

function init(args)
  local count = tonumber(os.getenv("THREADS") or "2")
  local n = 0
  for line in io.lines(os.getenv("IDS")) do
    n = n + 1
    if n % count == tid - 1 then ids[#ids + 1] = line end
  end
  i = start
  wrk.method = "PATCH"
  wrk.headers["Content-Type"] = "application/scim+json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
end

function request()
  i = i + 1
  local path = os.getenv("BASE") .. "/Users/" .. ids[((i - 1) % #ids) + 1]
  local pass = math.floor((i - 1) / #ids)
  return wrk.format(nil, path, nil, patch((pass % 2 == 1) and "true" or "false"))
end

function done(summary, latency, requests)
  local f = io.open(os.getenv("STATE"), "w")
  for _, thread in ipairs(threads) do f:write(tostring(thread:get("i")) .. "\n") end
  f:close()
  io.write(string.format("non-2xx or socket errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
  io.write(string.format("p99 us: %d\n", latency:percentile(99)))
end
