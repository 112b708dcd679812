#pragma once

// The Redis side of the command line: publishing a change on an invalidation channel in
// the wire format nodes read (signed when a secret is given), and following the audit
// stream. Blocking hiredis: a command-line program has nothing else to do meanwhile.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <caf/expected.hpp>

#include "mtcache/messages/invalidation.hpp"

namespace mtcache::cli {

/// PUBLISHes `change` (encoded as nodes and the multi-tier-cache crate read it, signed with
/// `secret` if not empty) on `channel` at `url`; returns how many subscribers received it.
caf::expected<int64_t> publish_change(const std::string& url, const std::string& channel,
                                      const invalidation& change, const std::string& secret,
                                      std::chrono::milliseconds timeout);

/// Follows `stream` at `url` from its end (or from after `from_id` if not empty), calling
/// `print` with one line per entry ("<id> field=value ..."), until `keep_going` says stop
/// (checked at least once a second) or `max_entries` (0: no bound) were printed.
caf::error tail_stream(const std::string& url, const std::string& stream,
                       const std::string& from_id, uint64_t max_entries,
                       const std::function<bool()>& keep_going,
                       const std::function<void(const std::string&)>& print,
                       std::chrono::milliseconds timeout);

} // namespace mtcache::cli
