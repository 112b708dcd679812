#include "mtcache/codec/detail/cluster_slot.hpp"

#include <array>

namespace mtcache::detail {

namespace {

constexpr std::array<uint16_t, 256> make_crc16_table() {
  std::array<uint16_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i << 8;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = static_cast<uint16_t>(crc);
  }
  return table;
}

constexpr auto crc16_table = make_crc16_table();

} // namespace

uint16_t crc16(std::string_view data) {
  uint16_t crc = 0;
  for (auto c : data)
    crc = static_cast<uint16_t>((crc << 8) ^
                                crc16_table[((crc >> 8) ^ static_cast<uint8_t>(c)) & 0xff]);
  return crc;
}

uint16_t cluster_slot(std::string_view key) {
  if (auto open = key.find('{'); open != std::string_view::npos) {
    auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1)
      key = key.substr(open + 1, close - open - 1);
  }
  return crc16(key) % cluster_slot_count;
}

} // namespace mtcache::detail
