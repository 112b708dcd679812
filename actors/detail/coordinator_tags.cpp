// Tags (FusionCache's approach): a value written with tags carries them and its write time in
// a header the tiers store with it; removing a tag records when, in this node's tag clock, in
// every shared tier and, through the bridge, in every other node's clock. Nothing is deleted:
// readers compare the value's write time with its tags' removal times as they hand it out,
// so a removal costs the same whatever number of values carry the tag. Clearing, by
// contrast, empties every tier.

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <caf/make_message.hpp>

#include "mtcache/actors/detail/coordinator_state.hpp"
#include "mtcache/actors/detail/fan_out.hpp"
#include "mtcache/actors/detail/tag_filter.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

// Removal times past tag_retention go from the clock too, as their keys expire in the
// shared tiers.
void forget_old_removals(coordinator_state& st) {
  auto keep_us = std::chrono::duration_cast<std::chrono::microseconds>(st.opts.tag_retention);
  if (keep_us.count() > 0)
    st.tags->drop_removed_before(unix_us() - keep_us.count());
}

std::vector<size_t> shared_tiers(const coordinator_state& st) {
  std::vector<size_t> out;
  for (size_t i = 0; i < st.tiers->size(); ++i)
    if ((*st.tiers)[i].cfg.shared)
      out.push_back(i);
  return out;
}

} // namespace

bytes untagged(bytes value) {
  if (!has_tag_header(value.view()))
    return value;
  return encode_tagged(value.view(), {}, 0);
}

caf::result<write_ack> set_tagged(coordinator_ptr self, const std::string& key, const bytes& value,
                                  caf::timespan ttl, const std::vector<std::string>& tags) {
  if (auto why = check_tags(tags); !why.empty()) {
    ++self->state.stats.rejected;
    return make_error(errc::invalid_key, "invalid tags for '" + key + "': " + why);
  }
  // With broadcast_on_write the value goes to other nodes with its header, as the tiers keep it.
  return set_value(self, key, encode_tagged(value.view(), tags, unix_us()), ttl,
                   self->state.opts.broadcast_on_write);
}

caf::result<write_ack> remove_tag(coordinator_ptr self, const std::string& tag) {
  auto& st = self->state;
  if (auto why = check_tags({tag}); !why.empty()) {
    ++st.stats.rejected;
    return make_error(errc::invalid_key, "invalid tag: " + why);
  }
  auto at = unix_us();
  st.tags->removed(tag, at);
  ++st.stats.tag_removals;
  forget_old_removals(st);
  invalidation change;
  change.type = invalidation::kind::remove_tag;
  change.key = tag;
  change.removed_us = at;
  // Effective on this node's local tiers already: the clock is what they read against.
  auto local = static_cast<uint32_t>(local_tiers(st).size());
  auto shared = shared_tiers(st);
  if (shared.empty()) {
    publish(self, std::move(change));
    return write_ack{local, {}};
  }
  auto rp = self->make_response_promise<write_ack>();
  // Kept for tag_retention (zero: without expiry): as long as a value written before the
  // removal may live.
  write_tiers(self, tier_order::change, std::move(shared), tag_time_key(tag),
              bytes{std::to_string(at)}, caf::timespan{st.opts.tag_retention},
              [=](write_ack ack) mutable {
                ack.written += local;
                publish(self, change);
                rp.deliver(std::move(ack));
              });
  return rp;
}

caf::result<write_ack> clear_all(coordinator_ptr self) {
  auto& st = self->state;
  ++st.stats.clears;
  st.flights.supersede_all();
  st.repairs.overtaken_matching([](const std::string&) { return true; });
  auto rp = self->make_response_promise<write_ack>();
  command_tiers<uint64_t>(
      self, all_tiers(st),
      [=](write_ack ack) mutable {
        invalidation change;
        change.type = invalidation::kind::clear;
        publish(self, std::move(change));
        if (ack.written == 0 && !ack.failed.empty())
          rp.deliver(make_error(errc::backend_unavailable, "no tier could be cleared",
                                ack.failed.front().reason));
        else
          rp.deliver(std::move(ack));
      },
      clear_atom::value);
  return rp;
}

void apply_tag_removal(coordinator_ptr self, const invalidation& change) {
  auto& st = self->state;
  st.tags->removed(change.key, change.removed_us);
  ++st.stats.tag_removals;
  forget_old_removals(st);
}

void apply_clear(coordinator_ptr self, caf::typed_response_promise<ok_atom> rp) {
  auto& st = self->state;
  ++st.stats.clears;
  st.flights.supersede_all();
  fan_out<uint64_t>(
      self, tier_order::change, local_tiers(st),
      [=](const tier_actor& tier, size_t i) {
        return self->request(tier, tier_wait(self->state, i), clear_atom::value);
      },
      [=](const std::vector<size_t>& targets,
          std::vector<caf::expected<uint64_t>>& results) mutable {
        count_invalidated(self->state, targets, results);
        rp.deliver(ok_atom::value);
      });
}

void admit_batch(coordinator_ptr self, std::vector<lookup> results,
                 std::function<void(std::vector<lookup>&)> then) {
  auto& st = self->state;
  std::vector<std::string> unknown;
  for (auto& res : results) {
    std::vector<std::string> more;
    auto probe = res;
    if (admit(probe, st.tags.get(), &more) == tag_verdict::unknown)
      unknown.insert(unknown.end(), more.begin(), more.end());
  }
  auto finish = [self, results = std::move(results), then = std::move(then)](bool ok) mutable {
    auto& st = self->state;
    for (auto& res : results) {
      auto tagged = res.found && has_tag_header(res.value.view());
      // Unanswered, a value with tags counts as hidden, as in a flight.
      if (admit(res, st.tags.get()) == tag_verdict::hidden || (tagged && !ok)) {
        ++st.stats.tags_hidden;
        res = lookup{};
      }
    }
    then(results);
  };
  auto source = tag_source(*st.tiers);
  std::sort(unknown.begin(), unknown.end());
  unknown.erase(std::unique(unknown.begin(), unknown.end()), unknown.end());
  if (unknown.empty() || source >= st.tiers->size())
    finish(true);
  else
    resolve_tags(self, (*st.tiers)[source].handle, tier_wait(st, source), st.tags,
                 std::move(unknown), std::move(finish));
}

} // namespace mtcache::detail
