#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mtcache/codec/detail/resp.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/redis/redis_connection.hpp"
#include "mtcache/redis/stream_protocol.hpp"

using namespace mtcache;
using namespace mtcache::detail;
using namespace std::chrono_literals;

namespace {

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

// One reply parsed from RESP text, as it would come off the wire.
redis_reply_ptr reply_of(const std::string& resp) {
  redis_reply_reader reader;
  bool failed = false;
  reader.feed(resp.data(), resp.size());
  auto reply = reader.next(failed);
  EXPECT_TRUE(reply && !failed) << resp;
  return reply;
}

template <class Write>
std::string resp_of(Write write) {
  std::vector<char> buf;
  resp_writer out{buf};
  write(out);
  return {buf.begin(), buf.end()};
}

TEST(StreamProtocol, WritesCommandsAsRedisExpectsThem) {
  std::vector<stream_field> fields{{"f", "v"}};
  EXPECT_EQ(resp_of([&](resp_writer& out) { write_xadd(out, "p:", "s", fields, 100); }),
            "*8\r\n$4\r\nXADD\r\n$3\r\np:s\r\n$6\r\nMAXLEN\r\n$1\r\n~\r\n$3\r\n100\r\n"
            "$1\r\n*\r\n$1\r\nf\r\n$1\r\nv\r\n");
  EXPECT_EQ(resp_of([&](resp_writer& out) { write_xadd(out, "", "s", fields, 0); }),
            "*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$1\r\nv\r\n");
  EXPECT_EQ(resp_of([](resp_writer& out) { write_xrevrange(out, "p:", "s", 3); }),
            "*6\r\n$9\r\nXREVRANGE\r\n$3\r\np:s\r\n$1\r\n+\r\n$1\r\n-\r\n$5\r\nCOUNT\r\n"
            "$1\r\n3\r\n");
  EXPECT_EQ(resp_of([](resp_writer& out) { write_xread(out, "", "s", "0-1", 2, 0); }),
            "*6\r\n$5\r\nXREAD\r\n$5\r\nCOUNT\r\n$1\r\n2\r\n$7\r\nSTREAMS\r\n$1\r\ns\r\n"
            "$3\r\n0-1\r\n");
  EXPECT_EQ(resp_of([](resp_writer& out) { write_xread(out, "", "s", "$", 2, 1500); }),
            "*8\r\n$5\r\nXREAD\r\n$5\r\nCOUNT\r\n$1\r\n2\r\n$5\r\nBLOCK\r\n$4\r\n1500\r\n"
            "$7\r\nSTREAMS\r\n$1\r\ns\r\n$1\r\n$\r\n");
}

TEST(StreamProtocol, RangeAfterAnIdIsExclusive) {
  EXPECT_EQ(resp_of([](resp_writer& out) { write_xrange(out, "p:", "s", "5-1", 10); }),
            "*6\r\n$6\r\nXRANGE\r\n$3\r\np:s\r\n$4\r\n(5-1\r\n$1\r\n+\r\n$5\r\nCOUNT\r\n"
            "$2\r\n10\r\n");
  EXPECT_EQ(resp_of([](resp_writer& out) { write_xrange(out, "", "s", "", 1); }),
            "*6\r\n$6\r\nXRANGE\r\n$1\r\ns\r\n$1\r\n-\r\n$1\r\n+\r\n$5\r\nCOUNT\r\n"
            "$1\r\n1\r\n");
  EXPECT_EQ(resp_of([](resp_writer& out) { write_xinfo(out, "p:", "s"); }),
            "*3\r\n$5\r\nXINFO\r\n$6\r\nSTREAM\r\n$3\r\np:s\r\n");
}

TEST(StreamProtocol, ParsesStreamInfo) {
  auto info = value(parse_stream_info(
      reply_of("*8\r\n$6\r\nlength\r\n:2\r\n$13\r\nentries-added\r\n:7\r\n"
               "$11\r\nfirst-entry\r\n*2\r\n$3\r\n8-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
               "$10\r\nlast-entry\r\n*2\r\n$3\r\n9-1\r\n*0\r\n")
          .get()));
  EXPECT_TRUE(info.exists);
  EXPECT_EQ(info.length, 2u);
  EXPECT_EQ(info.entries_added, 7u);
  EXPECT_EQ(info.first_id, "8-0");
  EXPECT_EQ(info.last_id, "9-1");
  auto missing = value(parse_stream_info(reply_of("-ERR no such key\r\n").get()));
  EXPECT_FALSE(missing.exists);
  EXPECT_TRUE(
      failed_with(parse_stream_info(reply_of("-WRONGTYPE oops\r\n").get()), errc::backend_error));
  EXPECT_TRUE(failed_with(parse_stream_info(reply_of(":1\r\n").get()), errc::backend_error));
}

TEST(StreamProtocol, OrdersStreamIdsNumerically) {
  EXPECT_LT(compare_stream_ids("9-5", "10-0"), 0);
  EXPECT_LT(compare_stream_ids("10-2", "10-10"), 0);
  EXPECT_EQ(compare_stream_ids("10-0", "10"), 0);
  EXPECT_GT(compare_stream_ids("1700000000001-0", "1700000000000-99"), 0);
  EXPECT_EQ(compare_stream_ids("", "0-0"), 0);
  EXPECT_EQ(compare_stream_ids("x-y", "0-0"), 0);
}

TEST(StreamProtocol, BlockTimesRoundUpAndNeverMeanForever) {
  EXPECT_EQ(block_millis(caf::timespan{0}), 0);
  EXPECT_EQ(block_millis(caf::timespan{-5}), 0);
  EXPECT_EQ(block_millis(caf::timespan{1}), 1);
  EXPECT_EQ(block_millis(1ms), 1);
  EXPECT_EQ(block_millis(1200us), 2);
  EXPECT_EQ(block_millis(2s), 2000);
}

TEST(StreamProtocol, ParsesEntriesAndNil) {
  auto range = parse_stream_range(reply_of("*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"
                                           "*2\r\n$3\r\n1-0\r\n*-1\r\n")
                                      .get());
  ASSERT_TRUE(range);
  ASSERT_EQ(range->size(), 2u);
  EXPECT_EQ((*range)[0].id, "1-1");
  ASSERT_EQ((*range)[0].fields.size(), 1u);
  EXPECT_EQ((*range)[0].fields[0].name, "a");
  EXPECT_EQ((*range)[0].fields[0].value, "b");
  EXPECT_TRUE((*range)[1].fields.empty());
  EXPECT_TRUE(value(parse_stream_range(reply_of("*-1\r\n").get())).empty());
  auto read =
      parse_stream_read(reply_of("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*0\r\n").get());
  ASSERT_TRUE(read);
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ(read->front().id, "2-0");
  EXPECT_TRUE(value(parse_stream_read(reply_of("*-1\r\n").get())).empty());
  EXPECT_TRUE(value(parse_stream_read(reply_of("*0\r\n").get())).empty());
}

TEST(StreamProtocol, ErrorRepliesAndOddShapesAreBackendErrors) {
  auto err = parse_stream_range(reply_of("-ERR no such thing\r\n").get());
  ASSERT_TRUE(failed_with(err, errc::backend_error));
  EXPECT_NE(caf::to_string(err.error()).find("ERR no such thing"), std::string::npos);
  for (auto resp : {":1\r\n", "*1\r\n:5\r\n", "*1\r\n*1\r\n$1\r\nx\r\n", "*1\r\n*2\r\n:1\r\n*0\r\n",
                    "*1\r\n*2\r\n$1\r\nx\r\n:0\r\n", "*1\r\n*2\r\n$1\r\nx\r\n*1\r\n$1\r\na\r\n",
                    "*1\r\n*2\r\n$1\r\nx\r\n*2\r\n$1\r\na\r\n:1\r\n"})
    EXPECT_TRUE(failed_with(parse_stream_range(reply_of(resp).get()), errc::backend_error)) << resp;
  for (auto resp :
       {"-WRONGTYPE x\r\n", "$1\r\ns\r\n", "*2\r\n*-1\r\n*-1\r\n", "*1\r\n:1\r\n",
        "*1\r\n*2\r\n:1\r\n*0\r\n", "*1\r\n*1\r\n$1\r\ns\r\n", "*1\r\n*2\r\n$1\r\ns\r\n:1\r\n"})
    EXPECT_TRUE(failed_with(parse_stream_read(reply_of(resp).get()), errc::backend_error)) << resp;
}

} // namespace
