#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "mtcache/messages/atoms.hpp"
#include "mtcache/messages/stats.hpp"

namespace mtcache::detail {

/// One field of a Redis stream entry.
struct stream_field {
  std::string name;
  std::string value;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_field& x) {
  return f(caf::meta::type_name("mtcache::stream_field"), x.name, x.value);
}

/// One entry of a Redis stream: its id ("1700000000000-0") and fields in order.
struct stream_entry {
  std::string id;
  std::vector<stream_field> fields;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_entry& x) {
  return f(caf::meta::type_name("mtcache::stream_entry"), x.id, x.fields);
}

/// What XINFO STREAM tells about a stream. Ids are "<ms>-<seq>"; empty when unknown.
struct stream_info {
  /// False when the key does not exist (never written, or lost with a Redis restart).
  bool exists = false;
  uint64_t length = 0;
  std::string first_id;
  /// The newest id ever given out (it outlives its entry when trimming removes it).
  std::string last_id;
  /// Entries ever added to the stream, trimmed ones included (Redis 7.0 and later; 0 on
  /// older servers): set against the entries still there after an id, it tells whether
  /// trimming (MAXLEN) removed some of them.
  uint64_t entries_added = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_info& x) {
  return f(caf::meta::type_name("mtcache::stream_info"), x.exists, x.length, x.first_id, x.last_id,
           x.entries_added);
}

/// Redis Pub/Sub publishing and Streams, on connections of their own (a blocking read never
/// holds up other Redis traffic).
using streams_actor = caf::typed_actor<
    // PUBLISH channel payload; answers how many subscribers received it.
    caf::replies_to<caf::publish_atom, std::string, std::string>::with<uint64_t>,
    // XADD stream [MAXLEN ~ maxlen] * fields...; maxlen 0 means no trimming. Answers the id.
    caf::replies_to<xadd_atom, std::string, std::vector<stream_field>, uint64_t>::with<std::string>,
    // The newest `count` entries, newest first (XREVRANGE stream + - COUNT count).
    caf::replies_to<xlatest_atom, std::string, uint64_t>::with<std::vector<stream_entry>>,
    // At most `count` entries after `after_id` (exclusive; empty: from the start), oldest
    // first (XRANGE stream (after_id + COUNT count).
    caf::replies_to<xrange_atom, std::string, std::string,
                    uint64_t>::with<std::vector<stream_entry>>,
    // XINFO STREAM stream; a missing key is `exists == false`, not an error.
    caf::replies_to<xinfo_atom, std::string>::with<stream_info>,
    // Entries after `last_id` (XREAD COUNT count [BLOCK ms] STREAMS stream last_id); a zero
    // block does not block; "$" means "only new entries". Answers an empty list on timeout.
    caf::replies_to<xread_atom, std::string, std::string, uint64_t,
                    caf::timespan>::with<std::vector<stream_entry>>,
    caf::replies_to<stats_atom>::with<tier_stats>, caf::replies_to<health_atom>::with<tier_health>>;

} // namespace mtcache::detail
