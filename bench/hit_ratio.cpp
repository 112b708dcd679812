// Replays a key trace ("read; on a miss insert") against one eviction policy and prints the
// hit ratio with four decimals. Policies run directly, without a store or actors.
//
//   hit_ratio --trace FILE --capacity N [--policy tinylfu|lru|opt] [--doorkeeper]
//             [--fixed-window] [--no-referee] [--window SHARE] [--intervals N]
//
// `--no-referee` leaves out the replicas that referee the window (`window_referee`); `--window`
// sets the share of the capacity W-TinyLFU's window starts with (0.01);
// `--intervals N` prints the hit ratio of every N requests to stderr.
//
// `opt` is Belady's clairvoyant policy: on a miss it evicts the key whose next use is
// farthest away (possibly the new key itself), the upper bound for any online policy.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mtcache/store/lru_policy.hpp"
#include "mtcache/store/tinylfu_policy.hpp"

namespace {

using namespace mtcache;
using namespace mtcache::detail;

struct options {
  std::string trace;
  uint64_t capacity = 0;
  std::string policy = "tinylfu";
  bool doorkeeper = false;
  bool fixed_window = false;
  bool referee = true;
  double window = -1;
  uint64_t intervals = 0;
};

struct trace {
  /// Dense ids 0..distinct-1, one per request.
  std::vector<uint32_t> ids;
  /// A 32-bit hash of each id's key.
  std::vector<uint32_t> hashes;
  /// The hash of each request's key, in request order: the store hashes the key it was
  /// given, which costs no lookup.
  std::vector<uint32_t> request_hashes;
};

uint32_t key_hash(uint64_t key) {
  uint64_t z = key + 0x9e37'79b9'7f4a'7c15u;
  z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9u;
  z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11ebu;
  z ^= z >> 31;
  return static_cast<uint32_t>(z);
}

bool load(const std::string& path, trace& out) {
  auto* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr)
    return false;
  std::unordered_map<uint64_t, uint32_t> dense;
  std::vector<char> buffer(1 << 20);
  uint64_t key = 0;
  bool in_key = false;
  auto finish = [&] {
    auto [it, added] = dense.emplace(key, static_cast<uint32_t>(dense.size()));
    if (added)
      out.hashes.push_back(key_hash(key));
    out.ids.push_back(it->second);
    out.request_hashes.push_back(out.hashes[it->second]);
    key = 0;
    in_key = false;
  };
  for (size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), file)) > 0;) {
    for (size_t i = 0; i < n; ++i) {
      auto c = buffer[i];
      if (c >= '0' && c <= '9') {
        key = key * 10 + static_cast<uint64_t>(c - '0');
        in_key = true;
      } else if (in_key) {
        finish();
      }
    }
  }
  if (in_key)
    finish();
  std::fclose(file);
  return true;
}

/// With `--intervals N`, the hit ratio of every N requests goes to stderr, with the window
/// size of W-TinyLFU: how a policy adapts over a trace.
struct progress {
  uint64_t interval = 0;
  const tinylfu_policy* tinylfu = nullptr;
  uint64_t hits_before = 0;

  /// Called with the number of requests replayed so far and their hits.
  void report(uint64_t requests, uint64_t hits) {
    if (interval == 0 || requests == 0 || requests % interval != 0)
      return;
    std::fprintf(stderr, "%10llu %.4f", static_cast<unsigned long long>(requests),
                 static_cast<double>(hits - hits_before) / static_cast<double>(interval));
    if (tinylfu != nullptr)
      std::fprintf(stderr, " window %llu",
                   static_cast<unsigned long long>(tinylfu->window_limit().entries));
    std::fprintf(stderr, "\n");
    hits_before = hits;
  }
};

// The policy sees what memory_store shows it: entries by slot id, dense and reused after an
// eviction (the store's free list), so its per-id arrays span the cache, not every key of
// the trace. The harness stands in for the store's index with two plain arrays, `slot`
// from a trace key to its slot and `key` back; a key is resident if the two agree, so an
// eviction clears only the small `key` entry. What is timed is the policy: the harness
// reads `slot` ahead from the trace, and each request carries its key's hash, so that its
// own cache misses (over every key of the trace, where the store's index holds only the
// cache's keys) are not counted as policy time.
uint64_t replay(eviction_policy& policy, const trace& t, progress& out) {
  constexpr uint32_t absent = UINT32_MAX;
  constexpr size_t lookahead = 16;
  std::vector<uint32_t> slot(t.hashes.size(), absent);
  std::vector<uint32_t> key;
  std::vector<uint32_t> free_slots;
  std::vector<uint32_t> victims;
  uint64_t hits = 0;
  uint64_t requests = 0;
  for (size_t i = 0; i < t.ids.size(); ++i) {
    if (i + lookahead < t.ids.size())
      __builtin_prefetch(&slot[t.ids[i + lookahead]]);
    auto id = t.ids[i];
    out.report(requests++, hits);
    auto s = slot[id];
    if (s < key.size() && key[s] == id) {
      ++hits;
      policy.record_access(s);
      continue;
    }
    auto hash = t.request_hashes[i];
    policy.record_miss(hash);
    if (free_slots.empty()) {
      s = static_cast<uint32_t>(key.size());
      key.push_back(id);
    } else {
      s = free_slots.back();
      free_slots.pop_back();
      key[s] = id;
    }
    slot[id] = s;
    victims.clear();
    policy.insert(s, hash, 1, victims);
    for (auto victim : victims) {
      key[victim] = absent;
      free_slots.push_back(victim);
    }
  }
  out.report(requests, hits);
  return hits;
}

uint64_t replay_opt(const trace& t, uint64_t capacity) {
  auto n = t.ids.size();
  // next_use[i]: the request after i with the same key, n if none.
  std::vector<uint64_t> next_use(n);
  std::vector<uint64_t> last_seen(t.hashes.size(), n);
  for (auto i = n; i-- > 0;) {
    next_use[i] = last_seen[t.ids[i]];
    last_seen[t.ids[i]] = i;
  }
  // Max-heap of (next use, id); entries go stale when their key is used again or evicted,
  // and are skipped when they surface.
  std::priority_queue<std::pair<uint64_t, uint32_t>> farthest;
  std::vector<uint64_t> current(t.hashes.size(), UINT64_MAX);
  uint64_t hits = 0;
  uint64_t held = 0;
  for (size_t i = 0; i < n; ++i) {
    auto id = t.ids[i];
    if (current[id] != UINT64_MAX)
      ++hits;
    else
      ++held;
    current[id] = next_use[i];
    farthest.emplace(next_use[i], id);
    while (held > capacity) {
      auto [use, victim] = farthest.top();
      farthest.pop();
      if (current[victim] != use)
        continue;
      current[victim] = UINT64_MAX;
      --held;
    }
  }
  return hits;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

bool parse(int argc, char** argv, options& opt) {
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i];
    if (name == "--doorkeeper")
      opt.doorkeeper = true;
    else if (name == "--fixed-window")
      opt.fixed_window = true;
    else if (name == "--no-referee")
      opt.referee = false;
    else if (i + 1 == argc)
      return false;
    else if (name == "--trace")
      opt.trace = argv[++i];
    else if (name == "--capacity")
      opt.capacity = std::strtoull(argv[++i], nullptr, 10);
    else if (name == "--policy")
      opt.policy = argv[++i];
    else if (name == "--window")
      opt.window = std::strtod(argv[++i], nullptr);
    else if (name == "--intervals")
      opt.intervals = std::strtoull(argv[++i], nullptr, 10);
    else
      return false;
  }
  return !opt.trace.empty() && opt.capacity > 0 &&
         (opt.policy == "tinylfu" || opt.policy == "lru" || opt.policy == "opt");
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  if (!parse(argc, argv, opt)) {
    std::fprintf(stderr, "usage: hit_ratio --trace FILE --capacity N [--policy tinylfu|lru|opt]"
                         " [--doorkeeper] [--fixed-window] [--no-referee] [--window SHARE]"
                         " [--intervals N]\n");
    return 2;
  }
  trace t;
  if (!load(opt.trace, t)) {
    std::fprintf(stderr, "hit_ratio: cannot read %s\n", opt.trace.c_str());
    return 1;
  }
  if (t.ids.empty()) {
    std::fprintf(stderr, "hit_ratio: %s has no keys\n", opt.trace.c_str());
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  auto start_cpu = thread_cpu_seconds();
  uint64_t hits = 0;
  if (opt.policy == "opt") {
    hits = replay_opt(t, opt.capacity);
  } else if (opt.policy == "lru") {
    lru_policy policy{extent{opt.capacity, UINT64_MAX}};
    progress out{opt.intervals};
    hits = replay(policy, t, out);
  } else {
    tinylfu_options options;
    options.doorkeeper = opt.doorkeeper;
    options.adaptive = !opt.fixed_window;
    options.referee = opt.referee;
    if (opt.window >= 0)
      options.window_fraction = opt.window;
    tinylfu_policy policy{extent{opt.capacity, UINT64_MAX}, options};
    progress out{opt.intervals, &policy};
    hits = replay(policy, t, out);
  }
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto cpu_seconds = thread_cpu_seconds() - start_cpu;
  std::printf("%.4f\n", static_cast<double>(hits) / static_cast<double>(t.ids.size()));
  // Both clocks: on a shared machine the wall clock also measures whoever else runs, the
  // thread's CPU time only this replay (less the caches that others share).
  std::fprintf(stderr, "%s: %zu requests, %zu keys, %.3f s, %.1f M requests/s, %.1f M per CPU s\n",
               opt.policy.c_str(), t.ids.size(), t.hashes.size(), seconds,
               static_cast<double>(t.ids.size()) / seconds / 1e6,
               static_cast<double>(t.ids.size()) / cpu_seconds / 1e6);
  return 0;
}
