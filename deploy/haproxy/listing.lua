-- GET / and HEAD / through the front: every pair of every node once, in key order.
-- Each node is asked for the same page (same prefix, after, limit; JSON) with core.httpclient,
-- the pages are merged k-way and cut at the client's limit; a node whose page ran out while
-- it had more is asked for its next page (after = its last key). If a node cannot answer the
-- first page the answer is 503 (a partial listing is never passed off as complete); if it
-- fails later, after the head was sent, the answer is aborted (the client sees a truncated
-- chunked body, not a short list). The same key on two nodes (only while `cluster.sh add`
-- moves it) is listed once, with its owner's value.
local listing = {}

local PAGE = 1000 -- keys per node request

-- Index of the closing quote of the JSON string starting at s[i] == '"'.
local function string_end(s, i)
  local j = i + 1
  while true do
    local q = s:find('["\\]', j)
    if not q then error("listing: unterminated JSON string from a node") end
    if s:byte(q) == 92 then j = q + 2 else return q end
  end
end

local SIMPLE = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

-- Body of a JSON string literal (without quotes) -> bytes.
local function unescape(s)
  if not s:find("\\", 1, true) then return s end
  local out, i = {}, 1
  while true do
    local b = s:find("\\", i, true)
    if not b then out[#out + 1] = s:sub(i); break end
    out[#out + 1] = s:sub(i, b - 1)
    local c = s:sub(b + 1, b + 1)
    if c == "u" then
      local cp = tonumber(s:sub(b + 2, b + 5), 16)
      local nxt = b + 6
      local lo = s:match("^\\u(%x%x%x%x)", nxt)
      if cp >= 0xD800 and cp < 0xDC00 and lo then
        cp = 0x10000 + ((cp - 0xD800) << 10) + (tonumber(lo, 16) - 0xDC00)
        nxt = nxt + 6
      end
      out[#out + 1] = utf8.char(cp)
      i = nxt
    else
      out[#out + 1] = SIMPLE[c] or c
      i = b + 2
    end
  end
  return table.concat(out)
end

-- A node's JSON page {"k":"v",...} -> array of {key=bytes, raw=`"k":"v"`, value=raw "v"}.
local function parse_page(body)
  local items, i = {}, body:find("{", 1, true)
  if not i then error("listing: a node's page is not a JSON object") end
  i = i + 1
  while true do
    i = body:find('["}]', i)
    if not i or body:byte(i) == 125 then return items end
    local ke = string_end(body, i)
    local vs = body:find('"', ke + 1, true)
    local ve = string_end(body, vs)
    items[#items + 1] = {
      key = unescape(body:sub(i + 1, ke - 1)),
      raw = body:sub(i, ke) .. ":" .. body:sub(vs, ve),
      value = body:sub(vs + 1, ve - 1),
    }
    i = ve + 1
  end
end

local function url_encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- The client's query without after/limit (those are set per page request), plus them.
local function parse_query(qs)
  local rest, after, limit = {}, nil, nil
  for part in (qs or ""):gmatch("[^&]+") do
    local name, value = part:match("^([^=]*)=?(.*)$")
    if name == "after" then after = value
    elseif name == "limit" then limit = value
    else rest[#rest + 1] = part end
  end
  return table.concat(rest, "&"), after, limit
end

-- The first value of a request or response header (HAProxy's tables are indexed from 0).
local function header(headers, name)
  local values = headers and headers[name]
  return values and values[0] or nil
end

-- auth: the client's Authorization header (nil: none), passed on so that a cluster whose
-- nodes run with --auth-file answers the front's page requests as it would the client.
local function fetch(node, query, auth)
  local hc = core.httpclient()
  local headers = { ["accept"] = { "application/json" } }
  if auth then headers["authorization"] = { auth } end
  local res = hc:get({ url = "http://" .. node.addr .. "/?" .. query, headers = headers })
  if not res then return 0, "", nil end
  return res.status or 0, res.body or "", res.headers
end

local function reply(applet, status, text)
  applet:set_status(status)
  applet:add_header("content-type", "text/plain; charset=utf-8")
  applet:add_header("content-length", tostring(#text))
  if status == 401 then applet:add_header("www-authenticate", 'Bearer realm="httpkv"') end
  applet:start_response()
  if applet.method ~= "HEAD" then applet:send(text) end
end

-- One node's position in the merge.
local function next_page(cur, base, first_after, size)
  local after = cur.last and url_encode(cur.last) or first_after
  local q = base .. (base ~= "" and "&" or "") .. (after and ("after=" .. after .. "&") or "")
             .. "limit=" .. size
  local status, body, headers = fetch(cur.node, q, cur.auth)
  if status ~= 200 then return status, body end
  cur.seq = cur.seq or header(headers, "x-seq")
  cur.items, cur.i = parse_page(body), 1
  cur.more = #cur.items == size
  if #cur.items > 0 then cur.last = cur.items[#cur.items].key end
  return 200
end

-- owner_of(key) -> the name of the node that owns key.
function listing.serve(applet, nodes, owner_of)
  local base, after, limit = parse_query(applet.qs)
  if limit and not limit:match("^%d+$") then
    return reply(applet, 400, "limit must be a non-negative integer\n")
  end
  local want = limit and tonumber(limit) or math.huge
  local size = math.min(want, PAGE)
  if applet.method == "HEAD" then size = math.min(size, 1) end
  local curs, seqs = {}, {}
  local auth = header(applet.headers, "authorization")
  for i, node in ipairs(nodes) do
    curs[i] = { node = node, auth = auth }
    local status, body = next_page(curs[i], base, after, size)
    if status == 0 or status >= 500 then
      return reply(applet, 503, "node " .. node.name .. " (" .. node.addr ..
                   ") is unavailable: the listing would be incomplete\n")
    elseif status ~= 200 then
      return reply(applet, status, body)
    end
    seqs[#seqs + 1] = node.name .. "=" .. (curs[i].seq or "0")
  end
  local accept = (applet.headers["accept"] or {})[0] or ""
  local json = accept:find("application/json", 1, true) ~= nil
  applet:set_status(200)
  applet:add_header("content-type", json and "application/json" or "text/plain; charset=utf-8")
  -- Each node's (shard's) SEQ when its first page was made: what `watch` resumes after, per
  -- node (SEQs are per node, so one number would mean nothing).
  applet:add_header("x-seq", table.concat(seqs, ","))
  applet:start_response()
  if applet.method == "HEAD" then return end
  local out, outlen, sent = { json and "{" or "" }, 0, 0
  while sent < want do
    local best = nil
    for _, c in ipairs(curs) do
      if c.i > #c.items and c.more then
        if next_page(c, base, after, size) ~= 200 then
          error("listing: node " .. c.node.name .. " failed during the listing")
        end
      end
      local it = c.items[c.i]
      if it and (best == nil or it.key < best.key) then best = it end
    end
    if best == nil then break end
    local owner, chosen = owner_of(best.key), best
    for _, c in ipairs(curs) do
      local it = c.items[c.i]
      if it and it.key == best.key then
        if c.node.name == owner then chosen = it end
        c.i = c.i + 1
      end
    end
    local line = json and ((sent > 0 and "," or "") .. chosen.raw)
                 or (chosen.key .. ":" .. unescape(chosen.value) .. "\n")
    out[#out + 1], outlen, sent = line, outlen + #line, sent + 1
    if outlen >= 65536 then applet:send(table.concat(out)); out, outlen = {}, 0 end
  end
  if json then out[#out + 1] = "}\n" end
  applet:send(table.concat(out))
end

return listing
