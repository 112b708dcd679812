#include "mtcache/redis/sentinel.hpp"

#include <cstdlib>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "mtcache/messages/error.hpp"
#include "mtcache/redis/redis_connection.hpp"

namespace mtcache::detail {

namespace {

using reply_ptr = redis_reply_ptr;

// What is known of one set in this process: which sentinel answered last (the next
// resolution starts there), the primary the sentinels announced last, and a promotion
// under way. Shared by every connector and watcher, hence the mutex.
struct set_state {
  size_t last_answered = 0;
  std::string announced;
  std::string promoting;
  int64_t promoting_since_ms = 0;
};

struct known_sets {
  std::mutex mtx;
  std::unordered_map<std::string, set_state> sets;
};

known_sets& known() {
  static known_sets x;
  return x;
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

std::string set_key(const redis_url& url) {
  return to_string(url);
}

reply_ptr run(redisContext* c, std::initializer_list<std::string_view> args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (auto a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return reply_ptr{static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()))};
}

std::string text(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
                          r->type == REDIS_REPLY_ERROR)
             ? std::string{r->str, r->len}
             : std::string{};
}

// Asks one sentinel. Sets `unknown` when it answered but does not monitor the master.
caf::expected<redis_url::endpoint> ask(const redis_url& url, const redis_url::endpoint& sentinel,
                                       std::chrono::milliseconds timeout, bool& unknown) {
  redis_url at;
  at.host = sentinel.host;
  at.port = sentinel.port;
  at.user = url.sentinel_user;
  at.password = url.sentinel_password;
  auto connected = connect_redis(at, timeout);
  if (!connected)
    return std::move(connected.error());
  auto& c = *connected;
  auto r = run(c.get(), {"SENTINEL", "get-master-addr-by-name", url.master_name});
  if (!r)
    return make_error(errc::backend_unavailable, c->errstr);
  if (r->type == REDIS_REPLY_ERROR)
    return make_error(errc::backend_error, text(r.get()));
  if (r->type == REDIS_REPLY_NIL) {
    unknown = true;
    return make_error(errc::invalid_config, "does not monitor '" + url.master_name + "'");
  }
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
    return make_error(errc::backend_error, "unexpected reply to get-master-addr-by-name");
  auto port = std::strtol(text(r->element[1]).c_str(), nullptr, 10);
  if (port <= 0 || port > 65535)
    return make_error(errc::backend_error, "reported an invalid port");
  return redis_url::endpoint{text(r->element[0]), static_cast<uint16_t>(port)};
}

} // namespace

std::string host_port(const redis_url& url) {
  auto host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  return host + ":" + std::to_string(url.port);
}

caf::expected<redis_url> ask_sentinels(const redis_url& url, std::chrono::milliseconds timeout) {
  auto n = url.nodes.size();
  if (n == 0)
    return make_error(errc::invalid_config, "a sentinel URL without sentinels");
  auto key = set_key(url);
  size_t start = 0;
  std::string promoting;
  {
    auto& x = known();
    std::lock_guard<std::mutex> guard{x.mtx};
    auto& st = x.sets[key];
    start = st.last_answered % n;
    if (!st.promoting.empty() && now_ms() - st.promoting_since_ms < promotion_hint_ms)
      promoting = st.promoting;
  }
  if (!promoting.empty()) {
    redis_url out = url;
    out.mode = redis_url::topology::standalone;
    out.nodes.clear();
    auto colon = promoting.rfind(':');
    out.host = promoting.substr(0, colon);
    if (out.host.size() > 1 && out.host.front() == '[')
      out.host = out.host.substr(1, out.host.size() - 2);
    out.port = static_cast<uint16_t>(std::strtol(promoting.c_str() + colon + 1, nullptr, 10));
    return out;
  }
  std::string reasons;
  bool unknown = false;
  for (size_t k = 0; k < n; ++k) {
    auto i = (start + k) % n;
    auto& sentinel = url.nodes[i];
    auto primary = ask(url, sentinel, timeout, unknown);
    if (primary) {
      {
        auto& x = known();
        std::lock_guard<std::mutex> guard{x.mtx};
        x.sets[key].last_answered = i;
      }
      redis_url out = url;
      out.mode = redis_url::topology::standalone;
      out.host = primary->host;
      out.port = primary->port;
      out.nodes.clear();
      return out;
    }
    redis_url where;
    where.host = sentinel.host;
    where.port = sentinel.port;
    auto& context = primary.error().context();
    auto why = context.match_elements<std::string>() ? context.get_as<std::string>(0)
                                                     : std::string{"failed"};
    reasons += (reasons.empty() ? "" : "; ") + host_port(where) + ": " + why;
  }
  if (unknown)
    return make_error(errc::invalid_config,
                      "no sentinel knows the master '" + url.master_name + "' (" + reasons + ")");
  return make_error(errc::backend_unavailable,
                    "no sentinel of '" + url.master_name + "' answered (" + reasons + ")");
}

void skip_sentinel(const redis_url& url) {
  if (url.nodes.empty())
    return;
  auto& x = known();
  std::lock_guard<std::mutex> guard{x.mtx};
  auto& i = x.sets[set_key(url)].last_answered;
  i = (i + 1) % url.nodes.size();
}

bool announce_primary(const redis_url& url, const std::string& primary, primary_news how) {
  auto& x = known();
  std::lock_guard<std::mutex> guard{x.mtx};
  auto& st = x.sets[set_key(url)];
  if (how == primary_news::answer) {
    if (st.announced.empty())
      st.announced = primary;
    return false;
  }
  if (how == primary_news::switch_master)
    st.promoting.clear(); // the sentinels name the new primary themselves now
  if (st.announced == primary)
    return false;
  bool news = !st.announced.empty();
  st.announced = primary;
  if (how == primary_news::promotion) {
    st.promoting = primary;
    st.promoting_since_ms = now_ms();
  }
  return news;
}

caf::error check_primary(redisContext* c, const std::string& where) {
  auto r = run(c, {"ROLE"});
  if (!r)
    return make_error(errc::backend_unavailable, "ROLE at " + where + ": " + c->errstr);
  if (r->type == REDIS_REPLY_ERROR)
    return make_error(errc::backend_error, "ROLE at " + where + ": " + text(r.get()));
  auto role = r->type == REDIS_REPLY_ARRAY && r->elements > 0 ? text(r->element[0]) : "";
  if (role != "master")
    return make_error(errc::backend_unavailable, where + " reports itself " +
                                                     (role.empty() ? "without a role" : role) +
                                                     ", not master: refusing it");
  return caf::none;
}

} // namespace mtcache::detail
