-- Key placement for an httpkv cluster, for the Lua side (the owners service the mover asks,
-- and the listing's choice between two copies of a key while `cluster.sh add` runs).
--
-- Rendezvous (highest random weight) hashing, a form of consistent hashing: the owner of a
-- key is the node nK with the highest xxh32(key, seed = K); ties go to the lower K. Adding a
-- node moves only the keys whose best score is now the new node's (about 1/(N+1) of them).
-- The router computes the same thing with the same HAProxy converter in the rules that
-- tools/cluster/front.py writes into haproxy.cfg (no Lua per request); the cluster tests
-- check both against tests/cluster/placement_ref.py.

local placement = {}

-- nK, or sK (a shard, when the cluster has replicas): seed K.
local function seed(name)
  return tonumber(name:match("^[ns](%d+)$")) or 0
end

-- conv: a Converters object (applet.c); names: array of node names. Returns the owner.
function placement.owner(conv, names, key)
  local best, best_score, best_seed = nil, -1, nil
  for _, name in ipairs(names) do
    local k = seed(name)
    local s = conv:xxh32(key, k)
    if s > best_score or (s == best_score and k < best_seed) then
      best, best_score, best_seed = name, s, k
    end
  end
  return best
end

return placement
