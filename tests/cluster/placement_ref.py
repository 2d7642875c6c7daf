"""An independent Python statement of the cluster's placement rule, for the tests to check the
front against (the mover does not use it: it asks the front, POST /_cluster/owners).

Rendezvous hashing: the owner of a key is the node nK with the highest xxh32(key, seed=K);
ties go to the lower K. HAProxy computes it with its xxh32 converter (the rules front.py
writes into haproxy.cfg, and placement.lua for the owners service and the listing)."""
M32 = 0xFFFFFFFF
P1, P2, P3, P4, P5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393


def _rotl(x, r):
    return ((x << r) | (x >> (32 - r))) & M32


def _round(v, lane):
    return (_rotl((v + lane * P2) & M32, 13) * P1) & M32


def xxh32(data: bytes, seed: int) -> int:
    n, i = len(data), 0
    if n >= 16:
        v = [(seed + P1 + P2) & M32, (seed + P2) & M32, seed & M32, (seed - P1) & M32]
        while i + 16 <= n:
            for j in range(4):
                v[j] = _round(v[j], int.from_bytes(data[i + 4 * j:i + 4 * j + 4], "little"))
            i += 16
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & M32
    else:
        h = (seed + P5) & M32
    h = (h + n) & M32
    while i + 4 <= n:
        h = (_rotl((h + int.from_bytes(data[i:i + 4], "little") * P3) & M32, 17) * P4) & M32
        i += 4
    while i < n:
        h = (_rotl((h + data[i] * P5) & M32, 11) * P1) & M32
        i += 1
    h ^= h >> 15
    h = (h * P2) & M32
    h ^= h >> 13
    h = (h * P3) & M32
    h ^= h >> 16
    return h


def owner(names, key: bytes) -> str:
    ranked = sorted(names, key=lambda n: int(n[1:]))
    return max(ranked, key=lambda n: xxh32(key, int(n[1:])))  # max keeps the first of equals
