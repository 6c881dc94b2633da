-- One request repeated by wrk for `make bench`: METHOD, BODY (form-encoded, or of CONTENT_TYPE)
-- and AUTH (the Authorization header) come from the environment. At the end wrk prints the figures as one line
-- starting with JSON, which bench/run.py reads.
wrk.method = os.getenv("METHOD") or "GET"
local body = os.getenv("BODY") or ""
if body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/x-www-form-urlencoded"
end
local auth = os.getenv("AUTH") or ""
if auth ~= "" then
  wrk.headers["Authorization"] = auth
end

dofile(os.getenv("BENCH_WRK_DIR") .. "/done.lua")
