// Measures the memory `memory_store` needs per entry beyond its key and value: resident set
// size before and after filling a store, divided by the number of entries, less the key and
// value bytes.
//
//   memory_overhead [--entries N] [--policy tinylfu|lru] [--no-ttl]
//
// Keys are 16 bytes and values 100 bytes; every entry gets a TTL unless --no-ttl, so the
// timer wheel's share is included. Values arrive as blocks that already carry their key,
// as the memory tier builds them, so the store keeps them without a copy.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "mtcache/store/memory_store.hpp"

namespace {

using namespace mtcache;
using namespace mtcache::detail;

uint64_t resident_bytes() {
  auto* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr)
    return 0;
  unsigned long size = 0;
  unsigned long resident = 0;
  if (std::fscanf(statm, "%lu %lu", &size, &resident) != 2)
    resident = 0;
  std::fclose(statm);
  return static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

std::string key_of(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key:%012llu", static_cast<unsigned long long>(i));
  return std::string{buf, 16};
}

} // namespace

int main(int argc, char** argv) {
  uint64_t entries = 1'000'000;
  bool ttl = true;
  memory_tier_config cfg;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--entries" && i + 1 < argc) {
      entries = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--policy" && i + 1 < argc) {
      std::string name = argv[++i];
      cfg.eviction = name == "lru" ? eviction_kind::lru : eviction_kind::tinylfu;
    } else if (arg == "--no-ttl") {
      ttl = false;
    } else {
      std::fprintf(stderr, "usage: memory_overhead [--entries N] [--policy tinylfu|lru]"
                           " [--no-ttl]\n");
      return 2;
    }
  }
  cfg.max_entries = entries;
  const std::string value(100, 'v');
  constexpr uint64_t payload = 16 + 100;
  auto before = resident_bytes();
  auto start = std::chrono::steady_clock::now();
  {
    memory_store store{cfg};
    for (uint64_t i = 0; i < entries; ++i) {
      auto key = key_of(i);
      store.put(key, bytes{key, value}, ttl ? 3'600'000 : 0, static_cast<int64_t>(i / 1000));
    }
    auto filled = std::chrono::steady_clock::now();
    auto after = resident_bytes();
    uint64_t found = 0;
    for (uint64_t i = 0; i < entries; ++i)
      found += store.get(key_of(i), static_cast<int64_t>(entries / 1000)).has_value();
    auto read = std::chrono::steady_clock::now();
    auto per_entry = static_cast<double>(after - before) / static_cast<double>(entries);
    std::printf("%llu entries (16 B keys, 100 B values, %s, %s): RSS +%.1f MB, %.1f B/entry,"
                " overhead %.1f B/entry\n",
                static_cast<unsigned long long>(store.size()),
                cfg.eviction == eviction_kind::lru ? "lru" : "tinylfu", ttl ? "ttl" : "no ttl",
                static_cast<double>(after - before) / 1e6, per_entry,
                per_entry - static_cast<double>(payload));
    auto ns = [&](auto from, auto to) {
      return std::chrono::duration<double, std::nano>(to - from).count() /
             static_cast<double>(entries);
    };
    std::printf("put %.0f ns/op, get %.0f ns/op (%llu hits)\n", ns(start, filled), ns(filled, read),
                static_cast<unsigned long long>(found));
  }
  return 0;
}
