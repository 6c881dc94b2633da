-- Phase one of the authorization-code case of `make bench`: GET the authorize URL as a signed-in
-- person (COOKIE) and keep the code of every redirect, one per line, in CODES_FILE.
wrk.headers["Cookie"] = os.getenv("COOKIE")
local out = io.open(os.getenv("CODES_FILE"), "a")
local n = 0

response = function(status, headers, body)
  local loc = headers["Location"] or headers["location"]
  local code = loc and loc:match("[?&]code=([^&#]+)")
  if code then
    out:write(code, "\n")
    n = n + 1
    if n % 500 == 0 then out:flush() end
  end
end

dofile(os.getenv("BENCH_WRK_DIR") .. "/done.lua")
