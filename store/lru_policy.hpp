#pragma once

#include <cstdint>
#include <vector>

#include "mtcache/store/eviction_policy.hpp"
#include "mtcache/store/id_lists.hpp"

namespace mtcache::detail {

/// Least recently used: one access-ordered list, evicted from the front. The baseline for
/// W-TinyLFU, and the right choice for traces where recency is all there is.
class lru_policy final : public eviction_policy {
public:
  explicit lru_policy(extent capacity);

  void record_access(uint32_t id) override;

  void record_miss(uint32_t hash) override;

  void insert(uint32_t id, uint32_t hash, uint32_t weight, std::vector<uint32_t>& victims) override;

  void update(uint32_t id, uint32_t weight, std::vector<uint32_t>& victims) override;

  void remove(uint32_t id) override;

  void clear() override;

  extent held() const override { return held_; }

  /// The next victim, or `id_lists::nil` when empty.
  uint32_t coldest() const { return order_.front(0); }

private:
  void evict(std::vector<uint32_t>& victims);

  extent capacity_;
  extent held_;
  id_lists order_;
  std::vector<uint32_t> weights_;
};

} // namespace mtcache::detail
