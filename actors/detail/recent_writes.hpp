#pragma once

// Keys this node wrote lately, so that another node's update of one of them is applied as
// a removal.
//
// Two nodes that set one key at about the same time each write their own L1 and Redis,
// then push their value to the other. Which value Redis keeps depends on which SET landed
// last, which neither node knows: each applied the other's update after its own write and
// kept the other's value, or the other way round, and the two L1s disagreed until the TTL
// (the outage scenario found a few such keys per run). A node that wrote a key within
// `window_ms` therefore takes an update of it as a removal and reads Redis, the one order
// every node agrees on.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

namespace mtcache::detail {

class recent_writes {
public:
  explicit recent_writes(int64_t window_ms = 1000, size_t max_keys = 100000)
      : window_ms_(window_ms), max_keys_(max_keys) {}

  void wrote(const std::string& key, int64_t now_ms) {
    prune(now_ms);
    while (last_.size() >= max_keys_ && last_.count(key) == 0)
      forget_oldest();
    last_[key] = now_ms;
    order_.emplace_back(now_ms, key);
  }

  bool recently(const std::string& key, int64_t now_ms) {
    prune(now_ms);
    return last_.count(key) > 0;
  }

  size_t size() const { return last_.size(); }

private:
  void prune(int64_t now_ms) {
    while (!order_.empty() && now_ms - order_.front().first > window_ms_)
      forget_oldest();
  }

  void forget_oldest() {
    auto& [when, key] = order_.front();
    if (auto i = last_.find(key); i != last_.end() && i->second == when)
      last_.erase(i);
    order_.pop_front();
  }

  int64_t window_ms_;
  size_t max_keys_;
  std::unordered_map<std::string, int64_t> last_;
  // Every write in time order; a key written again leaves its older entry behind, which
  // `forget_oldest` skips.
  std::deque<std::pair<int64_t, std::string>> order_;
};

} // namespace mtcache::detail
