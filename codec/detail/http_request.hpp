#pragma once

// Just enough HTTP/1.1 (RFC 9112) for the /metrics endpoint: request heads parsed from a
// connection's bytes as they arrive, and whole responses with Content-Length. Requests are
// answered in order, one at a time per connection, so pipelined requests simply wait in the
// buffer. Bodies are refused: a scrape is a GET.

#include <cstddef>
#include <string>
#include <string_view>

namespace mtcache::detail {

/// A request head longer than this is refused (431), so that a client cannot grow the
/// buffer without bound. Prometheus sends about 250 bytes.
constexpr size_t max_http_head_bytes = 8192;

struct http_request {
  std::string method;
  /// The request target without its query string ("/metrics?x=1" reads "/metrics").
  std::string path;
  /// Whether the connection stays open after the answer: HTTP/1.1 unless "Connection:
  /// close", HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive = true;
};

enum class http_parse_result {
  /// More bytes are needed.
  incomplete,
  /// `req` holds the request and `consumed` its length.
  complete,
  /// Not a request we serve; `status` says why (400, 411, 413, 431, 505) and the
  /// connection must close after the answer.
  bad,
};

/// Parses the request at the front of `buf`.
http_parse_result parse_http_request(std::string_view buf, http_request& req, size_t& consumed,
                                     int& status);

/// A complete response with Content-Length; the body is left out for HEAD requests (the
/// headers still describe it).
std::string http_response(int status, std::string_view content_type, std::string_view body,
                          bool keep_alive, bool head_only = false);

/// "OK", "Not Found", ... for the statuses the endpoint uses.
const char* http_reason(int status);

} // namespace mtcache::detail
