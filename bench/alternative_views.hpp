#pragma once

// The read paths the L1 read view was chosen over, for view_bench: what each costs under the
// same two reader threads and zipf keys. Neither is used by mtcache.
//   shared_mutex_shards: 64 cache-line-aligned shards of std::unordered_map, each behind a
//     std::shared_mutex that readers take shared; a hit copies the value handle (refcount).
//   atomic_shared_ptr: open addressing over std::shared_ptr<const node> slots read with
//     std::atomic_load (libstdc++ guards those with a small global table of mutexes).
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "mtcache/messages/bytes.hpp"

namespace alternative_views {

struct results {
  double shared_mutex_shards = 0;
  double atomic_shared_ptr = 0;
};

class shard_map {
public:
  void put(const std::string& key, mtcache::bytes value) {
    auto& s = shard_of(key);
    std::unique_lock<std::shared_mutex> lock{s.mtx};
    s.map[key] = std::move(value);
  }

  bool get(const std::string& key, mtcache::bytes& out) const {
    auto& s = shard_of(key);
    std::shared_lock<std::shared_mutex> lock{s.mtx};
    auto i = s.map.find(key);
    if (i == s.map.end())
      return false;
    out = i->second;
    return true;
  }

private:
  struct alignas(64) shard {
    mutable std::shared_mutex mtx;
    std::unordered_map<std::string, mtcache::bytes> map;
  };

  const shard& shard_of(const std::string& key) const {
    return shards_[std::hash<std::string>{}(key) % 64];
  }
  shard& shard_of(const std::string& key) { return shards_[std::hash<std::string>{}(key) % 64]; }

  shard shards_[64];
};

class shared_ptr_table {
public:
  struct node {
    std::string key;
    mtcache::bytes value;
  };

  explicit shared_ptr_table(size_t capacity) : slots_(capacity) {}

  void put(const std::string& key, mtcache::bytes value) {
    auto i = std::hash<std::string>{}(key) % slots_.size();
    while (auto n = std::atomic_load(&slots_[i])) {
      if (n->key == key)
        break;
      i = (i + 1) % slots_.size();
    }
    std::atomic_store(&slots_[i], std::make_shared<const node>(node{key, std::move(value)}));
  }

  bool get(const std::string& key, mtcache::bytes& out) const {
    auto i = std::hash<std::string>{}(key) % slots_.size();
    while (auto n = std::atomic_load(&slots_[i])) {
      if (n->key == key) {
        out = n->value;
        return true;
      }
      i = (i + 1) % slots_.size();
    }
    return false;
  }

private:
  std::vector<std::shared_ptr<const node>> slots_;
};

/// `run(op)` runs `op(thread, index)` on the bench's reader threads and returns ops/s.
template <class Run>
results measure(const std::vector<std::string>& keys, size_t distinct,
                const std::vector<std::string>& distinct_keys, const std::string& value, Run run) {
  results out;
  auto shards = std::make_unique<shard_map>();
  shared_ptr_table table{distinct * 4};
  for (auto& k : distinct_keys) {
    shards->put(k, mtcache::bytes{value});
    table.put(k, mtcache::bytes{value});
  }
  out.shared_mutex_shards = run([&](int, size_t i) {
    mtcache::bytes v;
    return shards->get(keys[i], v) && v.size() == value.size() ? 1 : 0;
  });
  out.atomic_shared_ptr = run([&](int, size_t i) {
    mtcache::bytes v;
    return table.get(keys[i], v) && v.size() == value.size() ? 1 : 0;
  });
  return out;
}

} // namespace alternative_views
