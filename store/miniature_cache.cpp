#include "mtcache/store/miniature_cache.hpp"

#include <utility>

namespace mtcache::detail {

namespace {

// Fibonacci hashing spreads the hash over the slots; the sampling that picks the keys uses
// a different mix, so sampled keys do not crowd into a few slots.
size_t spread(uint32_t hash, size_t mask) {
  return static_cast<size_t>((uint64_t{hash} * 0x9e37'79b9'7f4a'7c15u) >> 32) & mask;
}

} // namespace

miniature_cache::miniature_cache(std::unique_ptr<eviction_policy> policy, uint64_t capacity)
    : policy_(std::move(policy)) {
  // A load factor of at most 1/2 keeps probe sequences short; one spare id because a
  // policy holds its bound only after `insert` returned.
  size_t slots = 4;
  while (slots < 2 * (capacity + 1))
    slots <<= 1;
  slots_.assign(slots, empty);
  mask_ = slots - 1;
  hashes_.resize(capacity + 1);
  for (auto id = static_cast<uint32_t>(capacity + 1); id-- > 0;)
    free_ids_.push_back(id);
  // Fill the policy once and forget it, so that its per-id arrays and its sketch reach
  // their full size now: a cache's get must not allocate (MemoryStore.GetDoesNotAllocate),
  // and the replica is fed from gets. Clearing keeps the arrays' capacity.
  victims_.reserve(16);
  for (uint32_t id = 0; id <= capacity; ++id) {
    victims_.clear();
    policy_->insert(id, id, 1, victims_);
  }
  policy_->clear();
  victims_.clear();
}

bool miniature_cache::access(uint32_t hash) {
  auto slot = find(hash);
  if (slots_[slot] != empty) {
    policy_->record_access(slots_[slot]);
    return true;
  }
  policy_->record_miss(hash);
  auto id = free_ids_.back();
  free_ids_.pop_back();
  slots_[slot] = id;
  hashes_[id] = hash;
  victims_.clear();
  policy_->insert(id, hash, 1, victims_);
  for (auto victim : victims_) {
    erase(hashes_[victim]);
    free_ids_.push_back(victim);
  }
  return false;
}

size_t miniature_cache::find(uint32_t hash) const {
  auto slot = spread(hash, mask_);
  while (slots_[slot] != empty && hashes_[slots_[slot]] != hash)
    slot = (slot + 1) & mask_;
  return slot;
}

void miniature_cache::erase(uint32_t hash) {
  auto hole = find(hash);
  if (slots_[hole] == empty)
    return;
  slots_[hole] = empty;
  // Backward shift: move later keys of the probe run into the hole when their home slot
  // allows, so that lookups need no tombstones.
  for (auto slot = (hole + 1) & mask_; slots_[slot] != empty; slot = (slot + 1) & mask_) {
    auto home = spread(hashes_[slots_[slot]], mask_);
    if (((slot - home) & mask_) >= ((slot - hole) & mask_)) {
      slots_[hole] = slots_[slot];
      slots_[slot] = empty;
      hole = slot;
    }
  }
}

} // namespace mtcache::detail
