-- PATCH /Users/{id} with Okta's path-less form, each thread walking its own share of IDS (one id per line).
-- By default every request deactivates an active user. With TOGGLE=1 (bench/scale) a thread deactivates on odd
-- passes over its share and reactivates on even ones, so a small org sustains the load: every request is a write.
local ids = {}
local i = 0
local id = 0
local toggle = os.getenv("TOGGLE") == "1"

local function patch(active)
  return '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":' .. active .. '}}]}'
end

function setup(thread)
  id = id + 1
  thread:set("tid", id)
end

function init(args)
  local threads = tonumber(os.getenv("THREADS") or "2")
  local n = 0
  for line in io.lines(os.getenv("IDS")) do
    n = n + 1
    if n % threads == tid - 1 then ids[#ids + 1] = line end
  end
  wrk.method = "PATCH"
  wrk.headers["Content-Type"] = "application/scim+json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
  if not toggle then wrk.body = patch("false") end
end

function request()
  i = i + 1
  local path = os.getenv("BASE") .. "/Users/" .. ids[((i - 1) % #ids) + 1]
  if not toggle then return wrk.format(nil, path) end
  local pass = math.floor((i - 1) / #ids)
  return wrk.format(nil, path, nil, patch((pass % 2 == 1) and "true" or "false"))
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx or socket errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
