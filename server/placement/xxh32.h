// XXH32 (Yann Collet's xxHash, 32-bit variant), written from the algorithm's description:
// the hash HAProxy's `xxh32(seed)` converter computes, which the cluster's placement uses.
#pragma once

#include <cstdint>
#include <string_view>

namespace httpkv::placement {

uint32_t Xxh32(std::string_view data, uint32_t seed);

}  // namespace httpkv::placement
