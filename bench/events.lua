-- wrk script: POST page views to BENCH_TARGET as the analytics script does (text/plain), from
-- 1,000 client addresses (X-Forwarded-For, believed with PROXY_HOPS=1) over the pages in
-- BENCH_PATHS; print a JSON summary line when done (the same line as consent.lua's).

local target = os.getenv("BENCH_TARGET") or "/api/events"
local paths = {}
for path in string.gmatch(os.getenv("BENCH_PATHS") or "/", "[^,]+") do
  paths[#paths + 1] = path
end
local n = 0

function request()
  n = n + 1
  local address = string.format("10.%d.%d.1", n % 250, math.floor(n / 250) % 4)
  local body = string.format(
    '{"name":"pageview","path":"%s","referrer":"","viewport":"large"}', paths[n % #paths + 1])
  return wrk.format("POST", target,
    {["Content-Type"] = "text/plain;charset=UTF-8", ["X-Forwarded-For"] = address}, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
