#include "support/outage_scenario.hpp"

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include <hiredis/hiredis.h>

#include "support/two_nodes.hpp"

namespace mtcache::testing {

namespace {

using clock_type = std::chrono::steady_clock;

struct write_record {
  uint64_t version;
  clock_type::time_point start;
  clock_type::time_point end;
  bool full;
};

// Every write of every key, for telling whether a read returned an old version. Writes of
// one key from both nodes overlap; a read of version v only counts as stale behind a write
// w' that was acknowledged on every tier, is newer (higher version), and began after the
// write of v had ended: only then did every tier see them in that order.
class version_book {
public:
  explicit version_book(uint32_t keys)
      : counters_(new std::atomic<uint64_t>[keys]), history_(keys) {
    for (uint32_t k = 0; k < keys; ++k)
      counters_[k] = 0;
  }

  uint64_t next(uint32_t key) { return ++counters_[key]; }

  void wrote(uint32_t key, write_record r) {
    std::lock_guard<std::mutex> guard{stripe(key)};
    auto& h = history_[key];
    h.push_back(r);
    if (h.size() > 64)
      h.erase(h.begin());
  }

  /// How far a read of `version` begun at `begin` lags behind the newest write it should
  /// have seen (zero if none).
  clock_type::duration lag(uint32_t key, uint64_t version, clock_type::time_point begin) {
    std::lock_guard<std::mutex> guard{stripe(key)};
    auto& h = history_[key];
    const write_record* read = nullptr;
    for (auto& r : h)
      if (r.version == version)
        read = &r;
    clock_type::duration worst{0};
    for (auto& r : h)
      if (r.full && r.version > version && r.end < begin && (!read || read->end < r.start))
        worst = std::max(worst, begin - r.end);
    return worst;
  }

private:
  std::mutex& stripe(uint32_t key) { return stripes_[key % stripes_.size()]; }

  std::unique_ptr<std::atomic<uint64_t>[]> counters_;
  std::vector<std::vector<write_record>> history_;
  std::array<std::mutex, 256> stripes_;
};

cache_config node_config(const redis_server& redis, const std::string& id, bool audit) {
  cache_config cfg;
  cfg.node_id = id;
  cfg.add_memory_tier(tier_config::as_l1());
  redis_tier_config l2;
  l2.url = redis.url();
  cfg.add_redis_tier(tier_config::as_l2(), l2);
  cfg.invalidation.redis = true;
  cfg.invalidation.audit = audit;
  cfg.options.broadcast_on_write = true;
  return cfg;
}

std::string key_name(uint32_t k) {
  return "k" + std::to_string(k);
}

struct counters {
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> writes{0};
  std::atomic<uint64_t> full{0};
  std::atomic<uint64_t> partial{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> checked{0};
  std::atomic<uint64_t> stale{0};
  std::atomic<int64_t> worst_lag_ms{0};
};

void load(node& n, version_book& book, counters& c, const outage_options& opts,
          std::atomic<bool>& stop, std::atomic<clock_type::rep>& check_from, unsigned seed) {
  std::minstd_rand rng{seed};
  std::uniform_real_distribution<double> coin;
  auto& client = n.client();
  while (!stop) {
    auto k = static_cast<uint32_t>(rng() % opts.keys);
    auto begin = clock_type::now();
    if (coin(rng) < opts.write_share) {
      auto v = book.next(k);
      auto ack = client.set(key_name(k), bytes{std::to_string(v)}, strategy::medium_term());
      book.wrote(k, {v, begin, clock_type::now(), ack && ack->failed.empty()});
      ++c.writes;
      ++(!ack ? c.failed : ack->failed.empty() ? c.full : c.partial);
      continue;
    }
    auto res = client.get(key_name(k));
    ++c.reads;
    auto from = check_from.load();
    if (!res || !res->found || from == 0 || begin.time_since_epoch().count() < from)
      continue;
    ++c.checked;
    auto lag = book.lag(k, std::stoull(res->value.str()), begin);
    auto lag_ms = std::chrono::duration_cast<std::chrono::milliseconds>(lag).count();
    if (lag > opts.propagation_bound)
      ++c.stale;
    auto worst = c.worst_lag_ms.load();
    while (lag_ms > worst && !c.worst_lag_ms.compare_exchange_weak(worst, lag_ms))
      ;
  }
}

// Values of every key as Redis holds them (nothing for a missing key), one pipeline.
std::vector<std::optional<std::string>> redis_values(const redis_server& redis, uint32_t keys) {
  std::vector<std::optional<std::string>> out(keys);
  std::unique_ptr<redisContext, void (*)(redisContext*)> ctx{
      redisConnectWithTimeout("127.0.0.1", redis.port(), timeval{5, 0}), redisFree};
  if (!ctx || ctx->err)
    return out;
  for (uint32_t k = 0; k < keys; ++k) {
    auto key = key_name(k);
    redisAppendCommand(ctx.get(), "GET %b", key.data(), key.size());
  }
  for (uint32_t k = 0; k < keys; ++k) {
    void* raw = nullptr;
    if (redisGetReply(ctx.get(), &raw) != REDIS_OK || raw == nullptr)
      break;
    auto* r = static_cast<redisReply*>(raw);
    if (r->type == REDIS_REPLY_STRING)
      out[k].emplace(r->str, r->len);
    freeReplyObject(r);
  }
  return out;
}

std::optional<std::string> value_of(node& n, uint32_t k) {
  auto res = n.client().get(key_name(k));
  if (!res || !res->found)
    return std::nullopt;
  return res->value.str();
}

} // namespace

outage_report run_outage(redis_server& redis, const outage_options& opts) {
  outage_report report;
  node a{node_config(redis, "node-a", opts.audit)};
  node b{node_config(redis, "node-b", opts.audit)};
  if (!a.ok() || !b.ok()) {
    report.error = a.ok() ? b.error() : a.error();
    return report;
  }
  if (!eventually([&] { return a.bridge().redis_subscribed && b.bridge().redis_subscribed; })) {
    report.error = "the nodes did not subscribe";
    return report;
  }
  version_book book{opts.keys};
  counters c;
  std::atomic<bool> stop{false};
  std::atomic<clock_type::rep> check_from{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < opts.threads; ++i)
    workers.emplace_back([&, i] {
      load(i % 2 == 0 ? a : b, book, c, opts, stop, check_from, static_cast<unsigned>(i + 1));
    });
  std::this_thread::sleep_for(opts.before);
  bool killed = opts.kind == outage_options::fault::kill;
  if (killed)
    redis.kill();
  else
    redis.pause();
  std::this_thread::sleep_for(opts.outage);
  if (killed && !redis.restart())
    report.error = "redis did not restart: " + redis.error();
  else if (!killed)
    redis.resume();
  auto back = clock_type::now();
  check_from = (back + opts.settle).time_since_epoch().count();
  if (eventually([&] { return a.bridge().redis_subscribed && b.bridge().redis_subscribed; },
                 std::chrono::seconds{10}))
    report.resubscribed_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - back).count();
  else
    report.resubscribed_ms = -1;
  std::this_thread::sleep_until(back + opts.after);
  stop = true;
  for (auto& w : workers)
    w.join();
  std::this_thread::sleep_for(opts.quiet);
  auto stored = redis_values(redis, opts.keys);
  for (uint32_t k = 0; k < opts.keys; ++k) {
    auto in_a = value_of(a, k);
    auto in_b = value_of(b, k);
    auto& in_redis = stored[k];
    auto differ = [](const std::optional<std::string>& x, const std::optional<std::string>& y) {
      return x && y && *x != *y;
    };
    ++report.compared_keys;
    if (differ(in_a, in_b) || differ(in_a, in_redis) || differ(in_b, in_redis))
      ++report.divergent_keys;
  }
  for (auto* n : {&a, &b}) {
    auto s = n->bridge();
    report.l1_flushes += s.flushes;
    report.flushes_reconnect += s.flushes_reconnect;
    report.flushes_gap += s.flushes_gap;
    report.flushes_trimmed += s.flushes_trimmed;
    report.replays += s.replays;
    report.backlog_messages += s.backlog_messages;
    if (auto stats = n->client().stats())
      report.repairs += stats->repairs;
  }
  report.reads = c.reads;
  report.writes = c.writes;
  report.full_acks = c.full;
  report.partial_acks = c.partial;
  report.failed_writes = c.failed;
  report.reads_checked = c.checked;
  report.stale_reads = c.stale;
  report.worst_lag_ms = c.worst_lag_ms;
  return report;
}

} // namespace mtcache::testing
