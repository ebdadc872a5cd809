-- A header that differs on every request. Request headers are part of Nebula's memo key, so each
-- request misses the memo and runs the handler (and its reads), as for a never-seen request.
local counter = 0
local prefix = tostring(math.random(1, 1000000000))

request = function()
  counter = counter + 1
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["x-bench-nonce"] = prefix .. "-" .. counter
  return wrk.format(nil, nil, headers)
end
