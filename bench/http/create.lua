-- POST /Users with a unique userName per request: "c<thread>-<n>@bench.example".
local counter = 0
local threads = {}
local id = 0

function setup(thread)
  id = id + 1
  thread:set("tid", id)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/scim+json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
  wrk.path = os.getenv("BASE") .. "/Users"
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"c%d-%d-%d@bench.example",' ..
    '"name":{"givenName":"Bench","familyName":"User%d"},"emails":[{"value":"c%d-%d@bench.example","type":"work","primary":true}],' ..
    '"externalId":"ext-%d-%d","active":true}',
    tid, os.getenv("RUN") or 0, counter, counter, tid, counter, tid, counter)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("non-2xx or socket errors: %d\n", errors))
end
