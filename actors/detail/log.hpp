#pragma once

#include <string_view>

namespace mtcache::detail {

enum class log_level : int { off = 0, error = 1, warning = 2, info = 3 };

/// The threshold, read once from the MTCACHE_LOG environment variable (off, error, warning,
/// info); warning if unset. Debian's CAF is built with its logger compiled out, so mtcache
/// reports the events an operator must see (lost connections, dropped messages, undecodable
/// values) itself, one line each on stderr.
log_level current_log_level();

/// Writes "mtcache <level> <component>: <message>" to stderr if `level` passes the threshold.
void log(log_level level, std::string_view component, std::string_view message);

} // namespace mtcache::detail
