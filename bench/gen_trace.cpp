// Writes a synthetic key trace for `hit_ratio`: one decimal key per line, deterministic
// for a seed.
//
//   zipf   keys drawn from a Zipf distribution with exponent --s over --keys keys
//   scan   the zipf hot set, interrupted by --scans (7) sequential scans of one-off keys
//          that make --scan-share (0.32) of the requests
//   shift  zipf whose hot set moves to other keys every fifth of the trace
//   loop   0, 1, ..., keys-1, 0, 1, ...: a cyclic scan (use keys a bit above capacity)
//   twice  every key is requested twice, the second time 1..--gap requests later (64)
//
// Shapes of the policy corpus (bench/policy_corpus; see trace_shapes.hpp):
//   drift    zipf whose ranking moves by --jump ranks (1) every --period requests (1000)
//   recency  a share --fresh (0.1) of new keys, otherwise the key of d requests ago with
//            P(d > x) = (x / --reach)^-alpha (--alpha 1.0, --reach 1)
//   loopmix  a loop over --keys keys, and a share --mix (0.5) of zipf requests over --other
//            keys (default --keys) of their own
//   multi    programs taking turns every --burst requests (1000), picked at random: a loop
//            over --keys keys, zipf over --keys keys, recency as above

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "trace_shapes.hpp"

namespace {

using gen::random_source;
using gen::zipf_keys;

struct options {
  std::string kind = "zipf";
  uint64_t keys = 100000;
  uint64_t requests = 1000000;
  double s = 0.99;
  uint64_t seed = 1;
  // Seven scans making 32% of the requests: LRU and OPT then land where the reference
  // figures for scan traces put them (0.330 / 0.443 at capacity 1000).
  uint64_t scans = 7;
  double scan_share = 0.32;
  uint64_t gap = 64;
  uint64_t period = 1000;
  uint64_t jump = 1;
  double alpha = 1.0;
  double reach = 1.0;
  double fresh = 0.1;
  double mix = 0.5;
  uint64_t other = 0;
  uint64_t burst = 1000;
};

class trace_writer {
public:
  void add(uint64_t key) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + key % 10);
      key /= 10;
    } while (key > 0);
    while (n > 0)
      buffer_.push_back(digits[--n]);
    buffer_.push_back('\n');
    if (buffer_.size() > (1 << 20))
      flush();
  }

  void flush() {
    std::fwrite(buffer_.data(), 1, buffer_.size(), stdout);
    buffer_.clear();
  }

private:
  std::string buffer_;
};

// The corpus shapes, or nullptr for one of the original kinds.
std::unique_ptr<gen::stream> shape(const options& opt) {
  using part = std::pair<double, std::unique_ptr<gen::stream>>;
  if (opt.kind == "drift")
    return std::make_unique<gen::zipf_stream>(opt.keys, opt.s, opt.period, opt.jump, 0, opt.seed);
  if (opt.kind == "recency")
    return std::make_unique<gen::recency_stream>(opt.alpha, opt.reach, opt.fresh, 0, opt.seed);
  std::vector<part> parts;
  if (opt.kind == "loopmix") {
    auto other = opt.other > 0 ? opt.other : opt.keys;
    parts.emplace_back(1 - opt.mix, std::make_unique<gen::loop_stream>(opt.keys, 0));
    parts.emplace_back(
        opt.mix, std::make_unique<gen::zipf_stream>(other, opt.s, 0, 0, opt.keys, opt.seed + 1));
    return std::make_unique<gen::mix_stream>(std::move(parts), 1, opt.seed);
  }
  if (opt.kind == "multi") {
    // Key spaces far apart, so that the programs share no key; below 2^32, so that Java's
    // Long.hashCode (high ^ low word) does not map keys of two programs to one hash.
    constexpr uint64_t space = uint64_t{1} << 30;
    parts.emplace_back(1, std::make_unique<gen::loop_stream>(opt.keys, 0));
    parts.emplace_back(
        1, std::make_unique<gen::zipf_stream>(opt.keys, opt.s, 0, 0, space, opt.seed + 1));
    parts.emplace_back(1, std::make_unique<gen::recency_stream>(opt.alpha, opt.reach, opt.fresh,
                                                                2 * space, opt.seed + 2));
    return std::make_unique<gen::mix_stream>(std::move(parts), opt.burst, opt.seed);
  }
  return nullptr;
}

void generate(const options& opt, trace_writer& out) {
  if (auto shaped = shape(opt)) {
    for (uint64_t i = 0; i < opt.requests; ++i)
      out.add(shaped->next());
    return;
  }
  random_source rng{opt.seed};
  if (opt.kind == "loop") {
    for (uint64_t i = 0; i < opt.requests; ++i)
      out.add(i % opt.keys);
    return;
  }
  if (opt.kind == "twice") {
    // (due position, key) of second requests still to come, earliest first.
    using pending = std::pair<uint64_t, uint64_t>;
    std::priority_queue<pending, std::vector<pending>, std::greater<>> repeats;
    uint64_t next_key = 0;
    for (uint64_t i = 0; i < opt.requests; ++i) {
      if (!repeats.empty() && repeats.top().first <= i) {
        out.add(repeats.top().second);
        repeats.pop();
        continue;
      }
      auto key = next_key++ % opt.keys;
      out.add(key);
      repeats.emplace(i + 1 + rng.below(opt.gap), key);
    }
    return;
  }
  zipf_keys zipf{opt.keys, opt.s, rng};
  if (opt.kind == "zipf") {
    for (uint64_t i = 0; i < opt.requests; ++i)
      out.add(zipf.key(zipf.rank(rng)));
  } else if (opt.kind == "shift") {
    for (uint64_t i = 0; i < opt.requests; ++i) {
      auto fifth = i * 5 / opt.requests;
      out.add(zipf.key(zipf.rank(rng), fifth * (opt.keys / 5)));
    }
  } else {
    // scan: each cycle is a hot phase followed by a scan of `scan_share` of the cycle.
    uint64_t scan_key = opt.keys; // one-off keys, above the hot set's range
    for (uint64_t cycle = 0; cycle < opt.scans; ++cycle) {
      auto begin = opt.requests * cycle / opt.scans;
      auto end = opt.requests * (cycle + 1) / opt.scans;
      auto hot_end =
          begin + static_cast<uint64_t>(static_cast<double>(end - begin) * (1 - opt.scan_share));
      for (auto i = begin; i < hot_end; ++i)
        out.add(zipf.key(zipf.rank(rng)));
      for (auto i = hot_end; i < end; ++i)
        out.add(scan_key++);
    }
  }
}

bool parse(int argc, char** argv, options& opt) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string name = argv[i];
    const char* value = argv[i + 1];
    if (name == "--kind")
      opt.kind = value;
    else if (name == "--keys")
      opt.keys = std::strtoull(value, nullptr, 10);
    else if (name == "--requests")
      opt.requests = std::strtoull(value, nullptr, 10);
    else if (name == "--s")
      opt.s = std::strtod(value, nullptr);
    else if (name == "--seed")
      opt.seed = std::strtoull(value, nullptr, 10);
    else if (name == "--scan-share")
      opt.scan_share = std::strtod(value, nullptr);
    else if (name == "--scans")
      opt.scans = std::strtoull(value, nullptr, 10);
    else if (name == "--gap")
      opt.gap = std::strtoull(value, nullptr, 10);
    else if (name == "--period")
      opt.period = std::strtoull(value, nullptr, 10);
    else if (name == "--jump")
      opt.jump = std::strtoull(value, nullptr, 10);
    else if (name == "--alpha")
      opt.alpha = std::strtod(value, nullptr);
    else if (name == "--reach")
      opt.reach = std::strtod(value, nullptr);
    else if (name == "--fresh")
      opt.fresh = std::strtod(value, nullptr);
    else if (name == "--mix")
      opt.mix = std::strtod(value, nullptr);
    else if (name == "--other")
      opt.other = std::strtoull(value, nullptr, 10);
    else if (name == "--burst")
      opt.burst = std::strtoull(value, nullptr, 10);
    else
      return false;
  }
  const char* kinds[] = {"zipf",  "scan",    "shift",   "loop", "twice",
                         "drift", "recency", "loopmix", "multi"};
  return argc % 2 == 1 && opt.keys > 0 && opt.scans > 0 && opt.scan_share >= 0 &&
         opt.scan_share <= 1 && opt.gap > 0 && opt.alpha > 0 && opt.reach >= 1 && opt.fresh >= 0 &&
         opt.fresh <= 1 && opt.mix >= 0 && opt.mix <= 1 &&
         std::any_of(std::begin(kinds), std::end(kinds),
                     [&](const char* k) { return opt.kind == k; });
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  if (!parse(argc, argv, opt)) {
    std::fprintf(
        stderr,
        "usage: gen_trace --kind zipf|scan|shift|loop|twice|drift|recency|loopmix|multi\n"
        "                 --keys K --requests N [--s 0.99] [--seed S] [--scans N]\n"
        "                 [--scan-share F] [--gap G] [--period P] [--jump J] [--alpha A]\n"
        "                 [--reach R] [--fresh F] [--mix M] [--other K] [--burst B] > file\n");
    return 2;
  }
  trace_writer out;
  generate(opt, out);
  out.flush();
  return 0;
}
