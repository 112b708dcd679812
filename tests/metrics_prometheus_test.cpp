// Integration: a real Prometheus server (Debian's package) scrapes a cache's /metrics and
// answers a query for one of its metrics through its HTTP API.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "mtcache/cli/http_get.hpp"
#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/metrics.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "support/actor_system_fixture.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;

namespace {

// A prometheus child on a free loopback port, killed with the object.
class prometheus_server {
public:
  ~prometheus_server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty())
      std::system(("rm -rf " + dir_).c_str());
  }

  bool start(uint16_t target_port) {
    char dir[] = "/tmp/mtcache_promXXXXXX";
    if (!mkdtemp(dir))
      return false;
    dir_ = dir;
    std::ofstream{dir_ + "/prometheus.yml"}
        << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        << "scrape_configs:\n  - job_name: mtcache\n    static_configs:\n"
        << "      - targets: ['127.0.0.1:" << target_port << "']\n";
    port_ = mtcache::testing::free_loopback_port();
    pid_ = ::fork();
    if (pid_ == 0) {
      auto log = dir_ + "/prometheus.log";
      freopen(log.c_str(), "w", stdout);
      freopen(log.c_str(), "a", stderr);
      auto config = "--config.file=" + dir_ + "/prometheus.yml";
      auto storage = "--storage.tsdb.path=" + dir_ + "/data";
      auto listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
      execlp("prometheus", "prometheus", config.c_str(), storage.c_str(), listen.c_str(),
             "--log.level=warn", static_cast<char*>(nullptr));
      _exit(127);
    }
    return pid_ > 0;
  }

  uint16_t port() const { return port_; }

private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string dir_;
};

class MetricsPrometheus : public mtcache::testing::actor_system_fixture {};

} // namespace

TEST_F(MetricsPrometheus, PrometheusScrapesAndAnswersAQuery) {
  if (std::system("command -v prometheus >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "prometheus not installed (Debian package prometheus; scripts/setup)";
  auto cfg = cache_config::embedded();
  cfg.name = "integration";
  cfg.metrics.enabled = true;
  cfg.metrics.port = 0;
  auto cache = spawn_cache(sys, cfg);
  ASSERT_TRUE(cache) << sys.render(cache.error());
  {
    blocking_cache client{sys, *cache, 5s};
    for (int i = 0; i < 7; ++i)
      ASSERT_TRUE(client.set("k" + std::to_string(i), bytes{"v"}));
    prometheus_server prom;
    ASSERT_TRUE(prom.start(metrics_port(sys)));
    auto query = "http://127.0.0.1:" + std::to_string(prom.port()) +
                 "/api/v1/query?query=mtcache_puts_total%7Bcache%3D%22integration%22%7D";
    std::string body;
    // Prometheus starts, scrapes every second; the sample shows up within a few seconds.
    EXPECT_TRUE(eventually(
        [&] {
          auto reply = cli::http_get(query, 1s);
          if (!reply || reply->status != 200)
            return false;
          body = reply->body;
          return body.find("\"integration\"") != std::string::npos;
        },
        40s))
        << body;
    EXPECT_NE(body.find("\"status\":\"success\""), std::string::npos) << body;
    EXPECT_NE(body.find(",\"7\"]"), std::string::npos) << body;
  }
  stop_cache(*cache);
}
