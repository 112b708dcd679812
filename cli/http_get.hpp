#pragma once

// A blocking HTTP/1.1 GET for the command line and the tests: one request per connection
// (Connection: close), loopback or any host, bounded by a deadline. Plain http:// only.

#include <chrono>
#include <string>

#include <caf/expected.hpp>

namespace mtcache::cli {

struct http_reply {
  int status = 0;
  std::string content_type;
  std::string body;
};

/// GETs `url` ("http://host[:port]/path", port 80 by default). Fails with errc::invalid_url,
/// errc::backend_unavailable (cannot connect, connection broken) or errc::timeout.
caf::expected<http_reply> http_get(const std::string& url,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(5));

} // namespace mtcache::cli
