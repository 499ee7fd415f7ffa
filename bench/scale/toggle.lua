-- PATCH /Users/{id}: each thread walks its own share of IDS, deactivating on odd passes and reactivating on
-- even ones (Okta's path-less form), so a small org sustains the load: every request is a write.
local ids = {}
local i = 0
local id = 0

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
end

function request()
  i = i + 1
  local pass = math.floor((i - 1) / #ids)
  local active = (pass % 2 == 1) and "true" or "false"
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":' .. active .. '}}]}'
  return wrk.format(nil, os.getenv("BASE") .. "/Users/" .. ids[((i - 1) % #ids) + 1], nil, body)
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx or socket errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
