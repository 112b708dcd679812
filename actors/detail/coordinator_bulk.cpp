// Reads of many keys (Caffeine's getAll): one pass over the tiers for all of them. Keys whose
// flight runs join it, as a single get would; the rest are read from the first tier in one
// batch. Each key that misses there gets a flight of its own (or joins the one started
// meanwhile), which waits while the pass reads the tiers below, one batch per tier, for the
// keys still missing, and then loads what no tier has with one call of the bulk loader. The
// pass hands each flight its outcome (found in tier i, nothing, or the loader's entry) and
// waits for it as any waiter does: the flight promotes or fills through the coordinator, so
// a key that changed meanwhile is not overwritten, and a single-key request for the key
// joins that flight instead of loading it again. The pass answers once every key has.
// With eager refresh, first-tier hits past the call's share of their TTL are answered at once
// and refreshed together: one more bulk call, each key through a refresh flight that nobody
// waits for (flight_table.hpp), as a single-key refresh runs.

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "mtcache/actors/detail/coordinator_state.hpp"
#include "mtcache/actors/detail/fan_out.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

struct bulk_pass {
  uint64_t id = 0;
  caf::typed_response_promise<bulk_lookup> rp;
  bulk_lookup out;
  /// The distinct valid keys asked, and where each stands in the request.
  std::vector<std::string> keys;
  std::vector<std::vector<size_t>> positions;
  /// Distinct keys not answered yet.
  size_t left = 0;
  /// With a bulk loader: get_or_compute_many.
  bool computes = false;
  compute_options opts;
  bulk_loader_actor loader;
  /// Keys (indices into `keys`) this pass reads below the first tier, and their flights.
  std::vector<size_t> members;
  std::vector<flight_actor> flights;
};

namespace {

using self_ptr = coordinator_ptr;
using pass_ptr = std::shared_ptr<bulk_pass>;

caf::timespan load_limit(const coordinator_state& st, const compute_options& opts) {
  return opts.timeout.count() > 0 ? opts.timeout : caf::timespan{st.opts.load_timeout};
}

// How long the pass waits for a flight's answer: its reads, its load and its fills.
caf::timespan flight_limit(const coordinator_state& st, const bulk_pass& pass) {
  auto reads = st.opts.tier_timeout * (2 * st.tiers->size() + 2);
  return load_limit(st, pass.opts) + reads;
}

caf::duration flight_wait(const coordinator_state& st, const bulk_pass& pass) {
  return caf::duration{flight_limit(st, pass)};
}

// Key `j` of the pass has its answer: every position that asked for it gets it.
void settle(self_ptr self, const pass_ptr& pass, size_t j, caf::expected<lookup> x) {
  if (!pass->rp.pending())
    return;
  // A flight of someone else's may load with a longer timeout than this pass waits for.
  if (!x && x.error() == caf::sec::request_timeout) {
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(flight_limit(self->state, *pass));
    x = make_error(errc::timeout, "'" + pass->keys[j] + "' had no answer within " +
                                      std::to_string(ms.count()) + " ms");
  }
  for (auto pos : pass->positions[j]) {
    if (x)
      pass->out.results[pos] = *x;
    else
      pass->out.errors[pos] = x.error();
  }
  if (--pass->left > 0)
    return;
  pass->rp.deliver(std::move(pass->out));
  self->state.passes.erase(pass->id);
}

// Waits for a flight's answer to what `request` asked it.
template <class Request>
void settle_on(self_ptr self, const pass_ptr& pass, size_t j, Request request) {
  request.then([=](lookup& res) { settle(self, pass, j, std::move(res)); },
               [=](caf::error& err) { settle(self, pass, j, std::move(err)); });
}

// Joins a flight of someone else's as a waiter, as a single get or get_or_compute would.
void join(self_ptr self, const pass_ptr& pass, size_t j, const flight_actor& flight) {
  auto wait = flight_wait(self->state, *pass);
  if (pass->computes)
    settle_on(self, pass, j,
              self->request(flight, wait, join_atom::value, pass->opts,
                            loader_ref{{}, {}, pass->loader}));
  else
    settle_on(self, pass, j, self->request(flight, wait, join_atom::value));
}

// Reads `keys` from tier `i` in one batch (one read per key from a tier that takes no
// batches) and calls `then(results, failed)`, one entry per key either way.
template <class Then>
void read_tier(self_ptr self, size_t i, std::vector<std::string> keys, Then then) {
  auto n = keys.size();
  auto& tier = (*self->state.tiers)[i];
  if (tier.batch) {
    fan_out<read_batch>(
        self, tier_order::read, {i},
        [=](const tier_actor&, size_t i) {
          return self->request((*self->state.tiers)[i].batch, tier_wait(self->state, i),
                               get_atom::value, keys);
        },
        [=](const std::vector<size_t>&, std::vector<caf::expected<read_batch>>& answers) mutable {
          auto failed = failed_reads(answers[0], n);
          // Each key of a failed batch counts as a tier error, as its own read would.
          uncount_failed_batches(self->state, answers);
          for (bool f : failed)
            self->state.stats.tier_errors += f ? 1 : 0;
          auto results = answers[0] ? std::move(answers[0]->results) : std::vector<lookup>{};
          results.resize(n);
          then(results, failed);
        });
    return;
  }
  self->state.outbox.send_ahead_of(tier_order::read);
  struct gathered {
    std::vector<lookup> results;
    std::vector<bool> failed;
    size_t left;
  };
  auto g = std::make_shared<gathered>(gathered{std::vector<lookup>(n), std::vector<bool>(n), n});
  for (size_t k = 0; k < n; ++k) {
    auto done = [=](caf::expected<lookup> x) mutable {
      if (x) {
        g->results[k] = std::move(*x);
      } else {
        ++self->state.stats.tier_errors;
        g->failed[k] = true;
      }
      if (--g->left == 0)
        then(g->results, g->failed);
    };
    self->request(tier.handle, self->state.opts.tier_timeout, get_atom::value, keys[k])
        .then([=](lookup& x) mutable { done(std::move(x)); },
              [=](caf::error& err) mutable { done(std::move(err)); });
  }
}

std::vector<std::string> member_keys(const bulk_pass& pass) {
  std::vector<std::string> out;
  out.reserve(pass.members.size());
  for (auto j : pass.members)
    out.push_back(pass.keys[j]);
  return out;
}

// One call of `loader` for `keys`, counted as one load. Flight k of `flights` gets the entry
// for key k (or the call's failure), and `answered(k, x)` what that flight answered.
template <class Answered>
void bulk_load(self_ptr self, std::vector<std::string> keys, std::vector<flight_actor> flights,
               const bulk_loader_actor& loader, caf::timespan limit, caf::duration wait,
               Answered answered) {
  auto n = keys.size();
  auto started = self->clock().now();
  auto hand_out = [=](std::vector<bulk_entry> entries) {
    for (size_t k = 0; k < n; ++k)
      self->request(flights[k], wait, load_atom::value, std::move(entries[k]))
          .then([=](lookup& res) { answered(k, caf::expected<lookup>{std::move(res)}); },
                [=](caf::error& err) { answered(k, caf::expected<lookup>{std::move(err)}); });
  };
  auto count = [=](bool timed_out, bool failed) {
    flight_report one;
    one.loads = 1;
    one.load_timeouts = timed_out ? 1 : 0;
    one.load_errors = failed && !timed_out ? 1 : 0;
    one.load_duration = self->clock().now() - started;
    merge(self->state.stats, one);
  };
  auto fail_all = [=](const caf::error& err) {
    hand_out(std::vector<bulk_entry>(n, bulk_entry::failure(err)));
  };
  self->request(loader, caf::duration{limit}, load_atom::value, std::move(keys))
      .then(
          [=](std::vector<bulk_entry>& entries) {
            count(false, entries.size() != n);
            if (entries.size() == n) {
              hand_out(std::move(entries));
              return;
            }
            fail_all(make_error(errc::loader_failed,
                                "the bulk loader answered " + std::to_string(entries.size()) +
                                    " entries for " + std::to_string(n) + " keys"));
          },
          [=](caf::error& err) {
            // Each flight words a timeout as errc::timeout, as for a load of its own.
            count(err == caf::sec::request_timeout, true);
            fail_all(err);
          });
}

// Loads every key no tier has with one call; each flight's answer is its key's.
void load_members(self_ptr self, const pass_ptr& pass) {
  auto& st = self->state;
  auto members = pass->members;
  bulk_load(self, member_keys(*pass), pass->flights, pass->loader, load_limit(st, pass->opts),
            flight_wait(st, *pass), [=](size_t k, caf::expected<lookup> x) {
              settle(self, pass, members[k], std::move(x));
            });
}

// As read_tier for the first tier, whose values come back as it keeps them: checked for
// their tags first (see `admit_batch`). The tiers below hand theirs to the keys' flights,
// which check them.
template <class Then>
void read_first_tier(self_ptr self, std::vector<std::string> keys, Then then) {
  read_tier(self, 0, std::move(keys),
            [=](std::vector<lookup>& results, const std::vector<bool>& failed) mutable {
              admit_batch(self, std::move(results),
                          [=](std::vector<lookup>& checked) mutable { then(checked, failed); });
            });
}

// Eager refresh of the keys a pass found in the first tier past the call's share of their
// TTL, with one call of the bulk loader for all of them: a refresh flight per key that has no
// flight running, which loads nothing itself but takes the entry. Nobody waits for them.
void refresh_due(self_ptr self, const pass_ptr& pass, const std::vector<std::string>& due) {
  auto& st = self->state;
  flight_params refresh;
  refresh.refresh = true;
  refresh.bulk = true;
  refresh.options = pass->opts;
  refresh.loader.bulk = pass->loader;
  std::vector<std::string> keys;
  std::vector<flight_actor> flights;
  for (auto& key : due) {
    if (st.flights.running(key))
      continue;
    ++st.stats.eager_refreshes;
    keys.push_back(key);
    flights.push_back(flight_for(self, key, 0, &refresh));
  }
  if (!keys.empty())
    bulk_load(self, std::move(keys), std::move(flights), pass->loader, load_limit(st, pass->opts),
              flight_wait(st, *pass), [](size_t, const caf::expected<lookup>&) {
                // nop: a failed refresh leaves the value, and the flight counts it
              });
}

// Reads the keys no tier above had from tier `i`, then the tier below; past the last, loads
// them (get_or_compute_many) or tells their flights that no tier has them.
void walk_members(self_ptr self, const pass_ptr& pass, size_t i) {
  if (pass->members.empty())
    return;
  auto& st = self->state;
  if (i >= st.tiers->size()) {
    if (pass->computes) {
      load_members(self, pass);
      return;
    }
    auto wait = flight_wait(st, *pass);
    for (size_t k = 0; k < pass->members.size(); ++k)
      settle_on(self, pass, pass->members[k],
                self->request(pass->flights[k], wait, miss_atom::value));
    return;
  }
  read_tier(self, i, member_keys(*pass),
            [=](std::vector<lookup>& results, const std::vector<bool>& failed) {
              auto& st = self->state;
              auto level = (*st.tiers)[i].cfg.level;
              auto wait = flight_wait(st, *pass);
              std::vector<size_t> members;
              std::vector<flight_actor> flights;
              for (size_t k = 0; k < pass->members.size(); ++k) {
                if (failed[k] || !results[k].found) {
                  members.push_back(pass->members[k]);
                  flights.push_back(pass->flights[k]);
                  continue;
                }
                results[k].level = level;
                settle_on(self, pass, pass->members[k],
                          self->request(pass->flights[k], wait, fill_atom::value,
                                        static_cast<uint32_t>(i), std::move(results[k])));
              }
              pass->members = std::move(members);
              pass->flights = std::move(flights);
              walk_members(self, pass, i + 1);
            });
}

// Key `j` missed the first tier: it joins a flight of the key that runs (started since the
// pass looked), or gets one that waits for the pass. A plain get with no tier below misses.
void after_first_tier(self_ptr self, const pass_ptr& pass, size_t j) {
  auto& st = self->state;
  auto& key = pass->keys[j];
  if (!pass->computes && st.tiers->size() == 1 && !st.flights.running(key)) {
    ++st.stats.misses;
    settle(self, pass, j, lookup{});
    return;
  }
  bool running = st.flights.running(key);
  flight_params member;
  member.bulk = true;
  if (pass->computes) {
    member.options = pass->opts;
    member.loader.bulk = pass->loader;
  }
  auto flight = flight_for(self, key, 1, &member);
  if (running) {
    join(self, pass, j, flight);
    return;
  }
  pass->members.push_back(j);
  pass->flights.push_back(std::move(flight));
}

caf::result<bulk_lookup> start_pass(self_ptr self, const std::vector<std::string>& keys,
                                    pass_ptr pass) {
  auto& st = self->state;
  pass->out.results.resize(keys.size());
  pass->out.errors.resize(keys.size());
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (auto err = check_key(st, keys[i])) {
      ++st.stats.rejected;
      pass->out.errors[i] = std::move(err);
      continue;
    }
    auto [at, added] = index.emplace(keys[i], pass->keys.size());
    if (added) {
      pass->keys.push_back(keys[i]);
      pass->positions.emplace_back();
    }
    pass->positions[at->second].push_back(i);
  }
  st.stats.requests += pass->keys.size();
  pass->left = pass->keys.size();
  if (pass->left == 0)
    return std::move(pass->out);
  pass->rp = self->make_response_promise<bulk_lookup>();
  pass->id = ++st.last_pass;
  st.passes.emplace(pass->id, pass);
  auto rp = pass->rp;
  // A key with a flight is not in the first tier yet: it joins the flight directly.
  std::vector<size_t> unread;
  std::vector<std::string> unread_keys;
  for (size_t j = 0; j < pass->keys.size(); ++j) {
    if (auto flight = st.flights.join(pass->keys[j])) {
      join(self, pass, j, *flight);
    } else {
      unread.push_back(j);
      unread_keys.push_back(pass->keys[j]);
    }
  }
  if (unread.empty())
    return rp;
  read_first_tier(self, std::move(unread_keys),
                  [=](std::vector<lookup>& results, const std::vector<bool>& failed) {
                    std::vector<std::string> due;
                    for (size_t k = 0; k < unread.size(); ++k) {
                      if (!failed[k] && results[k].found) {
                        auto& key = pass->keys[unread[k]];
                        if (pass->opts.eager_refresh > 0 &&
                            due_for_refresh(self->state, key, results[k], pass->opts))
                          due.push_back(key);
                        ++self->state.stats.tier_hits[0];
                        settle(self, pass, unread[k], std::move(results[k]));
                      } else {
                        after_first_tier(self, pass, unread[k]);
                      }
                    }
                    walk_members(self, pass, 1);
                    if (!due.empty())
                      refresh_due(self, pass, due);
                  });
  return rp;
}

} // namespace

caf::result<bulk_lookup> get_many(self_ptr self, const std::vector<std::string>& keys) {
  return start_pass(self, keys, std::make_shared<bulk_pass>());
}

caf::result<bulk_lookup> get_or_compute_many(self_ptr self, const std::vector<std::string>& keys,
                                             compute_options opts, bulk_loader_actor loader) {
  if (!(opts.eager_refresh >= 0 && opts.eager_refresh < 1)) {
    ++self->state.stats.rejected;
    return make_error(errc::invalid_config, "eager_refresh must be at least 0 and below 1, not " +
                                                std::to_string(opts.eager_refresh));
  }
  auto pass = std::make_shared<bulk_pass>();
  pass->computes = true;
  pass->opts = std::move(opts);
  pass->loader = std::move(loader);
  return start_pass(self, keys, std::move(pass));
}

void fail_bulk_passes(coordinator_state& st, const caf::error& reason) {
  for (auto& [id, pass] : st.passes)
    if (pass->rp.pending())
      pass->rp.deliver(reason);
  st.passes.clear();
}

} // namespace mtcache::detail
