// Parsing memcached URLs: the `memcache://host:port` form the Rust `memcache` crate (and so
// multi-tier-cache's MEMCACHED_URL) uses, one server or several separated by commas. As for
// Redis URLs, every rejection says what is wrong, since the text usually comes from an
// environment variable.

#include "mtcache/codec/memcached_url.hpp"

#include <cstdlib>

#include "mtcache/messages/error.hpp"

namespace mtcache {

namespace {

using std::string;
using std::string_view;

constexpr string_view scheme = "memcache://";
constexpr size_t max_host_bytes = 253; // DNS name limit

using failure = std::optional<string>;

string_view trim(string_view x) {
  while (!x.empty() && (x.front() == ' ' || x.front() == '\t'))
    x.remove_prefix(1);
  while (!x.empty() && (x.back() == ' ' || x.back() == '\t'))
    x.remove_suffix(1);
  return x;
}

failure parse_port(string_view text, uint16_t& port) {
  if (text.empty())
    return string{"empty port after ':'"};
  unsigned long value = 0;
  for (auto c : text) {
    if (c < '0' || c > '9')
      return "port '" + string{text} + "' is not a number";
    value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value > 65535)
      return "port " + string{text} + " is out of range 1..65535";
  }
  if (value == 0)
    return string{"port 0 is out of range 1..65535"};
  port = static_cast<uint16_t>(value);
  return std::nullopt;
}

// One `[memcache://]host[:port]`; `first` says whether the scheme is required.
failure parse_server(string_view text, bool first, memcached_server& out) {
  if (text.substr(0, scheme.size()) == scheme) {
    text.remove_prefix(scheme.size());
  } else if (auto colon = text.find("://"); colon != string_view::npos) {
    return "unsupported scheme '" + string{text.substr(0, colon)} + "' (only memcache://)";
  } else if (first) {
    return string{"a memcached URL starts with memcache://"};
  }
  if (text.find('@') != string_view::npos)
    return string{"credentials are not supported (memcached SASL is not implemented)"};
  if (auto q = text.find_first_of("?#"); q != string_view::npos)
    return string{text[q] == '?' ? "query parameters" : "fragments"} +
           " are not supported (timeouts are memcached_tier_config fields)";
  if (text.find('/') != string_view::npos)
    return string{"a memcached URL has no path"};
  string_view host = text;
  string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == string_view::npos)
      return string{"unterminated '[' in IPv6 host"};
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':')
      return "unexpected '" + string{rest} + "' after IPv6 host";
    if (!rest.empty()) {
      port = rest.substr(1);
      if (port.empty())
        return string{"empty port after ':'"};
    }
  } else if (auto colon = text.find(':'); colon != string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty())
      return string{"empty port after ':'"};
  }
  if (host.empty())
    return string{"empty host"};
  if (host.size() > max_host_bytes)
    return string{"host is longer than 253 bytes"};
  out.host = string{host};
  out.port = memcached_server::default_port;
  if (!port.empty())
    if (auto err = parse_port(port, out.port))
      return err;
  return std::nullopt;
}

} // namespace

std::string to_string(const memcached_server& x) {
  auto host = x.host.find(':') != string::npos ? "[" + x.host + "]" : x.host;
  return host + ":" + std::to_string(x.port);
}

std::optional<memcached_url> memcached_url::parse(string_view text, string* error) {
  auto fail = [&](string reason) -> std::optional<memcached_url> {
    if (error)
      *error = "invalid memcached URL: " + std::move(reason);
    return std::nullopt;
  };
  if (text.size() > max_url_bytes)
    return fail("longer than 4096 bytes");
  for (auto c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || static_cast<unsigned char>(c) >= 0x80)
      return fail("control characters or non-ASCII bytes");
  memcached_url url;
  size_t pos = 0;
  for (;;) {
    auto comma = text.find(',', pos);
    auto item =
        trim(text.substr(pos, comma == string_view::npos ? string_view::npos : comma - pos));
    if (item.find_first_of(" \t") != string_view::npos)
      return fail("spaces inside a server address");
    if (item.empty())
      return fail(url.servers.empty() ? "no server" : "empty server after ','");
    memcached_server server;
    if (auto err = parse_server(item, url.servers.empty(), server))
      return fail(*err);
    for (auto& known : url.servers)
      if (known == server)
        return fail("server " + to_string(server) + " is listed twice");
    url.servers.emplace_back(std::move(server));
    if (comma == string_view::npos)
      break;
    pos = comma + 1;
  }
  return url;
}

std::string to_string(const memcached_url& x) {
  string out{scheme};
  for (size_t i = 0; i < x.servers.size(); ++i)
    out += (i > 0 ? "," : "") + to_string(x.servers[i]);
  return out;
}

caf::expected<memcached_url> resolve_memcached_url(const std::string& explicit_url) {
  std::string text = explicit_url;
  if (text.empty()) {
    auto* env = std::getenv("MEMCACHED_URL");
    text = env != nullptr && *env != '\0' ? env : "memcache://127.0.0.1:11211";
  }
  std::string reason;
  auto url = memcached_url::parse(text, &reason);
  if (!url)
    return make_error(errc::invalid_url, reason);
  return std::move(*url);
}

} // namespace mtcache
