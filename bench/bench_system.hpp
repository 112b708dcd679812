#pragma once

// The actor system configuration the benchmarks share: mtcache's message types, the
// recommended scheduler on two threads (the machine's cores), and the middleman.

#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"

namespace mtcache::bench {

inline caf::actor_system_config& configure(caf::actor_system_config& cfg) {
  add_message_types(cfg);
  apply_recommended_scheduler(cfg);
  cfg.set("scheduler.max-threads", 2);
  cfg.load<caf::io::middleman>();
  return cfg;
}

} // namespace mtcache::bench
