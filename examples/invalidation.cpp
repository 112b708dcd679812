// One node of a cluster that shares invalidation: run two of them (scripts/demo-invalidation
// does) and watch a change on one drop or replace the other's L1 copy.
//
//   invalidation --listen 7100                      accept peer links on 127.0.0.1:7100
//   invalidation --peer 127.0.0.1:7100              link to that node
//   invalidation --redis redis://127.0.0.1:6379     also use Redis (L2 + Pub/Sub)
//
// Commands on stdin, one per line: set K V | get K | update K V | invalidate K |
// pattern GLOB | stats | quit. It prints "ready <port> <node id>" once it runs.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"
#include "mtcache/runtime/spawn_cache.hpp"

using namespace mtcache;
using namespace std::chrono_literals;

namespace {

cache_config config_from(int argc, char** argv) {
  cache_config cfg;
  cfg.add_memory_tier(tier_config::as_l1());
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--listen") {
      cfg.invalidation.listen = true;
      cfg.invalidation.listen_port = static_cast<uint16_t>(std::stoi(value));
    } else if (flag == "--peer") {
      cfg.invalidation.peers.push_back(value);
    } else if (flag == "--redis") {
      redis_tier_config l2;
      l2.url = value;
      cfg.add_redis_tier(tier_config::as_l2(), l2);
      cfg.invalidation.redis = true;
    } else if (flag == "--name") {
      cfg.node_id = value;
    }
  }
  return cfg;
}

void print(const caf::actor_system& sys, const caf::expected<lookup>& res) {
  if (!res)
    std::cout << "error " << sys.render(res.error()) << std::endl;
  else if (!res->found)
    std::cout << "miss" << std::endl;
  else
    std::cout << "value " << res->value.str() << " L" << res->level << std::endl;
}

} // namespace

int main(int argc, char** argv) {
  caf::actor_system_config cfg;
  add_message_types(cfg);
  apply_recommended_scheduler(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  auto cache = spawn_cache(sys, config_from(argc, argv));
  if (!cache) {
    std::cerr << "cannot start: " << sys.render(cache.error()) << std::endl;
    return 1;
  }
  blocking_cache client{sys, *cache};
  auto bridge = [&] {
    return client.call<bridge_stats>(stats_atom::value, invalidate_atom::value);
  };
  auto wants_port = config_from(argc, argv).invalidation.listen;
  for (int i = 0; i < 200; ++i) {
    auto s = bridge();
    if (s && (!wants_port || s->listen_port != 0))
      break;
    std::this_thread::sleep_for(10ms);
  }
  auto s = bridge();
  std::cout << "ready " << (s ? s->listen_port : 0) << " " << (s ? s->node_id : "") << std::endl;

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in{line};
    std::string cmd, key, value;
    in >> cmd >> key >> value;
    if (cmd == "quit") {
      break;
    } else if (cmd == "set") {
      auto ack = client.set(key, bytes{value});
      std::cout << (ack ? "ok" : "error " + sys.render(ack.error())) << std::endl;
    } else if (cmd == "get") {
      print(sys, client.get(key));
    } else if (cmd == "update") {
      auto ack = client.call<write_ack>(update_atom::value, key, bytes{value}, caf::timespan{5min});
      std::cout << (ack ? "ok" : "error " + sys.render(ack.error())) << std::endl;
    } else if (cmd == "invalidate") {
      auto ack = client.call<write_ack>(invalidate_atom::value, key);
      std::cout << (ack ? "ok" : "error " + sys.render(ack.error())) << std::endl;
    } else if (cmd == "pattern") {
      auto n = client.call<uint64_t>(invalidate_atom::value, match_atom::value, key);
      std::cout << (n ? "ok " + std::to_string(*n) : "error " + sys.render(n.error())) << std::endl;
    } else if (cmd == "stats") {
      auto b = bridge();
      if (b)
        std::cout << "stats sent " << b->messages_sent << " received " << b->received << " peers "
                  << b->peers_connected << " recoveries " << b->recoveries << std::endl;
      else
        std::cout << "error " << sys.render(b.error()) << std::endl;
    } else if (!cmd.empty()) {
      std::cout << "error unknown command" << std::endl;
    }
  }
  stop_cache(*cache);
  return 0;
}
