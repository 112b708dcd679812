#include "mtcache/store/id_lists.hpp"

#include <algorithm>

namespace mtcache::detail {

id_lists::id_lists(uint32_t list_count) : list_count_(list_count) {
  clear();
}

void id_lists::grow_to(size_t count) {
  if (list_count_ + count > next_.size()) {
    prev_.resize(list_count_ + count, nil);
    next_.resize(list_count_ + count, nil);
  }
}

void id_lists::splice_back(uint32_t to, uint32_t from) {
  if (empty(from))
    return;
  auto first = next_[from];
  auto last = prev_[from];
  auto tail = prev_[to];
  next_[tail] = first;
  prev_[first] = tail;
  next_[last] = to;
  prev_[to] = last;
  next_[from] = from;
  prev_[from] = from;
}

void id_lists::clear() {
  // Keeps the node arrays at their size: a cleared policy refilled with the same ids (the
  // replicas of `window_referee` are) then links without growing them one node at a time.
  std::fill(prev_.begin(), prev_.end(), nil);
  std::fill(next_.begin(), next_.end(), nil);
  prev_.resize(std::max<size_t>(prev_.size(), list_count_));
  next_.resize(std::max<size_t>(next_.size(), list_count_));
  for (uint32_t i = 0; i < list_count_; ++i) {
    prev_[i] = i;
    next_[i] = i;
  }
}

void id_lists::grow_for(uint32_t n) {
  // resize() grows the capacity geometrically, so linking stays amortised O(1).
  prev_.resize(size_t{n} + 1, nil);
  next_.resize(size_t{n} + 1, nil);
}

} // namespace mtcache::detail
