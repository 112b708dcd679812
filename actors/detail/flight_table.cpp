#include "mtcache/actors/detail/flight_table.hpp"

namespace mtcache::detail {

void flight_table::supersede(const std::string& key) {
  if (auto i = flights_.find(key); i != flights_.end())
    i->second.superseded = true;
}

void flight_table::supersede(const glob& pattern) {
  for (auto& [key, flight] : flights_)
    if (pattern.matches(key))
      flight.superseded = true;
}

void flight_table::supersede_all() {
  for (auto& kv : flights_)
    kv.second.superseded = true;
}

const flight_actor* flight_table::live(const std::string& key) const {
  auto i = flights_.find(key);
  return i != flights_.end() && !i->second.superseded ? &i->second.handle : nullptr;
}

const flight_actor* flight_table::join(const std::string& key) {
  auto i = flights_.find(key);
  if (i == flights_.end() || i->second.superseded || i->second.refresh)
    return nullptr;
  ++joins_;
  return &i->second.handle;
}

bool flight_table::current(const std::string& key, uint64_t id) const {
  auto i = flights_.find(key);
  return i != flights_.end() && i->second.id == id && !i->second.superseded;
}

bool flight_table::forget(const std::string& key, uint64_t id) {
  auto i = flights_.find(key);
  if (i == flights_.end() || i->second.id != id)
    return false;
  flights_.erase(i);
  return true;
}

} // namespace mtcache::detail
