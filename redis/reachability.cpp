#include "mtcache/redis/reachability.hpp"

#include <algorithm>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include "mtcache/messages/atoms.hpp"

namespace mtcache::detail {

namespace {

struct registry {
  std::mutex mtx;
  std::unordered_map<std::string, std::vector<caf::actor_addr>> owners;
};

registry& instance() {
  static registry r;
  return r;
}

} // namespace

void reachability::join(const std::string& server, const caf::actor_addr& who) {
  auto& r = instance();
  std::lock_guard<std::mutex> guard{r.mtx};
  r.owners[server].push_back(who);
}

void reachability::leave(const std::string& server, const caf::actor_addr& who) {
  auto& r = instance();
  std::lock_guard<std::mutex> guard{r.mtx};
  auto i = r.owners.find(server);
  if (i == r.owners.end())
    return;
  auto& list = i->second;
  list.erase(std::remove(list.begin(), list.end(), who), list.end());
  if (list.empty())
    r.owners.erase(i);
}

void reachability::arrived(const std::string& server, const caf::actor_addr& from) {
  std::vector<caf::actor> others;
  {
    auto& r = instance();
    std::lock_guard<std::mutex> guard{r.mtx};
    auto i = r.owners.find(server);
    if (i == r.owners.end())
      return;
    for (auto& addr : i->second)
      if (addr != from)
        if (auto other = caf::actor_cast<caf::actor>(addr))
          others.push_back(std::move(other));
  }
  for (auto& other : others)
    caf::anon_send(other, connect_atom::value);
}

} // namespace mtcache::detail
