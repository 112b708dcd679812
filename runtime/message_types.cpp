#include "mtcache/runtime/message_types.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/message.hpp>

#include "mtcache/messages/detail/flight_protocol.hpp"
#include "mtcache/messages/detail/streams.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/messages/invalidation.hpp"

namespace mtcache {

std::string to_string(errc x) {
  switch (x) {
  case errc::backend_unavailable:
    return "backend_unavailable";
  case errc::timeout:
    return "timeout";
  case errc::invalid_key:
    return "invalid_key";
  case errc::value_too_large:
    return "value_too_large";
  case errc::decode_failed:
    return "decode_failed";
  case errc::not_configured:
    return "not_configured";
  case errc::invalid_config:
    return "invalid_config";
  case errc::invalid_url:
    return "invalid_url";
  case errc::invalid_pattern:
    return "invalid_pattern";
  case errc::loader_failed:
    return "loader_failed";
  case errc::backend_error:
    return "backend_error";
  case errc::unauthenticated:
    return "unauthenticated";
  case errc::malformed_message:
    return "malformed_message";
  case errc::shutting_down:
    return "shutting_down";
  case errc::superseded:
    return "superseded";
  case errc::not_supported:
    return "not_supported";
  }
  return "unknown_error";
}

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_error_category(error_category,
                         [](uint8_t code, caf::atom_value, const caf::message& context) {
                           auto text = "mtcache::" + to_string(static_cast<errc>(code));
                           if (!context.empty())
                             text += " (" + caf::to_string(context) + ")";
                           return text;
                         });
  cfg.add_message_type<bytes>("mtcache::bytes");
  cfg.add_message_type<strategy>("mtcache::strategy");
  cfg.add_message_type<lookup>("mtcache::lookup");
  cfg.add_message_type<tier_failure>("mtcache::tier_failure");
  cfg.add_message_type<write_ack>("mtcache::write_ack");
  cfg.add_message_type<compute_options>("mtcache::compute_options");
  cfg.add_message_type<loaded>("mtcache::loaded");
  cfg.add_message_type<bulk_entry>("mtcache::bulk_entry");
  cfg.add_message_type<std::vector<bulk_entry>>("std::vector<mtcache::bulk_entry>");
  cfg.add_message_type<bulk_lookup>("mtcache::bulk_lookup");
  cfg.add_message_type<latency_histogram>("mtcache::latency_histogram");
  cfg.add_message_type<backend_op_stats>("mtcache::backend_op_stats");
  cfg.add_message_type<node_stats>("mtcache::node_stats");
  cfg.add_message_type<topology_stats>("mtcache::topology_stats");
  cfg.add_message_type<tier_stats>("mtcache::tier_stats");
  cfg.add_message_type<std::vector<tier_stats>>("std::vector<mtcache::tier_stats>");
  cfg.add_message_type<cache_stats>("mtcache::cache_stats");
  cfg.add_message_type<bridge_stats>("mtcache::bridge_stats");
  cfg.add_message_type<bridge_actor>("mtcache::bridge_actor");
  cfg.add_message_type<peer_inbox_actor>("mtcache::peer_inbox_actor");
  cfg.add_message_type<tier_health>("mtcache::tier_health");
  cfg.add_message_type<health_report>("mtcache::health_report");
  cfg.add_message_type<invalidation>("mtcache::invalidation");

  cfg.add_message_type<detail::flight_report>("mtcache::flight_report");
  cfg.add_message_type<loader_actor>("mtcache::loader_actor");
  cfg.add_message_type<ttl_loader_actor>("mtcache::ttl_loader_actor");
  cfg.add_message_type<bulk_loader_actor>("mtcache::bulk_loader_actor");
  cfg.add_message_type<detail::loader_ref>("mtcache::loader_ref");
  cfg.add_message_type<tier_actor>("mtcache::tier_actor");
  cfg.add_message_type<tier_write>("mtcache::tier_write");
  cfg.add_message_type<read_batch>("mtcache::read_batch");
  cfg.add_message_type<std::vector<tier_write>>("std::vector<mtcache::tier_write>");
  cfg.add_message_type<std::vector<caf::error>>("std::vector<caf::error>");
  cfg.add_message_type<miss_route>("mtcache::miss_route");
  cfg.add_message_type<cache_actor>("mtcache::cache_actor");
  cfg.add_message_type<detail::stream_field>("mtcache::stream_field");
  cfg.add_message_type<detail::stream_entry>("mtcache::stream_entry");
  cfg.add_message_type<std::vector<detail::stream_field>>("std::vector<mtcache::stream_field>");
  cfg.add_message_type<std::vector<detail::stream_entry>>("std::vector<mtcache::stream_entry>");
  cfg.add_message_type<detail::stream_info>("mtcache::stream_info");
  cfg.add_message_type<detail::streams_actor>("mtcache::streams_actor");
}

} // namespace mtcache
