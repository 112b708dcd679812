#include "mtcache/store/lru_policy.hpp"

namespace mtcache::detail {

lru_policy::lru_policy(extent capacity) : capacity_(capacity), order_(1) {
  // nop
}

void lru_policy::record_access(uint32_t id) {
  if (order_.linked(id))
    order_.move_to_back(0, id);
}

void lru_policy::record_miss(uint32_t) {
  // nop: recency has no memory of absent keys
}

void lru_policy::insert(uint32_t id, uint32_t, uint32_t weight, std::vector<uint32_t>& victims) {
  if (id >= weights_.size())
    weights_.resize(size_t{id} + 1);
  weights_[id] = weight;
  order_.push_back(0, id);
  held_ += extent{1, weight};
  evict(victims);
}

void lru_policy::update(uint32_t id, uint32_t weight, std::vector<uint32_t>& victims) {
  if (!order_.linked(id))
    return;
  held_.weight = held_.weight - weights_[id] + weight;
  weights_[id] = weight;
  order_.move_to_back(0, id);
  evict(victims);
}

void lru_policy::remove(uint32_t id) {
  if (!order_.linked(id))
    return;
  order_.unlink(id);
  held_ -= extent{1, weights_[id]};
}

void lru_policy::clear() {
  order_.clear();
  held_ = extent{};
}

void lru_policy::evict(std::vector<uint32_t>& victims) {
  while (held_.exceeds(capacity_)) {
    auto victim = order_.front(0);
    if (victim == id_lists::nil)
      return;
    remove(victim);
    victims.push_back(victim);
  }
}

} // namespace mtcache::detail
