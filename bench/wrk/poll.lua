-- The device-code polling case of `make bench`: BODY (the grant and client fields) with the
-- next device code of CODES_FILE, round and round: many devices polling at once, each answered
-- `authorization_pending` or `slow_down` (400, as RFC 8628 has it) — the figure is how fast the
-- server answers polls, which every waiting device sends until its person decides.
local codes = {}
for line in io.lines(os.getenv("CODES_FILE")) do codes[#codes + 1] = line end
local i = 0
local rest = os.getenv("BODY")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local auth = os.getenv("AUTH") or ""
if auth ~= "" then wrk.headers["Authorization"] = auth end

request = function()
  i = i % #codes + 1
  return wrk.format(nil, nil, nil, rest .. "&device_code=" .. codes[i])
end

dofile(os.getenv("BENCH_WRK_DIR") .. "/done.lua")
