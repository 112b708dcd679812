#include "mtcache/actors/detail/repair_table.hpp"

#include <chrono>
#include <iterator>
#include <utility>

namespace mtcache::detail {

void repair_table::failed_write(size_t tier, const std::string& key, const bytes& value,
                                int64_t expires_ms, int64_t written_ms) {
  hold(tier, key, entry{false, value, expires_ms, written_ms});
  ++recorded_;
}

void repair_table::failed_removal(size_t tier, const std::string& key, int64_t written_ms) {
  hold(tier, key, entry{true, bytes{}, 0, written_ms});
  ++recorded_;
}

void repair_table::failed_pattern(size_t tier, const std::string& pattern) {
  auto& held = tiers_[tier];
  if (keys_ >= lim_.max_keys) {
    ++dropped_;
    return;
  }
  held.patterns.push_back(pattern);
  ++keys_;
  ++recorded_;
}

void repair_table::overtaken(const std::string& key) {
  // On every set and removal: nothing to hash while nothing is held, as it mostly is.
  if (tiers_.empty() && recent_.empty())
    return;
  if (auto r = recent_.find(key); r != recent_.end() && r->second.landed_ms == 0)
    r->second.moot = true;
  for (auto& held : tiers_) {
    auto i = held.second.entries.find(key);
    if (i != held.second.entries.end()) {
      erase(held.second, i);
      ++superseded_;
    }
  }
}

bool repair_table::remote_change(const std::string& key, int64_t now_ms, int64_t changed_ms) {
  if (changed_ms == 0)
    return false;
  for (auto& held : tiers_) {
    auto i = held.second.entries.find(key);
    if (i != held.second.entries.end() && i->second.written_ms <= changed_ms) {
      erase(held.second, i);
      ++superseded_;
    }
  }
  auto r = recent_.find(key);
  if (r == recent_.end() || r->second.written_ms > changed_ms)
    return false;
  if (r->second.landed_ms == 0) {
    r->second.moot = true;
    return true;
  }
  if (now_ms - r->second.landed_ms <= lim_.settle_ms)
    return true;
  recent_.erase(r);
  return false;
}

repair_table::batch repair_table::take(size_t tier, int64_t now_ms, size_t max) {
  batch out;
  out.tier = tier;
  auto t = tiers_.find(tier);
  if (t == tiers_.end())
    return out;
  auto& held = t->second;
  for (auto i = held.entries.begin(); i != held.entries.end() && max > 0; --max) {
    auto& [key, e] = *i;
    auto left = e.expires_ms - now_ms;
    if (e.removal || (e.expires_ms != 0 && left <= 0))
      out.removals.push_back(key);
    else
      out.writes.push_back(
          {key, e.value,
           e.expires_ms == 0 ? caf::timespan{0} : caf::timespan{std::chrono::milliseconds{left}}});
    recent_[key] = recent{0, false, e.written_ms};
    i = erase(held, i);
  }
  out.patterns = std::move(held.patterns);
  held.patterns.clear();
  keys_ -= out.patterns.size();
  if (held.entries.empty())
    tiers_.erase(t);
  return out;
}

void repair_table::applied(const batch& b, int64_t now_ms) {
  for (auto i = recent_.begin(); i != recent_.end();)
    i = i->second.landed_ms != 0 && now_ms - i->second.landed_ms > lim_.settle_ms ? recent_.erase(i)
                                                                                  : std::next(i);
  for (auto& w : b.writes)
    recent_[w.key].landed_ms = now_ms;
  for (auto& key : b.removals)
    recent_[key].landed_ms = now_ms;
  repaired_ += b.writes.size() + b.removals.size() + b.patterns.size();
}

void repair_table::failed(batch b, int64_t now_ms) {
  auto again = [&](const std::string& key, entry e) {
    auto r = recent_.find(key);
    bool moot = r != recent_.end() && r->second.moot;
    if (r != recent_.end()) {
      e.written_ms = r->second.written_ms;
      recent_.erase(r);
    }
    auto& held = tiers_[b.tier];
    if (!moot && held.entries.count(key) == 0)
      hold(b.tier, key, std::move(e));
  };
  // The TTL runs again from now as it was when the batch was taken: a batch fails within
  // its tier's timeout, close enough for a retry.
  for (auto& w : b.writes) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(w.ttl).count();
    again(w.key, entry{false, w.value, ms > 0 ? now_ms + ms : 0, 0});
  }
  for (auto& key : b.removals)
    again(key, entry{true, bytes{}, 0, 0});
  for (auto& pattern : b.patterns) {
    tiers_[b.tier].patterns.push_back(std::move(pattern));
    ++keys_;
  }
}

std::vector<size_t> repair_table::tiers_pending() const {
  std::vector<size_t> out;
  for (auto& held : tiers_)
    if (!held.second.entries.empty() || !held.second.patterns.empty())
      out.push_back(held.first);
  return out;
}

size_t repair_table::pending(size_t tier) const {
  auto t = tiers_.find(tier);
  return t == tiers_.end() ? 0 : t->second.entries.size() + t->second.patterns.size();
}

size_t repair_table::pending() const {
  return keys_;
}

repair_table::iterator repair_table::erase(tier_entries& held, iterator i) {
  if (!i->second.removal)
    bytes_ -= i->second.value.size();
  --keys_;
  return held.entries.erase(i);
}

void repair_table::hold(size_t tier, const std::string& key, entry e) {
  auto& held = tiers_[tier];
  auto i = held.entries.find(key);
  if (i != held.entries.end()) {
    erase(held, i);
    ++superseded_;
  } else if (keys_ >= lim_.max_keys) {
    ++dropped_;
    return;
  }
  if (!e.removal && bytes_ + e.value.size() > lim_.max_bytes) {
    e = entry{true, bytes{}, 0, e.written_ms};
    ++degraded_;
  }
  if (!e.removal)
    bytes_ += e.value.size();
  ++keys_;
  held.entries.emplace(key, std::move(e));
}

} // namespace mtcache::detail
