-- The DPoP case of `make bench`: the request of request.lua (METHOD, BODY, AUTH) with the next
-- proof of PROOFS_FILE in its DPoP header, each proof sent once. The run ends when the proofs do
-- (the rate is over the time it took); a request that still goes out then carries "exhausted"
-- and would count as non-2xx.
local proofs = {}
for line in io.lines(os.getenv("PROOFS_FILE")) do proofs[#proofs + 1] = line end
local i = 0
wrk.method = os.getenv("METHOD") or "POST"
wrk.body = os.getenv("BODY") or ""
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("AUTH")

request = function()
  i = i + 1
  if i >= #proofs then wrk.thread:stop() end
  wrk.headers["DPoP"] = proofs[i] or "exhausted"
  return wrk.format()
end

dofile(os.getenv("BENCH_WRK_DIR") .. "/done.lua")
