// How a node catches up on changes it missed, from the audit stream.
//
// The position. A node keeps a place in the audit stream up to which it has applied every
// change. Every keepalive it asks for the stream's newest id (XINFO STREAM) and then PINGs
// on its subscribed connection: senders PUBLISH a change before they XADD it, on one
// connection, so every change up to that id was delivered to this subscriber before Redis
// saw the XINFO, and Redis answers the later PING only after it. When the PONG arrives,
// everything up to the id has arrived too. While a gap is open the position stays put: the
// missing change may be behind the new id.
//
// The replay. After contact is back, or when a gap outlives its grace, the node reads the
// stream after its position (XRANGE in pages) and applies what it finds, as removals;
// changes it has seen are skipped by sequence number. It then drops its local tiers only
// if the stream no longer holds everything it missed: fewer entries after the position
// than the stream received since (MAXLEN trimmed them), or a gap that had outlived its
// grace before the replay began and is still open (a younger gap may yet fill: another
// node's backlog goes out when its own connection is back). A stream that
// Redis lost in a restart holds nothing to replay, which by itself is not a reason to drop
// anything: the gaps tell whether something is missing.

#include <memory>
#include <optional>
#include <string>

#include "mtcache/actors/detail/invalidation_bridge_state.hpp"
#include "mtcache/actors/detail/log.hpp"
#include "mtcache/codec/detail/invalidation_json.hpp"
#include "mtcache/redis/stream_protocol.hpp"

namespace mtcache::detail {

namespace {

constexpr uint64_t replay_page = 1000;

// A replay under way: where it started and how much the stream should still hold.
struct replay_run {
  std::string why;
  int64_t started_ms = 0;
  stream_info info;
  // Entries the stream received after the position; nothing if the server does not say.
  std::optional<uint64_t> expected;
  uint64_t read = 0;
  std::string last_id;
  // An entry named no key (the crate's RemoveBulk keeps only a count).
  bool unreadable = false;
};

const std::string* field(const stream_entry& entry, std::string_view name) {
  for (auto& f : entry.fields)
    if (f.name == name)
      return &f.value;
  return nullptr;
}

// An audit entry as a change: ours carry it as JSON in "msg"; the crate's entries only
// their type and key.
std::optional<invalidation> change_of(const stream_entry& entry) {
  if (auto msg = field(entry, "msg"))
    return decode_invalidation(*msg);
  auto type = field(entry, "type");
  auto key = field(entry, "key");
  if (!type || !key)
    return std::nullopt;
  invalidation change;
  if (*type == "remove" || *type == "update") {
    change.key = *key;
  } else if (*type == "remove_pattern") {
    change.type = invalidation::kind::remove_pattern;
    change.pattern = *key;
  } else {
    return std::nullopt;
  }
  return change;
}

void finish(bridge_ptr self, std::shared_ptr<replay_run> run) {
  auto& st = self->state;
  st.replaying = false;
  st.cursor =
      stream_position{run->last_id.empty() ? st.cursor->id : run->last_id, run->info.entries_added};
  bool trimmed = run->unreadable || (run->expected && run->read < *run->expected);
  if (trimmed)
    flush_local(self, run->why + ": the audit stream no longer holds every change missed",
                &bridge_stats::flushes_trimmed);
  else if (st.tracker.gap_open_since(run->started_ms - st.p.cfg.gap_grace.count()))
    flush_local(self, run->why + ": changes missing from the audit stream",
                &bridge_stats::flushes_gap);
  if (st.replay_again) {
    st.replay_again = false;
    replay(self, run->why);
  }
}

void read_after(bridge_ptr self, std::shared_ptr<replay_run> run, const std::string& after) {
  auto& st = self->state;
  self->request(st.p.publisher, bridge_call_timeout, xrange_atom::value, st.stream, after,
                replay_page)
      .then(
          [=](std::vector<stream_entry>& entries) {
            for (auto& entry : entries) {
              ++run->read;
              run->last_id = entry.id;
              if (auto change = change_of(entry))
                accept(self, std::move(*change), change_source::replay);
              else
                run->unreadable = true;
            }
            if (entries.size() == replay_page)
              read_after(self, run, run->last_id);
            else
              finish(self, run);
          },
          [=](caf::error& err) {
            auto& st = self->state;
            st.replaying = false;
            st.replay_pending = run->why;
            log(log_level::warning, "invalidation_bridge",
                "replay failed, trying again: " + caf::to_string(err));
          });
}

} // namespace

void sync_position(bridge_ptr self) {
  auto& st = self->state;
  st.last_sync_ms = steady_ms();
  if (!can_replay(st) || !st.subscriber || !st.stats.redis_subscribed || st.syncing ||
      st.replaying || st.tracker.has_gaps())
    return;
  st.syncing = true;
  self->request(st.p.publisher, bridge_call_timeout, xinfo_atom::value, st.stream)
      .then(
          [=](const stream_info& info) {
            stream_position pos{info.exists ? info.last_id : "0-0", info.entries_added};
            self->request(self->state.subscriber, bridge_call_timeout, caf::ping_atom::value)
                .then(
                    [=](ok_atom) {
                      auto& st = self->state;
                      st.syncing = false;
                      if (!st.tracker.has_gaps() && !st.replaying)
                        st.cursor = pos;
                    },
                    [=](caf::error&) { self->state.syncing = false; });
          },
          [=](caf::error&) { self->state.syncing = false; });
}

void replay(bridge_ptr self, const std::string& why) {
  auto& st = self->state;
  st.replay_pending.clear();
  if (st.replaying) {
    st.replay_again = true;
    return;
  }
  if (!st.cursor) {
    flush_local(self, why + ": no position in the audit stream to replay from yet",
                &bridge_stats::flushes_reconnect);
    return;
  }
  st.replaying = true;
  ++st.stats.replays;
  auto run = std::make_shared<replay_run>();
  run->why = why;
  run->started_ms = steady_ms();
  self->request(st.p.publisher, bridge_call_timeout, xinfo_atom::value, st.stream)
      .then(
          [=](stream_info& info) {
            auto& st = self->state;
            auto& pos = *st.cursor;
            if (info.entries_added > 0 && pos.entries_added <= info.entries_added)
              run->expected = info.entries_added - pos.entries_added;
            else if (info.entries_added > 0)
              run->expected = info.entries_added; // a new stream since (a Redis restart)
            else if (info.exists && compare_stream_ids(info.first_id, pos.id) > 0)
              run->unreadable = true; // an old server: the entry at the position is gone
            run->info = std::move(info);
            if (!run->info.exists) {
              finish(self, run);
              return;
            }
            read_after(self, run, pos.id);
          },
          [=](caf::error& err) {
            auto& st = self->state;
            st.replaying = false;
            st.replay_pending = why;
            log(log_level::warning, "invalidation_bridge",
                "replay failed, trying again: " + caf::to_string(err));
          });
}

void on_tick(bridge_ptr self) {
  auto& st = self->state;
  auto now = steady_ms();
  if (st.tracker.lost()) {
    flush_local(self, "changes of another node went missing in too many places",
                &bridge_stats::flushes_gap);
  } else if (!st.replaying && st.tracker.gap_open_since(now - st.p.cfg.gap_grace.count())) {
    if (st.p.cfg.recovery == recovery_policy::replay && can_replay(st))
      replay(self, "a gap in another node's changes");
    else
      flush_local(self, "a gap in another node's changes", &bridge_stats::flushes_gap);
  } else if (!st.replay_pending.empty() && !st.replaying) {
    replay(self, st.replay_pending);
  }
  if (now - st.last_sync_ms >= st.p.cfg.keepalive.count())
    sync_position(self);
  retry_backlog(self);
}

} // namespace mtcache::detail
