// Repairs: writes and removals that failed on a shared tier are re-applied once it is back.
//
// A change whose write to a shared tier (Redis) failed lives only in this node's local tiers,
// acknowledged as partial. The repair table (repair_table.hpp) keeps the newest such change
// per key; every repair_interval the coordinator asks the bridge whether this node has
// caught up on other nodes' changes (a change another node made meanwhile drops the held
// one, so it must have arrived first), then sends what the table holds to the tier in
// batches, and publishes the repaired keys as removals: every node drops its copy and reads
// the repaired value. A remote change that raced a repair makes the coordinator remove its
// key again (miss rather than read an older value). Until the table is empty, the tier
// reports itself unhealthy.

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mtcache/actors/detail/coordinator_state.hpp"
#include "mtcache/actors/detail/fan_out.hpp"
#include "mtcache/actors/detail/log.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

// How often held changes are tried again while their tier is away.
constexpr auto repair_interval = std::chrono::milliseconds{100};

// Whether a failure is one a retry can fix. A tier that refuses the value for good
// (memcached's item size limit, below the cache's max_value_bytes) has dropped its old value
// for the key and would refuse every repair too.
bool retryable(const caf::error& reason) {
  return !is(reason, errc::value_too_large) && !is(reason, errc::not_supported);
}

// Calls `f(index, tier)` for every shared tier the ack lists as failed in a way a retry can
// fix.
template <class F>
void for_each_failed_shared(const coordinator_state& st, const write_ack& ack, F f) {
  for (auto& failure : ack.failed)
    if (retryable(failure.reason))
      for (size_t i = 0; i < st.tiers->size(); ++i)
        if (auto& tier = (*st.tiers)[i]; tier.cfg.shared && tier.cfg.level == failure.level)
          f(i, tier);
}

void schedule(coordinator_ptr self, std::chrono::milliseconds delay) {
  auto& st = self->state;
  if (st.repair_scheduled || st.repairs.pending() == 0)
    return;
  st.repair_scheduled = true;
  self->delayed_send(self, delay, repair_atom::value);
}

std::vector<std::string> keys_of(const repair_table::batch& b) {
  std::vector<std::string> keys;
  keys.reserve(b.writes.size() + b.removals.size());
  for (auto& w : b.writes)
    keys.push_back(w.key);
  keys.insert(keys.end(), b.removals.begin(), b.removals.end());
  return keys;
}

// The repaired keys leave this node's local tiers too: they may hold what was read from the
// shared tier before the repair landed. Then every other node is told to do the same.
void publish_repaired(coordinator_ptr self, const repair_table::batch& b) {
  auto& st = self->state;
  auto keys = keys_of(b);
  if (!keys.empty())
    command_tiers<uint64_t>(
        self, local_tiers(st), [](write_ack) {}, delete_atom::value, keys);
  for (auto& pattern : b.patterns)
    remove_matching(self, local_tiers(st), pattern, [](auto&&...) {});
  if (!st.bridge)
    return;
  invalidation change;
  change.type = invalidation::kind::remove_bulk;
  change.reread = true;
  change.keys = std::move(keys);
  if (!change.keys.empty())
    self->send(st.bridge, caf::publish_atom::value, std::move(change));
  for (auto& pattern : b.patterns) {
    invalidation x;
    x.type = invalidation::kind::remove_pattern;
    x.pattern = pattern;
    x.reread = true;
    self->send(self->state.bridge, caf::publish_atom::value, std::move(x));
  }
}

// Sends one batch to its tier: the writes and the removals as batch messages (one request
// each for a tier that takes no batches), each pattern on its own; `done(ok)` once all of
// them answered.
template <class Done>
void send_batch(coordinator_ptr self, std::shared_ptr<repair_table::batch> b, Done done) {
  auto& st = self->state;
  auto& tier = (*st.tiers)[b->tier];
  struct round {
    size_t outstanding = 0;
    bool ok = true;
  };
  auto r = std::make_shared<round>();
  auto answered = [r, done](bool ok) mutable {
    r->ok = r->ok && ok;
    if (--r->outstanding == 0)
      done(r->ok);
  };
  auto timeout = st.opts.tier_timeout;
  st.outbox.send_ahead_of(tier_order::change);
  std::vector<std::function<void()>> sends;
  if (!b->writes.empty()) {
    if (tier.batch) {
      ++r->outstanding;
      sends.emplace_back([=]() mutable {
        self->request(tier.batch, timeout, put_atom::value, b->writes)
            .then(
                [=](const std::vector<caf::error>& results) mutable {
                  bool ok = true;
                  for (auto& err : results)
                    ok = ok && !err;
                  answered(ok);
                },
                [=](caf::error&) mutable { answered(false); });
      });
    } else {
      for (auto& w : b->writes) {
        ++r->outstanding;
        sends.emplace_back([=]() mutable {
          self->request(tier.handle, timeout, put_atom::value, w.key, w.value, w.ttl)
              .then([=](ok_atom) mutable { answered(true); },
                    [=](caf::error&) mutable { answered(false); });
        });
      }
    }
  }
  if (!b->removals.empty()) {
    ++r->outstanding;
    sends.emplace_back([=]() mutable {
      self->request(tier.handle, timeout, delete_atom::value, b->removals)
          .then([=](uint64_t) mutable { answered(true); },
                [=](caf::error&) mutable { answered(false); });
    });
  }
  for (auto& pattern : b->patterns) {
    ++r->outstanding;
    sends.emplace_back([=]() mutable {
      self->request(tier.handle, timeout, delete_atom::value, match_atom::value, pattern)
          .then([=](uint64_t) mutable { answered(true); },
                [=](caf::error&) mutable { answered(false); });
    });
  }
  if (sends.empty()) {
    done(true);
    return;
  }
  for (auto& send : sends)
    send();
}

void repair_now(coordinator_ptr self) {
  auto& st = self->state;
  auto pending = st.repairs.tiers_pending();
  if (pending.empty())
    return;
  auto b = std::make_shared<repair_table::batch>(st.repairs.take(pending.front(), steady_ms()));
  // A flight under way may have read the value the repair replaces.
  for (auto& key : keys_of(*b))
    st.flights.supersede(key);
  st.repairing = true;
  send_batch(self, b, [self, b](bool ok) {
    auto& st = self->state;
    st.repairing = false;
    if (ok) {
      st.repairs.applied(*b, steady_ms());
      publish_repaired(self, *b);
      schedule(self, std::chrono::milliseconds{0});
    } else {
      st.repairs.failed(std::move(*b), steady_ms());
      schedule(self, repair_interval);
    }
  });
}

} // namespace

void note_write(coordinator_ptr self, const std::string& key, const bytes& value, caf::timespan ttl,
                const write_ack& ack) {
  auto& st = self->state;
  for_each_failed_shared(st, ack, [&](size_t i, const chain_tier& tier) {
    auto scaled = std::chrono::duration_cast<std::chrono::milliseconds>(tier.cfg.scale(ttl));
    st.repairs.failed_write(i, key, value, scaled.count() > 0 ? steady_ms() + scaled.count() : 0,
                            unix_ms());
  });
  schedule(self, repair_interval);
}

void note_removal(coordinator_ptr self, const std::vector<std::string>& keys,
                  const write_ack& ack) {
  auto& st = self->state;
  auto now = unix_ms();
  for_each_failed_shared(st, ack, [&](size_t i, const chain_tier&) {
    for (auto& key : keys)
      st.repairs.failed_removal(i, key, now);
  });
  schedule(self, repair_interval);
}

void note_pattern(coordinator_ptr self, const std::string& pattern,
                  const std::vector<size_t>& failed) {
  auto& st = self->state;
  for (auto i : failed)
    if ((*st.tiers)[i].cfg.shared)
      st.repairs.failed_pattern(i, pattern);
  schedule(self, repair_interval);
}

void note_remote(coordinator_ptr self, const std::vector<std::string>& keys, int64_t changed_ms) {
  auto& st = self->state;
  if (!st.has_shared_tier || changed_ms == 0)
    return;
  std::vector<std::string> raced;
  auto now = steady_ms();
  for (auto& key : keys)
    if (st.repairs.remote_change(key, now, changed_ms))
      raced.push_back(key);
  if (raced.empty())
    return;
  // Our repair may have landed after their change: remove the key from every tier here
  // and tell every node, so that all of them miss rather than read our older value.
  st.stats.repairs_compensated += raced.size();
  command_tiers<uint64_t>(
      self, all_tiers(st), [](write_ack) {}, delete_atom::value, raced);
  if (st.bridge) {
    invalidation change;
    change.type = invalidation::kind::remove_bulk;
    change.keys = std::move(raced);
    change.reread = true;
    self->send(st.bridge, caf::publish_atom::value, std::move(change));
  }
}

void run_repairs(coordinator_ptr self) {
  auto& st = self->state;
  st.repair_scheduled = false;
  if (st.repairing || st.repairs.pending() == 0)
    return;
  if (!st.bridge) {
    repair_now(self);
    return;
  }
  // Only once every change other nodes made is in: one of them may make a held change moot.
  st.repairing = true;
  self->request(st.bridge, st.opts.tier_timeout, insync_atom::value)
      .then(
          [=](bool in_sync) {
            self->state.repairing = false;
            if (in_sync)
              repair_now(self);
            else
              schedule(self, repair_interval);
          },
          [=](caf::error&) {
            self->state.repairing = false;
            schedule(self, repair_interval);
          });
}

} // namespace mtcache::detail
