#include "mtcache/store/tag_clock.hpp"

#include <mutex>

namespace mtcache::detail {

void tag_clock::removed(const std::string& tag, int64_t removed_us) {
  std::unique_lock guard{mtx_};
  auto [i, added] = times_.emplace(tag, removed_us);
  if (added)
    return;
  if (i->second == 0 && removed_us > 0)
    --unremoved_;
  if (removed_us > i->second)
    i->second = removed_us;
}

void tag_clock::never_removed(const std::string& tag) {
  std::unique_lock guard{mtx_};
  if (unremoved_ >= max_unremoved) {
    for (auto i = times_.begin(); i != times_.end();)
      i = i->second == 0 ? times_.erase(i) : std::next(i);
    unremoved_ = 0;
  }
  if (times_.emplace(tag, 0).second)
    ++unremoved_;
}

bool tag_clock::hides(int64_t created_us, const std::vector<std::string_view>& tags) const {
  std::shared_lock guard{mtx_};
  if (times_.empty())
    return false;
  std::string name;
  for (auto tag : tags) {
    name.assign(tag);
    auto i = times_.find(name);
    if (i != times_.end() && i->second >= created_us)
      return true;
  }
  return false;
}

std::vector<std::string> tag_clock::unknown(const std::vector<std::string_view>& tags) const {
  std::vector<std::string> out;
  std::shared_lock guard{mtx_};
  std::string name;
  for (auto tag : tags) {
    name.assign(tag);
    if (times_.count(name) == 0)
      out.push_back(name);
  }
  return out;
}

void tag_clock::forget_unremoved() {
  std::unique_lock guard{mtx_};
  for (auto i = times_.begin(); i != times_.end();)
    i = i->second == 0 ? times_.erase(i) : std::next(i);
  unremoved_ = 0;
}

void tag_clock::drop_removed_before(int64_t before_us) {
  std::unique_lock guard{mtx_};
  if (times_.size() < 2 * kept_after_drop_ || times_.size() < 64)
    return;
  for (auto i = times_.begin(); i != times_.end();)
    i = i->second > 0 && i->second <= before_us ? times_.erase(i) : std::next(i);
  kept_after_drop_ = times_.size();
}

size_t tag_clock::size() const {
  std::shared_lock guard{mtx_};
  return times_.size();
}

} // namespace mtcache::detail
