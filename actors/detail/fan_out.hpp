#pragma once

// How the coordinator asks several tiers at once: one request per tier, each answer recorded
// as it comes, the caller's `done` called once every tier answered or the round's deadline
// passed. Every such round leaves through the outbox first (its tier_order), so nothing the
// coordinator queued earlier can arrive at a tier after it.

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "mtcache/actors/detail/coordinator_state.hpp"
#include "mtcache/actors/detail/log.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

/// Which of `targets` took a command and which failed, and why.
template <class T>
write_ack to_ack(const coordinator_state& st, const std::vector<size_t>& targets,
                 const std::vector<caf::expected<T>>& results) {
  write_ack ack;
  for (size_t k = 0; k < targets.size(); ++k) {
    if (results[k])
      ++ack.written;
    else
      ack.failed.push_back({(*st.tiers)[targets[k]].cfg.level, results[k].error()});
  }
  return ack;
}

/// fan_out counts a failed answer once; a batch counts each of its requests instead.
template <class Reply>
void uncount_failed_batches(coordinator_state& st,
                            const std::vector<caf::expected<Reply>>& answers) {
  for (auto& answer : answers)
    if (!answer)
      --st.stats.tier_errors;
}

/// One fan-out: what each target tier answered so far.
template <class Reply, class Done>
struct fan_out_round {
  std::vector<size_t> targets;
  std::vector<caf::expected<Reply>> results;
  std::vector<bool> answered;
  size_t outstanding;
  Done done;
};

/// Records the answer of target `k`; a late one, after the sweep failed the round, is dropped.
template <class Reply, class Done>
void settle(coordinator_ptr self, fan_out_round<Reply, Done>& r, size_t k, caf::expected<Reply> x) {
  if (r.outstanding == 0 || r.answered[k])
    return;
  if (!x)
    ++self->state.stats.tier_errors;
  r.answered[k] = true;
  r.results[k] = std::move(x);
  if (--r.outstanding == 0)
    r.done(r.targets, r.results);
}

/// Sends what `order` must not pass, then one request per target tier, made by
/// `send(tier, index)`, and calls `done(targets, results)` once every tier answered or timed
/// out.
template <class Reply, class Send, class Done>
void fan_out(coordinator_ptr self, tier_order order, std::vector<size_t> targets, Send send,
             Done done) {
  using round = fan_out_round<Reply, Done>;
  self->state.outbox.send_ahead_of(order);
  auto n = targets.size();
  auto r = std::make_shared<round>(round{std::move(targets),
                                         std::vector<caf::expected<Reply>>(n, caf::error{}),
                                         std::vector<bool>(n, false), n, std::move(done)});
  if (n == 0) {
    r->done(r->targets, r->results);
    return;
  }
  bool swept = false;
  for (size_t k = 0; k < n; ++k) {
    auto& tier = (*self->state.tiers)[r->targets[k]];
    swept = swept || tier.answers_in_time;
    send(tier.handle, r->targets[k])
        .then([=](Reply& x) { settle<Reply, Done>(self, *r, k, std::move(x)); },
              [=](caf::error& err) { settle<Reply, Done>(self, *r, k, std::move(err)); });
  }
  if (!swept)
    return;
  // Weak: the round lives as long as a tier may still answer, not until its deadline.
  std::weak_ptr<round> alive = r;
  self->state.sweep.watch(self, alive, [self, alive] {
    if (auto r = alive.lock())
      for (size_t k = 0; k < r->answered.size(); ++k)
        settle<Reply, Done>(self, *r, k, tier_timeout_error(self->state));
  });
}

/// Sends the same command (a change) to every target tier; `done` gets the write_ack.
template <class Reply, class Done, class... Ts>
void command_tiers(coordinator_ptr self, std::vector<size_t> targets, Done done, Ts... xs) {
  fan_out<Reply>(
      self, tier_order::change, std::move(targets),
      [=](const tier_actor& tier, size_t i) {
        return self->request(tier, tier_wait(self->state, i), xs...);
      },
      [=](const std::vector<size_t>& targets, std::vector<caf::expected<Reply>>& results) mutable {
        done(to_ack(self->state, targets, results));
      });
}

/// Writes `value` into `targets`, each with `base` scaled by its ttl_scale.
template <class Done>
void write_tiers(coordinator_ptr self, tier_order order, std::vector<size_t> targets,
                 const std::string& key, const bytes& value, caf::timespan base, Done done) {
  fan_out<ok_atom>(
      self, order, std::move(targets),
      [=](const tier_actor& tier, size_t i) {
        auto ttl = (*self->state.tiers)[i].cfg.scale(base);
        return self->request(tier, tier_wait(self->state, i), put_atom::value, key, value,
                             caf::timespan{ttl});
      },
      [=](const std::vector<size_t>& targets,
          std::vector<caf::expected<ok_atom>>& results) mutable {
        done(to_ack(self->state, targets, results));
      });
}

/// Removes every key `pattern` matches from `targets` (a change); `done` gets the total or, when
/// no tier removed anything, the first error, and the targets that failed. A tier that
/// answers `errc::not_supported` (memcached cannot match keys) is skipped, not failed: it is
/// logged and counted in tier_errors, never held for repair, and the removal succeeds if
/// another tier did it.
template <class Done>
void remove_matching(coordinator_ptr self, std::vector<size_t> targets, const std::string& pattern,
                     Done done) {
  fan_out<uint64_t>(
      self, tier_order::change, std::move(targets),
      [=](const tier_actor& tier, size_t) {
        return self->request(tier, self->state.opts.tier_timeout, delete_atom::value,
                             match_atom::value, pattern);
      },
      [=](const std::vector<size_t>& targets,
          std::vector<caf::expected<uint64_t>>& results) mutable {
        uint64_t removed = 0;
        caf::error first_error;
        caf::error unsupported;
        std::vector<size_t> failed;
        size_t skipped = 0;
        for (size_t k = 0; k < results.size(); ++k) {
          if (results[k]) {
            removed += *results[k];
          } else if (is(results[k].error(), errc::not_supported)) {
            log(log_level::warning, "coordinator",
                "pattern removal skipped tier level " +
                    std::to_string((*self->state.tiers)[targets[k]].cfg.level) + ": " +
                    self->system().render(results[k].error()));
            if (++skipped == 1)
              unsupported = results[k].error();
          } else if (failed.emplace_back(targets[k]), failed.size() == 1) {
            first_error = results[k].error();
          }
        }
        if (!results.empty() && failed.size() + skipped == results.size())
          done(caf::expected<uint64_t>{failed.empty() ? std::move(unsupported)
                                                      : std::move(first_error)},
               failed);
        else
          done(caf::expected<uint64_t>{removed}, failed);
      });
}

} // namespace mtcache::detail
