// mtcache-cli: what an operator of a cache fleet runs by hand. Exit codes: 0 done, 1 the
// operation failed (unreachable, error reply, unreadable answer), 2 the command line is wrong.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "mtcache/cli/http_get.hpp"
#include "mtcache/cli/metrics_summary.hpp"
#include "mtcache/cli/redis_channel.hpp"
#include "mtcache/messages/error.hpp"

using namespace mtcache;

namespace {

constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

const char* usage_text =
    R"(usage: mtcache-cli COMMAND [OPTIONS] ARGS

  stats [--raw] URL                  a node's metrics, summarised (--raw: as served);
                                     URL is http://host:port or http://host:port/metrics
  invalidate KEY...                  remove keys from every node's local tiers
  invalidate-pattern PATTERN         remove keys matching a Redis glob from every node
  update KEY VALUE [--ttl-ms N]      push a new value into every node's local tiers
  tail [--stream NAME] [--from ID] [--count N]
                                     follow the audit stream (until Ctrl-C, or N entries)

options of invalidate, invalidate-pattern, update and tail:
  --redis URL         default $REDIS_URL, else redis://127.0.0.1:6379
  --channel NAME      default cache:invalidate (with a channel_prefix: prefix + name)
  --secret SECRET     sign with this HMAC secret; default $MTCACHE_SECRET (keeps it out of
                      the shell history)
  --timeout-ms N      default 5000

exit codes: 0 done, 1 the operation failed, 2 wrong command line
)";

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int) {
  stop_requested = 1;
}

int usage(const std::string& why) {
  std::cerr << "mtcache-cli: " << why << "\n\n" << usage_text;
  return exit_usage;
}

int fail(const caf::error& err, const std::string& what) {
  std::string detail;
  if (!err.context().empty())
    detail = ": " + to_string(err.context());
  std::cerr << "mtcache-cli: " << what << " failed (" << to_string(static_cast<errc>(err.code()))
            << ")" << detail << "\n";
  return exit_failed;
}

struct options {
  std::string redis;
  std::string channel = "cache:invalidate";
  std::string secret;
  std::string stream = "cache:invalidations";
  std::string from;
  uint64_t count = 0;
  int64_t ttl_ms = -1;
  bool raw = false;
  std::chrono::milliseconds timeout{5000};
  std::vector<std::string> args;
};

bool parse_number(const std::string& text, int64_t& out) {
  char* end = nullptr;
  out = std::strtoll(text.c_str(), &end, 10);
  return !text.empty() && *end == '\0';
}

// Options anywhere after the command; the rest are positional. Returns an error text.
std::string parse(int argc, char** argv, options& o) {
  if (auto* env = std::getenv("REDIS_URL"))
    o.redis = env;
  if (auto* env = std::getenv("MTCACHE_SECRET"))
    o.secret = env;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc)
        return false;
      out = argv[++i];
      return true;
    };
    std::string text;
    int64_t n = 0;
    if (a == "--raw") {
      o.raw = true;
    } else if (a == "--redis") {
      if (!value(o.redis))
        return "--redis needs a URL";
    } else if (a == "--channel") {
      if (!value(o.channel) || o.channel.empty())
        return "--channel needs a name";
    } else if (a == "--secret") {
      if (!value(o.secret))
        return "--secret needs a value";
    } else if (a == "--stream") {
      if (!value(o.stream) || o.stream.empty())
        return "--stream needs a name";
    } else if (a == "--from") {
      if (!value(o.from))
        return "--from needs a stream id";
    } else if (a == "--count" || a == "--ttl-ms" || a == "--timeout-ms") {
      if (!value(text) || !parse_number(text, n) || n < 0 || (a == "--timeout-ms" && n == 0))
        return a + " needs a " + (a == "--timeout-ms" ? "positive" : "non-negative") + " number";
      if (a == "--count")
        o.count = static_cast<uint64_t>(n);
      else if (a == "--ttl-ms")
        o.ttl_ms = n;
      else
        o.timeout = std::chrono::milliseconds(n);
    } else if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      return "unknown option " + a;
    } else {
      o.args.push_back(a);
    }
  }
  return {};
}

int stats(const options& o) {
  if (o.args.size() != 1)
    return usage("stats needs exactly one URL");
  auto url = o.args[0];
  // http://host:port alone means the endpoint's /metrics.
  if (url.find('/', url.find("://") == std::string::npos ? 0 : url.find("://") + 3) ==
      std::string::npos)
    url += "/metrics";
  auto reply = cli::http_get(url, o.timeout);
  if (!reply)
    return fail(reply.error(), "reading " + url);
  if (reply->status != 200) {
    std::cerr << "mtcache-cli: " << url << " answered HTTP " << reply->status << "\n";
    return exit_failed;
  }
  if (o.raw) {
    std::cout << reply->body;
    return 0;
  }
  auto samples = cli::parse_exposition(reply->body);
  if (!samples)
    return fail(samples.error(), "parsing the metrics of " + url);
  std::cout << cli::summarize(*samples);
  return 0;
}

int publish(const options& o, const invalidation& change) {
  auto receivers = cli::publish_change(o.redis, o.channel, change, o.secret, o.timeout);
  if (!receivers)
    return fail(receivers.error(), "publishing on " + o.channel);
  std::cout << "published on " << o.channel << " to " << *receivers << " subscriber"
            << (*receivers == 1 ? "" : "s") << "\n";
  if (*receivers == 0)
    std::cerr << "mtcache-cli: warning: no node subscribes to " << o.channel
              << " (wrong channel or prefix?)\n";
  return 0;
}

int tail(const options& o) {
  if (!o.args.empty())
    return usage("tail takes no arguments besides its options");
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  auto err = cli::tail_stream(
      o.redis, o.stream, o.from, o.count, [] { return stop_requested == 0; },
      [](const std::string& line) { std::cout << line << std::endl; }, o.timeout);
  if (err)
    return fail(err, "following " + o.stream);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2)
    return usage("no command given");
  std::string command = argv[1];
  if (command == "-h" || command == "--help" || command == "help") {
    std::cout << usage_text;
    return 0;
  }
  options o;
  if (auto err = parse(argc, argv, o); !err.empty())
    return usage(err);
  if (command == "stats")
    return stats(o);
  if (command == "tail")
    return tail(o);
  invalidation change;
  if (command == "invalidate") {
    if (o.args.empty())
      return usage("invalidate needs at least one key");
    if (o.args.size() == 1) {
      change.type = invalidation::kind::remove;
      change.key = o.args[0];
    } else {
      change.type = invalidation::kind::remove_bulk;
      change.keys = o.args;
    }
  } else if (command == "invalidate-pattern") {
    if (o.args.size() != 1)
      return usage("invalidate-pattern needs exactly one pattern");
    change.type = invalidation::kind::remove_pattern;
    change.pattern = o.args[0];
  } else if (command == "update") {
    if (o.args.size() != 2)
      return usage("update needs a key and a value");
    change.type = invalidation::kind::update;
    change.key = o.args[0];
    change.value = bytes{o.args[1]};
    change.ttl_ms = o.ttl_ms > 0 ? o.ttl_ms : -1;
  } else {
    return usage("unknown command " + command);
  }
  return publish(o, change);
}
