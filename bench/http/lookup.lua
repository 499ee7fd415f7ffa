-- GET /Users?filter=userName eq "<an existing user>" : the IdP's lookup, on random users of the org.
-- NAMES is a file with one userName per line.
local names = {}

function init(args)
  for line in io.lines(os.getenv("NAMES")) do names[#names + 1] = line end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
end

function request()
  local n = names[math.random(#names)]
  return wrk.format("GET", os.getenv("BASE") .. "/Users?filter=userName%20eq%20%22" .. n .. "%22")
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx or socket errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
