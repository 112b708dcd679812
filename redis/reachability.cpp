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

namespace {

std::vector<caf::actor> owners_of(const std::string& server, const caf::actor_addr& except) {
  std::vector<caf::actor> others;
  auto& r = instance();
  std::lock_guard<std::mutex> guard{r.mtx};
  auto i = r.owners.find(server);
  if (i == r.owners.end())
    return others;
  for (auto& addr : i->second)
    if (addr != except)
      if (auto other = caf::actor_cast<caf::actor>(addr))
        others.push_back(std::move(other));
  return others;
}

} // namespace

void reachability::arrived(const std::string& server, const caf::actor_addr& from) {
  for (auto& other : owners_of(server, from))
    caf::anon_send(other, connect_atom::value);
}

void reachability::switched(const std::string& server, const std::string& primary) {
  for (auto& owner : owners_of(server, caf::actor_addr{}))
    caf::anon_send(owner, switch_atom::value, primary);
}

} // namespace mtcache::detail
