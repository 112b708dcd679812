#include <chrono>
#include <memory>
#include <optional>

#include "mtcache/actors/detail/coordinator_state.hpp"
#include "mtcache/actors/detail/log.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

int64_t ttl_ms(caf::timespan ttl) {
  return ttl.count() > 0 ? std::chrono::ceil<std::chrono::milliseconds>(ttl).count() : -1;
}

caf::timespan from_ms(int64_t ms) {
  return ms > 0 ? caf::timespan{std::chrono::milliseconds{ms}} : caf::timespan{0};
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

void finish_set(coordinator_ptr self, queued_write& w, write_ack ack) {
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

caf::result<write_ack> set_value(coordinator_ptr self, const std::string& key, bytes value,
                                 caf::timespan ttl, bool broadcast) {
  auto& st = self->state;
  if (auto err = check_key(st, key); err || (err = check_value(st, value)))
    return reject(self, std::move(err));
  ++st.stats.sets;
  supersede(st, key);
  auto rp = self->make_response_promise<write_ack>();
  queued_write w{key, std::move(value), ttl, broadcast, rp};
  flush_reads(self);
  if (!st.batch_writes) {
    write_tiers(self, all_tiers(st), key, w.value, ttl,
                [=](write_ack ack) mutable { finish_set(self, w, std::move(ack)); });
    return rp;
  }
  st.queued_writes.emplace_back(std::move(w));
  flush_later(self, st.queued_writes.size(), st.write_batches_out);
  return rp;
}

void flush_writes(coordinator_ptr self) {
  auto& st = self->state;
  if (st.queued_writes.empty())
    return;
  auto batch = take_queued(st.queued_writes);
  ++st.write_batches_out;
  fan_out<std::vector<caf::error>>(
      self, all_tiers(st),
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
        --st.write_batches_out;
        flush_writes(self);
      });
}

void fail_queued(coordinator_ptr self, const caf::error& reason) {
  auto& st = self->state;
  // Named: a range-for over `*take_queued(...)` would outlive the shared_ptr it derefs.
  auto writes = take_queued(st.queued_writes);
  auto reads = take_queued(st.queued_reads);
  for (auto& w : *writes)
    w.rp.deliver(reason);
  for (auto& r : *reads)
    r.rp.deliver(reason);
}

caf::result<write_ack> remove_key(coordinator_ptr self, const std::string& key, bool broadcast) {
  flush_queued(self);
  auto& st = self->state;
  if (auto err = check_key(st, key))
    return reject(self, std::move(err));
  ++st.stats.removes;
  supersede(st, key);
  auto rp = self->make_response_promise<write_ack>();
  command_tiers<uint64_t>(
      self, all_tiers(st),
      [=](write_ack ack) mutable {
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
  flush_queued(self);
  auto& st = self->state;
  for (auto& key : keys)
    if (auto err = check_key(st, key))
      return reject(self, std::move(err));
  st.stats.removes += keys.size();
  for (auto& key : keys)
    supersede(st, key);
  auto rp = self->make_response_promise<write_ack>();
  command_tiers<uint64_t>(
      self, all_tiers(st),
      [=](write_ack ack) mutable {
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
  flush_queued(self);
  auto& st = self->state;
  auto compiled = check_pattern(st, pattern);
  if (!compiled)
    return reject(self, std::move(compiled.error()));
  supersede(st, *compiled);
  auto rp = self->make_response_promise<uint64_t>();
  remove_matching(self, all_tiers(st), pattern, [=](caf::expected<uint64_t> removed) mutable {
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
  flush_queued(self);
  auto& st = self->state;
  if (auto err = check_key(st, key))
    return reject(self, std::move(err));
  ++st.stats.decode_failed;
  log(log_level::warning, "coordinator",
      "the value of '" + key + "' does not decode; dropping it from every tier");
  supersede(st, key);
  auto rp = self->make_response_promise<ok_atom>();
  command_tiers<uint64_t>(
      self, all_tiers(st), [=](write_ack) mutable { rp.deliver(ok_atom::value); },
      delete_atom::value, key);
  return rp;
}

caf::result<ok_atom> apply_remote(coordinator_ptr self, invalidation change) {
  flush_queued(self);
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
  }
  auto targets = local_tiers(st);
  auto rp = self->make_response_promise<ok_atom>();
  auto done = [=](auto&&) mutable { rp.deliver(ok_atom::value); };
  switch (change.type) {
  case invalidation::kind::remove:
    supersede(st, change.key);
    command_tiers<uint64_t>(self, std::move(targets), done, delete_atom::value, change.key);
    break;
  case invalidation::kind::update:
    supersede(st, change.key);
    write_tiers(self, std::move(targets), change.key, change.value, from_ms(change.ttl_ms), done);
    break;
  case invalidation::kind::remove_pattern:
    supersede(st, *pattern);
    remove_matching(self, std::move(targets), change.pattern, done);
    break;
  case invalidation::kind::remove_bulk:
    for (auto& key : change.keys)
      supersede(st, key);
    command_tiers<uint64_t>(self, std::move(targets), done, delete_atom::value, change.keys);
    break;
  }
  return rp;
}

caf::result<uint64_t> recover(coordinator_ptr self) {
  flush_queued(self);
  auto& st = self->state;
  supersede_all(st);
  auto rp = self->make_response_promise<uint64_t>();
  fan_out<uint64_t>(
      self, local_tiers(st),
      [=](const tier_actor& tier, size_t) {
        return self->request(tier, self->state.opts.tier_timeout, clear_atom::value);
      },
      [=](const std::vector<size_t>&, std::vector<caf::expected<uint64_t>>& results) mutable {
        uint64_t dropped = 0;
        for (auto& r : results)
          if (r)
            dropped += *r;
        rp.deliver(dropped);
      });
  return rp;
}

} // namespace mtcache::detail
