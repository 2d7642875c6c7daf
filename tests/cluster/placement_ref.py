"""An independent Python statement of the placement rule of deploy/haproxy/placement.lua
(rendezvous hashing over FNV-1a 64 + MurmurHash3 fmix64), for the tests to check the router
against. The mover does not use it: it asks the front, which runs the Lua."""
M64 = (1 << 64) - 1


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & M64
    return h


def fmix64(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & M64
    h ^= h >> 33
    return h


def owner(names, key: bytes) -> str:
    hk = fnv1a64(key)
    # (Equal scores, where the Lua picks the smaller name, do not occur for distinct names.)
    return max(names, key=lambda n: fmix64(hk ^ fnv1a64(n.encode())))
