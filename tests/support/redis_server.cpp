#include "support/redis_server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <memory>

#include <hiredis/hiredis.h>

namespace mtcache::testing {

namespace {

std::string render(const redisReply* r) {
  switch (r->type) {
  case REDIS_REPLY_STRING:
  case REDIS_REPLY_STATUS:
    return {r->str, r->len};
  case REDIS_REPLY_ERROR:
    return "ERR: " + std::string{r->str, r->len};
  case REDIS_REPLY_INTEGER:
    return std::to_string(r->integer);
  case REDIS_REPLY_NIL:
    return "(nil)";
  case REDIS_REPLY_ARRAY: {
    std::string out;
    for (size_t i = 0; i < r->elements; ++i) {
      if (i > 0)
        out += '\n';
      out += render(r->element[i]);
    }
    return out;
  }
  }
  return "?";
}

} // namespace

redis_server::redis_server()
    : server_process({"redis-server", "redis-server", "PING", /*keep_stderr=*/true}) {
  // nop
}

redis_server::~redis_server() = default;

std::vector<std::string> redis_server::command_line() const {
  std::vector<std::string> argv{"redis-server",
                                "--port",
                                std::to_string(port()),
                                "--bind",
                                "127.0.0.1",
                                "--save",
                                "",
                                "--appendonly",
                                "no",
                                "--daemonize",
                                "no",
                                "--loglevel",
                                "warning",
                                "--logfile",
                                ""};
  argv.insert(argv.end(), extra_args().begin(), extra_args().end());
  return argv;
}

bool redis_server::ready() const {
  // A server that requires a password answers NOAUTH: it is up all the same.
  auto reply = command({"PING"});
  return reply == "PONG" || reply.find("NOAUTH") != std::string::npos;
}

std::string redis_server::url(int db, const std::string& credentials) const {
  return "redis://" + credentials + "127.0.0.1:" + std::to_string(port()) + "/" +
         std::to_string(db);
}

namespace {

using context_ptr = std::unique_ptr<redisContext, void (*)(redisContext*)>;

context_ptr connect_loopback(uint16_t port) {
  timeval tv{1, 0};
  context_ptr c{redisConnectWithTimeout("127.0.0.1", port, tv), redisFree};
  if (c && !c->err)
    redisSetTimeout(c.get(), tv);
  return c;
}

// Argument pointers and lengths as hiredis takes them (binary-safe).
struct argv_view {
  explicit argv_view(const std::vector<std::string>& args) {
    for (auto& a : args) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
  }
  int argc() const { return static_cast<int>(ptrs.size()); }
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
};

std::string take_reply(redisContext* c, void* raw) {
  if (raw == nullptr)
    return std::string{"ERR: "} + c->errstr;
  auto* reply = static_cast<redisReply*>(raw);
  auto text = render(reply);
  freeReplyObject(reply);
  return text;
}

} // namespace

std::string redis_server::command(const std::vector<std::string>& argv, int db,
                                  const std::string& password, const std::string& user) const {
  return redis_command(port(), argv, db, password, user);
}

std::string redis_command(uint16_t port, const std::vector<std::string>& argv, int db,
                          const std::string& password, const std::string& user) {
  auto c = connect_loopback(port);
  if (!c || c->err)
    return "ERR: cannot connect";
  auto run = [&](const std::vector<std::string>& args) {
    argv_view view{args};
    return take_reply(c.get(),
                      redisCommandArgv(c.get(), view.argc(), view.ptrs.data(), view.lens.data()));
  };
  if (!password.empty()) {
    auto res = user.empty() ? run({"AUTH", password}) : run({"AUTH", user, password});
    if (res != "OK")
      return res;
  }
  if (db != 0) {
    auto res = run({"SELECT", std::to_string(db)});
    if (res != "OK")
      return res;
  }
  return run(argv);
}

std::vector<std::string>
redis_server::pipeline(const std::vector<std::vector<std::string>>& commands) const {
  std::vector<std::string> replies;
  auto c = connect_loopback(port());
  if (!c || c->err) {
    replies.assign(commands.size(), "ERR: cannot connect");
    return replies;
  }
  for (auto& args : commands) {
    argv_view view{args};
    redisAppendCommandArgv(c.get(), view.argc(), view.ptrs.data(), view.lens.data());
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(c.get(), &raw) != REDIS_OK)
      raw = nullptr;
    replies.push_back(take_reply(c.get(), raw));
  }
  return replies;
}

} // namespace mtcache::testing
