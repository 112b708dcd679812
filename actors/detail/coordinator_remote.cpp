// Changes from other nodes and from other Redis clients (tracking), which reach this node's
// local tiers only, and the recovery after contact was lost: the bridge sends all three.

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include <caf/make_message.hpp>
#include <caf/node_id.hpp>

#include "mtcache/actors/detail/coordinator_state.hpp"
#include "mtcache/actors/detail/fan_out.hpp"
#include "mtcache/codec/tagged_value.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

caf::timespan from_ms(int64_t ms) {
  return ms > 0 ? caf::timespan{std::chrono::milliseconds{ms}} : caf::timespan{0};
}

// Removes `keys` from the local tiers for a change made elsewhere, counting per tier what
// went; then `done()`.
template <class Done>
void drop_local(coordinator_ptr self, std::vector<std::string> keys, Done done) {
  fan_out<uint64_t>(
      self, tier_order::change, local_tiers(self->state),
      [=](const tier_actor& tier, size_t i) {
        return self->request(tier, tier_wait(self->state, i), delete_atom::value, keys);
      },
      [=](const std::vector<size_t>& targets,
          std::vector<caf::expected<uint64_t>>& results) mutable {
        count_invalidated(self->state, targets, results);
        done();
      });
}

} // namespace

void count_invalidated(coordinator_state& st, const std::vector<size_t>& targets,
                       const std::vector<caf::expected<uint64_t>>& removed) {
  for (size_t k = 0; k < targets.size() && k < removed.size(); ++k)
    if (removed[k] && targets[k] < st.stats.invalidated.size())
      st.stats.invalidated[targets[k]] += *removed[k];
}

caf::result<ok_atom> apply_remote(coordinator_ptr self, invalidation change) {
  auto& st = self->state;
  // Validate first: once a promise exists, a returned error would never reach the bridge.
  std::optional<glob> pattern;
  switch (change.type) {
  case invalidation::kind::remove:
    if (auto err = check_key(st, change.key))
      return err;
    break;
  case invalidation::kind::update:
    if (auto err = check_key(st, change.key); err || (err = check_value(st, change.value)))
      return err;
    break;
  case invalidation::kind::remove_pattern: {
    auto compiled = check_pattern(st, change.pattern);
    if (!compiled)
      return std::move(compiled.error());
    pattern = std::move(*compiled);
    break;
  }
  case invalidation::kind::remove_bulk:
    for (auto& key : change.keys)
      if (auto err = check_key(st, key))
        return err;
    break;
  case invalidation::kind::remove_tag:
    if (auto why = check_tags({change.key}); !why.empty())
      return make_error(errc::malformed_message, "invalid tag: " + why);
    apply_tag_removal(self, change);
    return ok_atom::value;
  case invalidation::kind::clear: {
    auto rp = self->make_response_promise<ok_atom>();
    apply_clear(self, rp);
    return rp;
  }
  }
  auto targets = local_tiers(st);
  auto changed_ms = change.reread ? int64_t{0} : change.ts_ms;
  auto rp = self->make_response_promise<ok_atom>();
  auto done = [=](auto&&...) mutable { rp.deliver(ok_atom::value); };
  switch (change.type) {
  case invalidation::kind::update:
    // Ours may have raced it in Redis: take it as a removal and read what Redis kept.
    if (st.written.recently(change.key, steady_ms())) {
      change.type = invalidation::kind::remove;
      change.value = bytes{};
    } else {
      st.flights.supersede(change.key);
      write_tiers(self, tier_order::change, std::move(targets), change.key, change.value,
                  from_ms(change.ttl_ms), done);
      note_remote(self, {change.key}, changed_ms);
      break;
    }
    [[fallthrough]];
  case invalidation::kind::remove:
    st.flights.supersede(change.key);
    drop_local(self, {change.key}, done);
    note_remote(self, {change.key}, changed_ms);
    break;
  case invalidation::kind::remove_pattern:
    st.flights.supersede(*pattern);
    st.repairs.remote_pattern([&](const std::string& key) { return pattern->matches(key); },
                              changed_ms);
    remove_matching(self, std::move(targets), change.pattern, done);
    break;
  case invalidation::kind::remove_bulk:
    for (auto& key : change.keys)
      st.flights.supersede(key);
    drop_local(self, change.keys, done);
    note_remote(self, change.keys, changed_ms);
    break;
  case invalidation::kind::remove_tag:
  case invalidation::kind::clear:
    break;
  }
  return rp;
}

caf::result<uint64_t> apply_tracked(coordinator_ptr self, std::vector<std::string> keys) {
  auto& st = self->state;
  keys.erase(std::remove_if(keys.begin(), keys.end(),
                            [&](const std::string& key) { return bool{check_key(st, key)}; }),
             keys.end());
  // A read of the key under way may carry the value from before the change: its fill goes
  // to the callers but not into the local tiers.
  uint64_t raced = 0;
  for (auto& key : keys) {
    if (st.flights.live(key))
      ++raced;
    st.flights.supersede(key);
  }
  st.stats.tracking_races += raced;
  if (keys.empty())
    return raced;
  note_remote(self, keys, unix_ms());
  auto rp = self->make_response_promise<uint64_t>();
  drop_local(self, std::move(keys), [=]() mutable { rp.deliver(raced); });
  return rp;
}

void set_fleet(coordinator_ptr self, const std::vector<peer_inbox_actor>& peers) {
  auto& st = self->state;
  if (!st.opts.fleet_flights || peers.empty()) {
    st.fleet = nullptr;
    return;
  }
  st.fleet = std::make_shared<const fleet_members>(fleet_members::of(self->node(), peers));
}

caf::result<uint64_t> recover(coordinator_ptr self) {
  auto& st = self->state;
  st.flights.supersede_all();
  // Tag removals may have been missed too: tags believed never removed are looked up again.
  st.tags->forget_unremoved();
  auto rp = self->make_response_promise<uint64_t>();
  fan_out<uint64_t>(
      self, tier_order::change, local_tiers(st),
      [=](const tier_actor& tier, size_t) {
        return self->request(tier, self->state.opts.tier_timeout, clear_atom::value);
      },
      [=](const std::vector<size_t>& targets,
          std::vector<caf::expected<uint64_t>>& results) mutable {
        count_invalidated(self->state, targets, results);
        uint64_t dropped = 0;
        for (auto& r : results)
          if (r)
            dropped += *r;
        rp.deliver(dropped);
      });
  return rp;
}

} // namespace mtcache::detail
