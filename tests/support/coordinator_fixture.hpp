#pragma once

// A coordinator on the deterministic test scheduler, between a memory tier and a recording
// tier (support/recording_tier.hpp): messages sent before `sched.run()` sit in its mailbox
// together, as under load, and the recording tier can hold its answers.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>

#include "mtcache/actors/detail/coordinator.hpp"
#include "mtcache/actors/memory_tier.hpp"
#include "mtcache/runtime/message_types.hpp"
#include "support/recording_tier.hpp"

namespace mtcache::testing {

class coordinator_fixture : public ::testing::Test {
protected:
  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    add_message_types(cfg);
    cfg.set("scheduler.policy", caf::atom("testing"));
    return cfg;
  }

  void SetUp() override { start(false); }

  // A memory L1 and the recording tier as L2, or (`recording_first`) the recording tier as
  // an L1 that wants read batches, as a Redis first tier does, and a memory L2 (written one
  // set at a time, as a tier of one's own, unless `l2_batches`) placed as `l2_placement`.
  void start(bool recording_first, bool l2_batches = true,
             tier_config l2_placement = tier_config::as_l2()) {
    auto memory = spawn_memory_tier(sys, memory_tier_config{}, recording_first ? 2 : 1);
    recording = sys.spawn(recording_tier, log);
    l1 = recording_first ? recording : memory;
    l2 = recording_first ? memory : recording;
    detail::tier_chain chain;
    chain.push_back({l1, tier_config::as_l1(), true, l1, recording_first, nullptr});
    chain.push_back({l2, l2_placement, true, l2_batches ? l2 : batch_tier_actor{}, false, nullptr});
    if (cache)
      caf::anon_send_exit(cache, caf::exit_reason::user_shutdown);
    cache = detail::spawn_coordinator(
        sys, std::move(chain), cache_options{},
        {caf::actor_cast<caf::actor>(l1), caf::actor_cast<caf::actor>(l2)});
    sched.run();
  }

  void TearDown() override {
    caf::anon_send_exit(cache, caf::exit_reason::user_shutdown);
    sched.run();
  }

  // Answers (or fails) the oldest batch the recording tier holds.
  void release(bool fail = false) {
    caf::anon_send(recording, delete_atom::value, match_atom::value,
                   std::string{fail ? "held:fail" : "held:answer"});
    sched.run();
  }

  void send_set(const std::string& key, const std::string& value) {
    self->send(cache, put_atom::value, key, bytes{value}, strategy::long_term());
  }

  // Runs everything sent so far; takes `n` answers of type R in the order they came.
  template <class R>
  std::vector<caf::expected<R>> answers(size_t n) {
    sched.run();
    std::vector<caf::expected<R>> out;
    for (size_t i = 0; i < n; ++i)
      self->receive([&](R& x) { out.emplace_back(std::move(x)); },
                    [&](caf::error& err) { out.emplace_back(std::move(err)); },
                    caf::after(std::chrono::seconds{0}) >> [&] { ADD_FAILURE() << "no answer"; });
    return out;
  }

  lookup get(const std::string& key) {
    self->send(cache, get_atom::value, key);
    auto res = answers<lookup>(1);
    return res.at(0) ? *res[0] : lookup{};
  }

  cache_stats stats() {
    self->send(cache, stats_atom::value);
    return *answers<cache_stats>(1).at(0);
  }

  caf::actor_system_config cfg;
  caf::actor_system sys{init(cfg)};
  caf::scheduler::test_coordinator& sched =
      dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor self{sys, true};
  std::shared_ptr<tier_log> log = std::make_shared<tier_log>();
  batch_tier_actor l1;
  batch_tier_actor l2;
  batch_tier_actor recording;
  cache_actor cache;
};

} // namespace mtcache::testing
