#include "mtcache/actors/detail/coordinator_state.hpp"

#include <string_view>

#include "mtcache/messages/detail/lease_protocol.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

caf::error check_key(const coordinator_state& st, const std::string& key) {
  if (key.empty())
    return make_error(errc::invalid_key, "the key is empty");
  // Load leases and tag removal times live in the shared tiers' namespace beside the keys,
  // under markers that start so.
  static constexpr std::string_view reserved{"\0mtcache:", 9};
  static_assert(lease_marker.substr(0, 9) == reserved);
  if (std::string_view{key}.substr(0, reserved.size()) == reserved)
    return make_error(errc::invalid_key, "keys starting with NUL \"mtcache:\" are reserved for "
                                         "load leases and tag removal times");
  if (key.size() > st.opts.max_key_bytes)
    return make_error(errc::invalid_key, "the key has " + std::to_string(key.size()) +
                                             " bytes, the limit is " +
                                             std::to_string(st.opts.max_key_bytes));
  return caf::none;
}

caf::error check_value(const coordinator_state& st, const bytes& value) {
  if (value.size() > st.opts.max_value_bytes)
    return make_error(errc::value_too_large, "the value has " + std::to_string(value.size()) +
                                                 " bytes, the limit is " +
                                                 std::to_string(st.opts.max_value_bytes));
  return caf::none;
}

caf::expected<glob> check_pattern(const coordinator_state& st, const std::string& pattern) {
  if (pattern.empty())
    return make_error(errc::invalid_pattern, "the pattern is empty");
  std::string reason;
  auto compiled = glob::compile(pattern, &reason, st.opts.max_key_bytes);
  if (!compiled)
    return make_error(errc::invalid_pattern, std::move(reason));
  if (!st.opts.allow_match_all && compiled->matches_everything())
    return make_error(errc::invalid_pattern,
                      "'" + pattern + "' matches every key; set allow_match_all to permit it");
  return std::move(*compiled);
}

std::vector<size_t> all_tiers(const coordinator_state& st) {
  std::vector<size_t> out(st.tiers->size());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = i;
  return out;
}

std::vector<size_t> local_tiers(const coordinator_state& st) {
  std::vector<size_t> out;
  for (size_t i = 0; i < st.tiers->size(); ++i)
    if (!(*st.tiers)[i].cfg.shared)
      out.push_back(i);
  return out;
}

caf::duration tier_wait(const coordinator_state& st, size_t i) {
  if ((*st.tiers)[i].answers_in_time)
    return caf::infinite;
  return caf::duration{st.opts.tier_timeout};
}

caf::error tier_timeout_error(const coordinator_state& st) {
  return make_error(errc::timeout, "tier did not answer within " +
                                       std::to_string(st.opts.tier_timeout.count()) + " ms");
}

} // namespace mtcache::detail
