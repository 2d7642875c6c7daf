-- HAProxy side of an httpkv cluster (loaded by haproxy.cfg with lua-load-per-thread); the
-- per-request routing is not here but in haproxy.cfg's own rules (no Lua per request).
--   service lua.httpkv_list    GET / and HEAD / merged over every node (listing.lua)
--   service lua.httpkv_owners  POST /_cluster/owners?nodes=n1,n2: one owner per key line
--   service lua.httpkv_primaries  GET /_cluster/primaries (with replicas): "s1 n2" per shard,
--                                 the servers HAProxy has UP ("-" for none)
-- The nodes are the servers of the backends named node_<name> in haproxy.cfg, so the
-- configuration file is the one list of nodes. With replicas the placement is over shards:
-- backends shard_<name>, whose one UP server (health check GET /primary) is the primary.
local placement = require("placement")
local listing = require("listing")

local nodes -- array of {name=, addr=, backend=}, sorted by name; filled on first use (per thread)

local function cluster_nodes()
  if nodes == nil then
    nodes = {}
    for bname, backend in pairs(core.backends) do
      local name = bname:match("^node_(.+)$")
      if name then
        -- A node being filled by `cluster.sh add` has no server yet: it owns keys (its
        -- backend answers 503 for them) but is not listed (its keys are still on old nodes).
        local addr = nil
        for _, server in pairs(backend.servers) do addr = server:get_addr() end
        nodes[#nodes + 1] = { name = name, addr = addr }
      end
      local shard = bname:match("^shard_(.+)$")
      if shard then
        -- Likewise a shard being filled by `cluster.sh add` has no server (not listed).
        nodes[#nodes + 1] = { name = shard, backend = next(backend.servers) and backend or nil }
      end
    end
    table.sort(nodes, function(a, b) return a.name < b.name end)
  end
  return nodes
end

-- Names and addresses of the servers of a shard's backend that HAProxy routes to right now:
-- those UP, the non-backup ones if any is UP (cluster.sh writes the primary it knows as the one
-- non-backup server, the other members as backups: see tools/cluster/replication.py).
local function up_servers(backend)
  local names, addrs, bnames, baddrs = {}, {}, {}, {}
  for name, server in pairs(backend.servers) do
    local stats = server:get_stats()
    local status = stats.status or ""
    if status == "UP" or status:sub(1, 3) == "UP " then
      if tonumber(stats.bck) == 1 then
        bnames[#bnames + 1], baddrs[#baddrs + 1] = name, server:get_addr()
      else
        names[#names + 1], addrs[#addrs + 1] = name, server:get_addr()
      end
    end
  end
  if #names == 0 then return bnames, baddrs end
  return names, addrs
end

local function node_names()
  local names = {}
  for i, n in ipairs(cluster_nodes()) do names[i] = n.name end
  return names
end

local function refuse(applet, text)
  applet:set_status(503)
  applet:add_header("content-type", "text/plain; charset=utf-8")
  applet:add_header("content-length", tostring(#text))
  applet:add_header("retry-after", "1")
  applet:start_response()
  if applet.method ~= "HEAD" then applet:send(text) end
end

core.register_service("httpkv_list", "http", function(applet)
  local serving, names = {}, node_names()
  for _, n in ipairs(cluster_nodes()) do
    if n.backend then -- a shard: ask its primary (the one UP server)
      local _, addrs = up_servers(n.backend)
      if #addrs ~= 1 then
        return refuse(applet, "shard " .. n.name .. " has no primary (failover in progress?): "
                      .. "the listing would be incomplete\n")
      end
      serving[#serving + 1] = { name = n.name, addr = addrs[1] }
    elseif n.addr then serving[#serving + 1] = n end
  end
  listing.serve(applet, serving, function(key) return placement.owner(applet.c, names, key) end)
end)

core.register_service("httpkv_owners", "http", function(applet)
  local names = node_names()
  local qs_nodes = (applet.qs or ""):match("nodes=([^&]*)")
  if qs_nodes then
    names = {}
    for n in qs_nodes:gsub("%%2[Cc]", ","):gmatch("[^,]+") do names[#names + 1] = n end
  end
  local out = {}
  local body = applet:receive() or ""
  for key in body:gmatch("([^\n]*)\n") do out[#out + 1] = placement.owner(applet.c, names, key) end
  local text = table.concat(out, "\n") .. (#out > 0 and "\n" or "")
  applet:set_status(200)
  applet:add_header("content-type", "text/plain")
  applet:add_header("content-length", tostring(#text))
  applet:start_response()
  applet:send(text)
end)

core.register_service("httpkv_primaries", "http", function(applet)
  local out = {}
  for _, n in ipairs(cluster_nodes()) do
    if n.backend then
      local up = up_servers(n.backend)
      table.sort(up)
      out[#out + 1] = n.name .. " " .. (#up > 0 and table.concat(up, ",") or "-") .. "\n"
    end
  end
  local text = table.concat(out)
  applet:set_status(200)
  applet:add_header("content-type", "text/plain")
  applet:add_header("content-length", tostring(#text))
  applet:start_response()
  applet:send(text)
end)
