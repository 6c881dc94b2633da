-- The flood of `make bench`: every request a stranger (its own client id) from its own address
-- (X-Forwarded-For, the server trusts the loopback proxy) with a wrong secret, so each one would
-- cost an Argon2id run. Counts the answers by status.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

c503, c401, c429, other = 0, 0, 0, 0
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

request = function()
  n = n + 1
  local addr = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  local body = "grant_type=client_credentials&client_id=stranger-" .. n .. "&client_secret=guess"
  return wrk.format(nil, nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-For"] = addr,
  }, body)
end

response = function(status, headers, body)
  if status == 503 then
    c503 = c503 + 1
  elseif status == 401 then
    c401 = c401 + 1
  elseif status == 429 then
    c429 = c429 + 1
  else
    other = other + 1
  end
end

done = function(summary, latency, requests)
  local a, b, r, o = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("c503")
    b = b + t:get("c401")
    r = r + t:get("c429")
    o = o + t:get("other")
  end
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"timeouts":%d,"non_2xx":%d,"p50_us":%d,"p99_us":%d,"c503":%d,"c401":%d,"c429":%d,"other":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), a, b, r, o))
end
