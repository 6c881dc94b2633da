-- Phase two of the authorization-code case of `make bench`: exchange each code of CODES_FILE
-- once at the token endpoint (AUTH: the client's Basic credentials; BODY: the other fields).
-- A run that outlasts the codes sends "exhausted", which counts as non-2xx.
local codes = {}
for line in io.lines(os.getenv("CODES_FILE")) do codes[#codes + 1] = line end
local i = 0
local rest = os.getenv("BODY")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("AUTH")

request = function()
  i = i + 1
  return wrk.format(nil, nil, nil, rest .. "&code=" .. (codes[i] or "exhausted"))
end

dofile(os.getenv("BENCH_WRK_DIR") .. "/done.lua")
