-- One request repeated by wrk for `make bench`: METHOD, BODY (form-encoded) and AUTH (the
-- Authorization header) come from the environment. At the end wrk prints the figures as one line
-- starting with JSON, which bench/run.py reads.
wrk.method = os.getenv("METHOD") or "GET"
local body = os.getenv("BODY") or ""
if body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
local auth = os.getenv("AUTH") or ""
if auth ~= "" then
  wrk.headers["Authorization"] = auth
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"timeouts":%d,"non_2xx":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
