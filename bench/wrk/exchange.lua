-- Phase two of the authorization-code case of `make bench`: exchange each code of CODES_FILE
-- once at the token endpoint (AUTH: the client's Basic credentials; BODY: the other fields).
-- The run ends when the codes do (the rate is over the time it took); a request that still goes
-- out then carries "exhausted" and would count as non-2xx.
local codes = {}
for line in io.lines(os.getenv("CODES_FILE")) do codes[#codes + 1] = line end
local i = 0
local rest = os.getenv("BODY")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("AUTH")

request = function()
  i = i + 1
  if i >= #codes then wrk.thread:stop() end
  return wrk.format(nil, nil, nil, rest .. "&code=" .. (codes[i] or "exhausted"))
end

dofile(os.getenv("BENCH_WRK_DIR") .. "/done.lua")
