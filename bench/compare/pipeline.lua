-- wrk script: every request() sends DEPTH copies of the request back to back, so each
-- connection keeps DEPTH requests in flight (wrk counts every response).
local depth = tonumber(os.getenv("WRK_PIPELINE") or "16")

init = function(args)
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil)
  end
  req = table.concat(r)
end

request = function()
  return req
end
