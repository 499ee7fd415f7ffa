-- PATCH /Users/{id} with Okta's path-less deactivation, each thread walking its own share of IDS (one id
-- per line), so that every request deactivates an active user.
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
  wrk.body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}'
end

function request()
  i = i + 1
  return wrk.format(nil, os.getenv("BASE") .. "/Users/" .. ids[((i - 1) % #ids) + 1])
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx or socket errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
