-- Key placement for an httpkv cluster: THE definition, used by the router (route.lua), the
-- listing merge (listing.lua) and, through the front's POST /_cluster/owners, by the mover
-- (tools/cluster/rebalance.py), so the three can never disagree.
--
-- Rendezvous (highest random weight) hashing, a form of consistent hashing: a key belongs to
-- the node with the highest score(node, key). Adding a node moves only the keys whose best
-- score is now the new node's (about 1/(N+1) of them); the other keys stay where they are.
--   h(key)            = FNV-1a 64 of the key's bytes
--   score(node, key)  = fmix64(h(key) XOR FNV-1a 64 of the node's name), compared unsigned
-- Ties (practically impossible) go to the smaller name. Lua 5.3 integers wrap on overflow
-- and >> is a logical shift, which is what 64-bit unsigned arithmetic needs.

local placement = {}

local FNV_OFFSET = 0xcbf29ce484222325
local FNV_PRIME = 0x100000001b3

local function fnv1a64(s)
  local h = FNV_OFFSET
  for i = 1, #s do
    h = (h ~ s:byte(i)) * FNV_PRIME
  end
  return h
end

-- MurmurHash3's 64-bit finaliser: every input bit affects every output bit.
local function fmix64(h)
  h = h ~ (h >> 33)
  h = h * 0xff51afd7ed558ccd
  h = h ~ (h >> 33)
  h = h * 0xc4ceb9fe1a85ec53
  h = h ~ (h >> 33)
  return h
end

-- nodes: array of names. Returns the owner's name (nil for an empty list).
function placement.owner(nodes, key)
  local hk = fnv1a64(key)
  local best, best_score = nil, nil
  for _, name in ipairs(nodes) do
    local s = fmix64(hk ~ fnv1a64(name))
    if best == nil or math.ult(best_score, s) or (s == best_score and name < best) then
      best, best_score = name, s
    end
  end
  return best
end

-- "%2F" -> "/"; other bytes as they are ('+' is not a space in a path).
function placement.percent_decode(s)
  return (s:gsub("%%(%x%x)", function(hex) return string.char(tonumber(hex, 16)) end))
end

return placement
