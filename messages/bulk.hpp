#pragma once

#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/timespan.hpp>

#include "mtcache/messages/bytes.hpp"
#include "mtcache/messages/lookup.hpp"

namespace mtcache {

/// One key's answer from a bulk loader (see `bulk_loader_actor`): a value, no value, or a
/// failure of this key alone.
struct bulk_entry {
  /// False: the source has no value for the key; its caller gets a miss, nothing is cached.
  bool found = false;
  bytes value;
  /// As `loaded::ttl`: zero takes the call's TTL, a negative TTL never expires.
  caf::timespan ttl{0};
  /// Set when this key failed: its caller gets this error and nothing is cached.
  caf::error error;
  /// As `loaded::tags`: the tags the value is written with.
  std::vector<std::string> tags;

  static bulk_entry of(bytes value, caf::timespan ttl = caf::timespan{0},
                       std::vector<std::string> tags = {}) {
    return {true, std::move(value), ttl, caf::error{}, std::move(tags)};
  }
  static bulk_entry absent() { return {}; }
  static bulk_entry failure(caf::error reason) {
    return {false, bytes{}, caf::timespan{0}, std::move(reason), {}};
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bulk_entry& x) {
  return f(caf::meta::type_name("mtcache::bulk_entry"), x.found, x.value, x.ttl, x.error,
           x.tags);
}

/// The answer to a read of many keys: for each key asked, in the order asked (duplicates
/// included), its lookup and its error. An error is empty where the key was answered; where
/// it is set, the lookup is a miss.
struct bulk_lookup {
  std::vector<lookup> results;
  std::vector<caf::error> errors;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bulk_lookup& x) {
  return f(caf::meta::type_name("mtcache::bulk_lookup"), x.results, x.errors);
}

} // namespace mtcache
