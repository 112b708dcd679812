#include "mtcache/store/memory_store.hpp"

#include <algorithm>
#include <utility>

#include "mtcache/store/lru_policy.hpp"
#include "mtcache/store/read_view.hpp"
#include "mtcache/store/tinylfu_policy.hpp"

namespace mtcache::detail {

namespace {

constexpr auto nil = hash_index::nil;
constexpr auto never = timer_wheel::never;

// Ids index arrays of several components; leave headroom below the `nil` markers.
constexpr size_t max_ids = UINT32_MAX - 4096;

// The live-or-stale list of `stale_` (it has only one).
constexpr uint32_t stale_list = 0;

// The read view's hash, folded: its access records name entries by it.
uint32_t key_hash(std::string_view key) {
  return read_view::fold(read_view::hash_of(key));
}

int64_t deadline_after(int64_t now, int64_t duration) {
  if (duration <= 0)
    return never;
  return duration >= never - std::max<int64_t>(now, 0) ? never : now + duration;
}

std::unique_ptr<eviction_policy> make_policy(const memory_tier_config& cfg) {
  extent capacity{cfg.max_entries, cfg.max_weight == 0 ? UINT64_MAX : cfg.max_weight};
  if (cfg.eviction == eviction_kind::lru)
    return std::make_unique<lru_policy>(capacity);
  return std::make_unique<tinylfu_policy>(capacity);
}

} // namespace

memory_store::memory_store(const memory_tier_config& cfg)
    : max_entries_(cfg.max_entries), max_weight_(cfg.max_weight == 0 ? UINT64_MAX : cfg.max_weight),
      time_to_idle_ms_(std::max<int64_t>(cfg.time_to_idle.count(), 0)),
      fail_safe_ms_(std::max<int64_t>(cfg.fail_safe_window.count(), 0)), stale_(1),
      policy_(make_policy(cfg)) {
  // nop
}

memory_store::~memory_store() = default;

std::optional<memory_store::found> memory_store::get(std::string_view key, int64_t now_ms) {
  auto hash = key_hash(key);
  auto id = find(key, hash);
  if (id != nil && states_[id] == entry_state::live) {
    if (now_ms < wheel_.time_of(id)) {
      ++counters_.hits;
      policy_->record_access(id);
      if (time_to_idle_ms_ > 0) {
        wheel_.schedule(id, std::min(ttl_deadlines_[id], deadline_after(now_ms, time_to_idle_ms_)));
        if (view_)
          view_->touch(key, now_ms);
      }
      return found{blocks_[id], remaining_ttl(id, now_ms)};
    }
    expire_entry(id, now_ms);
  }
  ++counters_.misses;
  policy_->record_miss(hash);
  return std::nullopt;
}

std::optional<memory_store::found> memory_store::get_stale(std::string_view key, int64_t now_ms) {
  auto id = find(key, key_hash(key));
  if (id == nil || fail_safe_ms_ == 0)
    return std::nullopt;
  auto time = wheel_.time_of(id);
  bool in_window = states_[id] == entry_state::stale
                       ? now_ms < time
                       : time <= now_ms && now_ms < deadline_after(time, fail_safe_ms_);
  if (!in_window)
    return std::nullopt;
  return found{blocks_[id], 0};
}

bool memory_store::contains(std::string_view key, int64_t now_ms) const {
  auto id = find(key, key_hash(key));
  return id != nil && is_live(id, now_ms);
}

bool memory_store::put(std::string_view key, bytes value, int64_t ttl_ms, int64_t now_ms) {
  expire(now_ms);
  auto hash = key_hash(key);
  auto id = find(key, hash);
  uint64_t weight = key.size() + value.size();
  if (weight > max_weight_ || weight > UINT32_MAX || max_entries_ == 0 ||
      (id == nil && free_ids_.empty() && blocks_.size() >= max_ids)) {
    // The new value cannot be kept, and the old one must not outlive the write.
    if (id != nil)
      remove_entry(id);
    return false;
  }
  bytes block = value.key() == key ? std::move(value) : bytes{key, value.view()};
  auto prior = entry_state::free;
  if (id == nil) {
    id = allocate();
    index_.insert(hash, id);
  } else {
    prior = states_[id];
    weight_ -= weight_of(id);
    stale_.unlink(id);
  }
  blocks_[id] = std::move(block);
  states_[id] = entry_state::live;
  weight_ += weight;
  auto ttl_deadline = deadline_after(now_ms, ttl_ms);
  if (time_to_idle_ms_ > 0) {
    ttl_deadlines_[id] = ttl_deadline;
    wheel_.schedule(id, std::min(ttl_deadline, deadline_after(now_ms, time_to_idle_ms_)));
  } else {
    wheel_.schedule(id, ttl_deadline);
  }
  // Expired entries kept for fail-safe go before any live entry is evicted.
  while (!stale_.empty(stale_list) && (index_.size() > max_entries_ || weight_ > max_weight_))
    erase(stale_.front(stale_list));
  victims_.clear();
  if (prior == entry_state::live)
    policy_->update(id, static_cast<uint32_t>(weight), victims_);
  else
    policy_->insert(id, hash, static_cast<uint32_t>(weight), victims_);
  bool kept = true;
  for (auto victim : victims_) {
    ++counters_.evictions;
    kept = kept && victim != id;
    erase(victim);
  }
  if (kept && view_)
    view_->publish(blocks_[id], ttl_deadline, id, now_ms);
  return kept;
}

bool memory_store::remove(std::string_view key) {
  auto id = find(key, key_hash(key));
  if (id == nil)
    return false;
  bool live = is_live(id, wheel_.now());
  remove_entry(id);
  return live;
}

size_t memory_store::remove_if(const std::function<bool(std::string_view)>& pred) {
  size_t removed = 0;
  // Walk ids rather than index slots: erasing shifts slots but never moves an id.
  for (uint32_t id = 0; id < blocks_.size(); ++id) {
    if (states_[id] == entry_state::free || !pred(blocks_[id].key()))
      continue;
    if (is_live(id, wheel_.now()))
      ++removed;
    remove_entry(id);
  }
  return removed;
}

size_t memory_store::clear() {
  auto removed = index_.size();
  blocks_.clear();
  states_.clear();
  free_ids_.clear();
  ttl_deadlines_.clear();
  index_.clear();
  wheel_.clear();
  stale_.clear();
  policy_->clear();
  weight_ = 0;
  if (view_)
    view_->clear();
  return removed;
}

size_t memory_store::expire(int64_t now_ms) {
  auto before = counters_.expirations;
  due_.clear();
  wheel_.advance(now_ms, due_);
  for (auto id : due_) {
    if (states_[id] == entry_state::live)
      expire_entry(id, now_ms);
    else
      erase(id); // its fail-safe window ran out
  }
  return counters_.expirations - before;
}

uint64_t memory_store::size() const {
  return index_.size();
}

uint64_t memory_store::weight() const {
  return weight_;
}

const memory_store_counters& memory_store::counters() const {
  return counters_;
}

void memory_store::attach(read_view* view) {
  view_ = view;
  if (!view_)
    return;
  view_->clear();
  auto now = wheel_.now();
  for (uint32_t id = 0; id < blocks_.size(); ++id)
    if (is_live(id, now))
      view_->publish(blocks_[id], time_to_idle_ms_ > 0 ? ttl_deadlines_[id] : wheel_.time_of(id),
                     id, now);
}

void memory_store::record_read(const access_record& read) {
  auto id = read.id;
  if (id >= states_.size() || states_[id] != entry_state::live ||
      key_hash(blocks_[id].key()) != read.hash || read.time_ms >= wheel_.time_of(id))
    return;
  policy_->record_access(id);
  if (time_to_idle_ms_ > 0) {
    // Records from different stripes arrive out of order: a deadline only moves later.
    auto deadline = std::min(ttl_deadlines_[id], deadline_after(read.time_ms, time_to_idle_ms_));
    if (deadline > wheel_.time_of(id))
      wheel_.schedule(id, deadline);
  }
}

uint32_t memory_store::find(std::string_view key, uint32_t hash) const {
  return index_.find(hash, [&](uint32_t id) { return blocks_[id].key() == key; });
}

uint32_t memory_store::allocate() {
  if (!free_ids_.empty()) {
    auto id = free_ids_.back();
    free_ids_.pop_back();
    return id;
  }
  auto id = static_cast<uint32_t>(blocks_.size());
  blocks_.emplace_back();
  states_.push_back(entry_state::free);
  if (time_to_idle_ms_ > 0)
    ttl_deadlines_.push_back(never);
  // `get` must not allocate, yet lazy expiry may link the id as stale or free it.
  if (fail_safe_ms_ > 0)
    stale_.grow_to(blocks_.size());
  if (free_ids_.capacity() < blocks_.capacity())
    free_ids_.reserve(blocks_.capacity());
  return id;
}

void memory_store::expire_entry(uint32_t id, int64_t now_ms) {
  ++counters_.expirations;
  // With time-to-idle the wheel holds the earlier of the two deadlines.
  if (time_to_idle_ms_ > 0 && wheel_.time_of(id) < ttl_deadlines_[id])
    ++counters_.idle_expirations;
  policy_->remove(id);
  auto window_end = deadline_after(wheel_.time_of(id), fail_safe_ms_);
  if (fail_safe_ms_ > 0 && now_ms < window_end) {
    if (view_)
      view_->withdraw(blocks_[id].key());
    states_[id] = entry_state::stale;
    stale_.push_back(stale_list, id);
    wheel_.schedule(id, window_end);
  } else {
    erase(id);
  }
}

void memory_store::erase(uint32_t id) {
  auto& block = blocks_[id];
  if (view_ && states_[id] == entry_state::live)
    view_->withdraw(block.key());
  index_.erase(key_hash(block.key()), id);
  wheel_.cancel(id);
  stale_.unlink(id);
  weight_ -= weight_of(id);
  block = bytes{};
  states_[id] = entry_state::free;
  free_ids_.push_back(id);
}

void memory_store::remove_entry(uint32_t id) {
  if (states_[id] == entry_state::live)
    policy_->remove(id);
  erase(id);
}

bool memory_store::is_live(uint32_t id, int64_t now_ms) const {
  return states_[id] == entry_state::live && now_ms < wheel_.time_of(id);
}

int64_t memory_store::remaining_ttl(uint32_t id, int64_t now_ms) const {
  auto deadline = time_to_idle_ms_ > 0 ? ttl_deadlines_[id] : wheel_.time_of(id);
  return deadline == never ? -1 : deadline - now_ms;
}

uint64_t memory_store::weight_of(uint32_t id) const {
  return blocks_[id].key().size() + blocks_[id].size();
}

} // namespace mtcache::detail
