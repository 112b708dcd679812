#include "mtcache/store/hash_index.hpp"

#include <utility>

namespace mtcache::detail {

namespace {

// Linear probing stays short up to a load of about 3/4; past that probe runs grow quickly.
constexpr size_t max_load_numerator = 3;
constexpr size_t max_load_denominator = 4;

constexpr size_t initial_slots = 16;

} // namespace

void hash_index::insert(uint32_t hash, uint32_t id) {
  if ((size_ + 1) * max_load_denominator > slots_.size() * max_load_numerator)
    grow();
  auto i = hash & mask_;
  while (slots_[i].id != nil)
    i = (i + 1) & mask_;
  slots_[i] = slot{id, hash};
  ++size_;
}

void hash_index::erase(uint32_t hash, uint32_t id) {
  if (slots_.empty())
    return;
  auto i = hash & mask_;
  while (slots_[i].id != id) {
    if (slots_[i].id == nil)
      return;
    i = (i + 1) & mask_;
  }
  // Backward-shift deletion: move later members of the probe run into the hole when their
  // home slot does not lie cyclically in (hole, j].
  for (auto j = (i + 1) & mask_; slots_[j].id != nil; j = (j + 1) & mask_) {
    auto home = slots_[j].hash & mask_;
    bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!stays) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i].id = nil;
  --size_;
}

void hash_index::clear() {
  std::vector<slot>{}.swap(slots_);
  mask_ = 0;
  size_ = 0;
}

void hash_index::grow() {
  auto old = std::move(slots_);
  auto capacity = old.empty() ? initial_slots : old.size() * 2;
  slots_.assign(capacity, slot{nil, 0});
  mask_ = capacity - 1;
  for (const auto& s : old) {
    if (s.id == nil)
      continue;
    auto i = s.hash & mask_;
    while (slots_[i].id != nil)
      i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

} // namespace mtcache::detail
