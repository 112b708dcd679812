#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>

#include <hiredis/hiredis.h>

#include "mtcache/actors/detail/redis_streams.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/redis/redis_connection.hpp"
#include "mtcache/redis/stream_protocol.hpp"
#include "support/actor_system_fixture.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace mtcache::detail;
using namespace std::chrono_literals;
using mtcache::testing::eventually;
using clock_type = std::chrono::steady_clock;
using entries = std::vector<stream_entry>;

namespace {

// A Pub/Sub subscriber on a raw hiredis connection of the test's own.
class subscriber {
public:
  subscriber(uint16_t port, const std::string& channel)
      : ctx_(redisConnectWithTimeout("127.0.0.1", port, timeval{2, 0}), redisFree) {
    if (!ctx_ || ctx_->err)
      return;
    redisSetTimeout(ctx_.get(), timeval{2, 0});
    auto* r = static_cast<redisReply*>(
        redisCommand(ctx_.get(), "SUBSCRIBE %b", channel.data(), channel.size()));
    ok_ = r != nullptr && r->type == REDIS_REPLY_ARRAY;
    if (r != nullptr)
      freeReplyObject(r);
  }

  bool ok() const { return ok_; }

  /// The payload of the next message, or nothing within 2 s.
  std::optional<std::string> next() {
    void* raw = nullptr;
    if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || raw == nullptr)
      return std::nullopt;
    auto* r = static_cast<redisReply*>(raw);
    std::optional<std::string> out;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3)
      out.emplace(r->element[2]->str, r->element[2]->len);
    freeReplyObject(r);
    return out;
  }

private:
  std::unique_ptr<redisContext, void (*)(redisContext*)> ctx_;
  bool ok_ = false;
};

// "1700000000000-3" as (ms, seq), for ordering ids.
std::pair<uint64_t, uint64_t> id_of(const std::string& id) {
  auto dash = id.find('-');
  return {std::stoull(id.substr(0, dash)), std::stoull(id.substr(dash + 1))};
}

std::string value_of(const stream_entry& e) {
  return e.fields.empty() ? "" : e.fields[0].value;
}

template <class T>
bool failed_with(const caf::expected<T>& x, errc code) {
  return !x && is(x.error(), code);
}

// The value of `x`; a test failure and an empty value if it holds an error.
template <class T>
T value(caf::expected<T> x) {
  if (!x) {
    ADD_FAILURE() << "unexpected error: " << caf::to_string(x.error());
    return T{};
  }
  return std::move(*x);
}

class RedisStreams : public mtcache::testing::actor_system_fixture {
protected:
  void SetUp() override { ASSERT_TRUE(redis.start()) << redis.error(); }

  void TearDown() override {
    if (streams)
      caf::anon_send_exit(streams, caf::exit_reason::user_shutdown);
  }

  void start(redis_tier_config cfg) {
    if (cfg.url.empty())
      cfg.url = redis.url();
    auto spawned = spawn_redis_streams(sys, cfg);
    ASSERT_TRUE(spawned) << sys.render(spawned.error());
    streams = *spawned;
  }

  redis_tier_config quick() {
    redis_tier_config cfg;
    cfg.request_timeout = 200ms;
    cfg.backoff_initial = 20ms;
    cfg.backoff_max = 100ms;
    return cfg;
  }

  template <class R, class... Ts>
  caf::expected<R> ask(Ts... xs) {
    caf::expected<R> out{caf::error{}};
    self->request(streams, 5s, xs...)
        .receive([&](R& x) { out = std::move(x); }, [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  caf::expected<std::string> add(const std::string& stream, std::vector<stream_field> fields,
                                 uint64_t maxlen = 0) {
    return ask<std::string>(xadd_atom::value, stream, std::move(fields), maxlen);
  }

  caf::expected<std::string> add_value(const std::string& stream, const std::string& v) {
    return add(stream, {{"v", v}});
  }

  caf::expected<entries> latest(const std::string& stream, uint64_t count) {
    return ask<entries>(xlatest_atom::value, stream, count);
  }

  caf::expected<entries> read(const std::string& stream, const std::string& last_id, uint64_t count,
                              caf::timespan block = caf::timespan{0}) {
    return ask<entries>(xread_atom::value, stream, last_id, count, block);
  }

  caf::expected<uint64_t> publish(const std::string& channel, const std::string& payload) {
    return ask<uint64_t>(caf::publish_atom::value, channel, payload);
  }

  // Whether a client waits in a blocking command on the server.
  bool reader_blocked() {
    return redis.command({"INFO", "clients"}).find("blocked_clients:1") != std::string::npos;
  }

  mtcache::testing::redis_server redis;
  caf::scoped_actor self{sys};
  streams_actor streams;
};

TEST_F(RedisStreams, PublishReachesSubscriberAndAnswersReceiverCount) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(publish("news", "nobody")); }));
  EXPECT_EQ(value(publish("news", "nobody")), 0u);
  subscriber sub{redis.port(), "news"};
  ASSERT_TRUE(sub.ok());
  std::string payload{"hi\0\r\nthere", 10};
  auto received = publish("news", payload);
  ASSERT_TRUE(received) << sys.render(received.error());
  EXPECT_EQ(*received, 1u);
  EXPECT_EQ(sub.next(), payload);
}

TEST_F(RedisStreams, XaddAnswersIncreasingIdsAndFieldsRoundTrip) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("s", "warmup")); }));
  std::vector<stream_field> fields{
      {"name", "alice"}, {std::string{"bin\0key", 7}, std::string{"a\0b\r\nc", 6}}, {"empty", ""}};
  auto first = add("s", fields);
  ASSERT_TRUE(first) << sys.render(first.error());
  auto last = *first;
  for (int i = 0; i < 20; ++i) {
    auto id = add_value("s", std::to_string(i));
    ASSERT_TRUE(id);
    EXPECT_GT(id_of(*id), id_of(last));
    last = *id;
  }
  EXPECT_EQ(redis.command({"XLEN", "s"}), "22");
  auto got = read("s", "0", 2);
  ASSERT_TRUE(got) << sys.render(got.error());
  ASSERT_EQ(got->size(), 2u);
  auto& entry = (*got)[1];
  EXPECT_EQ(entry.id, *first);
  ASSERT_EQ(entry.fields.size(), fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    EXPECT_EQ(entry.fields[i].name, fields[i].name);
    EXPECT_EQ(entry.fields[i].value, fields[i].value);
  }
}

TEST_F(RedisStreams, MaxlenTrimsApproximately) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("untrimmed", "x")); }));
  constexpr int n = 5000;
  for (int i = 0; i < n; ++i)
    self->send(streams, xadd_atom::value, std::string{"trimmed"},
               std::vector<stream_field>{{"i", std::to_string(i)}}, uint64_t{100});
  for (int i = 1; i < 300; ++i)
    self->send(streams, xadd_atom::value, std::string{"untrimmed"},
               std::vector<stream_field>{{"i", std::to_string(i)}}, uint64_t{0});
  int acks = 0;
  self->receive_for(acks, n + 299)([](const std::string&) {},
                                   [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
  auto len = std::stoll(redis.command({"XLEN", "trimmed"}));
  // "~" trims whole radix-tree nodes (100 entries each by default): never below the limit,
  // a node or two above it.
  EXPECT_GE(len, 100);
  EXPECT_LE(len, 300) << "XLEN " << len;
  EXPECT_EQ(redis.command({"XLEN", "untrimmed"}), "300");
  auto newest = latest("trimmed", 1);
  ASSERT_TRUE(newest);
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ(value_of(newest->front()), std::to_string(n - 1));
}

TEST_F(RedisStreams, LatestAnswersNewestFirst) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("s", "0")); }));
  for (int i = 1; i < 10; ++i)
    ASSERT_TRUE(add_value("s", std::to_string(i)));
  auto three = latest("s", 3);
  ASSERT_TRUE(three) << sys.render(three.error());
  ASSERT_EQ(three->size(), 3u);
  EXPECT_EQ(value_of((*three)[0]), "9");
  EXPECT_EQ(value_of((*three)[1]), "8");
  EXPECT_EQ(value_of((*three)[2]), "7");
  EXPECT_GT(id_of((*three)[0].id), id_of((*three)[1].id));
  EXPECT_EQ(value(latest("s", 100)).size(), 10u);
  EXPECT_TRUE(value(latest("absent", 5)).empty());
  EXPECT_TRUE(value(latest("s", 0)).empty());
}

TEST_F(RedisStreams, ReadAfterIdAnswersOnlyNewerEntries) {
  start(quick());
  std::vector<std::string> ids;
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("s", "0")); }));
  ids.push_back(value(latest("s", 1)).front().id);
  for (int i = 1; i < 6; ++i)
    ids.push_back(value(add_value("s", std::to_string(i))));
  auto newer = read("s", ids[2], 10);
  ASSERT_TRUE(newer) << sys.render(newer.error());
  ASSERT_EQ(newer->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*newer)[i].id, ids[3 + i]);
    EXPECT_EQ(value_of((*newer)[i]), std::to_string(3 + i));
  }
  auto two = read("s", ids[2], 2);
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ(two->back().id, ids[4]);
  EXPECT_TRUE(value(read("s", ids[5], 10)).empty());
  EXPECT_TRUE(value(read("s", "$", 10)).empty());
  EXPECT_TRUE(value(read("absent", "0", 10)).empty());
  // COUNT 0 is Redis' "no limit" for XREAD.
  EXPECT_EQ(value(read("s", "0", 0)).size(), 6u);
}

TEST_F(RedisStreams, RangeAfterIdPagesOldestFirst) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("s", "0")); }));
  std::vector<std::string> ids{value(latest("s", 1)).front().id};
  for (int i = 1; i < 6; ++i)
    ids.push_back(value(add_value("s", std::to_string(i))));
  auto page = value(ask<entries>(xrange_atom::value, std::string{"s"}, ids[1], uint64_t{2}));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, ids[2]);
  EXPECT_EQ(page[1].id, ids[3]);
  auto all =
      value(ask<entries>(xrange_atom::value, std::string{"s"}, std::string{}, uint64_t{100}));
  EXPECT_EQ(all.size(), 6u);
  EXPECT_TRUE(
      value(ask<entries>(xrange_atom::value, std::string{"s"}, ids[5], uint64_t{10})).empty());
  EXPECT_TRUE(
      value(ask<entries>(xrange_atom::value, std::string{"absent"}, std::string{}, uint64_t{10}))
          .empty());
}

TEST_F(RedisStreams, InfoCountsEveryEntryEverAdded) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("s", "0")); }));
  auto info = value(ask<stream_info>(xinfo_atom::value, std::string{"s"}));
  EXPECT_TRUE(info.exists);
  EXPECT_EQ(info.length, 1u);
  EXPECT_EQ(info.entries_added, 1u);
  EXPECT_EQ(info.first_id, info.last_id);
  for (int i = 0; i < 500; ++i)
    ASSERT_TRUE(add("s", {{"i", std::to_string(i)}}, 100));
  info = value(ask<stream_info>(xinfo_atom::value, std::string{"s"}));
  EXPECT_LT(info.length, 501u) << "trimmed";
  EXPECT_EQ(info.entries_added, 501u);
  EXPECT_EQ(info.last_id, value(latest("s", 1)).front().id);
  EXPECT_FALSE(value(ask<stream_info>(xinfo_atom::value, std::string{"absent"})).exists);
  EXPECT_TRUE(failed_with(ask<stream_info>(xinfo_atom::value, std::string{}), errc::invalid_key));
}

TEST_F(RedisStreams, BlockingReadWakesWhenAnotherClientAdds) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("s", "old")); }));
  caf::scoped_actor client{sys};
  auto begin = clock_type::now();
  auto pending = client->request(streams, 10s, xread_atom::value, std::string{"s"},
                                 std::string{"$"}, uint64_t{10}, caf::timespan{5s});
  ASSERT_TRUE(eventually([&] { return reader_blocked(); }));
  auto id = redis.command({"XADD", "s", "*", "v", "new"});
  caf::expected<entries> got{caf::error{}};
  pending.receive([&](entries& x) { got = std::move(x); },
                  [&](caf::error& err) { got = std::move(err); });
  ASSERT_TRUE(got) << sys.render(got.error());
  EXPECT_LT(clock_type::now() - begin, 2s);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->front().id, id);
  EXPECT_EQ(value_of(got->front()), "new");
}

TEST_F(RedisStreams, BlockingReadAnswersEmptyAfterItsBlockTime) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("s", "old")); }));
  auto begin = clock_type::now();
  // Longer than request_timeout: the deadline must include the block time.
  auto got = read("s", "$", 10, 600ms);
  auto took = clock_type::now() - begin;
  ASSERT_TRUE(got) << sys.render(got.error());
  EXPECT_TRUE(got->empty());
  EXPECT_GE(took, 550ms);
  EXPECT_LT(took, 1500ms);
}

TEST_F(RedisStreams, OtherCommandsCompleteWhileABlockingReadWaits) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("busy", "0")); }));
  caf::scoped_actor client{sys};
  auto begin = clock_type::now();
  auto pending = client->request(streams, 10s, xread_atom::value, std::string{"idle"},
                                 std::string{"$"}, uint64_t{10}, caf::timespan{1s});
  ASSERT_TRUE(eventually([&] { return reader_blocked(); }));
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(add_value("busy", std::to_string(i)));
    ASSERT_TRUE(latest("busy", 2));
    ASSERT_TRUE(publish("chan", "x"));
    ASSERT_TRUE(read("busy", "0", 1));
  }
  auto health = ask<tier_health>(health_atom::value);
  ASSERT_TRUE(health);
  EXPECT_TRUE(health->ok);
  auto commands_done = clock_type::now() - begin;
  ASSERT_TRUE(reader_blocked()) << "the blocking read ended early; nothing was measured";
  bool read_ok = false;
  pending.receive([&](entries& x) { read_ok = x.empty(); },
                  [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
  auto read_done = clock_type::now() - begin;
  EXPECT_TRUE(read_ok);
  EXPECT_GE(read_done, 950ms);
  EXPECT_LT(commands_done, 500ms);
}

TEST_F(RedisStreams, ConcurrentBlockingReadsKeepTheirDeadlines) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("s", "old")); }));
  caf::scoped_actor client{sys};
  auto begin = clock_type::now();
  std::vector<decltype(client->request(streams, 10s, xread_atom::value, std::string{},
                                       std::string{}, uint64_t{0}, caf::timespan{}))>
      reads;
  for (int i = 0; i < 3; ++i)
    reads.push_back(client->request(streams, 10s, xread_atom::value, "s" + std::to_string(i),
                                    std::string{"$"}, uint64_t{10}, caf::timespan{400ms}));
  for (auto& r : reads)
    r.receive([](entries& x) { EXPECT_TRUE(x.empty()); },
              [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
  // Redis serves one blocking read per connection at a time; each still ends within its
  // own block time (plus the request timeout), not after the others' block times.
  EXPECT_LT(clock_type::now() - begin, 800ms);
}

TEST_F(RedisStreams, KeyPrefixAppliesToStreamsAndChannels) {
  auto cfg = quick();
  cfg.key_prefix = "app:";
  start(cfg);
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("s", "mine")); }));
  EXPECT_EQ(redis.command({"XLEN", "app:s"}), "1");
  EXPECT_EQ(redis.command({"EXISTS", "s"}), "0");
  redis.command({"XADD", "s", "*", "v", "outside"});
  auto newest = latest("s", 10);
  ASSERT_TRUE(newest);
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ(value_of(newest->front()), "mine");
  EXPECT_EQ(value(read("s", "0", 10)).size(), 1u);
  // The blocking reader's connection prefixes too.
  caf::scoped_actor client{sys};
  auto pending = client->request(streams, 10s, xread_atom::value, std::string{"s"},
                                 std::string{"$"}, uint64_t{10}, caf::timespan{5s});
  ASSERT_TRUE(eventually([&] { return reader_blocked(); }));
  redis.command({"XADD", "s", "*", "v", "outside"});
  redis.command({"XADD", "app:s", "*", "v", "inside"});
  pending.receive(
      [&](entries& x) {
        ASSERT_EQ(x.size(), 1u);
        EXPECT_EQ(value_of(x.front()), "inside");
      },
      [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
  subscriber sub{redis.port(), "app:ch"};
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(value(publish("ch", "hello")), 1u);
  EXPECT_EQ(sub.next(), "hello");
}

TEST_F(RedisStreams, ErrorRepliesFailOnlyTheirRequest) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("s", "0")); }));
  redis.command({"SET", "text", "not a stream"});
  auto wrong = add_value("text", "x");
  ASSERT_FALSE(wrong);
  EXPECT_TRUE(failed_with(wrong, errc::backend_error)) << sys.render(wrong.error());
  EXPECT_NE(sys.render(wrong.error()).find("WRONGTYPE"), std::string::npos);
  EXPECT_TRUE(failed_with(latest("text", 1), errc::backend_error));
  EXPECT_TRUE(failed_with(add("s", {}), errc::backend_error));
  EXPECT_TRUE(failed_with(read("s", "bogus", 1), errc::backend_error));
  EXPECT_TRUE(failed_with(read("s", "bogus", 1, 200ms), errc::backend_error));
  // Both connections stay up and serve on.
  EXPECT_TRUE(add_value("s", "1"));
  EXPECT_EQ(value(read("s", "0", 10, 200ms)).size(), 2u);
  auto stats = ask<tier_stats>(stats_atom::value);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->errors, 5u);
  EXPECT_EQ(stats->reconnects, 0u);
  EXPECT_TRUE(stats->connected);
}

TEST_F(RedisStreams, EmptyStreamNameIsRejected) {
  start(quick());
  EXPECT_TRUE(failed_with(add_value("", "x"), errc::invalid_key));
  EXPECT_TRUE(failed_with(latest("", 1), errc::invalid_key));
  EXPECT_TRUE(failed_with(read("", "0", 1), errc::invalid_key));
  EXPECT_TRUE(failed_with(read("", "0", 1, 100ms), errc::invalid_key));
}

TEST_F(RedisStreams, FailsFastWhileRedisIsDownAndWorksAfterRestart) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("s", "0")); }));
  caf::scoped_actor client{sys};
  auto pending = client->request(streams, 10s, xread_atom::value, std::string{"s"},
                                 std::string{"$"}, uint64_t{10}, caf::timespan{5s});
  ASSERT_TRUE(eventually([&] { return reader_blocked(); }));
  auto begin = clock_type::now();
  redis.kill();
  pending.receive(
      [](entries&) { ADD_FAILURE() << "read survived its connection"; },
      [&](caf::error& err) { EXPECT_TRUE(is(err, errc::backend_unavailable)) << sys.render(err); });
  EXPECT_LT(clock_type::now() - begin, 1s);
  auto typed = [](const auto& x) {
    return failed_with(x, errc::backend_unavailable) || failed_with(x, errc::timeout);
  };
  begin = clock_type::now();
  auto added = add_value("s", "1");
  ASSERT_FALSE(added);
  EXPECT_TRUE(typed(added)) << sys.render(added.error());
  EXPECT_TRUE(typed(latest("s", 1)));
  EXPECT_TRUE(typed(publish("c", "x")));
  EXPECT_TRUE(typed(read("s", "0", 1, 300ms)));
  EXPECT_LT(clock_type::now() - begin, 1s);
  auto health = ask<tier_health>(health_atom::value);
  ASSERT_TRUE(health);
  EXPECT_FALSE(health->ok);
  ASSERT_TRUE(redis.restart()) << redis.error();
  EXPECT_TRUE(eventually([&] { return static_cast<bool>(add_value("s", "again")); }));
  EXPECT_TRUE(eventually([&] {
    auto r = read("s", "0", 10, 50ms);
    return r && r->size() == 1;
  }));
  auto stats = ask<tier_stats>(stats_atom::value);
  ASSERT_TRUE(stats);
  EXPECT_TRUE(stats->connected);
  EXPECT_EQ(stats->reconnects, 2u);
}

TEST_F(RedisStreams, HungRedisTimesOutAfterBlockTimePlusRequestTimeout) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("s", "0")); }));
  redis.pause();
  auto begin = clock_type::now();
  auto added = add_value("s", "1");
  ASSERT_FALSE(added);
  EXPECT_TRUE(failed_with(added, errc::timeout)) << sys.render(added.error());
  EXPECT_LT(clock_type::now() - begin, 500ms);
  begin = clock_type::now();
  auto got = read("s", "$", 10, 300ms);
  auto took = clock_type::now() - begin;
  ASSERT_FALSE(got);
  EXPECT_TRUE(failed_with(got, errc::timeout)) << sys.render(got.error());
  EXPECT_GE(took, 480ms);
  EXPECT_LT(took, 1s);
  redis.resume();
  EXPECT_TRUE(eventually([&] { return static_cast<bool>(read("s", "0", 10, 50ms)); }));
  auto stats = ask<tier_stats>(stats_atom::value);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->timeouts, 2u);
}

TEST_F(RedisStreams, StatsCountWritesReadEntriesAndHealth) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("s", "0")); }));
  ASSERT_TRUE(add_value("s", "1"));
  ASSERT_TRUE(publish("c", "x"));
  ASSERT_EQ(value(latest("s", 2)).size(), 2u);
  ASSERT_EQ(value(read("s", "0", 10, 100ms)).size(), 2u);
  auto stats = ask<tier_stats>(stats_atom::value);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->kind, "streams");
  EXPECT_EQ(stats->writes, 3u);
  EXPECT_EQ(stats->hits, 4u);
  EXPECT_EQ(stats->errors, 0u);
  EXPECT_TRUE(stats->connected);
  auto health = ask<tier_health>(health_atom::value);
  ASSERT_TRUE(health);
  EXPECT_TRUE(health->ok);
  EXPECT_EQ(health->kind, "streams");
  EXPECT_EQ(health->detail, "PONG");
}

TEST_F(RedisStreams, StoppingFailsPendingReadsAndClosesBothConnections) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(add_value("s", "0")); }));
  auto clients = [&] {
    auto info = redis.command({"INFO", "clients"});
    auto at = info.find("connected_clients:");
    return at == std::string::npos ? -1 : std::stoi(info.substr(at + 18));
  };
  // Ours two (the reader connects on its own), and the one that asks.
  EXPECT_TRUE(eventually([&] { return clients() == 3; }));
  caf::scoped_actor client{sys};
  auto pending = client->request(streams, 3s, xread_atom::value, std::string{"s"}, std::string{"$"},
                                 uint64_t{10}, caf::timespan{5s});
  ASSERT_TRUE(eventually([&] { return reader_blocked(); }));
  // A write that Redis (stopped) will not answer before we stop the actor.
  redis.pause();
  auto write = client->request(streams, 3s, xadd_atom::value, std::string{"s"},
                               std::vector<stream_field>{{"v", "1"}}, uint64_t{0});
  // Answered after the write in mailbox order: the write is with Redis by now.
  ASSERT_TRUE(ask<tier_stats>(stats_atom::value));
  auto begin = clock_type::now();
  caf::anon_send_exit(streams, caf::exit_reason::user_shutdown);
  auto expect_shutdown = [&](caf::error& err) {
    EXPECT_TRUE(is(err, errc::shutting_down)) << sys.render(err);
  };
  pending.receive([](entries&) { ADD_FAILURE() << "read answered after the actor stopped"; },
                  expect_shutdown);
  write.receive([](std::string&) { ADD_FAILURE() << "write answered after the actor stopped"; },
                expect_shutdown);
  EXPECT_LT(clock_type::now() - begin, 500ms);
  redis.resume();
  EXPECT_TRUE(eventually([&] { return clients() == 1; }));
}

TEST_F(RedisStreams, MalformedUrlIsRejected) {
  redis_tier_config cfg;
  cfg.url = "redis://:@";
  auto spawned = spawn_redis_streams(sys, cfg);
  ASSERT_FALSE(spawned);
  EXPECT_TRUE(is(spawned.error(), errc::invalid_url));
}

} // namespace
