#include "mtcache/runtime/blocking_client.hpp"

#include <caf/actor_system.hpp>

namespace mtcache {

namespace {

caf::behavior bridge(caf::event_based_actor* self) {
  return {
      [=](const detail::bridge_job& job) { job.run(self); },
  };
}

} // namespace

blocking_cache::blocking_cache(caf::actor_system& sys, cache_actor cache,
                               std::chrono::milliseconds timeout)
    : cache_(std::move(cache)), timeout_(timeout), bridge_(sys.spawn(bridge)),
      view_(find_l1_view(sys, cache_)) {}

blocking_cache::~blocking_cache() {
  caf::anon_send_exit(bridge_, caf::exit_reason::user_shutdown);
}

caf::expected<lookup> blocking_cache::get(const std::string& key) {
  if (auto hit = view_.get(key))
    return std::move(*hit);
  return call<lookup>(get_atom::value, key);
}

caf::expected<write_ack> blocking_cache::set(const std::string& key, bytes value, strategy ttl) {
  return call<write_ack>(put_atom::value, key, std::move(value), ttl);
}

caf::expected<write_ack> blocking_cache::set(const std::string& key, bytes value, strategy ttl,
                                             std::vector<std::string> tags) {
  return call<write_ack>(put_atom::value, key, std::move(value), ttl, std::move(tags));
}

caf::expected<write_ack> blocking_cache::remove_by_tag(const std::string& tag) {
  return call<write_ack>(invalidate_atom::value, tag_atom::value, tag);
}

caf::expected<write_ack> blocking_cache::clear() {
  return call<write_ack>(clear_atom::value);
}

caf::expected<write_ack> blocking_cache::remove(const std::string& key) {
  return call<write_ack>(delete_atom::value, key);
}

caf::expected<uint64_t> blocking_cache::remove_matching(const std::string& pattern) {
  return call<uint64_t>(delete_atom::value, match_atom::value, pattern);
}

caf::expected<lookup> blocking_cache::get_or_compute(const std::string& key, compute_options opts,
                                                     loader_actor loader) {
  return call<lookup>(compute_atom::value, key, std::move(opts), std::move(loader));
}

caf::expected<lookup> blocking_cache::get_or_compute(const std::string& key, compute_options opts,
                                                     ttl_loader_actor loader) {
  return call<lookup>(compute_atom::value, key, std::move(opts), std::move(loader));
}

caf::expected<bulk_lookup> blocking_cache::get_many(const std::vector<std::string>& keys) {
  return call<bulk_lookup>(get_atom::value, keys);
}

caf::expected<bulk_lookup> blocking_cache::get_or_compute_many(const std::vector<std::string>& keys,
                                                               compute_options opts,
                                                               bulk_loader_actor loader) {
  return call<bulk_lookup>(compute_atom::value, keys, std::move(opts), std::move(loader));
}

caf::expected<cache_stats> blocking_cache::stats() {
  return call<cache_stats>(stats_atom::value);
}

caf::expected<std::vector<tier_stats>> blocking_cache::tiers() {
  return call<std::vector<tier_stats>>(tierstats_atom::value);
}

caf::expected<health_report> blocking_cache::health() {
  return call<health_report>(health_atom::value);
}

} // namespace mtcache
