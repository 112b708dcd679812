// Writes and removals: sets (batched when every tier takes batches), flights' fills, and the
// removals a caller asks for. Each supersedes the flights of the keys it touches first.

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

int64_t ttl_ms(caf::timespan ttl) {
  return ttl.count() > 0 ? std::chrono::ceil<std::chrono::milliseconds>(ttl).count() : -1;
}

invalidation change_of(invalidation::kind type) {
  invalidation x;
  x.type = type;
  return x;
}

caf::error reject(coordinator_ptr self, caf::error err) {
  ++self->state.stats.rejected;
  return err;
}

// Answers a write with its ack, or with an error when no tier took it.
void deliver_ack(caf::typed_response_promise<write_ack>& rp, write_ack ack) {
  if (ack.written == 0 && !ack.failed.empty()) {
    rp.deliver(make_error(errc::backend_unavailable, "no tier accepted the write",
                          ack.failed.front().reason));
    return;
  }
  rp.deliver(std::move(ack));
}

void finish_set(coordinator_ptr self, queued_write& w, write_ack ack) {
  note_write(self, w.key, w.value, w.ttl, ack);
  if (w.broadcast && ack.written > 0) {
    auto change = change_of(invalidation::kind::update);
    change.key = w.key;
    change.value = w.value;
    change.ttl_ms = ttl_ms(w.ttl);
    publish(self, std::move(change));
  }
  deliver_ack(w.rp, std::move(ack));
}

// What a tier's answer to a batch says about its write `j`.
caf::expected<ok_atom> outcome(const caf::expected<std::vector<caf::error>>& answer, size_t j) {
  if (!answer)
    return answer.error();
  if (j >= answer->size())
    return make_error(errc::backend_error, "the tier answered fewer writes than it was sent");
  if ((*answer)[j])
    return (*answer)[j];
  return ok_atom::value;
}

} // namespace

// Sends `change` to other nodes, if this node has a bridge.
void publish(coordinator_ptr self, invalidation change) {
  if (self->state.bridge)
    self->send(self->state.bridge, caf::publish_atom::value, std::move(change));
}

caf::result<write_ack> set_value(coordinator_ptr self, const std::string& key, bytes value,
                                 caf::timespan ttl, bool broadcast) {
  auto& st = self->state;
  if (auto err = check_key(st, key); err || (err = check_value(st, value)))
    return reject(self, std::move(err));
  ++st.stats.sets;
  st.flights.supersede(key);
  st.repairs.overtaken(key);
  if (st.bridge && st.has_shared_tier)
    st.written.wrote(key, steady_ms());
  auto rp = self->make_response_promise<write_ack>();
  queued_write w{key, std::move(value), ttl, broadcast, rp};
  if (!st.outbox.batches_writes()) {
    write_tiers(self, tier_order::write, all_tiers(st), key, w.value, ttl,
                [=](write_ack ack) mutable { finish_set(self, w, std::move(ack)); });
    return rp;
  }
  st.outbox.write(self, std::move(w));
  return rp;
}

void send_write_batch(coordinator_ptr self, std::shared_ptr<std::vector<queued_write>> batch,
                      batch_queue<queued_write>::completion done) {
  fan_out<std::vector<caf::error>>(
      self, tier_order::unordered, all_tiers(self->state),
      [=](const tier_actor&, size_t i) {
        auto& tier = (*self->state.tiers)[i];
        std::vector<tier_write> writes;
        writes.reserve(batch->size());
        for (auto& w : *batch)
          writes.push_back({w.key, w.value, caf::timespan{tier.cfg.scale(w.ttl)}});
        return self->request(tier.batch, tier_wait(self->state, i), put_atom::value,
                             std::move(writes));
      },
      [=](const std::vector<size_t>& targets,
          std::vector<caf::expected<std::vector<caf::error>>>& answers) {
        auto& st = self->state;
        uint64_t failures = 0;
        std::vector<caf::expected<ok_atom>> results;
        for (size_t j = 0; j < batch->size(); ++j) {
          results.clear();
          for (auto& answer : answers) {
            results.emplace_back(outcome(answer, j));
            failures += results.back() ? 0 : 1;
          }
          finish_set(self, (*batch)[j], to_ack(st, targets, results));
        }
        // Counted per write, as unbatched writes are.
        st.stats.tier_errors += failures;
        uncount_failed_batches(st, answers);
        done();
      });
}

caf::result<ok_atom> fill(coordinator_ptr self, const std::string& key, uint64_t id, uint32_t tier,
                          bytes value, caf::timespan ttl) {
  auto& st = self->state;
  if (!st.flights.current(key, id))
    return make_error(errc::superseded, "'" + key + "' changed while it was loading");
  if (tier >= st.tiers->size())
    return make_error(errc::invalid_config, "no tier " + std::to_string(tier));
  // Passed on, not requested: the write lands in the tier's mailbox in order with every
  // other write the coordinator sends there, and the tier answers the flight directly.
  return st.outbox.pass_on(self, tier_order::change, (*st.tiers)[tier].handle, put_atom::value, key,
                           std::move(value), ttl);
}

caf::result<write_ack> remove_key(coordinator_ptr self, const std::string& key, bool broadcast) {
  auto& st = self->state;
  if (auto err = check_key(st, key))
    return reject(self, std::move(err));
  ++st.stats.removes;
  st.flights.supersede(key);
  st.repairs.overtaken(key);
  auto rp = self->make_response_promise<write_ack>();
  command_tiers<uint64_t>(
      self, all_tiers(st),
      [=](write_ack ack) mutable {
        note_removal(self, {key}, ack);
        if (broadcast) {
          auto change = change_of(invalidation::kind::remove);
          change.key = key;
          publish(self, std::move(change));
        }
        deliver_ack(rp, std::move(ack));
      },
      delete_atom::value, key);
  return rp;
}

caf::result<write_ack> remove_keys(coordinator_ptr self, std::vector<std::string> keys,
                                   bool broadcast) {
  auto& st = self->state;
  for (auto& key : keys)
    if (auto err = check_key(st, key))
      return reject(self, std::move(err));
  st.stats.removes += keys.size();
  for (auto& key : keys) {
    st.flights.supersede(key);
    st.repairs.overtaken(key);
  }
  auto rp = self->make_response_promise<write_ack>();
  command_tiers<uint64_t>(
      self, all_tiers(st),
      [=](write_ack ack) mutable {
        note_removal(self, keys, ack);
        if (broadcast) {
          auto change = change_of(invalidation::kind::remove_bulk);
          change.keys = keys;
          publish(self, std::move(change));
        }
        deliver_ack(rp, std::move(ack));
      },
      delete_atom::value, keys);
  return rp;
}

caf::result<uint64_t> remove_pattern(coordinator_ptr self, const std::string& pattern,
                                     bool broadcast) {
  auto& st = self->state;
  auto compiled = check_pattern(st, pattern);
  if (!compiled)
    return reject(self, std::move(compiled.error()));
  st.flights.supersede(*compiled);
  st.repairs.overtaken_matching([&](const std::string& key) { return compiled->matches(key); });
  auto rp = self->make_response_promise<uint64_t>();
  remove_matching(self, all_tiers(st), pattern,
                  [=](caf::expected<uint64_t> removed, const std::vector<size_t>& failed) mutable {
                    note_pattern(self, pattern, failed);
                    if (!removed) {
                      rp.deliver(std::move(removed.error()));
                      return;
                    }
                    if (broadcast) {
                      auto change = change_of(invalidation::kind::remove_pattern);
                      change.pattern = pattern;
                      publish(self, std::move(change));
                    }
                    rp.deliver(*removed);
                  });
  return rp;
}

caf::result<ok_atom> drop_corrupt(coordinator_ptr self, const std::string& key) {
  auto& st = self->state;
  if (auto err = check_key(st, key))
    return reject(self, std::move(err));
  ++st.stats.decode_failed;
  st.repairs.overtaken(key);
  log(log_level::warning, "coordinator",
      "the value of '" + key + "' does not decode; dropping it from every tier");
  st.flights.supersede(key);
  auto rp = self->make_response_promise<ok_atom>();
  command_tiers<uint64_t>(
      self, all_tiers(st),
      [=](write_ack ack) mutable {
        note_removal(self, {key}, ack);
        rp.deliver(ok_atom::value);
      },
      delete_atom::value, key);
  return rp;
}

} // namespace mtcache::detail
