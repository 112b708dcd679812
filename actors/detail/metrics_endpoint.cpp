#include "mtcache/actors/detail/metrics_endpoint.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <unordered_map>

#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/network/multiplexer.hpp>
#include <caf/stateful_actor.hpp>

#include "mtcache/codec/detail/http_request.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

constexpr const char* exposition_type = "text/plain; version=0.0.4; charset=utf-8";

// Bytes a connection may have waiting while its scrape runs (pipelined requests); a
// client that sends more is closed. Eight request heads of the longest kind accepted.
constexpr size_t max_buffered_bytes = 8 * max_http_head_bytes;

struct connection {
  // Handles are socket descriptors, which the system hands out again once closed: a scrape
  // answers the connection only if it still has the serial it started with.
  uint64_t serial = 0;
  std::string buf;
  // A scrape for this connection runs; later requests wait in `buf` (answers keep order).
  bool busy = false;
  // The last request or answer; idle connections are closed (metrics_config::idle_timeout).
  caf::actor_clock::time_point last_active;
};

struct endpoint_state {
  metrics_config cfg;
  cache_source caches;
  std::unordered_map<caf::io::connection_handle, connection> connections;
  uint64_t last_serial = 0;
  // Caches whose life holds the endpoint up.
  std::set<caf::actor_addr> owners;

  static inline const char* name = "mtcache.metrics_endpoint";
};

using self_ptr = caf::stateful_actor<endpoint_state, caf::io::broker>*;

void respond(self_ptr self, caf::io::connection_handle hdl, const std::string& bytes,
             bool keep_alive) {
  self->write(hdl, bytes.size(), bytes.data());
  self->flush(hdl);
  if (auto i = self->state.connections.find(hdl); i != self->state.connections.end())
    i->second.last_active = self->clock().now();
  if (!keep_alive) {
    // Unwritten bytes still go out before the socket closes.
    self->close(hdl);
    self->state.connections.erase(hdl);
  }
}

void serve(self_ptr self, caf::io::connection_handle hdl);

void scrape_for(self_ptr self, caf::io::connection_handle hdl, bool keep_alive, bool head_only) {
  auto& conn = self->state.connections[hdl];
  conn.busy = true;
  auto serial = conn.serial;
  scrape(self, self->state.caches(), self->state.cfg.scrape_timeout,
         [=](std::vector<cache_snapshot> snapshots) {
           auto i = self->state.connections.find(hdl);
           if (i == self->state.connections.end() || i->second.serial != serial)
             return; // the client went away meanwhile
           i->second.busy = false;
           respond(self, hdl,
                   http_response(200, exposition_type, render_prometheus(snapshots), keep_alive,
                                 head_only),
                   keep_alive);
           serve(self, hdl);
         });
}

// Answers the requests complete in the connection's buffer, one at a time.
void serve(self_ptr self, caf::io::connection_handle hdl) {
  for (;;) {
    auto i = self->state.connections.find(hdl);
    if (i == self->state.connections.end() || i->second.busy)
      return;
    auto& conn = i->second;
    http_request req;
    size_t consumed = 0;
    int status = 0;
    switch (parse_http_request(conn.buf, req, consumed, status)) {
    case http_parse_result::incomplete:
      return;
    case http_parse_result::bad:
      respond(self, hdl,
              http_response(status, "text/plain", std::string{http_reason(status)} + "\n", false),
              false);
      return;
    case http_parse_result::complete:
      conn.buf.erase(0, consumed);
      break;
    }
    bool head_only = req.method == "HEAD";
    if (req.method != "GET" && !head_only) {
      respond(self, hdl, http_response(405, "text/plain", "GET or HEAD only\n", req.keep_alive),
              req.keep_alive);
    } else if (req.path == "/metrics") {
      scrape_for(self, hdl, req.keep_alive, head_only);
    } else if (req.path == "/") {
      respond(self, hdl,
              http_response(200, "text/plain", "mtcache: metrics at /metrics\n", req.keep_alive,
                            head_only),
              req.keep_alive);
    } else {
      respond(
          self, hdl,
          http_response(404, "text/plain", "not found; try /metrics\n", req.keep_alive, head_only),
          req.keep_alive);
    }
    if (!req.keep_alive)
      return;
  }
}

// How often idle connections are looked for: a quarter of the idle timeout (so a connection
// closes between 1 and 1.25 timeouts after its last request), at most once a second, so
// that the timer's hold on the endpoint ends soon after it quits.
caf::timespan idle_check_interval(const metrics_config& cfg) {
  auto quarter = std::chrono::duration_cast<caf::timespan>(cfg.idle_timeout) / 4;
  return std::clamp<caf::timespan>(quarter, std::chrono::milliseconds(10), std::chrono::seconds(1));
}

void close_idle(self_ptr self) {
  auto& st = self->state;
  auto cutoff = self->clock().now() - st.cfg.idle_timeout;
  for (auto i = st.connections.begin(); i != st.connections.end();) {
    if (!i->second.busy && i->second.last_active < cutoff) {
      self->close(i->first);
      i = st.connections.erase(i);
    } else {
      ++i;
    }
  }
}

caf::behavior metrics_endpoint(self_ptr self, caf::io::doorman_ptr door, metrics_config cfg,
                               cache_source caches) {
  self->add_doorman(std::move(door));
  self->state.cfg = std::move(cfg);
  self->state.caches = std::move(caches);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    st.owners.erase(msg.source);
    if (st.owners.empty()) {
      self->close_all();
      self->quit();
    }
  });
  self->delayed_send(self, idle_check_interval(self->state.cfg), caf::tick_atom::value);
  return {
      [=](const caf::io::new_connection_msg& msg) {
        auto& st = self->state;
        if (st.connections.size() >= st.cfg.max_connections) {
          self->close(msg.handle);
          return;
        }
        st.connections[msg.handle] = connection{++st.last_serial, {}, false, self->clock().now()};
        self->configure_read(msg.handle, caf::io::receive_policy::at_most(4096));
      },
      [=](const caf::io::new_data_msg& msg) {
        auto i = self->state.connections.find(msg.handle);
        if (i == self->state.connections.end())
          return;
        auto& conn = i->second;
        conn.buf.append(msg.buf.begin(), msg.buf.end());
        conn.last_active = self->clock().now();
        if (conn.busy && conn.buf.size() > max_buffered_bytes) {
          self->close(msg.handle);
          self->state.connections.erase(i);
          return;
        }
        serve(self, msg.handle);
      },
      [=](const caf::io::connection_closed_msg& msg) { self->state.connections.erase(msg.handle); },
      [=](caf::tick_atom) {
        close_idle(self);
        self->delayed_send(self, idle_check_interval(self->state.cfg), caf::tick_atom::value);
      },
      [=](const caf::io::acceptor_closed_msg&) {
        // The listening socket failed; connections in progress still get their answers.
      },
      [=](join_atom, const caf::actor& cache) {
        if (self->state.owners.insert(cache.address()).second)
          self->monitor(cache);
        return ok_atom::value;
      },
  };
}

} // namespace

caf::expected<std::pair<caf::actor, uint16_t>>
spawn_metrics_endpoint(caf::actor_system& sys, const metrics_config& cfg, cache_source caches) {
  if (!sys.has_middleman())
    return make_error(errc::not_configured, "the metrics endpoint needs caf::io::middleman: call "
                                            "cfg.load<caf::io::middleman>()");
  auto door = sys.middleman().backend().new_tcp_doorman(cfg.port, cfg.host.c_str(), true);
  if (!door)
    return make_error(errc::backend_unavailable, "cannot listen for metrics on " + cfg.host + ":" +
                                                     std::to_string(cfg.port) + ": " +
                                                     sys.render(door.error()));
  auto port = (*door)->port();
  auto endpoint =
      sys.middleman().spawn_broker(metrics_endpoint, std::move(*door), cfg, std::move(caches));
  return std::make_pair(std::move(endpoint), port);
}

} // namespace mtcache::detail
