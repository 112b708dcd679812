#pragma once

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"

namespace mtcache::testing {

/// A real, multi-threaded actor system per test, set up as applications should set theirs.
/// Members declared after `sys` are destroyed before it (handles must not outlive it).
class actor_system_fixture : public ::testing::Test {
protected:
  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    add_message_types(cfg);
    apply_recommended_scheduler(cfg);
    cfg.set("scheduler.max-threads", 2);
    cfg.load<caf::io::middleman>();
    return cfg;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys{init(cfg)};
};

} // namespace mtcache::testing
