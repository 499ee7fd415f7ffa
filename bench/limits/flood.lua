-- Org A's flood: GET with A's token, as fast as wrk can or, with DELAY_MS, each connection waiting that long
-- between requests (32 connections at 10 ms: about 3,000 requests/s, 60 times A's limit); counts the
-- statuses it gets.
local token = os.getenv("TOKEN")
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")
local counts = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrk.headers["Authorization"] = "Bearer " .. token
  statuses = {}
end

function delay()
  return delay_ms
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do
    io.write(string.format("A responses %d: %d\n", k, v))
  end
end
