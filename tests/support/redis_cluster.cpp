#include "support/redis_cluster.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <tuple>

namespace mtcache::testing {

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      out.push_back(line);
  return out;
}

bool is_error(const std::string& reply) {
  return reply.rfind("ERR: ", 0) == 0;
}

// "ERR: MOVED 3999 127.0.0.1:6381" -> 6381.
std::optional<uint16_t> redirect_port(const std::string& reply) {
  auto colon = reply.rfind(':');
  if (colon == std::string::npos || colon + 1 >= reply.size())
    return std::nullopt;
  return static_cast<uint16_t>(std::atoi(reply.c_str() + colon + 1));
}

} // namespace

redis_cluster::~redis_cluster() {
  nodes_.clear(); // kills every node before their files go
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

bool redis_cluster::start(options opts) {
  char dir_template[] = "/tmp/mtcache-cluster-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    error_ = "cannot create a temporary directory";
    return false;
  }
  dir_ = dir_template;
  auto count = static_cast<size_t>(opts.primaries * (1 + opts.replicas));
  std::string create = "redis-cli --cluster create";
  for (size_t i = 0; i < count; ++i) {
    auto node = std::make_unique<redis_server>();
    // cluster-replica-validity-factor 0: a replica may always take over, however long its
    // link was down (the default refuses after 10 node timeouts, which a paused test hits).
    // repl-diskless-sync-delay 0: replicas sync at once, not 5 s after joining (until then a
    // failover loses every write).
    if (!node->start({"--cluster-enabled", "yes", "--cluster-config-file",
                      dir_ + "/nodes-" + std::to_string(i) + ".conf", "--cluster-node-timeout",
                      std::to_string(opts.node_timeout.count()),
                      "--cluster-replica-validity-factor", "0", "--repl-diskless-sync-delay", "0",
                      "--dir", dir_})) {
      error_ = "cluster node " + std::to_string(i) + ": " + node->error();
      return false;
    }
    create += " 127.0.0.1:" + std::to_string(node->port());
    nodes_.push_back(std::move(node));
  }
  create += " --cluster-replicas " + std::to_string(opts.replicas) + " --cluster-yes";
  std::string output;
  if (!run(create, 60, output)) {
    error_ = "redis-cli --cluster create failed: " + error_ + "\n" + output;
    return false;
  }
  return wait_healthy();
}

bool redis_cluster::run(const std::string& command_line, int timeout_s, std::string& output) {
  auto line = "timeout " + std::to_string(timeout_s) + " " + command_line + " 2>&1";
  auto* pipe = popen(line.c_str(), "r");
  if (pipe == nullptr) {
    error_ = "cannot run " + command_line;
    return false;
  }
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), pipe)) > 0;)
    output.append(buf, n);
  int status = pclose(pipe);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 127 || code == 126)
    error_ = "cannot run redis-cli from PATH (install the redis-tools package)";
  else if (code == 124)
    error_ = "timed out after " + std::to_string(timeout_s) + " s";
  else if (code != 0)
    error_ = "exit code " + std::to_string(code);
  return code == 0;
}

std::string redis_cluster::url(size_t seeds) const {
  std::string out = "redis+cluster://";
  size_t taken = 0;
  for (auto& node : nodes_) {
    if (!node->running() || taken == seeds)
      continue;
    out += (taken++ > 0 ? "," : "") + std::string{"127.0.0.1:"} + std::to_string(node->port());
  }
  return out;
}

std::optional<size_t> redis_cluster::any_running() const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i]->running() && !is_error(nodes_[i]->command({"PING"})))
      return i;
  return std::nullopt;
}

std::optional<size_t> redis_cluster::index_of_port(uint16_t port) const {
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i]->port() == port)
      return i;
  return std::nullopt;
}

std::vector<redis_cluster::slot_range> redis_cluster::slot_map(size_t index) const {
  // CLUSTER NODES lines: <id> <ip:port@cport> <flags> <primary> <ping> <pong> <epoch> <link>
  // <slot or first-last>... and, while a slot moves, [slot->-id] / [slot-<-id].
  std::vector<slot_range> out;
  auto text = nodes_[index]->command({"CLUSTER", "NODES"});
  if (is_error(text))
    return out;
  for (auto& line : lines_of(text)) {
    std::istringstream in{line};
    std::string id, addr, flags, primary, ping, pong, epoch, link, token;
    in >> id >> addr >> flags >> primary >> ping >> pong >> epoch >> link;
    if (flags.find("master") == std::string::npos)
      continue;
    auto port = static_cast<uint16_t>(std::atoi(addr.c_str() + addr.find(':') + 1));
    while (in >> token) {
      if (token.front() == '[')
        continue;
      auto dash = token.find('-');
      int first = std::atoi(token.c_str());
      int last = dash == std::string::npos ? first : std::atoi(token.c_str() + dash + 1);
      out.push_back({first, last, port});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const slot_range& x, const slot_range& y) { return x.first < y.first; });
  return out;
}

bool redis_cluster::wait_healthy(std::chrono::milliseconds timeout) {
  std::string why;
  auto healthy = [&] {
    std::optional<std::vector<std::tuple<int, int, uint16_t>>> agreed;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i]->running())
        continue;
      auto info = nodes_[i]->command({"CLUSTER", "INFO"});
      if (info.find("cluster_state:ok") == std::string::npos) {
        why = "node " + std::to_string(i) + " not cluster_state:ok";
        return false;
      }
      std::vector<std::tuple<int, int, uint16_t>> owners;
      int covered = 0;
      for (auto& r : slot_map(i)) {
        auto owner = index_of_port(r.port);
        if (!owner || !nodes_[*owner]->running()) {
          why = "slots " + std::to_string(r.first) + "-" + std::to_string(r.last) +
                " owned by a stopped node";
          return false;
        }
        owners.emplace_back(r.first, r.last, r.port);
        covered += r.last - r.first + 1;
      }
      if (covered != slot_count) {
        why = "node " + std::to_string(i) + " sees " + std::to_string(covered) + " slots";
        return false;
      }
      if (agreed && *agreed != owners) {
        why = "nodes disagree on slot owners";
        return false;
      }
      agreed = std::move(owners);
    }
    return agreed.has_value();
  };
  if (eventually(healthy, timeout))
    return true;
  error_ = "cluster not healthy within " + std::to_string(timeout.count()) + " ms: " + why;
  return false;
}

bool redis_cluster::wait_replicated(std::chrono::milliseconds timeout) {
  // INFO replication of a primary: "master_repl_offset:<n>" and per replica
  // "slave<i>:ip=...,port=...,state=online,offset=<n>,lag=<s>".
  auto replicated = [&] {
    for (auto i : primaries()) {
      auto info = nodes_[i]->command({"INFO", "replication"});
      auto at = info.find("master_repl_offset:");
      if (at == std::string::npos)
        return false;
      auto offset = std::stoll(info.substr(at + 19));
      size_t replicas = 0;
      for (auto& line : lines_of(info)) {
        auto field = line.find(",offset=");
        if (line.rfind("slave", 0) != 0 || field == std::string::npos)
          continue;
        ++replicas;
        if (line.find("state=online") == std::string::npos ||
            std::stoll(line.substr(field + 8)) != offset)
          return false;
      }
      if (replicas == 0)
        return false;
    }
    return true;
  };
  if (eventually(replicated, timeout))
    return true;
  error_ = "replicas did not catch up within " + std::to_string(timeout.count()) + " ms";
  return false;
}

std::vector<size_t> redis_cluster::primaries() const {
  std::vector<size_t> out;
  if (auto i = any_running())
    for (auto& r : slot_map(*i))
      if (auto owner = index_of_port(r.port);
          owner && std::find(out.begin(), out.end(), *owner) == out.end())
        out.push_back(*owner);
  return out;
}

std::optional<size_t> redis_cluster::node_of_slot(int slot) const {
  if (auto i = any_running())
    for (auto& r : slot_map(*i))
      if (slot >= r.first && slot <= r.last)
        return index_of_port(r.port);
  return std::nullopt;
}

int redis_cluster::slot_of(const std::string& key) const {
  auto i = any_running();
  if (!i)
    return -1;
  auto reply = nodes_[*i]->command({"CLUSTER", "KEYSLOT", key});
  return is_error(reply) ? -1 : std::atoi(reply.c_str());
}

std::string redis_cluster::command_for_key(const std::string& key,
                                           const std::vector<std::string>& argv) const {
  auto owner = node_of_slot(slot_of(key));
  if (!owner)
    return "ERR: no node serves the slot of " + key;
  auto reply = nodes_[*owner]->command(argv);
  // The map may be behind a move; follow one redirect as a client would.
  if (reply.rfind("ERR: MOVED", 0) == 0 || reply.rfind("ERR: ASK", 0) == 0) {
    auto port = redirect_port(reply);
    auto target = port ? index_of_port(*port) : std::nullopt;
    if (!target)
      return reply;
    if (reply.rfind("ERR: ASK", 0) == 0)
      return nodes_[*target]->pipeline({{"ASKING"}, argv}).back();
    return nodes_[*target]->command(argv);
  }
  return reply;
}

std::vector<std::string> redis_cluster::values_of(const std::vector<std::string>& keys) const {
  std::vector<std::string> values(keys.size());
  auto asked = any_running();
  if (!asked)
    return values;
  std::vector<std::vector<std::string>> keyslots;
  for (auto& key : keys)
    keyslots.push_back({"CLUSTER", "KEYSLOT", key});
  auto slots = nodes_[*asked]->pipeline(keyslots);
  auto owners = slot_map(*asked);
  std::map<uint16_t, std::vector<size_t>> by_port;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto slot = std::atoi(slots[i].c_str());
    for (auto& r : owners)
      if (slot >= r.first && slot <= r.last)
        by_port[r.port].push_back(i);
  }
  for (auto& [port, positions] : by_port) {
    std::vector<std::vector<std::string>> gets;
    for (auto i : positions)
      gets.push_back({"GET", keys[i]});
    auto replies = nodes_[*index_of_port(port)]->pipeline(gets);
    for (size_t j = 0; j < positions.size(); ++j)
      values[positions[j]] = is_error(replies[j])
                                 ? command_for_key(keys[positions[j]], {"GET", keys[positions[j]]})
                                 : replies[j];
  }
  return values;
}

std::vector<std::string> redis_cluster::on_primaries(const std::vector<std::string>& argv) const {
  std::vector<std::string> replies;
  for (auto i : primaries())
    replies.push_back(nodes_[i]->command(argv));
  return replies;
}

uint64_t redis_cluster::key_count() const {
  uint64_t total = 0;
  for (auto& reply : on_primaries({"DBSIZE"}))
    total += is_error(reply) ? 0 : std::stoull(reply);
  return total;
}

std::string redis_cluster::id_of(size_t index) const {
  return nodes_[index]->command({"CLUSTER", "MYID"});
}

std::vector<int> redis_cluster::slots_of(size_t from, size_t count) const {
  std::vector<int> out;
  auto i = any_running();
  if (!i)
    return out;
  for (auto& r : slot_map(*i))
    for (int slot = r.first; slot <= r.last && out.size() < count; ++slot)
      if (index_of_port(r.port) == from)
        out.push_back(slot);
  return out;
}

bool redis_cluster::migrate_slots(const std::vector<int>& slots, size_t from, size_t to) {
  for (auto slot : slots) {
    slot_migration move{*this, slot, from, to};
    if (!move.begin() || !move.finish()) {
      error_ = move.error();
      return false;
    }
  }
  return true;
}

bool redis_cluster::reshard(size_t from, size_t to, int count) {
  std::string output;
  auto line = "redis-cli --cluster reshard 127.0.0.1:" + std::to_string(port(from)) +
              " --cluster-from " + id_of(from) + " --cluster-to " + id_of(to) +
              " --cluster-slots " + std::to_string(count) +
              " --cluster-yes --cluster-timeout 5000 --cluster-pipeline 100";
  if (run(line, 300, output))
    return true;
  auto tail = output.size() > 2000 ? output.substr(output.size() - 2000) : output;
  error_ = "redis-cli --cluster reshard failed (" + error_ + "): " + tail;
  return false;
}

redis_cluster::slot_migration::slot_migration(redis_cluster& cluster, int slot, size_t from,
                                              size_t to)
    : cluster_(cluster), slot_(slot), from_(from), to_(to) {
  // nop
}

bool redis_cluster::slot_migration::begin() {
  auto slot = std::to_string(slot_);
  // IMPORTING first, as redis-cli does: a client sent ASK by the source must find the
  // target ready to accept ASKING.
  auto importing =
      cluster_.node(to_).command({"CLUSTER", "SETSLOT", slot, "IMPORTING", cluster_.id_of(from_)});
  auto migrating =
      cluster_.node(from_).command({"CLUSTER", "SETSLOT", slot, "MIGRATING", cluster_.id_of(to_)});
  if (importing == "OK" && migrating == "OK")
    return true;
  error_ = "SETSLOT " + slot + " IMPORTING: " + importing + ", MIGRATING: " + migrating;
  return false;
}

bool redis_cluster::slot_migration::move_keys(size_t batch, size_t* moved) {
  auto& source = cluster_.node(from_);
  auto keys = lines_of(
      source.command({"CLUSTER", "GETKEYSINSLOT", std::to_string(slot_), std::to_string(batch)}));
  if (moved != nullptr)
    *moved = keys.size();
  if (keys.empty())
    return true;
  std::vector<std::string> argv{"MIGRATE", "127.0.0.1", std::to_string(cluster_.port(to_)), "", "0",
                                "5000",    "KEYS"};
  argv.insert(argv.end(), keys.begin(), keys.end());
  auto reply = source.command(argv);
  if (reply == "OK" || reply == "NOKEY")
    return true;
  error_ = "MIGRATE of " + std::to_string(keys.size()) + " keys of slot " + std::to_string(slot_) +
           ": " + reply;
  return false;
}

bool redis_cluster::slot_migration::finish() {
  for (size_t moved = 1; moved > 0;)
    if (!move_keys(100, &moved))
      return false;
  // The target first, so that it serves the slot before the source starts sending MOVED.
  std::vector<size_t> order{to_, from_};
  for (auto i : cluster_.primaries())
    if (i != to_ && i != from_)
      order.push_back(i);
  auto target_id = cluster_.id_of(to_);
  for (auto i : order) {
    auto reply =
        cluster_.node(i).command({"CLUSTER", "SETSLOT", std::to_string(slot_), "NODE", target_id});
    if (reply != "OK") {
      error_ =
          "SETSLOT " + std::to_string(slot_) + " NODE on node " + std::to_string(i) + ": " + reply;
      return false;
    }
  }
  return true;
}

} // namespace mtcache::testing
