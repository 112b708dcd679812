// Redis-assisted invalidation (invalidation_config::tracking): every Redis tier's connection
// tracks its keys in broadcast mode with the invalidations redirected to this node's
// subscriber, so a change any other client makes to a tracked key removes it from the local
// tiers. Changes this node makes are left out (NOLOOP): it applies them itself, in order.
//
// Redis keeps no record of what it could not report. Whenever a tracked connection or the
// subscriber loses Redis, changes of that time are unknown, so once tracking is on again on
// every connection the node runs its recovery policy for the local tiers (it drops them
// unless the policy is none): the audit stream cannot help, it only holds mtcache's own
// changes. The same goes for the start, and for a flush of the database.

#include <algorithm>
#include <set>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>

#include "mtcache/actors/detail/invalidation_bridge_state.hpp"
#include "mtcache/actors/detail/log.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

void lose_tracking(bridge_ptr self) {
  auto& st = self->state;
  if (st.stats.tracking)
    ++st.stats.tracking_broken;
  st.stats.tracking = false;
  st.tracking_lost = true;
}

// Tracking runs on every tracked connection again: what it did not report is unknown.
void check_complete(bridge_ptr self) {
  auto& st = self->state;
  if (st.tracking_client == 0 ||
      !std::all_of(st.tracking_on.begin(), st.tracking_on.end(), [](bool on) { return on; }))
    return;
  st.stats.tracking = true;
  st.stats.tracking_error.clear();
  if (!st.tracking_lost)
    return;
  st.tracking_lost = false;
  flush_local(self, "Redis tracking is on (changes before may have gone unreported)",
              &bridge_stats::flushes_tracking);
}

} // namespace

void tracking_redirect(bridge_ptr self, uint64_t client_id) {
  auto& st = self->state;
  st.tracking_client = client_id;
  std::fill(st.tracking_on.begin(), st.tracking_on.end(), false);
  auto listener = caf::actor_cast<caf::actor>(self);
  for (auto& tier : st.p.tracked)
    self->request(tier.handle, bridge_call_timeout, track_atom::value, client_id, tier.prefixes,
                  listener)
        .then([](ok_atom) {},
              [=](caf::error& err) {
                auto text = self->system().render(err);
                // A tier that lost Redis turns tracking on by itself once it is back; only
                // a refusal by Redis (a user without the CLIENT command) is an error.
                if (!is(err, errc::backend_error)) {
                  log(log_level::info, "invalidation_bridge",
                      "Redis tracking waits for its connection: " + text);
                  return;
                }
                log(log_level::error, "invalidation_bridge",
                    "cannot turn on Redis tracking: " + text);
                ++self->state.stats.tracking_errors;
                self->state.stats.tracking_error = std::move(text);
              });
}

void tracking_changed(bridge_ptr self, uint32_t level, uint64_t redirect, bool on) {
  auto& st = self->state;
  for (size_t i = 0; i < st.p.tracked.size(); ++i) {
    if (st.p.tracked[i].level != level)
      continue;
    if (!on) {
      if (st.tracking_on[i])
        lose_tracking(self);
      st.tracking_on[i] = false;
    } else if (redirect == st.tracking_client) {
      st.tracking_on[i] = true;
      check_complete(self);
    }
  }
}

void tracking_subscription_lost(bridge_ptr self) {
  auto& st = self->state;
  lose_tracking(self);
  st.tracking_client = 0;
  std::fill(st.tracking_on.begin(), st.tracking_on.end(), false);
}

void tracking_refused(bridge_ptr self, const caf::error& err) {
  auto& st = self->state;
  ++st.stats.tracking_errors;
  st.stats.tracking_error = self->system().render(err) +
                            " (tracking needs the ACL channel permission &" + tracking_channel +
                            ")";
  log(log_level::error, "invalidation_bridge", "Redis tracking is off: " + st.stats.tracking_error);
}

void tracking_invalidated(bridge_ptr self, const std::vector<std::string>& names, bool flushed) {
  auto& st = self->state;
  if (flushed) {
    ++st.stats.tracking_db_flushes;
    flush_local(self, "the Redis database was flushed", &bridge_stats::flushes_tracking);
    return;
  }
  st.stats.tracking_invalidations += names.size();
  // Stored names back to keys; a name under no tier's key_prefix is not a cached key.
  std::set<std::string> keys;
  for (auto& name : names) {
    if (name == st.stream)
      continue;
    for (auto& tier : st.p.tracked)
      if (name.compare(0, tier.key_prefix.size(), tier.key_prefix) == 0)
        keys.insert(name.substr(tier.key_prefix.size()));
  }
  if (keys.empty())
    return;
  auto coordinator = coordinator_of(self);
  if (!coordinator)
    return;
  self->request(coordinator, bridge_call_timeout, track_atom::value,
                std::vector<std::string>(keys.begin(), keys.end()))
      .then([](uint64_t) {}, [=](caf::error&) { ++self->state.stats.processing_errors; });
}

} // namespace mtcache::detail
