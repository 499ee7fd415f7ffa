-- GET /Users?startIndex=$START&count=100
function init(args)
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
  wrk.path = os.getenv("BASE") .. "/Users?startIndex=" .. os.getenv("START") .. "&count=100"
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx or socket errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
