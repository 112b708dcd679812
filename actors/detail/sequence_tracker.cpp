#include "mtcache/actors/detail/sequence_tracker.hpp"

#include <algorithm>
#include <iterator>

namespace mtcache::detail {

sequence_tracker::verdict sequence_tracker::record(std::string_view origin, uint64_t epoch,
                                                   uint64_t from, uint64_t seq, int64_t now_ms) {
  from = from == 0 ? seq : std::min(from, seq);
  auto i = origins_.find(std::string{origin});
  if (i == origins_.end()) {
    if (origins_.size() >= max_origins)
      evict_one();
    i = origins_.emplace(std::string{origin}, origin_state{}).first;
    i->second.epoch = epoch;
    i->second.watermark = from - 1;
  } else if (epoch > i->second.epoch) {
    i->second = origin_state{};
    i->second.epoch = epoch;
  } else if (epoch < i->second.epoch) {
    return verdict::stale_epoch;
  }
  auto& o = i->second;
  o.last_heard = ++heard_;
  from = std::max(from, o.watermark + 1);
  if (from > seq)
    return verdict::duplicate;
  // The range that starts at or before `from`, if any, may already hold all of it.
  auto next = o.above.upper_bound(from);
  if (next != o.above.begin()) {
    auto prev = std::prev(next);
    if (prev->second >= seq)
      return verdict::duplicate;
    if (prev->second + 1 >= from) {
      from = prev->first;
      next = o.above.erase(prev);
    }
  }
  // Swallow every range that overlaps or touches [from, seq].
  while (next != o.above.end() && next->first <= seq + 1) {
    seq = std::max(seq, next->second);
    next = o.above.erase(next);
  }
  if (from == o.watermark + 1) {
    o.watermark = seq;
  } else {
    o.above.emplace(from, seq);
    if (o.above.size() > max_ranges)
      lost_ = true;
  }
  if (o.above.empty())
    o.gap_since_ms = 0;
  else if (o.gap_since_ms == 0)
    o.gap_since_ms = now_ms;
  return verdict::fresh;
}

bool sequence_tracker::gap_open_since(int64_t since_ms) const {
  auto oldest = oldest_gap_ms();
  return oldest != 0 && oldest <= since_ms;
}

bool sequence_tracker::has_gaps() const {
  return oldest_gap_ms() != 0;
}

int64_t sequence_tracker::oldest_gap_ms() const {
  int64_t oldest = 0;
  for (auto& entry : origins_) {
    auto since = entry.second.gap_since_ms;
    if (since != 0 && (oldest == 0 || since < oldest))
      oldest = since;
  }
  return oldest;
}

uint64_t sequence_tracker::missing() const {
  uint64_t n = 0;
  for (auto& entry : origins_) {
    auto below = entry.second.watermark;
    for (auto& [first, last] : entry.second.above) {
      n += first - below - 1;
      below = last;
    }
  }
  return n;
}

void sequence_tracker::forgive() {
  for (auto& entry : origins_) {
    auto& o = entry.second;
    if (!o.above.empty())
      o.watermark = o.above.rbegin()->second;
    o.above.clear();
    o.gap_since_ms = 0;
  }
  lost_ = false;
}

void sequence_tracker::evict_one() {
  auto victim = std::min_element(origins_.begin(), origins_.end(), [](auto& x, auto& y) {
    return x.second.last_heard < y.second.last_heard;
  });
  if (victim != origins_.end())
    origins_.erase(victim);
}

} // namespace mtcache::detail
