#include "mtcache/store/read_view.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace mtcache::detail {

namespace {

constexpr size_t min_capacity = 16;

// Freeing waits for a batch: each reclaim scans every reader slot of the epoch domain.
constexpr size_t reclaim_batch = 64;

size_t capacity_for(size_t entries) {
  size_t n = min_capacity;
  // At most a quarter full after a rebuild, so that it takes a while to reach half.
  while (n < entries * 4)
    n *= 2;
  return n;
}

} // namespace

read_view::table::table(size_t capacity)
    : mask(capacity - 1), slots(new std::atomic<const entry*>[capacity]) {
  for (size_t i = 0; i < capacity; ++i)
    slots[i].store(nullptr, std::memory_order_relaxed);
}

read_view::read_view(int64_t time_to_idle_ms, uint32_t level)
    : time_to_idle_ms_(std::max<int64_t>(time_to_idle_ms, 0)), level_(level),
      table_(new table(min_capacity)) {
  // nop
}

read_view::~read_view() {
  // No reader is left: each holds the view through a shared_ptr.
  auto* t = table_.load(std::memory_order_relaxed);
  for (size_t i = 0; i <= t->mask; ++i) {
    auto* e = t->slots[i].load(std::memory_order_relaxed);
    if (e != nullptr && e != tombstone())
      destroy(e);
  }
  delete t;
  for (auto& [epoch, e] : retired_entries_)
    destroy(e);
  for (auto& [epoch, old] : retired_tables_)
    delete old;
}

const read_view::entry read_view::tombstone_{0, 0, {0}, 0, 0, 0, false, bytes{}};

const read_view::entry* read_view::make_entry(const bytes& block, uint64_t hash,
                                              int64_t ttl_deadline, uint32_t id, int64_t now_ms) {
  auto key = block.key();
  bool inline_value = block.size() <= inline_limit;
  auto* mem = ::operator new(sizeof(entry) + key.size() + (inline_value ? block.size() : 0));
  auto* e = new (mem) entry{hash,
                            ttl_deadline,
                            {now_ms},
                            id,
                            static_cast<uint32_t>(key.size()),
                            static_cast<uint32_t>(block.size()),
                            inline_value,
                            block};
  auto* tail = reinterpret_cast<char*>(e + 1);
  if (!key.empty())
    std::memcpy(tail, key.data(), key.size());
  if (inline_value && !block.empty())
    std::memcpy(tail + key.size(), block.data(), block.size());
  return e;
}

void read_view::destroy(const entry* e) noexcept {
  e->~entry();
  ::operator delete(const_cast<entry*>(e));
}

std::pair<size_t, bool> read_view::locate(std::string_view key, uint64_t hash) const {
  auto* t = table_.load(std::memory_order_relaxed);
  size_t free_slot = SIZE_MAX;
  for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
    auto* e = t->slots[i].load(std::memory_order_relaxed);
    if (e == nullptr)
      return {free_slot == SIZE_MAX ? i : free_slot, false};
    if (e == tombstone()) {
      if (free_slot == SIZE_MAX)
        free_slot = i;
    } else if (e->hash == hash && e->key() == key) {
      return {i, true};
    }
  }
}

void read_view::publish(const bytes& block, int64_t ttl_deadline, uint32_t id, int64_t now_ms) {
  auto key = block.key();
  auto hash = hash_of(key);
  auto* fresh = make_entry(block, hash, ttl_deadline, id, now_ms);
  auto [i, found] = locate(key, hash);
  auto* t = table_.load(std::memory_order_relaxed);
  auto* old = t->slots[i].load(std::memory_order_relaxed);
  t->slots[i].store(fresh, std::memory_order_seq_cst);
  if (found) {
    retire(old);
  } else {
    ++live_;
    if (old == nullptr && ++used_ * 2 > t->mask + 1)
      rebuild(capacity_for(live_));
  }
}

void read_view::withdraw(std::string_view key) {
  auto [i, found] = locate(key, hash_of(key));
  if (!found)
    return;
  auto* t = table_.load(std::memory_order_relaxed);
  auto* old = t->slots[i].load(std::memory_order_relaxed);
  t->slots[i].store(tombstone(), std::memory_order_seq_cst);
  --live_;
  retire(old);
}

void read_view::touch(std::string_view key, int64_t now_ms) {
  auto [i, found] = locate(key, hash_of(key));
  if (!found)
    return;
  auto* e = table_.load(std::memory_order_relaxed)->slots[i].load(std::memory_order_relaxed);
  if (e->last_access.load(std::memory_order_relaxed) < now_ms)
    e->last_access.store(now_ms, std::memory_order_relaxed);
}

void read_view::clear() {
  auto* old = table_.load(std::memory_order_relaxed);
  table_.store(new table(min_capacity), std::memory_order_seq_cst);
  live_ = 0;
  used_ = 0;
  auto epoch = epoch_domain::instance().current();
  for (size_t i = 0; i <= old->mask; ++i) {
    auto* e = old->slots[i].load(std::memory_order_relaxed);
    if (e != nullptr && e != tombstone())
      retired_entries_.emplace_back(epoch, e);
  }
  retired_tables_.emplace_back(epoch, old);
  reclaim();
}

void read_view::retire(const entry* e) {
  retired_entries_.emplace_back(epoch_domain::instance().current(), e);
  if (retired_entries_.size() >= reclaim_batch)
    reclaim();
}

void read_view::rebuild(size_t capacity) {
  auto* old = table_.load(std::memory_order_relaxed);
  auto* fresh = new table(capacity);
  for (size_t i = 0; i <= old->mask; ++i) {
    auto* e = old->slots[i].load(std::memory_order_relaxed);
    if (e == nullptr || e == tombstone())
      continue;
    auto j = e->hash & fresh->mask;
    while (fresh->slots[j].load(std::memory_order_relaxed) != nullptr)
      j = (j + 1) & fresh->mask;
    fresh->slots[j].store(e, std::memory_order_relaxed);
  }
  // The entries move over as they are; only the old array is retired.
  table_.store(fresh, std::memory_order_seq_cst);
  used_ = live_;
  retired_tables_.emplace_back(epoch_domain::instance().current(), old);
}

void read_view::reclaim() {
  if (retired_entries_.empty() && retired_tables_.empty())
    return;
  auto oldest = epoch_domain::instance().advance();
  auto free_older = [oldest](auto& list, auto free) {
    auto keep = std::partition(list.begin(), list.end(),
                               [oldest](const auto& r) { return r.first >= oldest; });
    for (auto i = keep; i != list.end(); ++i)
      free(i->second);
    list.erase(keep, list.end());
  };
  free_older(retired_entries_, destroy);
  free_older(retired_tables_, [](table* t) { delete t; });
}

} // namespace mtcache::detail
