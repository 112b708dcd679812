#include "mtcache/runtime/scheduler_tuning.hpp"

#include <algorithm>
#include <thread>

#include <caf/actor_system_config.hpp>

namespace mtcache {

void apply_recommended_scheduler(caf::actor_system_config& cfg) {
  auto cores = std::max(2u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", static_cast<int64_t>(cores));
  cfg.set("scheduler.max-throughput", static_cast<int64_t>(300));
  cfg.set("work-stealing.aggressive-poll-attempts", static_cast<int64_t>(0));
  cfg.set("work-stealing.moderate-poll-attempts", static_cast<int64_t>(0));
}

} // namespace mtcache
