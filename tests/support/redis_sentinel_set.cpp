#include "support/redis_sentinel_set.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "support/child_process.hpp"
#include "support/loopback_port.hpp"

namespace mtcache::testing {

namespace {

// The value after `field` in a flat field/value reply rendered one item per line
// (SENTINEL master), or "" if it is not there.
std::string field_of(const std::string& reply, const std::string& field) {
  std::istringstream in{reply};
  std::string line;
  while (std::getline(in, line))
    if (line == field && std::getline(in, line))
      return line;
  return {};
}

} // namespace

redis_sentinel_set::~redis_sentinel_set() {
  stop();
}

void redis_sentinel_set::stop() {
  for (auto& s : sentinels_)
    stop_server(s.pid);
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    dir_.clear();
  }
}

bool redis_sentinel_set::start() {
  // Replicas keep the RDB of a full sync in their directory: the temporary one, a file
  // each. A new replica's full sync starts at once, not after the 5 s Redis 7 waits by
  // default for more replicas to share a diskless transfer.
  char tmpl[] = "/tmp/mtcache-sentinel-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    error_ = "cannot make a temporary directory";
    return false;
  }
  dir_ = tmpl;
  auto data_args = [&](size_t i) {
    return std::vector<std::string>{
        "--repl-diskless-sync-delay",        "0", "--dir", dir_, "--dbfilename",
        "node-" + std::to_string(i) + ".rdb"};
  };
  if (!nodes_[0].start(data_args(0))) {
    error_ = "primary: " + nodes_[0].error();
    return false;
  }
  auto primary_port = std::to_string(nodes_[0].port());
  auto replica_args = data_args(1);
  replica_args.insert(replica_args.end(), {"--replicaof", "127.0.0.1", primary_port});
  if (!nodes_[1].start(replica_args)) {
    error_ = "replica: " + nodes_[1].error();
    return false;
  }
  for (size_t i = 0; i < sentinel_count; ++i)
    if (!start_sentinel(i))
      return false;
  // Sentinels find each other through hello messages on the primary every 2 s.
  bool ready = eventually(
      [&] {
        for (size_t i = 0; i < sentinel_count; ++i) {
          auto info = redis_command(sentinels_[i].port, {"SENTINEL", "master", master_name});
          if (field_of(info, "port") != primary_port || field_of(info, "num-slaves") != "1" ||
              field_of(info, "num-other-sentinels") != "2")
            return false;
        }
        return redis_command(nodes_[1].port(), {"ROLE"}).find("connected") != std::string::npos;
      },
      std::chrono::seconds{20});
  if (!ready)
    error_ = "the sentinels did not agree on the primary, its replica and each other in 20 s";
  return ready;
}

bool redis_sentinel_set::start_sentinel(size_t i) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto port = free_loopback_port();
    auto conf = dir_ + "/sentinel-" + std::to_string(i) + ".conf";
    {
      // Sentinel rewrites its file (it records what it learns), so each has its own.
      std::ofstream out{conf};
      out << "port " << port << "\nbind 127.0.0.1\ndaemonize no\nlogfile \"\"\n"
          << "dir " << dir_ << "\nsentinel resolve-hostnames no\n"
          << "sentinel monitor " << master_name << " 127.0.0.1 " << nodes_[0].port() << " 2\n"
          << "sentinel down-after-milliseconds " << master_name << " 1000\n"
          << "sentinel failover-timeout " << master_name << " 2000\n"
          << "sentinel parallel-syncs " << master_name << " 1\n";
    }
    // Debian's redis-server runs as a sentinel with --sentinel (redis-sentinel is the same
    // program under another name, from the redis-sentinel package).
    sentinels_[i].pid = spawn_server({"redis-server", conf, "--sentinel"}, false, error_);
    sentinels_[i].port = port;
    if (sentinels_[i].pid < 0)
      return false;
    int status = 0;
    bool exited = false;
    bool up = eventually(
        [&] {
          if (waitpid(sentinels_[i].pid, &status, WNOHANG) == sentinels_[i].pid) {
            exited = true;
            return true;
          }
          return redis_command(port, {"PING"}) == "PONG";
        },
        std::chrono::seconds{5});
    if (exited) {
      sentinels_[i].pid = -1;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        error_ = "cannot run redis-server from PATH as a sentinel (install the redis-server and "
                 "redis-sentinel packages: scripts/setup)";
        return false;
      }
      error_ = "sentinel " + std::to_string(i) + " exited at start (port " + std::to_string(port) +
               " taken?)";
      continue;
    }
    if (up)
      return true;
    error_ = "sentinel " + std::to_string(i) + " did not answer PING within 5 s";
    return false;
  }
  return false;
}

std::string redis_sentinel_set::url(int db, const std::string& master) const {
  std::string out = "redis+sentinel://";
  for (size_t i = 0; i < sentinel_count; ++i)
    out += (i > 0 ? "," : "") + std::string{"127.0.0.1:"} + std::to_string(sentinels_[i].port);
  return out + "/" + master + "/" + std::to_string(db);
}

int redis_sentinel_set::primary_by(size_t i) const {
  auto reply =
      redis_command(sentinels_[i].port, {"SENTINEL", "get-master-addr-by-name", master_name});
  auto port = reply.substr(reply.find('\n') + 1);
  for (size_t k = 0; k < nodes_.size(); ++k)
    if (port == std::to_string(nodes_[k].port()))
      return static_cast<int>(k);
  return -1;
}

bool redis_sentinel_set::wait_primary(size_t primary, std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        for (size_t i = 0; i < sentinel_count; ++i)
          if (primary_by(i) != static_cast<int>(primary))
            return false;
        return redis_command(nodes_[primary].port(), {"ROLE"}).rfind("master", 0) == 0;
      },
      timeout);
}

bool redis_sentinel_set::rejoin(size_t i) {
  nodes_[i].resume();
  auto primary = primary_by(0);
  if (primary < 0 || static_cast<size_t>(primary) == i)
    return false;
  auto port = std::to_string(nodes_[static_cast<size_t>(primary)].port());
  return eventually([&] { return nodes_[i].command({"REPLICAOF", "127.0.0.1", port}) == "OK"; });
}

bool redis_sentinel_set::wait_settled(std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        auto primary = primary_by(0);
        if (primary < 0)
          return false;
        auto replica = static_cast<size_t>(1 - primary);
        for (size_t i = 0; i < sentinel_count; ++i) {
          auto info = redis_command(sentinels_[i].port, {"SENTINEL", "master", master_name});
          if (primary_by(i) != primary || field_of(info, "num-slaves") != "1" ||
              field_of(info, "flags") != "master")
            return false;
        }
        auto role = redis_command(nodes_[replica].port(), {"ROLE"});
        return role.rfind("slave", 0) == 0 && role.find("connected") != std::string::npos &&
               role.find(std::to_string(nodes_[primary].port())) != std::string::npos;
      },
      timeout);
}

} // namespace mtcache::testing
