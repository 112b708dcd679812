#pragma once

#include <cstdint>
#include <string_view>

namespace mtcache::detail {

/// Redis Cluster divides keys into this many hash slots.
constexpr uint16_t cluster_slot_count = 16384;

/// CRC16/XMODEM, the checksum Redis Cluster hashes keys with.
uint16_t crc16(std::string_view data);

/// The hash slot of `key`: CRC16 of the key mod 16384, or of the part between the first `{`
/// and the next `}` when that part is not empty (a hash tag), so that `{user1}:a` and
/// `{user1}:b` share a slot.
uint16_t cluster_slot(std::string_view key);

} // namespace mtcache::detail
