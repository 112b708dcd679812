// Parsing Redis URLs.
//
// A strict subset of RFC 3986 for the two shapes Redis clients use (redis-rs, hiredis
// wrappers, redis-cli -u). Every rejection names what is wrong and where, because a URL
// usually arrives from an environment variable and a vague "invalid URL" sends people
// hunting. Parts that may hold a secret (the password) are never quoted back.

#include "mtcache/codec/redis_url.hpp"

#include <climits>
#include <cstdlib>

#include "mtcache/codec/detail/hex.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache {

namespace {

using detail::hex_digit_value;
using std::string;
using std::string_view;

constexpr size_t max_host_bytes = 253; // DNS name limit

// Outcome of one parsing step: empty means success.
using failure = std::optional<string>;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// Percent-decodes `in` (and `+` to space if `form`) into `out`; `what` names the part.
failure decode(string_view in, string& out, string_view what, bool form = false) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (in.size() - i < 3 || hex_digit_value(in[i + 1]) < 0 || hex_digit_value(in[i + 2]) < 0)
        return "invalid percent-encoding in " + string{what};
      auto c = static_cast<char>(hex_digit_value(in[i + 1]) * 16 + hex_digit_value(in[i + 2]));
      if (c == '\0')
        return string{what} + " contains an encoded NUL byte";
      out.push_back(c);
      i += 2;
    } else {
      out.push_back(form && in[i] == '+' ? ' ' : in[i]);
    }
  }
  return std::nullopt;
}

failure parse_port(string_view text, uint16_t& port) {
  if (text.empty())
    return string{"empty port after ':'"};
  for (auto c : text)
    if (!is_digit(c))
      return "port '" + string{text} + "' is not a number";
  unsigned long value = 0;
  for (auto c : text) {
    value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value > 65535)
      return "port " + string{text} + " is out of range 1..65535";
  }
  if (value == 0)
    return string{"port 0 is out of range 1..65535"};
  port = static_cast<uint16_t>(value);
  return std::nullopt;
}

failure parse_db(string_view text, int& db) {
  if (text.empty())
    return string{"empty database number"};
  for (auto c : text)
    if (!is_digit(c))
      return "database '" + string{text} + "' is not a non-negative integer";
  long long value = 0;
  for (auto c : text) {
    value = value * 10 + (c - '0');
    if (value > INT_MAX)
      return "database " + string{text} + " is out of range 0.." + std::to_string(INT_MAX);
  }
  db = static_cast<int>(value);
  return std::nullopt;
}

failure parse_host(string_view hostport, redis_url& out) {
  string_view host;
  string_view rest;
  if (!hostport.empty() && hostport.front() == '[') {
    auto close = hostport.find(']');
    if (close == string_view::npos)
      return string{"unterminated IPv6 address: missing ']'"};
    host = hostport.substr(1, close - 1);
    rest = hostport.substr(close + 1);
    if (host.find(':') == string_view::npos)
      return "'" + string{host} + "' in brackets is not an IPv6 address";
    for (auto c : host)
      if (hex_digit_value(c) < 0 && c != ':' && c != '.')
        return "invalid character '" + string(1, c) + "' in IPv6 address";
    if (!rest.empty() && rest.front() != ':')
      return "unexpected '" + string{rest} + "' after IPv6 address";
  } else {
    auto colon = hostport.find(':');
    host = hostport.substr(0, colon);
    rest = colon == string_view::npos ? string_view{} : hostport.substr(colon);
    for (auto c : host)
      if (!is_unreserved(c) || c == '~')
        return "invalid character '" + string(1, c) + "' in host";
  }
  if (host.empty())
    return string{"empty host"};
  if (host.size() > max_host_bytes)
    return "host is longer than " + std::to_string(max_host_bytes) + " bytes";
  out.host = string{host};
  if (!rest.empty())
    return parse_port(rest.substr(1), out.port);
  return std::nullopt;
}

string item_name(const redis_url::endpoint& x) {
  auto host = x.host.find(':') != string::npos ? '[' + x.host + ']' : x.host;
  return host + ':' + std::to_string(x.port);
}

failure parse_userinfo(string_view& authority, redis_url& out) {
  if (auto at = authority.rfind('@'); at != string_view::npos) {
    auto userinfo = authority.substr(0, at);
    auto colon = userinfo.find(':');
    if (auto err = decode(userinfo.substr(0, colon), out.user, "user"))
      return err;
    if (colon != string_view::npos)
      if (auto err = decode(userinfo.substr(colon + 1), out.password, "password"))
        return err;
    authority = authority.substr(at + 1);
  }
  return std::nullopt;
}

failure parse_tcp(string_view rest, redis_url& out) {
  if (rest.find_first_of("?#") != string_view::npos)
    return string{"query strings and fragments are not supported in redis:// URLs"};
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (auto err = parse_userinfo(authority, out))
    return err;
  if (auto err = parse_host(authority, out))
    return err;
  if (slash == string_view::npos)
    return std::nullopt;
  auto db = rest.substr(slash + 1);
  if (db.empty())
    return std::nullopt;
  if (auto extra = db.find('/'); extra != string_view::npos)
    return "unexpected '" + string{db.substr(extra)} + "' after the database number";
  return parse_db(db, out.db);
}

// The comma-separated host[:port] list of a cluster or sentinel URL.
failure parse_nodes(string_view list, uint16_t default_port, redis_url& out) {
  if (list.empty())
    return string{"no host given"};
  for (;;) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    redis_url one;
    one.port = default_port;
    if (item.empty())
      return string{"empty host in the host list"};
    if (auto err = parse_host(item, one))
      return err;
    redis_url::endpoint node{one.host, one.port};
    for (auto& seen : out.nodes)
      if (seen == node)
        return "host " + item_name(node) + " is listed twice";
    out.nodes.push_back(std::move(node));
    if (comma == string_view::npos)
      break;
    list = list.substr(comma + 1);
    if (list.empty())
      return string{"empty host after ','"};
  }
  out.host = out.nodes.front().host;
  out.port = out.nodes.front().port;
  return std::nullopt;
}

// Splits `query` into name=value pairs for `take(name, value)`, which returns a failure
// for an unknown or bad parameter.
template <class Take>
failure each_param(string_view query, Take take) {
  if (query.empty())
    return string{"empty query string after '?'"};
  while (!query.empty()) {
    auto amp = query.find('&');
    auto param = query.substr(0, amp);
    query = amp == string_view::npos ? string_view{} : query.substr(amp + 1);
    if (param.empty())
      return string{"empty query parameter"};
    auto eq = param.find('=');
    auto name = param.substr(0, eq);
    if (eq == string_view::npos)
      return "query parameter '" + string{name} + "' has no value";
    if (auto err = take(name, param.substr(eq + 1)))
      return err;
  }
  return std::nullopt;
}

// `err` of a parameter, unless `seen` says it came before.
failure once(bool& seen, string_view name, failure err) {
  if (seen)
    return "query parameter '" + string{name} + "' given twice";
  seen = true;
  return err;
}

// Query parameters of a sentinel URL: the sentinels' own credentials.
failure parse_sentinel_query(string_view query, redis_url& out) {
  bool seen_user = false;
  bool seen_password = false;
  return each_param(query, [&](string_view name, string_view value) -> failure {
    if (name == "sentinel_user")
      return once(seen_user, name, decode(value, out.sentinel_user, name, true));
    if (name == "sentinel_password")
      return once(seen_password, name, decode(value, out.sentinel_password, name, true));
    return "unknown query parameter '" + string{name} +
           "' (expected sentinel_user or sentinel_password)";
  });
}

failure parse_cluster(string_view rest, redis_url& out) {
  out.mode = redis_url::topology::cluster;
  if (rest.find_first_of("?#") != string_view::npos)
    return string{"query strings and fragments are not supported in redis+cluster:// URLs"};
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (auto err = parse_userinfo(authority, out))
    return err;
  if (auto err = parse_nodes(authority, redis_url::default_port, out))
    return err;
  if (slash == string_view::npos || slash + 1 == rest.size())
    return std::nullopt;
  if (auto err = parse_db(rest.substr(slash + 1), out.db))
    return err;
  if (out.db != 0)
    return "database " + std::to_string(out.db) +
           " in a cluster URL: Redis Cluster has only database 0";
  return std::nullopt;
}

failure parse_sentinel(string_view rest, redis_url& out) {
  out.mode = redis_url::topology::sentinel;
  if (rest.find('#') != string_view::npos)
    return string{"fragments are not supported in redis+sentinel:// URLs"};
  auto question = rest.find('?');
  if (question != string_view::npos) {
    if (auto err = parse_sentinel_query(rest.substr(question + 1), out))
      return err;
    rest = rest.substr(0, question);
  }
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (auto err = parse_userinfo(authority, out))
    return err;
  if (auto err = parse_nodes(authority, redis_url::default_sentinel_port, out))
    return err;
  auto path = slash == string_view::npos ? string_view{} : rest.substr(slash + 1);
  auto next = path.find('/');
  if (auto err = decode(path.substr(0, next), out.master_name, "master name"))
    return err;
  if (out.master_name.empty())
    return string{"a sentinel URL names the primary: redis+sentinel://host:26379/mymaster"};
  if (next == string_view::npos || next + 1 == path.size())
    return std::nullopt;
  auto db = path.substr(next + 1);
  if (auto extra = db.find('/'); extra != string_view::npos)
    return "unexpected '" + string{db.substr(extra)} + "' after the database number";
  return parse_db(db, out.db);
}

failure parse_query(string_view query, redis_url& out) {
  bool seen_db = false;
  bool seen_user = false;
  bool seen_password = false;
  return each_param(query, [&](string_view name, string_view value) -> failure {
    if (name == "db")
      return once(seen_db, name, parse_db(value, out.db));
    if (name == "user")
      return once(seen_user, name, decode(value, out.user, "user", true));
    if (name == "password" || name == "pass")
      return once(seen_password, name, decode(value, out.password, "password", true));
    return "unknown query parameter '" + string{name} + "' (expected db, user or password)";
  });
}

failure parse_unix(string_view rest, redis_url& out) {
  out.kind = redis_url::transport::unix_socket;
  out.host.clear();
  if (rest.empty() || rest.front() != '/')
    return string{"a unix socket URL needs an absolute path: unix:///path/to/redis.sock"};
  if (rest.find('#') != string_view::npos)
    return string{"fragments are not supported in unix:// URLs"};
  auto question = rest.find('?');
  if (auto err = decode(rest.substr(0, question), out.path, "socket path"))
    return err;
  if (out.path.size() > redis_url::max_socket_path_bytes)
    return "socket path is " + std::to_string(out.path.size()) + " bytes, longer than the " +
           std::to_string(redis_url::max_socket_path_bytes) + " that fit in sockaddr_un";
  if (question == string_view::npos)
    return std::nullopt;
  return parse_query(rest.substr(question + 1), out);
}

string lowercase(string_view x) {
  string result{x};
  for (auto& c : result)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return result;
}

failure parse_url(string_view text, redis_url& out) {
  if (text.size() > redis_url::max_url_bytes)
    return "URL is longer than " + std::to_string(redis_url::max_url_bytes) + " bytes";
  for (size_t i = 0; i < text.size(); ++i) {
    auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x20 || b == 0x7f)
      return "control character at offset " + std::to_string(i);
    if (b == ' ')
      return "space at offset " + std::to_string(i) + " (percent-encode it as %20)";
    if (b >= 0x80)
      return "non-ASCII byte at offset " + std::to_string(i) + " (percent-encode it)";
  }
  if (text.empty())
    return string{"empty URL"};
  auto sep = text.find("://");
  if (sep == string_view::npos)
    return string{"missing scheme: expected redis://host or unix:///path"};
  auto scheme = lowercase(text.substr(0, sep));
  auto rest = text.substr(sep + 3);
  if (scheme == "redis")
    return parse_tcp(rest, out);
  if (scheme == "unix" || scheme == "redis+unix")
    return parse_unix(rest, out);
  if (scheme == "redis+cluster")
    return parse_cluster(rest, out);
  if (scheme == "redis+sentinel")
    return parse_sentinel(rest, out);
  if (scheme == "rediss")
    return string{"rediss:// (TLS) is not supported: Debian's hiredis 0.14 has no TLS"};
  return "unsupported scheme '" + scheme +
         "': expected redis://, unix://, redis+cluster:// or redis+sentinel://";
}

string encode(string_view x, bool keep_slash = false) {
  static constexpr char digits[] = "0123456789ABCDEF";
  string result;
  for (auto c : x) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      result.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      result.push_back('%');
      result.push_back(digits[b >> 4]);
      result.push_back(digits[b & 15]);
    }
  }
  return result;
}

} // namespace

std::optional<redis_url> redis_url::parse(std::string_view text, std::string* error) {
  redis_url result;
  if (auto err = parse_url(text, result)) {
    if (error)
      *error = std::move(*err);
    return std::nullopt;
  }
  return result;
}

std::string to_string(const redis_url& x) {
  std::string result;
  if (x.kind == redis_url::transport::unix_socket) {
    result = "unix://" + encode(x.path, true) + "?db=" + std::to_string(x.db);
    if (!x.user.empty())
      result += "&user=" + encode(x.user);
    if (!x.password.empty())
      result += "&password=***";
    return result;
  }
  using topology = redis_url::topology;
  result = x.mode == topology::cluster    ? "redis+cluster://"
           : x.mode == topology::sentinel ? "redis+sentinel://"
                                          : "redis://";
  if (!x.user.empty() || !x.password.empty()) {
    result += encode(x.user);
    if (!x.password.empty())
      result += ":***";
    result += '@';
  }
  if (x.mode == topology::standalone) {
    result += item_name({x.host, x.port});
  } else {
    for (size_t i = 0; i < x.nodes.size(); ++i)
      result += (i > 0 ? "," : "") + item_name(x.nodes[i]);
  }
  if (x.mode == topology::sentinel)
    result += '/' + encode(x.master_name);
  result += '/' + std::to_string(x.db);
  auto sep = '?';
  if (!x.sentinel_user.empty()) {
    result += "?sentinel_user=" + encode(x.sentinel_user);
    sep = '&';
  }
  if (!x.sentinel_password.empty())
    result += std::string{sep} + "sentinel_password=***";
  return result;
}

std::string to_url(const redis_sentinel_config& x) {
  std::string result = "redis+sentinel://";
  if (!x.user.empty() || !x.password.empty()) {
    result += encode(x.user);
    if (!x.password.empty())
      result += ':' + encode(x.password);
    result += '@';
  }
  for (size_t i = 0; i < x.sentinels.size(); ++i)
    result += (i > 0 ? "," : "") + x.sentinels[i];
  result += '/' + encode(x.master) + '/' + std::to_string(x.db);
  auto sep = '?';
  if (!x.sentinel_user.empty()) {
    result += "?sentinel_user=" + encode(x.sentinel_user);
    sep = '&';
  }
  if (!x.sentinel_password.empty())
    result += std::string{sep} + "sentinel_password=" + encode(x.sentinel_password);
  return result;
}

std::string configured_url(const redis_tier_config& x) {
  return x.url.empty() && !x.sentinel.master.empty() ? to_url(x.sentinel) : x.url;
}

caf::expected<redis_url> resolve_redis_url(const std::string& explicit_url) {
  std::string text = explicit_url;
  if (text.empty()) {
    auto* env = std::getenv("REDIS_URL");
    text = env != nullptr && *env != '\0' ? env : "redis://127.0.0.1:6379";
  }
  std::string reason;
  auto url = redis_url::parse(text, &reason);
  if (!url)
    return make_error(errc::invalid_url, reason);
  return std::move(*url);
}

} // namespace mtcache
