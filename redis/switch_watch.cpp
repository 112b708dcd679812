#include "mtcache/redis/switch_watch.hpp"

#include <map>
#include <mutex>
#include <sstream>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <hiredis/hiredis.h>

#include "mtcache/codec/detail/resp.hpp"
#include "mtcache/redis/reachability.hpp"
#include "mtcache/redis/redis_link.hpp"
#include "mtcache/redis/sentinel.hpp"

namespace mtcache::detail {

namespace {

// How often a watcher PINGs its sentinel, and how long it waits for the answer (and for a
// connection) before it reconnects. Sentinels answer at once; a second without an answer
// means the host or the process is gone.
constexpr std::chrono::milliseconds keepalive{500};
constexpr std::chrono::milliseconds answer_within{1000};

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

struct watch_state {
  watch_state() : link({}, {}, 0) {}

  redis_url set;
  // The set as reachability names it: whom to tell.
  std::string server;
  redis_link link;
  // The reply to the address query after connecting is still due.
  bool answer_due = false;
  // When the oldest unanswered PING went out; 0 if none is out.
  int64_t ping_sent_ms = 0;

  static inline const char* name = "mtcache.sentinel_switch_watch";
};

using self_ptr = caf::stateful_actor<watch_state, caf::io::broker>*;

// The standalone URL of sentinel `i`, with the sentinels' own credentials.
redis_url sentinel_url(const redis_url& set, size_t i) {
  redis_url out;
  out.host = set.nodes[i].host;
  out.port = set.nodes[i].port;
  out.user = set.sentinel_user;
  out.password = set.sentinel_password;
  return out;
}

std::string_view text(const redisReply* r) {
  return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS
             ? std::string_view{r->str, r->len}
             : std::string_view{};
}

std::string address_of(std::string host, const std::string& port) {
  if (host.find(':') != std::string::npos)
    host = "[" + host + "]";
  return host + ":" + port;
}

void send_command(self_ptr self, std::initializer_list<std::string_view> args) {
  resp_writer out{self->state.link.out(self)};
  out.begin(args.size());
  for (auto a : args)
    out.arg(a);
  self->state.link.flush(self);
}

void heard(self_ptr self, const std::string& primary, primary_news how) {
  auto& st = self->state;
  if (announce_primary(st.set, primary, how))
    reachability::switched(st.server, primary);
}

void lost(self_ptr self, caf::error reason) {
  auto& st = self->state;
  st.answer_due = false;
  st.ping_sent_ms = 0;
  st.link.drop(self, std::move(reason));
}

// A published event: "+switch-master <master> <old ip> <old port> <new ip> <new port>", or
// "+failover-state-wait-promotion slave <ip:port> <ip> <port> @ <master> <ip> <port>".
void on_event(self_ptr self, std::string_view channel, std::string_view payload) {
  auto& master = self->state.set.master_name;
  std::istringstream in{std::string{payload}};
  std::vector<std::string> words;
  for (std::string word; in >> word;)
    words.push_back(std::move(word));
  if (channel == "+switch-master" && words.size() == 5 && words[0] == master)
    heard(self, address_of(words[3], words[4]), primary_news::switch_master);
  else if (channel == "+failover-state-wait-promotion" && words.size() == 8 && words[4] == "@" &&
           words[5] == master)
    heard(self, address_of(words[2], words[3]), primary_news::promotion);
}

void on_reply_of(self_ptr self, const redisReply* r) {
  auto& st = self->state;
  if (st.answer_due) {
    // SENTINEL get-master-addr-by-name: nil while the sentinel does not know the master.
    st.answer_due = false;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2)
      heard(self, address_of(std::string{text(r->element[0])}, std::string{text(r->element[1])}),
            primary_news::answer);
    return;
  }
  if (r->type == REDIS_REPLY_ERROR) {
    lost(self, make_error(errc::backend_error, std::string{r->str, r->len}));
    return;
  }
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 2)
    return;
  auto kind = text(r->element[0]);
  if (kind == "pong")
    st.ping_sent_ms = 0;
  else if (kind == "message" && r->elements == 3)
    on_event(self, text(r->element[1]), text(r->element[2]));
}

caf::behavior watch_sentinel(self_ptr self, redis_url set, size_t sentinel) {
  auto& st = self->state;
  st.server = resp_protocol::server(set);
  st.link = redis_link{sentinel_url(set, sentinel),
                       {answer_within, std::chrono::milliseconds{50}, answer_within},
                       static_cast<uint64_t>(now_ms()) ^ reinterpret_cast<uintptr_t>(self)};
  st.set = std::move(set);
  st.link.connect(self);
  self->delayed_send(self, keepalive, caf::tick_atom::value);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    self->state.link.close(self);
    self->quit(msg.reason);
  });
  return {
      [=](const caf::io::new_data_msg& msg) {
        auto on_reply = [&](redis_reply_ptr& reply) { on_reply_of(self, reply.get()); };
        if (!self->state.link.receive(msg.buf, on_reply))
          lost(self, make_error(errc::backend_error, "sentinel protocol error"));
      },
      [=](const caf::io::connection_closed_msg&) {
        lost(self, make_error(errc::backend_unavailable, "the sentinel closed the connection"));
      },
      [=](connect_atom, connected_socket& sock, uint64_t epoch) {
        auto& st = self->state;
        if (!st.link.adopt(self, sock, epoch))
          return;
        st.answer_due = true;
        st.ping_sent_ms = now_ms();
        send_command(self, {"SENTINEL", "get-master-addr-by-name", st.set.master_name});
        send_command(self, {"SUBSCRIBE", "+switch-master", "+failover-state-wait-promotion"});
        send_command(self, {"PING"});
      },
      [=](connect_atom, caf::error& err, uint64_t epoch) {
        if (epoch == self->state.link.epoch())
          lost(self, std::move(err));
      },
      [=](retry_atom, uint64_t epoch) { self->state.link.retry(self, epoch); },
      [=](connect_atom) { self->state.link.retry_now(self); },
      [=](caf::tick_atom) {
        auto& st = self->state;
        if (st.link.up()) {
          if (st.ping_sent_ms == 0) {
            st.ping_sent_ms = now_ms();
            send_command(self, {"PING"});
          } else if (now_ms() - st.ping_sent_ms > answer_within.count()) {
            lost(self, make_error(errc::timeout, "the sentinel did not answer"));
          }
        }
        self->delayed_send(self, keepalive, caf::tick_atom::value);
      },
  };
}

// The running watchers: per set and actor system, with the number of links to the set.
struct watchers {
  std::mutex mtx;
  std::map<std::pair<caf::actor_system*, std::string>, std::pair<size_t, std::vector<caf::actor>>>
      running;
};

watchers& instance() {
  static watchers x;
  return x;
}

} // namespace

void switch_watch::attach(caf::actor_system& sys, const redis_url& url) {
  auto& w = instance();
  std::lock_guard<std::mutex> guard{w.mtx};
  auto& entry = w.running[{&sys, resp_protocol::server(url)}];
  if (entry.first++ > 0)
    return;
  for (size_t i = 0; i < url.nodes.size(); ++i)
    entry.second.push_back(sys.middleman().spawn_broker(watch_sentinel, url, i));
}

void switch_watch::detach(caf::actor_system& sys, const redis_url& url) {
  std::vector<caf::actor> stopping;
  {
    auto& w = instance();
    std::lock_guard<std::mutex> guard{w.mtx};
    auto i = w.running.find({&sys, resp_protocol::server(url)});
    if (i == w.running.end() || --i->second.first > 0)
      return;
    stopping = std::move(i->second.second);
    w.running.erase(i);
  }
  for (auto& watcher : stopping)
    caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
}

} // namespace mtcache::detail
