#include <string>

#include <gtest/gtest.h>

#include "mtcache/codec/detail/http_request.hpp"

using namespace mtcache::detail;

namespace {

http_parse_result parse(const std::string& buf, http_request& req, size_t& consumed, int& status) {
  return parse_http_request(buf, req, consumed, status);
}

} // namespace

TEST(HttpRequest, PrometheusScrapeParses) {
  std::string buf = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nUser-Agent: "
                    "Prometheus/2.42.0\r\nAccept: text/plain;version=0.0.4;q=1\r\n\r\n";
  http_request req;
  size_t consumed = 0;
  int status = 0;
  ASSERT_EQ(parse(buf, req, consumed, status), http_parse_result::complete);
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.path, "/metrics");
  EXPECT_TRUE(req.keep_alive);
  EXPECT_EQ(consumed, buf.size());
}

TEST(HttpRequest, IncompleteUntilTheBlankLine) {
  http_request req;
  size_t consumed = 0;
  int status = 0;
  EXPECT_EQ(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n", req, consumed, status),
            http_parse_result::incomplete);
}

TEST(HttpRequest, PipelinedRequestsParseOneAtATime) {
  std::string buf = "GET /a?x=1 HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\n";
  http_request req;
  size_t consumed = 0;
  int status = 0;
  ASSERT_EQ(parse(buf, req, consumed, status), http_parse_result::complete);
  EXPECT_EQ(req.path, "/a");
  buf.erase(0, consumed);
  ASSERT_EQ(parse(buf, req, consumed, status), http_parse_result::complete);
  EXPECT_EQ(req.path, "/b");
  EXPECT_FALSE(req.keep_alive);
}

TEST(HttpRequest, Http10ClosesUnlessKeepAlive) {
  http_request req;
  size_t consumed = 0;
  int status = 0;
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", req, consumed, status), http_parse_result::complete);
  EXPECT_FALSE(req.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n", req, consumed, status),
            http_parse_result::complete);
  EXPECT_TRUE(req.keep_alive);
}

TEST(HttpRequest, MalformedAndOversizedRequestsAreRefused) {
  http_request req;
  size_t consumed = 0;
  int status = 0;
  EXPECT_EQ(parse("nonsense\r\n\r\n", req, consumed, status), http_parse_result::bad);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(parse("GET / HTTP/2.0\r\n\r\n", req, consumed, status), http_parse_result::bad);
  EXPECT_EQ(status, 505);
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", req, consumed, status),
            http_parse_result::bad);
  EXPECT_EQ(status, 413);
  std::string huge = "GET / HTTP/1.1\r\nX: " + std::string(max_http_head_bytes, 'a');
  EXPECT_EQ(parse(huge, req, consumed, status), http_parse_result::bad);
  EXPECT_EQ(status, 431);
}

TEST(HttpRequest, ResponsesCarryLengthAndConnection) {
  auto r = http_response(200, "text/plain", "hello", true);
  EXPECT_EQ(r, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
               "Connection: keep-alive\r\n\r\nhello");
  auto head = http_response(404, "text/plain", "hello", false, true);
  EXPECT_EQ(head.find("hello"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: 5\r\nConnection: close"), std::string::npos);
}
