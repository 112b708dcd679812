// runtime/metrics and the /metrics endpoint (actors/detail/metrics_endpoint): real actor
// systems, real HTTP on loopback, promtool on what is served.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "mtcache/actors/callable_loader.hpp"
#include "mtcache/cli/http_get.hpp"
#include "mtcache/cli/metrics_summary.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/metrics.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "support/actor_system_fixture.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;

namespace {

// The value of the one sample of `name` whose labels include `labels`; -1 if none.
double value_of(const std::string& text, const std::string& name,
                const std::map<std::string, std::string>& labels) {
  auto samples = cli::parse_exposition(text);
  if (!samples)
    return -1;
  for (auto& s : *samples) {
    if (s.name != name)
      continue;
    bool match = true;
    for (auto& [k, v] : labels)
      if (!s.labels.count(k) || s.labels.at(k) != v)
        match = false;
    if (match)
      return s.value;
  }
  return -1;
}

std::string promtool_findings(const std::string& text) {
  char path[] = "/tmp/mtcache_metricsXXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    return "mkstemp failed";
  ::close(fd);
  std::ofstream{path} << text;
  auto out = std::string{path} + ".out";
  int rc = std::system(
      ("promtool check metrics < " + std::string{path} + " > " + out + " 2>&1").c_str());
  std::ifstream report{out};
  std::string findings{std::istreambuf_iterator<char>{report}, {}};
  std::remove(path);
  std::remove(out.c_str());
  return rc == 0 ? findings : "exit " + std::to_string(rc) + ": " + findings;
}

// A raw TCP connection to 127.0.0.1:`port`, for what http_get does not do (keep-alive,
// pipelining, idle connections). Closed with the object.
class raw_connection {
public:
  explicit raw_connection(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;
  ~raw_connection() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  bool connected() const { return fd_ >= 0; }

  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  // Reads until `done(received)` holds, the peer closes or 5 s pass; false on close or
  // timeout.
  template <class Done>
  bool read_until(Done done) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done(received)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        return false;
      char buf[16384];
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0)
        return false;
      received.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  // Whether the peer closed the connection within 5 s.
  bool closed_by_peer() {
    return !read_until([](const std::string&) { return false; }) && received.empty();
  }

  std::string received;

private:
  int fd_;
};

// The number of complete HTTP responses (with Content-Length) at the front of `bytes`;
// `head_only` for answers to HEAD, which carry no body.
size_t complete_responses(const std::string& bytes, bool head_only = false) {
  size_t n = 0;
  size_t pos = 0;
  for (;;) {
    auto head_end = bytes.find("\r\n\r\n", pos);
    if (head_end == std::string::npos)
      return n;
    auto length_at = bytes.find("Content-Length: ", pos);
    if (length_at == std::string::npos || length_at > head_end)
      return n;
    auto length = std::stoul(bytes.substr(length_at + 16));
    auto end = head_end + 4 + (head_only ? 0 : length);
    if (end > bytes.size())
      return n;
    ++n;
    pos = end;
  }
}

class Metrics : public mtcache::testing::actor_system_fixture {
protected:
  void TearDown() override {
    clients.clear();
    for (auto& c : caches)
      stop_cache(c);
  }

  blocking_cache& start(const std::string& name, bool serve) {
    auto cfg = cache_config::embedded();
    cfg.name = name;
    cfg.metrics.enabled = serve;
    cfg.metrics.port = 0;
    auto spawned = spawn_cache(sys, cfg);
    EXPECT_TRUE(spawned) << sys.render(spawned.error());
    caches.push_back(*spawned);
    clients.push_back(std::make_unique<blocking_cache>(sys, *spawned, 5s));
    return *clients.back();
  }

  std::string url(const std::string& path = "/metrics") {
    return "http://127.0.0.1:" + std::to_string(metrics_port(sys)) + path;
  }

  std::string scrape() {
    auto reply = cli::http_get(url());
    EXPECT_TRUE(reply) << sys.render(reply.error());
    if (!reply)
      return {};
    EXPECT_EQ(reply->status, 200);
    return reply->body;
  }

  std::vector<cache_actor> caches;
  std::vector<std::unique_ptr<blocking_cache>> clients;
};

} // namespace

TEST_F(Metrics, EndpointServesEveryCacheOfTheSystem) {
  auto& a = start("alpha", true);
  auto& b = start("beta", false); // no endpoint of its own, but in the same system
  ASSERT_NE(metrics_port(sys), 0);
  ASSERT_TRUE(a.set("k", bytes{"v"}));
  ASSERT_TRUE(b.set("k", bytes{"v"}));
  ASSERT_TRUE(b.set("j", bytes{"v"}));
  auto reply = cli::http_get(url());
  ASSERT_TRUE(reply) << sys.render(reply.error());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(value_of(reply->body, "mtcache_puts_total", {{"cache", "alpha"}}), 1);
  EXPECT_EQ(value_of(reply->body, "mtcache_puts_total", {{"cache", "beta"}}), 2);
  EXPECT_EQ(value_of(reply->body, "mtcache_tier_entries", {{"cache", "beta"}, {"tier", "1"}}), 2);
}

TEST_F(Metrics, PromtoolAcceptsWhatIsServed) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "promtool not installed (Debian package prometheus; scripts/setup)";
  auto& a = start("alpha", true);
  start("beta", false);
  ASSERT_TRUE(a.set("k", bytes{"v"}));
  ASSERT_TRUE(a.get("k"));
  ASSERT_TRUE(a.get("missing"));
  EXPECT_EQ(promtool_findings(scrape()), "");
}

TEST_F(Metrics, CountersMoveWithTraffic) {
  auto& a = start("alpha", true);
  ASSERT_TRUE(a.set("k", bytes{"v"}));
  auto before = scrape();
  auto hits = [](const std::string& text) {
    return value_of(text, "mtcache_gets_total", {{"cache", "alpha"}, {"result", "hit"}});
  };
  auto misses = [](const std::string& text) {
    return value_of(text, "mtcache_gets_total", {{"cache", "alpha"}, {"result", "miss"}});
  };
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(a.get("k"));
  ASSERT_TRUE(a.get("absent"));
  ASSERT_TRUE(a.remove("k"));
  auto after = scrape();
  EXPECT_EQ(hits(after) - hits(before), 5);
  EXPECT_EQ(misses(after) - misses(before), 1);
  EXPECT_EQ(value_of(after, "mtcache_removals_total", {{"cache", "alpha"}}), 1);
  EXPECT_EQ(value_of(after, "mtcache_tier_entries", {{"cache", "alpha"}}), 0);
}

TEST_F(Metrics, LoadsLandInTheDurationHistogram) {
  auto& a = start("alpha", true);
  auto loader = spawn_callable_loader(sys, [](const std::string& key) -> caf::expected<bytes> {
    if (key == "bad")
      return make_error(errc::loader_failed, "no");
    return bytes{"loaded"};
  });
  ASSERT_TRUE(a.get_or_compute("good", compute_options{}, loader));
  EXPECT_FALSE(a.get_or_compute("bad", compute_options{}, loader));
  auto text = scrape();
  EXPECT_EQ(value_of(text, "mtcache_loads_total", {{"cache", "alpha"}, {"result", "success"}}), 1);
  EXPECT_EQ(value_of(text, "mtcache_loads_total", {{"cache", "alpha"}, {"result", "failure"}}), 1);
  EXPECT_EQ(value_of(text, "mtcache_load_duration_seconds_count",
                     {{"cache", "alpha"}, {"result", "success"}}),
            1);
  EXPECT_EQ(value_of(text, "mtcache_load_duration_seconds_bucket",
                     {{"cache", "alpha"}, {"result", "failure"}, {"le", "+Inf"}}),
            1);
  // At least one flight per key; a flight spawned for a miss walks the tiers before the
  // caller's loader reaches it, and if it finds nothing first it ends and the coordinator
  // starts another one for the loader (measured: 3 in 6 of 20 runs).
  EXPECT_GE(value_of(text, "mtcache_flights_started_total", {{"cache", "alpha"}}), 2);
}

TEST_F(Metrics, RenderMetricsNeedsNoEndpoint) {
  start("alpha", false);
  start("alpha", false); // a taken name gets a suffix
  EXPECT_EQ(metrics_port(sys), 0);
  auto text = render_metrics(sys);
  ASSERT_TRUE(text) << sys.render(text.error());
  EXPECT_EQ(value_of(*text, "mtcache_puts_total", {{"cache", "alpha"}}), 0);
  EXPECT_EQ(value_of(*text, "mtcache_puts_total", {{"cache", "alpha_2"}}), 0);
}

TEST_F(Metrics, UnknownPathsAndMethodsGetHttpErrors) {
  start("alpha", true);
  auto reply = cli::http_get(url("/nope"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 404);
  reply = cli::http_get(url("/"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

TEST_F(Metrics, ASecondAddressInOneSystemIsRefused) {
  start("alpha", true);
  auto cfg = cache_config::embedded();
  cfg.metrics.enabled = true;
  cfg.metrics.port =
      static_cast<uint16_t>(metrics_port(sys) == 65535 ? 65534 : metrics_port(sys) + 1);
  auto spawned = spawn_cache(sys, cfg);
  ASSERT_FALSE(spawned);
  EXPECT_TRUE(is(spawned.error(), errc::invalid_config)) << sys.render(spawned.error());
  // Port 0 means "wherever metrics are served": it joins.
  cfg.metrics.port = 0;
  spawned = spawn_cache(sys, cfg);
  ASSERT_TRUE(spawned) << sys.render(spawned.error());
  caches.push_back(*spawned);
}

TEST_F(Metrics, EndpointClosesWithItsLastCache) {
  start("alpha", true);
  auto address = url();
  ASSERT_TRUE(cli::http_get(address));
  clients.clear();
  for (auto& c : caches)
    stop_cache(c);
  caches.clear();
  EXPECT_TRUE(eventually([&] { return !cli::http_get(address, 500ms); }));
}

TEST_F(Metrics, AnEndpointAddressInUseFailsTheSpawn) {
  auto taken = mtcache::testing::free_loopback_port();
  // Hold the port with a listening socket of our own.
  auto first = cache_config::embedded();
  first.metrics.enabled = true;
  first.metrics.port = taken;
  auto spawned = spawn_cache(sys, first);
  ASSERT_TRUE(spawned) << sys.render(spawned.error());
  caches.push_back(*spawned);
  caf::actor_system_config other_cfg;
  mtcache::testing::actor_system_fixture::init(other_cfg);
  {
    caf::actor_system other{other_cfg};
    auto clash = spawn_cache(other, first);
    ASSERT_FALSE(clash);
    EXPECT_TRUE(is(clash.error(), errc::backend_unavailable)) << other.render(clash.error());
  }
}

TEST_F(Metrics, KeepAliveAnswersPipelinedRequestsInOrder) {
  auto& a = start("alpha", true);
  ASSERT_TRUE(a.set("k", bytes{"v"}));
  raw_connection conn{metrics_port(sys)};
  ASSERT_TRUE(conn.connected());
  std::string get = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  // Two scrapes and a 404 in one write: answered in order, on the same connection.
  ASSERT_TRUE(conn.send(get + get + "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(conn.read_until([](const std::string& r) { return complete_responses(r) == 3; }))
      << conn.received;
  auto first_404 = conn.received.find("HTTP/1.1 404");
  auto second_200 = conn.received.find("HTTP/1.1 200", conn.received.find("HTTP/1.1 200") + 1);
  ASSERT_NE(second_200, std::string::npos) << conn.received;
  EXPECT_LT(second_200, first_404);
  // Still open: a HEAD gets the headers only.
  conn.received.clear();
  ASSERT_TRUE(conn.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(conn.read_until([](const std::string& r) { return complete_responses(r, true); }));
  EXPECT_EQ(conn.received.find("HTTP/1.1 200"), 0u) << conn.received;
  EXPECT_EQ(conn.received.find("# TYPE"), std::string::npos) << conn.received;
  // "Connection: close" is honoured after the answer.
  conn.received.clear();
  ASSERT_TRUE(conn.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_FALSE(conn.read_until([](const std::string&) { return false; }));
  EXPECT_EQ(complete_responses(conn.received), 1u);
}

TEST_F(Metrics, ConnectionsBeyondTheLimitAreClosed) {
  auto cfg = cache_config::embedded();
  cfg.metrics.enabled = true;
  cfg.metrics.port = 0;
  cfg.metrics.max_connections = 3;
  auto spawned = spawn_cache(sys, cfg);
  ASSERT_TRUE(spawned) << sys.render(spawned.error());
  caches.push_back(*spawned);
  std::vector<std::unique_ptr<raw_connection>> held;
  std::string get = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<raw_connection>(metrics_port(sys)));
    // Answered, so the endpoint took it on before the next one connects.
    ASSERT_TRUE(held.back()->send(get));
    ASSERT_TRUE(
        held.back()->read_until([](const std::string& r) { return complete_responses(r) == 1; }));
  }
  raw_connection extra{metrics_port(sys)};
  ASSERT_TRUE(extra.connected());
  EXPECT_TRUE(extra.closed_by_peer());
  // A held connection closes; then a new one is served again.
  held.pop_back();
  EXPECT_TRUE(eventually([&] {
    raw_connection next{metrics_port(sys)};
    return next.send(get) &&
           next.read_until([](const std::string& r) { return complete_responses(r) == 1; });
  }));
}

TEST_F(Metrics, IdleConnectionsAreClosed) {
  auto cfg = cache_config::embedded();
  cfg.metrics.enabled = true;
  cfg.metrics.port = 0;
  cfg.metrics.idle_timeout = 200ms;
  auto spawned = spawn_cache(sys, cfg);
  ASSERT_TRUE(spawned) << sys.render(spawned.error());
  caches.push_back(*spawned);
  raw_connection conn{metrics_port(sys)};
  // The endpoint's idle time starts at its last read or write, after this and before the
  // answer arrives here: the close comes at least a timeout after this.
  auto asked = std::chrono::steady_clock::now();
  ASSERT_TRUE(conn.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(conn.read_until([](const std::string& r) { return complete_responses(r) == 1; }));
  // Closed between one and one and a quarter timeouts later (read_until gives up after 5 s).
  EXPECT_FALSE(conn.read_until([](const std::string&) { return false; }));
  EXPECT_GE(std::chrono::steady_clock::now() - asked, 200ms);
  EXPECT_EQ(complete_responses(conn.received), 1u);
}

TEST_F(Metrics, AfterItsLastCacheTheEndpointMayMoveElsewhere) {
  start("alpha", true);
  auto old_address = url();
  clients.clear();
  stop_cache(caches.back());
  caches.clear();
  ASSERT_TRUE(eventually([&] { return !cli::http_get(old_address, 500ms); }));
  // The old endpoint stopped listening and exits a moment later (a timer of its own may
  // hold it): from then on a cache on another address is served there, not refused as a
  // second address.
  auto cfg = cache_config::embedded();
  cfg.metrics.enabled = true;
  cfg.metrics.port = mtcache::testing::free_loopback_port();
  caf::expected<cache_actor> spawned{caf::error{}};
  ASSERT_TRUE(eventually([&] {
    spawned = spawn_cache(sys, cfg);
    return static_cast<bool>(spawned);
  })) << sys.render(spawned.error());
  caches.push_back(*spawned);
  EXPECT_EQ(metrics_port(sys), cfg.metrics.port);
  auto reply = cli::http_get(url());
  ASSERT_TRUE(reply) << sys.render(reply.error());
  EXPECT_EQ(reply->status, 200);
}
