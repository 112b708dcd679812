// The memcached tier against the limit memcached sets, in rounds on one server: a raw
// pipelined meta-protocol client without actors (one thread, non-blocking sockets, every
// answered request replaced at once by a new one) and then the cache with a memcached tier
// alone (L1 disabled), both sending the tier's own commands (`mg <key> v t`,
// `ms <key> 64 T300`) with 64-byte values. Each round measures the limit right before the
// cache, so that a noisy moment on a shared machine hits both sides of the ratio; the round
// with the median ratio is reported.
//
// memaslap (libmemcached-tools) is no stronger limit: it keeps one request per connection
// in flight and parses the text protocol, where this client pipelines hundreds.
//
//   memcached_bench [rounds]   (default 5; memcached from PATH on a free loopback port)
//
// Prints per round and at the end "result <name> <value>" lines for bench/run_all.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "bench_system.hpp"
#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "request_driver.hpp"
#include "round_report.hpp"
#include "support/memcached_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

const std::string value(64, 'v');
// strategy::short_term, as the cache's set sends it: 5 minutes.
const std::string raw_get = "mg mchot v t\r\n";
const std::string raw_set = "ms mcset 64 T300\r\n" + value + "\r\n";

// How long each side of a round runs.
constexpr auto side_duration = 1s;

// One connection of the raw client: requests in flight, and the replies counted as they
// complete (a reply is a line, plus a data block after `VA <n>`).
struct raw_connection {
  int fd = -1;
  size_t in_flight = 0;
  std::string in;
  size_t pos = 0;

  // Complete replies in what arrived so far; consumes them.
  size_t count_replies() {
    size_t n = 0;
    for (;;) {
      auto nl = in.find('\n', pos);
      if (nl == std::string::npos)
        break;
      size_t end = nl + 1;
      if (in.compare(pos, 3, "VA ") == 0) {
        end += std::strtoul(in.c_str() + pos + 3, nullptr, 10) + 2;
        if (end > in.size())
          break;
      }
      pos = end;
      ++n;
    }
    in.erase(0, pos);
    pos = 0;
    return n;
  }
};

int connect_loopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::fprintf(stderr, "memcached_bench: cannot connect to 127.0.0.1:%u\n", port);
    std::exit(1);
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool send_all(int fd, const std::string& out) {
  for (size_t sent = 0; sent < out.size();) {
    auto n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Requests per second of `request` over `connections` connections with `depth` in flight on
// each, for `side_duration`; every reply is answered at once by a new request.
double raw_pipeline(uint16_t port, const std::string& request, size_t connections, size_t depth) {
  std::vector<raw_connection> conns(connections);
  std::vector<pollfd> fds(connections);
  std::string burst;
  for (size_t i = 0; i < depth; ++i)
    burst += request;
  auto begin = clock_type::now();
  auto stop_at = begin + side_duration;
  for (size_t c = 0; c < connections; ++c) {
    conns[c].fd = connect_loopback(port);
    fds[c] = {conns[c].fd, POLLIN, 0};
    send_all(conns[c].fd, burst);
    conns[c].in_flight = depth;
  }
  uint64_t done = 0;
  size_t in_flight = connections * depth;
  char buf[65536];
  std::string out;
  while (in_flight > 0) {
    if (::poll(fds.data(), fds.size(), 2000) <= 0) {
      std::fprintf(stderr, "memcached_bench: memcached stopped answering\n");
      std::exit(1);
    }
    bool more = clock_type::now() < stop_at;
    for (size_t c = 0; c < connections; ++c) {
      if (!(fds[c].revents & POLLIN))
        continue;
      auto& conn = conns[c];
      auto n = ::recv(conn.fd, buf, sizeof(buf), 0);
      if (n <= 0) {
        std::fprintf(stderr, "memcached_bench: memcached closed the connection\n");
        std::exit(1);
      }
      conn.in.append(buf, static_cast<size_t>(n));
      auto replies = conn.count_replies();
      done += replies;
      conn.in_flight -= replies;
      in_flight -= replies;
      if (more && replies > 0) {
        out.clear();
        for (size_t i = 0; i < replies; ++i)
          out += request;
        send_all(conn.fd, out);
        conn.in_flight += replies;
        in_flight += replies;
      }
    }
  }
  auto secs = std::chrono::duration<double>(clock_type::now() - begin).count();
  for (auto& conn : conns)
    ::close(conn.fd);
  return static_cast<double>(done) / secs;
}

// The better of one connection with 256 in flight (as the tier: one connection per server)
// and four with 64 each (memcached spreads connections over its worker threads).
double raw_limit(uint16_t port, const std::string& request) {
  auto one = raw_pipeline(port, request, 1, 256);
  auto four = raw_pipeline(port, request, 4, 64);
  std::printf("  raw %.2s: 1 x 256 %.0f, 4 x 64 %.0f ops/s\n", request.c_str(), one, four);
  return std::max(one, four);
}

// Requests per second through the cache with `outstanding` in flight, for about
// `side_duration` (batches of 20 480 until it has passed).
template <class Reply, class... Ts>
double through_cache(caf::actor_system& sys, const cache_actor& cache, size_t outstanding,
                     Ts... xs) {
  constexpr size_t batch = 20480;
  size_t total = 0;
  auto begin = clock_type::now();
  do {
    bench::drive<Reply>(sys, cache, batch, outstanding, nullptr, caf::duration{caf::infinite},
                        xs...);
    total += batch;
  } while (clock_type::now() - begin < side_duration);
  return static_cast<double>(total) /
         std::chrono::duration<double>(clock_type::now() - begin).count();
}

} // namespace

using mtcache::bench::report;
using mtcache::bench::round_result;

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
  if (rounds < 1) {
    std::fprintf(stderr, "usage: memcached_bench [rounds]\n");
    return 2;
  }
  mtcache::testing::memcached_server server;
  if (!server.start()) {
    std::fprintf(stderr, "memcached_bench: %s\n", server.error().c_str());
    return 1;
  }
  caf::actor_system_config cfg;
  caf::actor_system sys{bench::configure(cfg)};
  cache_config config;
  memcached_tier_config m;
  m.url = server.url();
  config.add_memcached_tier(tier_config::at_level(2), m);
  auto spawned = spawn_cache(sys, config);
  if (!spawned) {
    std::fprintf(stderr, "memcached_bench: %s\n", sys.render(spawned.error()).c_str());
    return 1;
  }
  auto cache = *spawned;
  {
    caf::scoped_actor self{sys};
    bool ok = false;
    for (int i = 0; i < 100 && !ok; ++i) {
      self->request(cache, 5s, put_atom::value, std::string{"mchot"}, bytes{value},
                    strategy::long_term())
          .receive([&](write_ack& ack) { ok = ack.written == 1; }, [](caf::error&) {});
      if (!ok)
        std::this_thread::sleep_for(20ms);
    }
    if (!ok) {
      std::fprintf(stderr, "memcached_bench: the memcached tier did not connect\n");
      return 1;
    }
  }
  std::vector<round_result> gets;
  std::vector<round_result> sets;
  for (int r = 1; r <= rounds; ++r) {
    auto get_limit = raw_limit(server.port(), raw_get);
    auto get =
        std::max(through_cache<lookup>(sys, cache, 256, get_atom::value, std::string{"mchot"}),
                 through_cache<lookup>(sys, cache, 1024, get_atom::value, std::string{"mchot"}));
    auto set_limit = raw_limit(server.port(), raw_set);
    auto set =
        std::max(through_cache<write_ack>(sys, cache, 256, put_atom::value, std::string{"mcset"},
                                          bytes{value}, strategy::short_term()),
                 through_cache<write_ack>(sys, cache, 1024, put_atom::value, std::string{"mcset"},
                                          bytes{value}, strategy::short_term()));
    gets.push_back({get, get_limit});
    sets.push_back({set, set_limit});
    std::printf("round %d: get %.0f vs %.0f (%.2f), set %.0f vs %.0f (%.2f) ops/s\n", r, get,
                get_limit, gets.back().ratio(), set, set_limit, sets.back().ratio());
    std::fflush(stdout);
  }
  report("memcached_get", gets);
  report("memcached_set", sets);
  stop_cache(cache);
  return 0;
}
